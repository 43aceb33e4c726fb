"""A throw-away PostgreSQL cluster for the store's tests: initdb in a temporary folder, started
on 127.0.0.1 with a free port, stopped and removed at the end of the session.

``RESPMAP_TEST_POSTGRES_URL`` (a server URL whose user may create databases) is used instead
when set. Without either, the tests that need PostgreSQL fail with the command to run: a
skipped database test would hide exactly what CI is meant to check.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

INSTALL_HINT = (
    "PostgreSQL is not installed: run `bash scripts/setup.sh --test` (Debian packages postgresql, postgresql-postgis)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return Path(found[-1]).parent


class PostgresCluster:
    """One cluster for the test session; :meth:`new_database` gives each test its own database."""

    def __init__(self) -> None:
        self.external = os.environ.get("RESPMAP_TEST_POSTGRES_URL")
        self.folder: Path | None = None
        self.port = 0
        self._as_postgres: list[str] = []
        self._template: str | None = None

    def start(self) -> None:
        if self.external:
            return
        bin_dir = _binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="respmap-pg-"))
        self.port = _free_port()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.folder, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"]
        )

    def stop(self) -> None:
        if self.external or self.folder is None:
            return
        bin_dir = _binaries()
        subprocess.run(
            [
                *self._as_postgres,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def server_url(self) -> str:
        if self.external:
            return self.external
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self, template: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``); return its SQLAlchemy URL (psycopg 3)."""
        name = f"respmap_test_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url_of(name)

    def url_of(self, name: str) -> str:
        base = self.server_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return base.rsplit("/", 1)[0] + "/" + name

    def migrated_template(self) -> str:
        """A database migrated to the newest schema once, copied for each test (no migrations per test)."""
        if self._template is None:
            from cases.migrate import upgrade
            from cases.store import make_engine, store_config

            url = self.new_database()
            engine = make_engine(store_config(url=url, data_dir=Path(tempfile.mkdtemp())))
            upgrade(engine)
            engine.dispose()
            self._template = url.rsplit("/", 1)[1]
        return self._template

    def _run(self, command: list[str]) -> None:
        result = subprocess.run([*self._as_postgres, *command], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")
