"""The case engine: create, see, list and move cases, each change one transaction and one event.

Callers (HTTP routes, the command line, the Open311 adapter) hand an :class:`~cases.users.Actor`
and plain values; they get plain dicts back (the JSON of DESIGN §8) or a
:class:`~cases.errors.CaseError`. Access rules live here, once:

* admin (the office) sees and does everything;
* an inspector reports, sees the cases it reported, closes or sends them back;
* a unit sees only cases currently attributed to it, never who reported them, and
  rectifies or disputes them;
* a planner edits responsibility, not cases;
* the public reports (the case waits as ``reported`` for the office).

A case the caller may not see is "not found" (404), so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from cases import unit_counts, workflow
from cases.attribution import Attribution, OutsideFrameError, attribute, unit_exists, unit_name
from cases.categories import Categories, Category
from cases.clock import Clock, dataset_timezone, local_iso, system_clock
from cases.errors import CaseNotFoundError, ConflictError, ForbiddenError, InvalidCaseError
from cases.listing import (
    CASE_COLUMNS,
    HIDDEN_FROM_UNITS,
    UNIT_COLUMNS,
    VISIBLE_TO_UNITS,
    Columns,
    ListQuery,
    case_page,
    held_by,
    late,
)
from cases.models import Case, CaseUnit, Event, Photo
from cases.photos import EXTENSIONS, PhotoError, StoredPhoto, store_photo
from cases.store import Store
from cases.users import Actor
from geo import Dataset
from geo.lookup import CoordinateError

MAX_NOTE_CHARS = 4000
# A report may carry the time it was made offline; a clock running ahead is tolerated this much.
FUTURE_SKEW = dt.timedelta(minutes=10)
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Upload:
    """A photo as received: its bytes and the name the client gave (kept as text only)."""

    data: bytes
    name: str = "photo"


@dataclass(frozen=True)
class CaseFilter:
    """Filters of a case list; every field optional."""

    state: Sequence[str] = ()
    unit_id: str | None = None
    district_id: str | None = None
    category: str | None = None
    start: dt.datetime | None = None  # reported at or after (UTC)
    end: dt.datetime | None = None  # reported before (UTC)
    bbox: tuple[float, float, float, float] | None = None  # WGS-84 min lon, min lat, max lon, max lat
    overdue: bool | None = None
    source: str | None = None
    limit: int = DEFAULT_LIST_LIMIT
    offset: int = 0


class CaseService:
    """The engine over one store and the dataset now serving."""

    def __init__(self, store: Store, ds: Dataset, categories: Categories, *, clock: Clock = system_clock) -> None:
        self.store = store
        self.ds = ds
        self.categories = categories
        self.clock = clock
        # once per dataset snapshot, not per request (reading catalog.toml cost 1.2 ms a request)
        self.zone = ds.cached(("case_timezone",), lambda: dataset_timezone(ds.path))

    # ------------------------------------------------------------------ create

    def create(
        self,
        actor: Actor,
        *,
        lon: float | None,
        lat: float | None,
        category: str,
        crs: str = "wgs84",
        note: str = "",
        at: dt.datetime | None = None,
        photo: Upload | None = None,
        idempotency_key: str | None = None,
        contact: str | None = None,
        force_unit: str | None = None,
    ) -> dict[str, Any]:
        """Report a case; attributed at once, dispatched at once unless reported by the public."""
        if actor.role not in workflow.REPORTING_ROLES and not actor.is_public:
            raise ForbiddenError(f"a {actor.role} may not report cases")
        if force_unit is not None and actor.role != "admin":
            raise ForbiddenError("only the office may assign a case by hand")
        kind = self._category(category)
        note = _note(note)
        now = self.clock()
        reported_at = now if at is None else at.astimezone(dt.UTC)
        if reported_at > now + FUTURE_SKEW:
            raise InvalidCaseError(f"reported_at {local_iso(reported_at, self.zone)} is in the future")
        if idempotency_key is not None:
            idempotency_key = idempotency_key.strip()[:200] or None
            if idempotency_key and (existing := self._by_key(idempotency_key, actor)) is not None:
                return existing
        stored = self._store_photo(photo) if photo is not None else None
        location_source = "given"
        if lon is None or lat is None:
            if stored is None or stored.gps is None:
                raise InvalidCaseError("a case needs a place: lon and lat, or a photo whose EXIF has a GPS position")
            lon, lat, crs = stored.gps[0], stored.gps[1], "wgs84"
            location_source = "photo_exif"
        if force_unit is not None and not unit_exists(self.ds, force_unit):
            raise InvalidCaseError(f"unknown unit {force_unit!r}", {"field": "unit_id"})
        local_date = reported_at.astimezone(self.zone).date()
        try:
            found = attribute(self.ds, lon, lat, crs=crs, date=local_date, category=kind, force_unit=force_unit)
        except CoordinateError as error:
            raise InvalidCaseError(str(error), {"field": "lon/lat"}) from None
        except OutsideFrameError as error:
            raise InvalidCaseError(
                f"{error}; the office may report it with a unit chosen by hand (force_unit)",
                {"field": "lon/lat", "nearest_district": error.nearest_district},
            ) from None
        dispatched = not actor.is_public
        due = now + dt.timedelta(hours=kind.deadline_hours) if dispatched else None
        answer = _jsonable(found.answer)  # before the write lock: the transaction holds it as briefly as it can
        try:
            with self.store.session() as session:
                case = self._insert(
                    session,
                    actor,
                    kind,
                    found,
                    lon,
                    lat,
                    crs,
                    note,
                    reported_at,
                    now,
                    contact,
                    idempotency_key,
                    due,
                    answer,
                )
                case.location_source = location_source
                self._event(session, case, 1, reported_at, "report", None, "reported", actor, note, None, None, now)
                if dispatched:
                    self._event(session, case, 2, now, "dispatch", "reported", "dispatched", actor, "", due, None, now)
                if stored is not None:
                    session.add(_photo_row(case, stored, 1, photo.name if photo else "", now))
                written = list(session.new)  # units, events, photo: strong references (the identity map is weak)
                session.flush()
                # last, so that the counter rows a busy unit shares stay locked for the commit only
                held = [(row.unit_id, case.state) for row in written if isinstance(row, CaseUnit)]
                unit_counts.adjust(session, unit_counts.change([], held))
                _loaded_from_session(written, case)
        except IntegrityError:
            if idempotency_key and (existing := self._by_key(idempotency_key, actor)) is not None:
                return existing  # the same report sent twice at once: the first one won
            raise
        # The answer is built from the rows just committed (still loaded: expire_on_commit is off),
        # not read back: a second read with three collection loads was 40 % of a create.
        return self.to_dict(case, actor)

    def _insert(
        self,
        session: Session,
        actor: Actor,
        kind: Category,
        found: Attribution,
        lon: float,
        lat: float,
        crs: str,
        note: str,
        reported_at: dt.datetime,
        now: dt.datetime,
        contact: str | None,
        idempotency_key: str | None,
        due_at: dt.datetime | None,
        answer: dict[str, Any],
    ) -> Case:
        """The case row and its units; dispatched at once (with ``due_at``) unless ``due_at`` is None."""
        pk = _next_case_pk(session)
        case = Case(
            id=pk,
            case_id=f"{reported_at.astimezone(self.zone):%Y%m%d}-{pk:06d}",
            category=kind.code,
            category_name=kind.name,
            severity=kind.severity,
            source="public" if actor.is_public else ("office" if actor.role == "admin" else "inspector"),
            state="reported" if due_at is None else "dispatched",
            version=1,
            reported_at=reported_at,
            received_at=now,
            due_at=due_at,
            lon=found.lon,
            lat=found.lat,
            given_lon=float(lon),
            given_lat=float(lat),
            given_crs=str(found.answer.get("point", {}).get("crs", crs)),
            district_id=found.district_id,
            district_name=found.district_name,
            layer=found.layer,
            feature_id=found.feature_id,
            feature_name=found.feature_name,
            stretch_from_m=found.stretch[0] if found.stretch else None,
            stretch_to_m=found.stretch[1] if found.stretch else None,
            fallback=found.fallback,
            forced=found.forced,
            attribution_date=found.date,
            dataset_hash=found.dataset_hash,
            note=note,
            reporter_id=actor.user_id,
            reporter_contact=(contact or "").strip()[:400] or None,
            idempotency_key=idempotency_key,
            attribution=answer,
        )
        session.add(case)
        seen: set[str] = set()
        for unit_id, name, role in found.units:  # a unit named twice (lead here, sharing there) holds it once
            if unit_id not in seen:
                seen.add(unit_id)
                session.add(_unit_row(case, unit_id, name, role, now))
        return case

    # ------------------------------------------------------------------ read

    def get(self, actor: Actor, case_id: str) -> dict[str, Any]:
        """One case as the caller may see it; 404 for a case it may not see."""
        self._require_reader(actor)
        with self.store.reading() as session:
            case = self._load(session, case_id, actor)
            return self.to_dict(case, actor)

    def _get_by_pk(self, case_pk: int, actor: Actor) -> dict[str, Any]:
        with self.store.reading() as session:
            case = session.execute(_full(select(Case).where(Case.id == case_pk))).scalar_one()
            return self.to_dict(case, actor)

    def list(self, actor: Actor, filters: CaseFilter) -> tuple[list[dict[str, Any]], int]:
        """The cases the caller may see that pass the filters (summaries, most urgent first) and their total."""
        self._require_reader(actor)
        now = self.clock()
        limit = max(1, min(int(filters.limit), MAX_LIST_LIMIT))
        offset = max(0, int(filters.offset))
        query = self._list_query(actor, filters, now)
        with self.store.reading() as session:
            keys, total = case_page(session, query, now, limit, offset)
            if not keys:
                return [], total
            rows = session.execute(
                select(Case)
                .where(Case.id.in_(keys))
                .options(defer(Case.attribution), selectinload(Case.units), selectinload(Case.photos))
            ).scalars()
            by_key = {case.id: case for case in rows}
            return [self.summary(by_key[key], actor, now) for key in keys], total

    def _list_query(self, actor: Actor, filters: CaseFilter, now: dt.datetime) -> ListQuery:
        """A unit's list (its own, or the office's view of it) reads the unit's rows; others read ``cases``."""
        on_cases: list[Any] = []
        if actor.role == "unit":
            unit: str | None = actor.unit_id or ""
            columns = UNIT_COLUMNS
            visible = [UNIT_COLUMNS.state.in_(VISIBLE_TO_UNITS)]
            if filters.unit_id and filters.unit_id != actor.unit_id:
                on_cases.append(held_by(filters.unit_id))
        else:
            unit = filters.unit_id or None
            columns = UNIT_COLUMNS if unit is not None else CASE_COLUMNS
            visible = []
            on_cases.extend(self._visibility(actor))
        on_columns, only_cases = self._conditions(filters, now, columns)
        counted = None  # the states whose stored counts give the total (cases.unit_counts)
        narrowed = filters.start or filters.end or filters.overdue is not None or on_cases or only_cases
        if unit is not None and not narrowed and actor.role in ("unit", "admin"):
            counted = tuple(
                state
                for state in (VISIBLE_TO_UNITS if actor.role == "unit" else workflow.STATES)
                if not filters.state or state in filters.state
            )
        return ListQuery(unit, [*visible, *on_columns], [*on_cases, *only_cases], counted)

    def case_conditions(self, actor: Actor, filters: CaseFilter, now: dt.datetime) -> list[Any]:
        """What ``actor`` may see and the filters, as conditions on ``cases`` alone (exports: one query)."""
        self._require_reader(actor)
        on_columns, on_cases = self._conditions(filters, now, CASE_COLUMNS)
        unit = [held_by(filters.unit_id)] if filters.unit_id else []
        return [*self._visibility(actor), *unit, *on_columns, *on_cases]

    def _visibility(self, actor: Actor) -> list[Any]:
        if actor.role == "admin":
            return []
        if actor.role == "inspector":
            return [Case.reporter_id == actor.user_id]
        if actor.role == "unit":  # a public report reaches the unit once the office dispatches it
            return [held_by(actor.unit_id or ""), Case.state.not_in(HIDDEN_FROM_UNITS)]
        if actor.is_public:
            return [Case.source == "public"]
        return [Case.id < 0]

    def _conditions(self, filters: CaseFilter, now: dt.datetime, columns: Columns) -> tuple[list[Any], list[Any]]:
        """The filters as conditions: those ``columns`` answer, and those only ``cases`` answers."""
        on_columns: list[Any] = []
        on_cases: list[Any] = []
        if filters.state:
            unknown = [s for s in filters.state if s not in workflow.STATES]
            if unknown:
                raise InvalidCaseError(f"unknown state {unknown[0]!r}; states are {', '.join(workflow.STATES)}")
            on_columns.append(columns.state.in_(list(filters.state)))
        if filters.start is not None:
            on_columns.append(columns.reported_at >= filters.start)
        if filters.end is not None:
            on_columns.append(columns.reported_at < filters.end)
        if filters.overdue is not None:
            on_columns.append(late(columns, now) if filters.overdue else ~late(columns, now))
        if filters.district_id:
            on_cases.append(Case.district_id == filters.district_id)
        if filters.category:
            on_cases.append(Case.category == filters.category)
        if filters.source:
            on_cases.append(Case.source == filters.source)
        if filters.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = filters.bbox
            on_cases.append(Case.lon.between(min_lon, max_lon))
            on_cases.append(Case.lat.between(min_lat, max_lat))
        return on_columns, on_cases

    # ------------------------------------------------------------------ act

    def act(
        self,
        actor: Actor,
        case_id: str,
        action: str,
        *,
        note: str = "",
        due_at: dt.datetime | None = None,
        unit_id: str | None = None,
        photo: Upload | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Take one step on a case (see :mod:`cases.workflow`); one transaction, one event."""
        self._require_reader(actor)
        note = _note(note)
        stored = self._store_photo(photo) if photo is not None else None
        now = self.clock()
        with self.store.session() as session:
            case = self._load(session, case_id, actor)
            refusal = workflow.check(action, case.state, actor.role)
            if refusal is not None:
                error = ForbiddenError if refusal.kind == "role" else ConflictError
                if refusal.kind == "unknown":
                    error = InvalidCaseError
                raise error(refusal.message, {"state": case.state, "allowed": list(refusal.allowed)})
            if expected_version is not None and expected_version != case.version:
                raise ConflictError(
                    f"case {case.case_id} changed meanwhile (version {case.version}, you saw {expected_version})",
                    {"state": case.state, "version": case.version},
                )
            new_due = self._due_for(action, case, due_at, now)
            new_unit = self._unit_for(action, unit_id)
            if action in workflow.NEEDS_NOTE and not note:
                raise InvalidCaseError(f"{action} needs a note saying why", {"field": "note"})
            from_state, version = case.state, case.version
            to_state = workflow.next_state(action, from_state)
            values: dict[str, Any] = {"state": to_state, "version": version + 1}
            if new_due is not None:
                values["due_at"] = new_due
            changed = session.execute(
                update(Case)
                .where(Case.id == case.id, Case.version == version)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                raise ConflictError(f"case {case.case_id} changed meanwhile; load it again", {"state": from_state})
            # the copies on the case's unit rows follow (see CaseUnit): same transaction, same values
            due_now = values.get("due_at", case.due_at)
            session.execute(
                update(CaseUnit)
                .where(CaseUnit.case_pk == case.id)
                .values(
                    case_state=to_state,
                    case_open=to_state in workflow.OPEN_STATES,
                    due_at=due_now,
                )
                .execution_options(synchronize_session=False)
            )
            # what was written, without a second UPDATE at flush (a reassignment's new row copies it)
            set_committed_value(case, "state", to_state)
            set_committed_value(case, "due_at", due_now)
            seq = len(case.events) + 1
            self._event(session, case, seq, now, action, from_state, to_state, actor, note, new_due, new_unit, now)
            held_before = [(row.unit_id, from_state) for row in case.units if row.until is None]
            held_after = [(unit, to_state) for unit, _ in held_before]
            if new_unit is not None:
                for row in case.units:
                    if row.until is None:
                        row.until = now
                session.add(_unit_row(case, new_unit, unit_name(self.ds, new_unit), "manual", now))
                held_after = [(new_unit, to_state)]
            unit_counts.adjust(session, unit_counts.change(held_before, held_after))
            if stored is not None:
                session.add(_photo_row(case, stored, seq, photo.name if photo else "", now))
            case_pk = case.id
        return self._get_by_pk(case_pk, actor)

    def _due_for(self, action: str, case: Case, due_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        if action == "postpone":
            if due_at is None:
                raise InvalidCaseError("postpone needs the new deadline (due_at)", {"field": "due_at"})
            if due_at <= now or (case.due_at is not None and due_at <= case.due_at):
                raise InvalidCaseError(
                    "the new deadline must be later than now and than the current one", {"field": "due_at"}
                )
            return due_at
        if action == "reassign" or (action == "dispatch" and case.state == "reported"):
            kind = self.categories.get(case.category)
            hours = kind.deadline_hours if kind is not None else 24.0
            return due_at if due_at is not None and due_at > now else now + dt.timedelta(hours=hours)
        if due_at is not None:
            raise InvalidCaseError(f"{action} does not set a deadline; leave due_at out", {"field": "due_at"})
        return None

    def _unit_for(self, action: str, unit_id: str | None) -> str | None:
        if action != "reassign":
            if unit_id:
                raise InvalidCaseError(f"{action} does not take a unit; leave unit_id out", {"field": "unit_id"})
            return None
        if not unit_id:
            raise InvalidCaseError("reassign needs the unit the case goes to (unit_id)", {"field": "unit_id"})
        if not unit_exists(self.ds, unit_id):
            raise InvalidCaseError(f"unknown unit {unit_id!r}", {"field": "unit_id"})
        return unit_id

    # ------------------------------------------------------------------ pieces

    def _require_reader(self, actor: Actor) -> None:
        if actor.role == "planner":
            raise ForbiddenError("a planner edits responsibility; cases are for the office, inspectors and units")

    def _category(self, code: str) -> Category:
        kind = self.categories.get(str(code))
        if kind is None:
            shown = str(code)[:60]
            raise InvalidCaseError(
                f"unknown category {shown!r}; categories are {', '.join(self.categories.codes())}",
                {"field": "category"},
            )
        return kind

    def _store_photo(self, photo: Upload) -> StoredPhoto:
        try:
            return store_photo(
                photo.data, self.store.data_dir, limit_mb=self.store.config.photo_limit_mb, name=_safe_name(photo.name)
            )
        except PhotoError as error:
            raise InvalidCaseError(str(error), {"field": "photo"}) from None

    def _load(self, session: Session, case_id: str, actor: Actor) -> Case:
        query = _full(select(Case).where(Case.case_id == str(case_id)[:40]))
        visible = self._visibility(actor)
        if visible:
            query = query.where(and_(*visible))
        case = session.execute(query).scalar()
        if case is None:
            raise CaseNotFoundError(f"no case {str(case_id)[:40]!r}", {"kind": "case", "id": str(case_id)[:40]})
        return case

    def _by_key(self, key: str, actor: Actor) -> dict[str, Any] | None:
        with self.store.reading() as session:
            case = session.execute(_full(select(Case).where(Case.idempotency_key == key))).scalar()
            if case is None:
                return None
            if case.reporter_id != actor.user_id:
                raise ConflictError("this idempotency key was used for another report")
            return self.to_dict(case, actor)

    def _event(
        self,
        session: Session,
        case: Case,
        seq: int,
        at: dt.datetime,
        action: str,
        from_state: str | None,
        to_state: str,
        actor: Actor,
        note: str,
        due_at: dt.datetime | None,
        unit_id: str | None,
        recorded_at: dt.datetime,
    ) -> None:
        session.add(
            Event(
                case_pk=case.id,
                seq=seq,
                at=at,
                recorded_at=recorded_at,
                action=action,
                from_state=from_state,
                to_state=to_state,
                actor_id=actor.user_id,
                actor_name=None if actor.is_public else actor.name[:200],
                by_role=actor.role,
                note=note,
                due_at=due_at,
                unit_id=unit_id,
            )
        )

    # ------------------------------------------------------------------ views

    def overdue(self, case: Case, now: dt.datetime | None = None) -> bool:
        now = now or self.clock()
        return case.state in workflow.RUNNING_STATES and case.due_at is not None and case.due_at < now

    def summary(self, case: Case, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
        """A case without its events: what lists and maps show."""
        zone = self.zone
        current = [u for u in case.units if u.until is None]
        photos = [self._photo_dict(p) for p in case.photos]
        return {
            "case_id": case.case_id,
            "state": case.state,
            "state_name": workflow.STATE_NAMES_ZH.get(case.state, case.state),
            "version": case.version,
            "category": case.category,
            "category_name": case.category_name,
            "severity": case.severity,
            "source": case.source if actor.role != "unit" else None,
            "lon": case.lon,
            "lat": case.lat,
            "given": {"lon": case.given_lon, "lat": case.given_lat, "crs": case.given_crs},
            "location_source": case.location_source,
            "reported_at": local_iso(case.reported_at, zone),
            "due_at": local_iso(case.due_at, zone),
            "overdue": self.overdue(case, now),
            "district_id": case.district_id,
            "district_name": case.district_name,
            "feature": None
            if case.feature_id is None
            else {
                "layer": case.layer,
                "feature_id": case.feature_id,
                "name": case.feature_name,
                "stretch": None
                if case.stretch_from_m is None
                else {"from_m": case.stretch_from_m, "to_m": case.stretch_to_m},
            },
            "units": [{"unit_id": u.unit_id, "name": u.unit_name, "role": u.role} for u in current],
            "fallback": case.fallback,
            "forced": case.forced,
            "dataset_hash": case.dataset_hash,
            "attribution_date": case.attribution_date.isoformat(),
            "note": case.note,
            "photos": photos,
            "allowed_actions": list(workflow.allowed_actions(case.state, actor.role)) if not actor.is_public else [],
        }

    def to_dict(self, case: Case, actor: Actor) -> dict[str, Any]:
        """The whole case (DESIGN §8 JSON) as ``actor`` may see it: units never learn who reported."""
        out = self.summary(case, actor)
        sees_people = actor.role == "admin"
        out["units_history"] = [
            {
                "unit_id": u.unit_id,
                "name": u.unit_name,
                "role": u.role,
                "since": local_iso(u.since, self.zone),
                "until": local_iso(u.until, self.zone),
            }
            for u in case.units
        ]
        out["events"] = [
            {
                "seq": e.seq,
                "at": local_iso(e.at, self.zone),
                "action": e.action,
                "action_name": workflow.ACTION_NAMES_ZH.get(e.action, e.action),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "by_role": e.by_role,
                **({"by_user_id": e.actor_id, "by_name": e.actor_name} if sees_people else {}),
                "note": e.note,
                "due_at": local_iso(e.due_at, self.zone),
                "unit_id": e.unit_id,
            }
            for e in case.events
        ]
        if sees_people:
            out["reporter_id"] = case.reporter_id
            out["reporter_contact"] = case.reporter_contact
            out["attribution"] = case.attribution
        return out

    def _photo_dict(self, photo: Photo) -> dict[str, Any]:
        ext = EXTENSIONS.get(photo.media_type, "jpg")
        return {
            "url": f"/photos/{photo.sha256}.{ext}",
            "thumb_url": f"/photos/{photo.sha256}.thumb.jpg",
            "sha256": photo.sha256,
            "media_type": photo.media_type,
            "width": photo.width,
            "height": photo.height,
            "event_seq": photo.event_seq,
        }

    def may_see_photo(self, actor: Actor, sha256: str) -> bool:
        """Whether ``actor`` may see some case that carries this photo."""
        self._require_reader(actor)
        visible = self._visibility(actor)
        query = select(Photo.id).join(Case, Case.id == Photo.case_pk).where(Photo.sha256 == sha256)
        if visible:
            query = query.where(and_(*visible))
        with self.store.reading() as session:
            return session.execute(query.limit(1)).first() is not None


def _loaded_from_session(written: list[Any], case: Case) -> None:
    """Mark a new case's units, events and photos as loaded with the rows just written for it."""
    rows = [row for row in written if getattr(row, "case_pk", None) == case.id]
    set_committed_value(case, "units", sorted((r for r in rows if isinstance(r, CaseUnit)), key=lambda r: r.id))
    set_committed_value(case, "events", sorted((r for r in rows if isinstance(r, Event)), key=lambda r: r.seq))
    set_committed_value(case, "photos", sorted((r for r in rows if isinstance(r, Photo)), key=lambda r: r.id))


def _full(query: Any) -> Any:
    return query.options(selectinload(Case.units), selectinload(Case.events), selectinload(Case.photos))


def _next_case_pk(session: Session) -> int:
    """The number a new case takes, known before its INSERT so that its case_id is written once.

    PostgreSQL: the next value of the id's sequence. SQLite: one past the largest, which no other
    writer can take meanwhile: the transaction began IMMEDIATE and holds the write lock until it ends.
    """
    if session.get_bind().dialect.name == "postgresql":
        return int(session.execute(text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")).scalar_one())
    return int(session.execute(select(func.max(Case.id))).scalar() or 0) + 1


def _unit_row(case: Case, unit_id: str, name: str, role: str, now: dt.datetime) -> CaseUnit:
    """A unit the case goes to from ``now``, carrying the case's state as it is now (see CaseUnit)."""
    return CaseUnit(
        case_pk=case.id,
        unit_id=unit_id,
        unit_name=name,
        role=role,
        since=now,
        case_state=case.state,
        case_open=case.state in workflow.OPEN_STATES,
        due_at=case.due_at,
        reported_at=case.reported_at,
    )


def _photo_row(case: Case, stored: StoredPhoto, seq: int, name: str, now: dt.datetime) -> Photo:
    return Photo(
        case_pk=case.id,
        event_seq=seq,
        sha256=stored.sha256,
        media_type=stored.media_type,
        width=stored.width,
        height=stored.height,
        size_bytes=stored.size_bytes,
        original_name=_safe_name(name),
        uploaded_at=now,
    )


def _note(note: str | None) -> str:
    text = "" if note is None else str(note)
    text = "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32).strip()
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidCaseError(f"the note is {len(text)} characters; at most {MAX_NOTE_CHARS}", {"field": "note"})
    return text


def _safe_name(name: str | None) -> str:
    text = "".join(ch for ch in str(name or "photo") if ord(ch) >= 32 and ch not in "/\\")
    return text[-120:] or "photo"


def _jsonable(value: Any) -> Any:
    """The lookup answer with NaN and numpy scalars made plain (JSON columns on both backends)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return None if value != value else value  # NaN
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value
