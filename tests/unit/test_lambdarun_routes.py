"""Route matching follows API Gateway's resource selection; the tables feed the CDK parity test."""

from __future__ import annotations

import pytest

from infra.declaration import FUNCTIONS, Function, Route, ScheduleTrigger
from lambdarun.routes import RouteTable, route_table
from lambdarun.triggers import schedule_interval_s, trigger_table
from tests.fixtures.functions.lambdarun_fixtures import BATCH, CRASH, ECHO, FIXTURE_FUNCTIONS

FILES = Function(
    name="files",
    description="t",
    routes=(
        Route("GET", "/files"),
        Route("POST", "/files"),
        Route("GET", "/files/{file_id}"),
        Route("PATCH", "/files/{file_id}"),
        Route("GET", "/files/{file_id}/download"),
        Route("GET", "/files/search"),
        Route("GET", "/s/{token}", auth=False),
        Route("GET", "/assets/{proxy+}", auth=False),
    ),
)


@pytest.fixture
def table() -> RouteTable:
    return RouteTable([FILES])


def test_literal_path(table: RouteTable) -> None:
    match = table.match("GET", "/files")
    assert match.route == Route("GET", "/files") and match.path_parameters == {}


def test_path_parameter_is_captured_and_decoded(table: RouteTable) -> None:
    match = table.match("GET", "/files/a%20b/download")
    assert match.resource is not None and match.resource.path == "/files/{file_id}/download"
    assert match.path_parameters == {"file_id": "a b"}


def test_literal_segment_wins_over_parameter(table: RouteTable) -> None:
    assert table.match("GET", "/files/search").resource.path == "/files/search"  # type: ignore[union-attr]
    assert table.match("GET", "/files/other").path_parameters == {"file_id": "other"}


def test_method_is_chosen_after_the_resource(table: RouteTable) -> None:
    match = table.match("DELETE", "/files/abc")
    assert match.route is None and match.resource is not None
    assert match.allowed == ["GET", "PATCH"]
    # /files/search exists with GET only: API Gateway does not fall back to /files/{file_id}
    assert table.match("PATCH", "/files/search").route is None


def test_unknown_path_matches_nothing(table: RouteTable) -> None:
    for path in ("/nope", "/files/a/b/c", "/", "/s"):
        match = table.match("GET", path)
        assert match.resource is None and match.route is None


def test_trailing_slash_and_case_of_method(table: RouteTable) -> None:
    assert table.match("get", "/files/").route == Route("GET", "/files")


def test_greedy_proxy_takes_the_rest(table: RouteTable) -> None:
    assert table.match("GET", "/assets/css/site.css").path_parameters == {"proxy": "css/site.css"}
    assert table.match("GET", "/assets").resource is None


def test_duplicate_route_is_refused() -> None:
    other = Function(name="other", description="t", routes=(Route("GET", "/files"),))
    with pytest.raises(ValueError, match="GET /files declared by both"):
        RouteTable([FILES, other])


def test_route_table_lists_the_declaration() -> None:
    rows = route_table()
    assert ("GET", "/health", "meta") in rows
    assert len(rows) == sum(len(fn.routes) for fn in FUNCTIONS)
    assert rows == sorted(rows)
    assert ("GET", "/echo/{item_id}", "rt_echo") in route_table(FIXTURE_FUNCTIONS)


def test_trigger_table_kinds_and_sources() -> None:
    assert trigger_table([ECHO]) == []
    assert trigger_table([BATCH, CRASH]) == [
        ("kafka", "rt-topic", "rt_batch"),
        ("schedule", "rate(3600 seconds)", "rt_crash"),
        ("sqs", "rt-queue", "rt_batch"),
    ]
    assert all(kind in {"sqs", "kafka", "schedule", "deploy"} for kind, _, _ in trigger_table())
    assert ("deploy", "custom-resource", "bootstrap") in trigger_table()


def test_local_schedule_cadence() -> None:
    assert schedule_interval_s(ScheduleTrigger(every_seconds=300)) == 300
    assert schedule_interval_s(ScheduleTrigger(every_seconds=300, local_every_seconds=5)) == 5
