"""respmap's own state: cases, people, photos, events and edits, in a real database.

``geo`` says who holds the ground (a read-only snapshot of files); this package keeps what
happens on it: problems found by inspectors or reported by the public, attributed at once to
the units holding that ground (:mod:`cases.attribution`), followed through the national loop
督查 → 派遣 → 整改 → 核查 (:mod:`cases.workflow`), with every change an event that is never
deleted. SQLite (WAL) by default, PostgreSQL by ``RESPMAP_DATABASE_URL``; the schema is created
and upgraded by Alembic migrations (:mod:`cases.migrate`).

    >>> from cases.store import open_store
    >>> store = open_store()                         # migrations run on open
    >>> from cases.service import CaseService
    >>> CaseService(store, ds).create(actor, lon, lat, category="exposed_garbage")

Nothing here imports FastAPI: ``api/`` adapts it to HTTP and the command line.
"""
