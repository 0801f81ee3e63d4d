"""The contract every API function shares (fileshare/api.py create_app), through the real handlers,
where an answer needs the real OpenSearch: valid but unusual dates work, and dates and search cursors
that make no sense are 422 (not 503). What is refused before any service is asked (bodies that are
not JSON objects, naive dates, forged list cursors) is ``tests/unit/test_api_request_contract.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest


@pytest.fixture
def search(search_module: Any, alice: Any) -> Any:
    from tests.integration.conftest import Api

    return Api(search_module, alice.claims)


@pytest.mark.parametrize("when", ["0136-01-01T00:00:00+22:15", "0001-01-01T00:00:00+05:00",
                                  "9999-12-31T23:59:59-23:59", "2026-12-01T10:00:00.123456Z"])
def test_unusual_but_valid_dates_search(search: Any, when: str) -> None:
    for name in ("from", "to"):
        reply = search("GET", "/search", query={name: when})
        assert reply.status == 200, (name, when, reply.body)


def test_reversed_range_is_422(search: Any) -> None:
    reply = search("GET", "/search", query={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert reply.status == 422 and reply.error_code == "invalid_date_range"


def _cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [["x", "y"], [1.5e300, "id"], [2**63, "id"], [True, "id"], [1, 2],
                                      "not a list", [1], [1, "a", "b"]])
def test_a_forged_search_cursor_is_422_not_503(search: Any, position: Any) -> None:
    reply = search("GET", "/search", query={"cursor": _cursor(position)})
    assert reply.status == 422, (position, reply.body)
    assert reply.error_code == "invalid_cursor"


@pytest.mark.parametrize("position", [[1, "x", "id"], ["a", 1, "id"], [1, 2]])
def test_a_forged_cursor_with_a_query_is_422(search: Any, position: Any) -> None:
    reply = search("GET", "/search", query={"q": "report", "cursor": _cursor(position)})
    assert reply.status == 422, (position, reply.body)
