"""SQLite writers queue for their turn (cases.writer_turn): the flock is held exactly while a write runs."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest

from cases.store import open_store, store_config
from cases.writer_turn import WriterTurn


def _free(path) -> bool:
    """Whether another open file could take the exclusive lock now (as another process would)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases a lock this probe took
    return True


def test_a_write_holds_the_turn_and_releases_it_even_when_it_fails(tmp_path):
    store = open_store(config=store_config(url=f"sqlite:///{tmp_path / 's.sqlite3'}", data_dir=tmp_path))
    try:
        lock_file = tmp_path / "s.sqlite3-writers.lock"
        with store.session():
            assert not _free(lock_file)
        assert _free(lock_file)
        with pytest.raises(RuntimeError), store.session():
            assert not _free(lock_file)
            raise RuntimeError("a write that fails")
        assert _free(lock_file)
        with store.reading():  # readers never queue
            assert _free(lock_file)
    finally:
        store.dispose()


def test_threads_of_one_process_take_turns_and_a_turn_may_nest(tmp_path):
    turn = WriterTurn(tmp_path / "db")
    inside = 0
    most = 0
    guard = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(200):
            with turn():
                with guard:
                    inside += 1
                    most = max(most, inside)
                with turn():  # a write inside a write keeps the turn instead of waiting for itself
                    pass
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert _free(turn.path)
    turn.close()


def test_postgres_and_memory_stores_have_no_turn(tmp_path, postgres_cluster):
    for url in ("sqlite://", postgres_cluster.new_database()):
        store = open_store(config=store_config(url=url, data_dir=tmp_path))
        try:
            assert store._turn is None
            with store.session():
                pass
        finally:
            store.dispose()
    assert not list(tmp_path.glob("*-writers.lock"))
