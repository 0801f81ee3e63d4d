"""The public_link function's tracer never records the link's token: the handler runs as deployed
(the environment ``tests/infra/test_tracing.py`` checks in the template) under a tracer that records
every subsegment, annotation and metadata, for the link page, the redirect and a failure."""

from __future__ import annotations

import contextlib
import importlib.util
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest

from fileshare.adapters.observability import tracer
from fileshare.links import links
from fileshare.links import page as link_page
from tests.support.apigw import FakeContext, event
from tests.support.pipeline import REPO_ROOT

TOKEN = "tok3n-" + uuid.uuid4().hex  # stands out anywhere it is recorded


class _Recording:
    """A segment or provider that keeps everything the tracer hands it."""

    def __init__(self, records: list[tuple[str, Any]]) -> None:
        self.records = records

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[_Recording]:
        self.records.append(("subsegment", (name, kwargs)))
        yield self

    def put_annotation(self, key: str, value: Any) -> None:
        self.records.append(("annotation", (key, value)))

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.records.append(("metadata", (key, value, namespace)))

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.records.append(("exception", (exception, stack)))

    def patch(self, modules: Any) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[tuple[str, Any]]]:
    """The handler, loaded fresh with the deployed tracer settings, and what its tracer recorded."""
    monkeypatch.setenv("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "false")  # every function (infra/functions.py)
    monkeypatch.setenv("POWERTOOLS_TRACER_CAPTURE_ERROR", "false")  # public_link (infra/declaration.py)
    spec = importlib.util.spec_from_file_location(
        f"fn_public_link_traced_{uuid.uuid4().hex}", REPO_ROOT / "functions" / "public_link" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records: list[tuple[str, Any]] = []
    monkeypatch.setattr(tracer, "provider", _Recording(records))
    monkeypatch.setattr(links, "peek_link", lambda token, *_: object())
    monkeypatch.setattr(link_page, "render",
                        lambda token, link: f"<a href='/s/{token}?download=1'>Download</a>")
    return module, records


def _open(module: ModuleType, accept: str) -> dict[str, Any]:
    request = event("GET", f"/s/{TOKEN}", resource="/s/{token}", path_parameters={"token": TOKEN},
                    headers={"Accept": accept})
    response: dict[str, Any] = module.lambda_handler(request, FakeContext("public_link"))
    return response


def test_the_link_page_and_the_redirect_leave_no_token_in_the_trace(
    traced: tuple[ModuleType, list[tuple[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, records = traced
    monkeypatch.setattr(links, "open_link", lambda token, *_: "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s")
    page = _open(module, "text/html")
    assert page["statusCode"] == 200 and TOKEN in page["body"]  # the page names it; the trace must not
    assert _open(module, "*/*")["statusCode"] == 302
    assert [kind for kind, _ in records].count("subsegment") == 2  # traced, as deployed
    assert TOKEN not in repr(records)


def test_a_failure_leaves_no_token_in_the_trace(
    traced: tuple[ModuleType, list[tuple[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, records = traced

    def broken(token: str, *_: Any) -> str:
        raise RuntimeError(f"database gone while opening {token}")

    monkeypatch.setattr(links, "open_link", broken)
    with contextlib.suppress(RuntimeError):  # if unhandled, Lambda reports it; the trace holds no token
        _open(module, "*/*")
    assert records and TOKEN not in repr(records)
