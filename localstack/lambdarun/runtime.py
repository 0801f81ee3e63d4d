"""The set of functions the local runtime runs; the function list is injectable for tests."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.declaration import FUNCTIONS, FUNCTIONS_DIR, Function
from lambdarun.pool import FunctionPool, Invocation
from lambdarun.routes import RouteTable
from lambdarun.stats import RuntimeStats
from stackctl.paths import LOG_DIR


class Runtime:
    """Invokes functions by name, each in its own pool of worker processes."""

    def __init__(
        self,
        functions: Iterable[Function] = FUNCTIONS,
        *,
        base_env: Mapping[str, str],
        code_root: Path = FUNCTIONS_DIR,
        log_dir: Path = LOG_DIR / "lambda",
        max_concurrency: int = 4,
        python: str = sys.executable,
    ) -> None:
        self.functions = {fn.name: fn for fn in functions}
        self.base_env = dict(base_env)
        self.stats = RuntimeStats()
        self.routes = RouteTable(self.functions.values())
        self.log_dir = log_dir
        self.pools = {
            fn.name: FunctionPool(fn, code_dir=code_root / fn.name, base_env=base_env, log_dir=log_dir,
                                  stats=self.stats, max_concurrency=max_concurrency, python=python)
            for fn in self.functions.values()
        }

    def invoke(self, name: str, event: Any, request_id: str | None = None) -> Invocation:
        return self.pools[name].invoke(event, request_id)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
