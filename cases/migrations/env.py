"""Alembic's environment for the store: the engine comes from :func:`cases.migrate.alembic_config`."""

from __future__ import annotations

from alembic import context

from cases.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
