"""API Gateway style route matching over the declaration's routes.

API Gateway (REST) selects a *resource* by path first, preferring literal segments over
``{param}`` segments over ``{proxy+}``, then the method on that resource. The same order is used
here, so a route that wins locally wins in AWS too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from infra.declaration import FUNCTIONS, Function, Route

_LITERAL, _PARAM, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Resource:
    """One API Gateway resource path with its methods."""

    path: str
    segments: tuple[str, ...]
    methods: dict[str, tuple[Route, Function]]

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(_kind(s) for s in self.segments)


@dataclass(frozen=True)
class Match:
    """The outcome of matching a request: a route, or a resource without that method, or nothing."""

    resource: Resource | None
    route: Route | None
    function: Function | None
    path_parameters: dict[str, str]

    @property
    def allowed(self) -> list[str]:
        return sorted(self.resource.methods) if self.resource else []


def _kind(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return _GREEDY
    if segment.startswith("{") and segment.endswith("}"):
        return _PARAM
    return _LITERAL


def _split(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.strip("/").split("/") if s)


class RouteTable:
    """Matches (method, path) to the declared route and function, with path parameters."""

    def __init__(self, functions: Iterable[Function]) -> None:
        resources: dict[str, Resource] = {}
        for fn in functions:
            for route in fn.routes:
                res = resources.setdefault(route.path, Resource(route.path, _split(route.path), {}))
                method = route.method.upper()
                if method in res.methods:
                    other = res.methods[method][1].name
                    raise ValueError(f"{method} {route.path} declared by both {other} and {fn.name}")
                res.methods[method] = (route, fn)
        # Most specific first: literal < param < greedy, segment by segment.
        self._resources = sorted(resources.values(), key=lambda r: (r.specificity, -len(r.segments)))

    def match(self, method: str, path: str) -> Match:
        segments = tuple(unquote(s) for s in _split(path))
        for resource in self._resources:
            params = _match_segments(resource.segments, segments)
            if params is None:
                continue
            found = resource.methods.get(method.upper()) or resource.methods.get("ANY")
            if found is None:
                return Match(resource, None, None, params)
            return Match(resource, found[0], found[1], params)
        return Match(None, None, None, {})


def _match_segments(pattern: Sequence[str], segments: Sequence[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        kind = _kind(part)
        if kind == _GREEDY:
            if index >= len(segments):
                return None
            params[part[1:-2]] = "/".join(segments[index:])
            return params
        if index >= len(segments):
            return None
        if kind == _PARAM:
            params[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return params if len(pattern) == len(segments) else None


def route_table(functions: Iterable[Function] = FUNCTIONS) -> list[tuple[str, str, str]]:
    """(method, path, function name) for every declared route, sorted; the CDK parity test uses it."""
    return sorted((r.method.upper(), r.path, fn.name) for fn in functions for r in fn.routes)
