"""The one Logger, Tracer and Metrics every function shares (Powertools)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from fileshare.adapters import snapstart


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing to add."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing to remove."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Dropped."""


class _NoTracing(BaseProvider):
    """The provider when tracing is off (locally): importing the X-Ray SDK alone costs more than
    100 ms of every cold start, for traces nobody collects."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


class _LazyXRay(BaseProvider):
    """X-Ray, imported on first use: the SDK (and the botocore and requests patches it applies)
    costs about 200-260 ms, which would otherwise be part of every cold start's Init Duration. The
    first traced invocation imports it, applies the patches Powertools asked for at init (patching
    replaces methods on the classes, so clients made before are traced too), and configures
    streaming as Powertools does for its own X-Ray provider."""

    def __init__(self) -> None:
        self._recorder: Any = None
        self._patch_all = False
        self._patch_modules: list[str] = []

    def _xray(self) -> Any:
        if self._recorder is None:
            from aws_xray_sdk.core import (  # cold start: the X-Ray SDK at the first traced call
                patch,
                patch_all,
                xray_recorder,
            )

            xray_recorder.configure(streaming_threshold=0)  # what Tracer does for aws_xray_sdk
            if self._patch_all:
                patch_all()
            elif self._patch_modules:
                patch(self._patch_modules)
            self._recorder = xray_recorder
        return self._recorder

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        with self._xray().in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        async with self._xray().in_subsegment_async(name=name, **kwargs) as subsegment:
            yield subsegment

    def put_annotation(self, key: str, value: Any) -> None:
        self._xray().put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._xray().put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        if self._recorder is None:
            self._patch_modules.extend(modules)
        else:
            from aws_xray_sdk.core import patch  # cold start: as above

            patch(modules)

    def patch_all(self) -> None:
        if self._recorder is None:
            self._patch_all = True
        else:
            from aws_xray_sdk.core import patch_all  # cold start: as above

            patch_all()


def _tracer() -> Tracer:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return Tracer(provider=_NoTracing(), disabled=True, auto_patch=False)
    return Tracer(provider=_LazyXRay())  # X-Ray in AWS, imported at the first traced invocation


logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME (set per function)
tracer = _tracer()
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE; EMF on stdout


def _import_xray() -> None:
    """Before a snapshot: import the X-Ray SDK and apply the patches the lazy provider holds."""
    provider: Any = tracer.provider
    if hasattr(provider, "_xray"):  # the lazy X-Ray provider: import and patch now
        provider._xray()


snapstart.warm(_import_xray, name="xray")

# SnapStart (the API functions in AWS): warm before the snapshot, reset after each restore. Every
# function imports this module, so every snapshot gets the hooks; elsewhere this imports nothing.
snapstart.install()
