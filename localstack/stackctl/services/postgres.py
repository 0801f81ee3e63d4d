"""PostgreSQL from Debian's package, run as its own cluster under .local/data/postgres."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

import psycopg

from infra.declaration import DEV_NAMESPACE, LocalNamespace
from stackctl import proc
from stackctl.base import Service
from stackctl.paths import DATA_DIR, RUN_DIR

USER = "fileshare"
PASSWORD = "fileshare"  # noqa: S105 - local-only development cluster on loopback
DATABASE = "fileshare"


def _pg_bin_dir() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                      key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise proc.StackError("PostgreSQL binaries not found under /usr/lib/postgresql")
    return versions[-1].parent


class Postgres(Service):
    name = "postgres"
    port = 55432
    reuse_env = "DATABASE_URL"
    debian_packages = ("postgresql",)
    start_timeout_s = 60.0

    data_dir = DATA_DIR / "postgres"
    socket_dir = RUN_DIR / "pgsocket"

    def url(self) -> str:
        return self.external_url or f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _run_as(self) -> str | None:
        """PostgreSQL refuses to run as root; use the `postgres` account Debian creates."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError as missing:
            raise proc.StackError("running as root but no 'postgres' user exists") from missing
        return "postgres"

    def _chown(self, path: Path) -> None:
        user = self._run_as()
        if user:
            shutil.chown(path, user, user)

    def install(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.data_dir)
        pwfile = RUN_DIR / "pgpass.tmp"
        pwfile.write_text(PASSWORD)
        self._chown(pwfile)
        try:
            proc.run([_pg_bin_dir() / "initdb", "-D", self.data_dir, "-U", USER, "--pwfile", pwfile,
                      "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
                      "--locale=C.UTF-8"], user=self._run_as())
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        proc.spawn(self.name, [
            _pg_bin_dir() / "postgres", "-D", self.data_dir,
            "-c", f"port={self.port}", "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.socket_dir}",
            "-c", "max_connections=200", "-c", "shared_buffers=128MB",
            # A laptop cluster: trade crash durability of the last commits for speed.
            "-c", "synchronous_commit=off", "-c", "fsync=off", "-c", "full_page_writes=off",
        ], user=self._run_as())

    def healthy(self) -> bool:
        url = self.url() if self.reused else self._admin_url()
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _admin_url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def provision(self) -> None:
        self.provision_namespace(DEV_NAMESPACE)

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """The namespace's (empty) database, what CDK's cluster makes; the schema is the bootstrap's.

        A reused server's dev database is its own business; the test database is made on it with
        the URL's credentials (as ``tests/bench/scale.py`` makes its own)."""
        if namespace.is_dev:
            if not self.reused:
                self._create_database(self._admin_url(), DATABASE)
            return {self.reuse_env: self.url()}
        self._create_database(self.url() if self.reused else self._admin_url(), namespace.database)
        return {self.reuse_env: with_database(self.url(), namespace.database)}

    @staticmethod
    def _create_database(admin_url: str, name: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> bool:
        # SIGTERM would be a "smart" shutdown that waits for clients; SIGINT is PostgreSQL's fast one.
        return proc.stop(self.name, first_signal="SIGINT")



def with_database(url: str, name: str) -> str:
    """``url`` (a ``postgresql://`` URL) naming database ``name`` instead."""
    from urllib.parse import quote, urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path="/" + quote(name, safe="")))
