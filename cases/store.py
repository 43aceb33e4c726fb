"""Opening the store: where it lives, the engine, sessions, migrations on open.

Where: ``RESPMAP_DATABASE_URL`` if set (``postgresql+psycopg://user@host/db`` for many users
and machines, or any ``sqlite:///`` path), else a SQLite file ``respmap.sqlite3`` in the data
folder. The data folder (photos too) is ``RESPMAP_DATA_DIR`` if set, else ``data/`` inside the
dataset folder when that folder is writable and not inside an installed package, else
``~/.local/share/respmap/<dataset folder name>`` (``$XDG_DATA_HOME`` respected).

SQLite runs in WAL mode with a busy timeout, so several server workers and the command line
can use one file at once; writers still take turns (one transaction per state change keeps
them short).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from cases import migrate
from cases.models import ServerState
from cases.writer_turn import WriterTurn

SQLITE_FILE = "respmap.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_PHOTO_LIMIT_MB = 10.0


class StoreError(RuntimeError):
    """The store cannot be opened or used (bad URL, unreachable server, unwritable folder)."""


@dataclass(frozen=True)
class StoreConfig:
    """Where the store is: the database URL and the folder for photos."""

    url: str
    data_dir: Path
    photo_limit_mb: float = DEFAULT_PHOTO_LIMIT_MB

    @property
    def backend(self) -> str:
        return make_url(self.url).get_backend_name()


def default_data_dir(dataset_path: Path | None) -> Path:
    """The data folder when ``RESPMAP_DATA_DIR`` is not set (see the module docstring)."""
    if env := os.environ.get("RESPMAP_DATA_DIR"):
        return Path(env).expanduser()
    if dataset_path is not None:
        dataset_path = Path(dataset_path).resolve()
        beside = dataset_path / "data"
        if (beside.is_dir() and os.access(beside, os.W_OK)) or os.access(dataset_path, os.W_OK):
            return beside
        name = dataset_path.name
    else:
        name = "default"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "respmap" / name


def store_config(
    dataset_path: Path | None = None,
    *,
    url: str | None = None,
    data_dir: Path | None = None,
    photo_limit_mb: float | None = None,
) -> StoreConfig:
    """The store's configuration from arguments, else ``RESPMAP_*`` variables, else defaults."""
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(dataset_path)
    url = url or os.environ.get("RESPMAP_DATABASE_URL") or f"sqlite:///{folder / SQLITE_FILE}"
    if photo_limit_mb is None:
        photo_limit_mb = float(os.environ.get("RESPMAP_PHOTO_LIMIT_MB") or DEFAULT_PHOTO_LIMIT_MB)
    return StoreConfig(url=url, data_dir=folder, photo_limit_mb=photo_limit_mb)


class Store:
    """An open store: the engine, a session factory, the data folder. One per process is enough."""

    def __init__(self, config: StoreConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._writers = sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._turn = WriterTurn(Path(database)) if database and database != ":memory:" else None

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work that writes: committed when the block ends normally, rolled back otherwise.

        On a SQLite file, writers queue for their turn first (:mod:`cases.writer_turn`).
        """
        with self._turn() if self._turn is not None else nullcontext():
            session = self._writers()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (never waits for writers on SQLite in WAL mode)."""
        with self.sessions() as session:  # closing ends the transaction; loaded objects stay readable
            yield session

    @contextmanager
    def one_read(self) -> Iterator[Connection]:
        """A connection for a single read statement (a token, a shared value).

        On PostgreSQL it runs in autocommit: one statement is its own snapshot, and the BEGIN and
        ROLLBACK round trips a transaction would add (two of a token check's four) are saved.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                yield connection
        else:
            with self.engine.connect() as connection:
                yield connection

    def get_state(self, key: str) -> str | None:
        """A shared value (polled by every server every ``reload_poll_s``: one statement, no transaction)."""
        with self.one_read() as connection:
            return connection.execute(select(ServerState.value).where(ServerState.key == key)).scalar()

    def bump_counter(self, key: str) -> int:
        """Add one to a shared counter (e.g. the dataset generation) and return the new value."""
        with self.session() as session:
            row = session.execute(select(ServerState).where(ServerState.key == key).with_for_update()).scalar()
            now = dt.datetime.now(dt.UTC)
            if row is None:
                row = ServerState(key=key, value="1", updated_at=now)
                session.add(row)
            else:
                row.value = str(int(row.value) + 1)
                row.updated_at = now
            return int(row.value)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._turn is not None:
            self._turn.close()

    def __repr__(self) -> str:
        return f"<Store {make_url(self.config.url).render_as_string(hide_password=True)}>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Writers begin IMMEDIATE (the write lock up front, so a read-then-write cannot deadlock);
    readers begin deferred and never wait for a writer in WAL mode."""
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(config: StoreConfig) -> Engine:
    """An engine for the configured URL; SQLite folders are created, pragmas set on connect."""
    try:
        url = make_url(config.url)
    except Exception as error:  # sqlalchemy raises ArgumentError with the URL inside
        raise StoreError(f"RESPMAP_DATABASE_URL is not a database URL: {error}") from None
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create the data folder {Path(url.database).parent}: {error}") from None
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so that a
        # transition's read and write happen in one transaction (BEGIN IMMEDIATE locks early).
        event.listen(engine, "connect", lambda dbapi, _rec: setattr(dbapi, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise StoreError(f"unsupported database {url.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def open_store(
    dataset_path: Path | None = None,
    *,
    config: StoreConfig | None = None,
    upgrade: bool = True,
) -> Store:
    """Open (and by default create or migrate) the store for ``dataset_path``'s configuration."""
    config = config or store_config(dataset_path)
    engine = make_engine(config)
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the data folder {config.data_dir}: {error}") from None
    if upgrade:
        try:
            migrate.upgrade(engine)
        except Exception as error:
            engine.dispose()
            raise StoreError(f"cannot open the store at {_shown(config.url)}: {_first_line(error)}") from error
    return Store(config, engine)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
