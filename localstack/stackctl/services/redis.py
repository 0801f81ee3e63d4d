"""Redis from Debian's package, as its own process without persistence."""

from __future__ import annotations

import redis

from infra.declaration import LocalNamespace
from stackctl import proc
from stackctl.base import Service
from stackctl.paths import DATA_DIR


class Redis(Service):
    name = "redis"
    port = 56379
    reuse_env = "REDIS_URL"
    debian_packages = ("redis-server",)
    start_timeout_s = 20.0

    def url(self) -> str:
        return self.external_url or f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        data_dir = DATA_DIR / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        proc.spawn(self.name, [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", data_dir, "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--maxmemory", "256mb", "--maxmemory-policy", "volatile-lru",
        ])

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """Nothing to create: each namespace has its own database number on the same server."""
        from urllib.parse import urlsplit, urlunsplit

        if namespace.is_dev:
            return {self.reuse_env: self.url()}
        return {self.reuse_env: urlunsplit(urlsplit(self.url())._replace(path=f"/{namespace.redis_db}"))}

    def healthy(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url(), socket_timeout=1).ping())
        except redis.RedisError:
            return False
