"""The store's tables, as SQLAlchemy 2 typed mappings.

Times are stored as UTC (timezone-aware in Python; SQLite keeps them as text, so
:class:`UTCDateTime` puts the zone back on the way out). Nothing is ever deleted: a case's
history is its :class:`Event` rows, a user is disabled (``disabled_at``), not removed.
Changing these classes needs a migration in ``cases/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


HELD_NOW = {"sqlite_where": text("until IS NULL"), "postgresql_where": text("until IS NULL")}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must carry a zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person who signs in with a token: the office (admin), an inspector, a unit's clerk, a planner."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the token: tokens are 256-bit random strings, so a plain hash cannot be
    # reversed by guessing, and a stolen database gives nobody a working token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Case(Base):
    """One problem at one place, attributed when it was reported and frozen with the dataset's hash."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(80))
    category_name: Mapped[str] = mapped_column(String(200))
    severity: Mapped[int] = mapped_column(Integer, default=2)
    source: Mapped[str] = mapped_column(String(20))  # inspector | office | public
    state: Mapped[str] = mapped_column(String(20))
    # Bumped by every transition; an UPDATE ... WHERE version = seen refuses a lost update.
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    given_lon: Mapped[float] = mapped_column(Float)
    given_lat: Mapped[float] = mapped_column(Float)
    given_crs: Mapped[str] = mapped_column(String(60))
    location_source: Mapped[str] = mapped_column(String(20), default="given")  # given | photo_exif
    district_id: Mapped[str | None] = mapped_column(String(200))
    district_name: Mapped[str | None] = mapped_column(String(400))
    layer: Mapped[str | None] = mapped_column(String(200))
    feature_id: Mapped[str | None] = mapped_column(String(200))
    feature_name: Mapped[str | None] = mapped_column(String(400))
    stretch_from_m: Mapped[float | None] = mapped_column(Float)
    stretch_to_m: Mapped[float | None] = mapped_column(Float)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)  # outside the frame, assigned by hand
    attribution_date: Mapped[dt.date] = mapped_column(Date)
    dataset_hash: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_contact: Mapped[str | None] = mapped_column(String(400))  # public reports (Open311 email ...)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON)  # the lookup answer, as frozen

    units: Mapped[list[CaseUnit]] = relationship(back_populates="case", order_by="CaseUnit.id")
    events: Mapped[list[Event]] = relationship(back_populates="case", order_by="Event.seq")
    photos: Mapped[list[Photo]] = relationship(back_populates="case", order_by="Photo.id")

    __table_args__ = (
        Index("ix_cases_state_due", "state", "due_at"),
        Index("ix_cases_reported_at", "reported_at"),
        Index("ix_cases_district", "district_id"),
        Index("ix_cases_lon_lat", "lon", "lat"),
    )


class CaseUnit(Base):
    """A unit a case is (or was) attributed to; a reassignment ends rows (``until``) and adds new ones."""

    __tablename__ = "case_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    unit_id: Mapped[str] = mapped_column(String(200))
    unit_name: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(20))  # lead | shared | fallback | manual
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Copies of the case's state, deadline and report time, kept equal to the case's by every
    # write (:mod:`cases.service`): a unit's list ("most urgent first") and its counts then come
    # from one index range of this table, without joining every case the unit ever held.
    case_state: Mapped[str] = mapped_column(String(20))
    case_open: Mapped[bool] = mapped_column(Boolean)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="units")

    __table_args__ = (
        # A unit's cases now (``listing.held_by``) and its counts by state: read from the index alone.
        Index("ix_case_units_unit_state", "unit_id", "until", "case_state", "case_pk"),
        Index("ix_case_units_case_pk", "case_pk"),  # a case's units (lists load them for 100 cases at once)
        # Partial (the units holding a case now): the rows of one unit, open or finished, are then one
        # range in the order its list shows them (cases.listing), on SQLite and PostgreSQL alike.
        Index("ix_case_units_unit_due", "unit_id", "case_open", "due_at", "case_pk", "case_state", **HELD_NOW),
        Index(
            "ix_case_units_unit_reported", "unit_id", "case_open", "reported_at", "case_pk", "case_state", **HELD_NOW
        ),
    )


class UnitCaseCount(Base):
    """How many cases a unit holds now in each state: a unit's list total without counting its rows.

    Kept by every write of :mod:`cases.service` in the transaction that changes the case
    (:mod:`cases.unit_counts`); equal at every commit to counting ``case_units`` rows held now.
    """

    __tablename__ = "unit_case_counts"

    unit_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_state: Mapped[str] = mapped_column(String(20), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)


class Event(Base):
    """One step of a case, never changed nor deleted: who did what, when, with which note."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The name who acted under, as given: the command line acts as the office under any ``--by``
    # name, which need not be a user's (then ``actor_id`` is empty and this is all there is).
    actor_name: Mapped[str | None] = mapped_column(String(200))
    by_role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    unit_id: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="events")

    __table_args__ = (Index("ix_events_case_seq", "case_pk", "seq", unique=True), Index("ix_events_at", "at"))


class Photo(Base):
    """A photo attached to a case (by a report or an event), stored by content hash under the data folder."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    event_seq: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="photos")

    __table_args__ = (Index("ix_photos_sha256", "sha256"), Index("ix_photos_case_pk", "case_pk"))


class AssignmentChange(Base):
    """A change of responsibility made in respmap (import of the workbook, a map edit): who, when, why, what."""

    __tablename__ = "assignment_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    by_name: Mapped[str] = mapped_column(String(200))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    effective: Mapped[dt.date] = mapped_column(Date)
    dataset_path: Mapped[str] = mapped_column(Text)
    hash_before: Mapped[str] = mapped_column(String(80))
    hash_after: Mapped[str] = mapped_column(String(80))
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)


class ServerState(Base):
    """Small shared values every server process reads, e.g. the dataset generation for reloads."""

    __tablename__ = "server_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DatasetTable(Base):
    """One version of a responsibility table (assignments, units) as applied by a change, kept in the store.

    With several servers on one database (PostgreSQL), this is where an edit made on one machine
    reaches the others: each server writes the newest version into its own dataset folder
    (:mod:`geo.table_versions`) before it reloads. ``seq`` counts the versions of one dataset
    (``dataset_key``) and is unique with the table's name: of two edits made against the same
    version, the second cannot take the same number and is refused.
    """

    __tablename__ = "dataset_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_key: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(80))
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_changes.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("dataset_key", "seq", "table_name", name="uq_dataset_tables_key_seq_table"),)
