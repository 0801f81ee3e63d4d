"""The cold-start bench (``tests/bench/coldstart.py``) measures every declared function, and each
API function's first invoke goes to a route it can really serve (a literal ``{file_id}`` in the
path would be a 422 from validation, so the first invoke would measure no real work)."""

from __future__ import annotations

from infra.declaration import FUNCTIONS
from tests.bench.coldstart import API_PROBES, _probe_target


def test_every_api_function_probes_a_route_without_placeholders() -> None:
    for fn in FUNCTIONS:
        if not fn.routes:
            continue
        method, target, _ = _probe_target(fn)
        declared = {(r.method, r.path) for r in fn.routes}
        if fn.name in API_PROBES:
            path = target.split("?")[0]
            assert any(m == method and _matches(p, path) for m, p in declared), (fn.name, method, path)
        else:  # the fallback strips the braces: only fine for a route without path parameters
            route = next((r for r in fn.routes if r.method == "GET"), fn.routes[0])
            assert "{" not in route.path, f"{fn.name}: add an API_PROBES entry (its first GET has parameters)"


def _matches(pattern: str, path: str) -> bool:
    """``/files/{file_id}/activity`` matches ``/files/{uuid}/activity`` (the bench fills it in)."""
    left, right = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(left) == len(right) and all(a == b or a.startswith("{")
                                           for a, b in zip(left, right, strict=True))
