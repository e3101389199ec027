"""The bulletin's figures (SPEC §3.5): one function per figure over a period, in a registry.

Each figure answers, per unit, one number about ``[start, end)``. A figure is charged to the
unit that held the thing when it fell due (for a deadline: when it fell due, or when it was met
if that was earlier), worked out from the incident's ``incident.transferred`` events, so a
transfer never moves lateness. Deadlines are counted by when they fell due, whatever the
incident's age. Drill incidents are left out of every figure.

Adding a figure (directives, handovers, spot checks) is one decorated function::

    @figure("directives_received", N_("directives received"), table=DIRECTIVES)
    async def directives_received(session, period): ...

and adding a report kind (the flash report) is one line: ``report_figures(FLASH, ...)``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, Event, IncidentRow
from bot.directives.service import DirectiveFigures, bulletin_figures
from bot.duty.service import DisciplineFigures, discipline_figures
from bot.i18n import N_
from bot.incidents.deadlines import FLASH, FOLLOWUP, INITIAL
from bot.incidents.service import subject
from bot.levels import OPEN_STATES
from scheduling.rows import CANCELLED, FIRED, MET, PENDING

Value = float | int | None
Compute = Callable[[AsyncSession, "Window"], Awaitable[dict[str, Value]]]

# The bulletin's tables: one sheet each in the XLSX export, one block each in the chat text.
INCIDENTS, REPORTS, DUTY, DIRECTIVES = "incidents", "reports", "duty", "directives"
TABLES: dict[str, str] = {
    INCIDENTS: N_("Incidents"),
    REPORTS: N_("Reports"),
    DUTY: N_("Duty discipline"),
    DIRECTIVES: N_("Directives"),
}
COUNT, MINUTES = "count", "minutes"

# What closes an incident, and when: (event kind, the state it leaves the incident in).
CLOSING_EVENTS = ("report.filed", "incident.dismissed", "incident.merged")


@dataclass(frozen=True)
class Window:
    """The period a bulletin covers, ``[start, end)`` in UTC, with a memo that figures sharing
    one query (median and worst; on time, late and missing) fill once per bulletin."""

    start: datetime
    end: datetime
    memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Figure:
    """One column of the bulletin: a key, its heading (a msgid), its table and its function."""

    key: str
    heading: str
    table: str
    compute: Compute
    unit: str = COUNT  # COUNT (whole numbers) or MINUTES


FIGURES: list[Figure] = []


def figure(
    key: str, heading: str, *, table: str, unit: str = COUNT
) -> Callable[[Compute], Compute]:
    """Register a figure; the registry's order is the bulletin's column order."""

    def register(compute: Compute) -> Compute:
        FIGURES.append(Figure(key, heading, table, compute, unit))
        return compute

    return register


@dataclass
class Bulletin:
    """The numbers of one bulletin: ``values[figure key][unit]``, for ``units`` in order."""

    units: list[str]
    start: datetime
    end: datetime
    values: dict[str, dict[str, Value]] = field(default_factory=dict)

    def value(self, key: str, unit: str) -> Value:
        """A figure's number for a unit (0 for counts nobody scored, ``None`` for no time)."""
        found = self.values.get(key, {}).get(unit)
        if found is None and _figure(key).unit == COUNT:
            return 0
        return found

    def tables(self) -> list[tuple[str, list[Figure]]]:
        """The tables, each with its figures, in registry order."""
        return [(t, [f for f in FIGURES if f.table == t]) for t in TABLES]

    def to_data(self) -> dict[str, Any]:
        """The numbers as JSON (kept in a row until the chart is drawn)."""
        return {
            "units": self.units,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "values": self.values,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Bulletin:
        """The numbers ``to_data`` kept."""
        return cls(
            list(data["units"]),
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            {key: dict(by_unit) for key, by_unit in data["values"].items()},
        )


def _figure(key: str) -> Figure:
    return next(f for f in FIGURES if f.key == key)


async def compute_bulletin(
    session: AsyncSession, units: Sequence[str], start: datetime, end: datetime
) -> Bulletin:
    """Every registered figure over ``[start, end)`` for ``units``."""
    window = Window(start, end)
    out = Bulletin(list(units), start, end)
    for item in FIGURES:
        values = await item.compute(session, window)
        out.values[item.key] = {u: v for u, v in values.items() if u in units}
    return out


# --- who held an incident when -------------------------------------------------------------


@dataclass
class Holders:
    """Which unit held each incident at any moment, from its transfer events."""

    now: dict[int, str]
    transfers: dict[int, list[tuple[datetime, str, str]]]

    def at(self, incident_id: int, moment: datetime) -> str:
        """The unit that held the incident at ``moment`` (the new unit from a transfer's
        instant on)."""
        for at, old, _new in self.transfers.get(incident_id, []):
            if at > moment:
                return old
        return self.now[incident_id]

    def arrived(self, incident_id: int, unit: str, moment: datetime) -> datetime | None:
        """When ``unit``'s hold that includes ``moment`` began: the last transfer to it at or
        before ``moment``, or ``None`` when it has held the incident since the report."""
        start = None
        for at, _old, new in self.transfers.get(incident_id, []):
            if at <= moment and new == unit:
                start = at
        return start


async def holders(session: AsyncSession, incidents: Iterable[IncidentRow]) -> Holders:
    """Load the transfers of ``incidents``."""
    rows = {i.id: i for i in incidents}
    transfers: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    if rows:
        by_subject = {subject(i): i for i in rows}
        for event in await session.scalars(
            select(Event)
            .where(Event.kind == "incident.transferred", Event.subject.in_(by_subject))
            .order_by(Event.at, Event.id)
        ):
            transfers[by_subject[event.subject or ""]].append(
                (event.at, str(event.data.get("old")), str(event.data.get("new")))
            )
    return Holders({i: r.unit_id for i, r in rows.items()}, dict(transfers))


async def _incidents(session: AsyncSession, ids: Iterable[int]) -> dict[int, IncidentRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(IncidentRow).where(IncidentRow.id.in_(wanted), IncidentRow.drill.is_(False))
    )
    return {r.id: r for r in rows}


async def _events(session: AsyncSession, kinds: Sequence[str], window: Window) -> list[Event]:
    rows = await session.scalars(
        select(Event)
        .where(Event.kind.in_(kinds), Event.at >= window.start, Event.at < window.end)
        .order_by(Event.at, Event.id)
    )
    return list(rows)


def _incident_of(event: Event) -> int | None:
    prefix = subject(0)[:-1]
    text = event.subject or ""
    return int(text.removeprefix(prefix)) if text.startswith(prefix) else None


def _count(units: Iterable[str]) -> dict[str, Value]:
    out: dict[str, Value] = defaultdict(int)
    for unit in units:
        out[unit] = int(out[unit] or 0) + 1
    return dict(out)


# --- incidents -------------------------------------------------------------------------------


@figure("received", N_("received"), table=INCIDENTS)
async def received(session: AsyncSession, window: Window) -> dict[str, Value]:
    """Reports that reached the unit in the period: reported to it, or transferred to it."""
    reported = await session.scalars(
        select(IncidentRow).where(
            IncidentRow.drill.is_(False),
            IncidentRow.reported_at >= window.start,
            IncidentRow.reported_at < window.end,
        )
    )
    reported_list = list(reported)
    held = await holders(session, reported_list)
    units = [held.at(i.id, i.reported_at) for i in reported_list]
    transfers = await _events(session, ("incident.transferred",), window)
    live = await _incidents(session, (n for e in transfers if (n := _incident_of(e))))
    units += [str(e.data.get("new")) for e in transfers if _incident_of(e) in live]
    return _count(units)


async def _accept_minutes(session: AsyncSession, window: Window) -> dict[str, list[float]]:
    """Minutes from the moment the incident reached a unit to that unit's acceptance, for the
    acceptances made in the period, per accepting unit."""
    if "accept" not in window.memo:
        window.memo["accept"] = await _accept_minutes_now(session, window)
    return cast(dict[str, list[float]], window.memo["accept"])


async def _accept_minutes_now(session: AsyncSession, window: Window) -> dict[str, list[float]]:
    accepted = await _events(session, ("incident.accepted",), window)
    incidents = await _incidents(session, (n for e in accepted if (n := _incident_of(e))))
    held = await holders(session, incidents.values())
    out: dict[str, list[float]] = defaultdict(list)
    for event in accepted:
        number = _incident_of(event)
        if number not in incidents:
            continue
        unit = held.at(number, event.at)
        since = held.arrived(number, unit, event.at) or incidents[number].reported_at
        out[unit].append((event.at - since) / timedelta(minutes=1))
    return out


@figure("accept_median", N_("minutes to accept, median"), table=INCIDENTS, unit=MINUTES)
async def accept_median(session: AsyncSession, window: Window) -> dict[str, Value]:
    """The median time to accept, in minutes."""
    return {u: statistics.median(m) for u, m in (await _accept_minutes(session, window)).items()}


@figure("accept_worst", N_("minutes to accept, worst"), table=INCIDENTS, unit=MINUTES)
async def accept_worst(session: AsyncSession, window: Window) -> dict[str, Value]:
    """The longest time to accept, in minutes."""
    return {u: max(m) for u, m in (await _accept_minutes(session, window)).items()}


async def _closures(session: AsyncSession, window: Window) -> list[tuple[Event, int]]:
    """The events that closed an incident in ``window``, with the incident's number."""
    out = []
    for event in await _events(session, CLOSING_EVENTS, window):
        number = _incident_of(event)
        if number is None:
            continue
        if event.kind == "report.filed" and event.data.get("new") != "closed":
            continue
        out.append((event, number))
    return out


@figure("closed", N_("incidents closed"), table=INCIDENTS)
async def closed(session: AsyncSession, window: Window) -> dict[str, Value]:
    """Incidents closed in the period (final report filed, or dismissed), charged to the unit
    that held them then; merged duplicates are not counted."""
    closures = [(e, n) for e, n in await _closures(session, window) if e.kind != "incident.merged"]
    incidents = await _incidents(session, (n for _, n in closures))
    held = await holders(session, incidents.values())
    return _count(held.at(n, e.at) for e, n in closures if n in incidents)


@figure("open_at_end", N_("open at the end"), table=INCIDENTS)
async def open_at_end(session: AsyncSession, window: Window) -> dict[str, Value]:
    """Incidents reported before the period's end and not closed by then, charged to the
    unit that held them at the end."""
    later = Window(window.end, window.end + timedelta(days=365 * 100))
    closed_later = {n for _, n in await _closures(session, later)}
    rows = list(
        await session.scalars(
            select(IncidentRow).where(
                IncidentRow.drill.is_(False),
                IncidentRow.reported_at < window.end,
                or_(
                    IncidentRow.state.in_(OPEN_STATES),
                    IncidentRow.id.in_(closed_later or {0}),
                ),
            )
        )
    )
    held = await holders(session, rows)
    return _count(held.at(i.id, window.end) for i in rows)


# --- reports, per deadline kind ----------------------------------------------------------------

ON_TIME, LATE, MISSING = "on_time", "late", "missing"


def outcome(row: Deadline, end: datetime) -> str | None:
    """How a report deadline that fell due before ``end`` stands at ``end``: filed on time,
    filed late (迟报), or still not filed (漏报); ``None`` when it does not count (cancelled
    before it fell due)."""
    filed = row.state == MET and row.met_at is not None and row.met_at < end
    if filed:
        return LATE if row.late else ON_TIME
    if row.state == CANCELLED and not row.late:
        return None  # nothing was due any more: the incident closed first
    if row.state in (PENDING, FIRED, MET, CANCELLED):
        return MISSING
    return None


async def report_outcomes(
    session: AsyncSession, kind: str, window: Window
) -> dict[str, dict[str, int]]:
    """Deadlines of ``kind`` that fell due in the period, per unit that held them then, by
    outcome. A deadline renewed after a take-over (``data.renews``) is the same report: only the
    original counts."""
    key = f"reports:{kind}"
    if key not in window.memo:
        window.memo[key] = await _report_outcomes_now(session, kind, window)
    return cast(dict[str, dict[str, int]], window.memo[key])


async def _report_outcomes_now(
    session: AsyncSession, kind: str, window: Window
) -> dict[str, dict[str, int]]:
    rows = [
        row
        for row in await session.scalars(
            select(Deadline).where(
                Deadline.kind == kind,
                Deadline.due_at >= window.start,
                Deadline.due_at < window.end,
                Deadline.incident_id.is_not(None),
            )
        )
        if "renews" not in (row.data or {})
    ]
    incidents = await _incidents(session, (r.incident_id for r in rows if r.incident_id))
    held = await holders(session, incidents.values())
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        number = row.incident_id or 0
        result = outcome(row, window.end)
        if number not in incidents or result is None:
            continue
        moment = min(row.due_at, row.met_at) if row.met_at is not None else row.due_at
        out[held.at(number, moment)][result] += 1
    return out


def report_figures(kind: str, on_time: str, late: str, missing: str) -> None:
    """Register the three figures of one report deadline kind: on time, late, missing."""
    for result, heading in ((ON_TIME, on_time), (LATE, late), (MISSING, missing)):

        async def compute(
            session: AsyncSession, window: Window, result: str = result
        ) -> dict[str, Value]:
            by_unit = await report_outcomes(session, kind, window)
            return {u: counts[result] for u, counts in by_unit.items()}

        figure(f"{kind}_{result}", heading, table=REPORTS)(compute)


report_figures(FLASH, N_("flash on time"), N_("flash late"), N_("flash missing"))
report_figures(INITIAL, N_("initial on time"), N_("initial late"), N_("initial missing"))
report_figures(FOLLOWUP, N_("follow-ups on time"), N_("follow-ups late"), N_("follow-ups missing"))


# --- duty discipline (SPEC §3.7): handovers and spot checks, by the unit they belong to ----


async def _discipline(session: AsyncSession, window: Window) -> dict[str, DisciplineFigures]:
    if "discipline" not in window.memo:
        window.memo["discipline"] = await discipline_figures(session, window.start, window.end)
    found: dict[str, DisciplineFigures] = window.memo["discipline"]
    return found


def discipline_figure(key: str, heading: str, attribute: str) -> None:
    """Register one duty-discipline count (a field of ``DisciplineFigures``)."""

    async def compute(session: AsyncSession, window: Window) -> dict[str, Value]:
        return {u: getattr(f, attribute) for u, f in (await _discipline(session, window)).items()}

    figure(key, heading, table=DUTY)(compute)


discipline_figure("handovers", N_("handovers"), "handovers")
discipline_figure("handovers_late", N_("handovers taken over late"), "handovers_late")
discipline_figure("spotchecks_answered", N_("spot checks answered"), "checks_answered")
discipline_figure("spotchecks_missed", N_("spot checks missed"), "checks_missed")


# --- directives (SPEC §3.6), by lead unit ------------------------------------------------------


async def _directives(session: AsyncSession, window: Window) -> dict[str, DirectiveFigures]:
    if "directives" not in window.memo:
        window.memo["directives"] = await bulletin_figures(session, window.start, window.end)
    found: dict[str, DirectiveFigures] = window.memo["directives"]
    return found


def directive_figure(key: str, heading: str, attribute: str) -> None:
    """Register one directive count (a field of ``DirectiveFigures``)."""

    async def compute(session: AsyncSession, window: Window) -> dict[str, Value]:
        return {u: getattr(f, attribute) for u, f in (await _directives(session, window)).items()}

    figure(key, heading, table=DIRECTIVES)(compute)


directive_figure("directives_received", N_("directives received"), "received")
directive_figure("directives_received_late", N_("received late"), "received_late")
directive_figure("directives_closed_on_time", N_("closed on time"), "closed_on_time")
directive_figure("directives_overdue", N_("deadlines missed"), "overdue")
directive_figure("directives_extended", N_("extended"), "extended")
