"""The one Logger, Tracer and Metrics every function shares (Powertools)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


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


def _tracer() -> Tracer:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return Tracer(provider=_NoTracing(), disabled=True, auto_patch=False)
    return Tracer()  # X-Ray in AWS


logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME (set per function)
tracer = _tracer()
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE; EMF on stdout
