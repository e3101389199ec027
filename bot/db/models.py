"""SQLAlchemy 2 typed models. Every datetime column is aware UTC (``UTCDateTime``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, orm_insert_sentinel, relationship

from bot.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit everywhere (Telegram ids exceed 32 bits), but SQLite only autoincrements INTEGER keys.
BigInt = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """The declarative base: UTC datetimes and stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), int: BigInt}


def table_of(model: type[Base]) -> Table:
    """The Core table a model is mapped to (for statements built on tables rather than on
    mapped classes: ``bot.db.appends``, ``bot.db.statements``)."""
    return cast(Table, model.__table__)


class UnitRow(Base):
    """A unit as known to the bot, synchronised from the roster (kept when removed from it)."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(64))
    duty_chat: Mapped[int | None]
    in_roster: Mapped[bool] = mapped_column(default=True)


class PersonRow(Base):
    """A person as known to the bot, synchronised from the roster, with what the bot learnt."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    roles: Mapped[str] = mapped_column(String(200))  # space-separated, as in the roster
    chosen_language: Mapped[str | None] = mapped_column(String(8))
    unreachable_since: Mapped[datetime | None]
    in_roster: Mapped[bool] = mapped_column(default=True)


class TelegramAccount(Base):
    """A Telegram account linked to a person through an invite code."""

    __tablename__ = "telegram_accounts"

    telegram_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), unique=True)
    linked_at: Mapped[datetime]
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invite_codes.id"))


class InviteCode(Base):
    """A one-time onboarding code; only its hash is stored, so a database leak links nobody."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None]
    revoked_at: Mapped[datetime | None]  # a newer invite for the same person replaced it
    # a person already linked opened it from another account: waiting for an admin to confirm
    move_telegram_id: Mapped[int | None]


class Event(Base):
    """The append-only event log: who did what to which subject, and when."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # one INSERT for many rows
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message to send (or an edit of one already sent), written in the transaction that
    causes it; the sender delivers it at least once, in order per chat, higher priority first."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_chat_order", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # one INSERT for many rows
    chat_id: Mapped[int]
    person_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))  # sendMessage | sendPhoto | editMessageText
    priority: Mapped[int] = mapped_column(default=5)  # 0 = level I … 5 = routine
    text: Mapped[str] = mapped_column(Text)  # the caption of a photo
    photo: Mapped[str | None] = mapped_column(String(200))  # a Telegram file id
    photo_data: Mapped[bytes | None] = mapped_column(LargeBinary)  # or an image to upload
    filename: Mapped[str | None] = mapped_column(String(200))  # sendDocument: its bytes above
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    edit_of: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    edit_message_id: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedUpdate(Base):
    """A Telegram update whose effects are committed; a re-delivered copy is ignored."""

    __tablename__ = "processed_updates"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None]
    message_id: Mapped[int | None]
    processed_at: Mapped[datetime]


class InboxUpdate(Base):
    """A Telegram update as received (raw JSON), stored before Telegram is told it arrived and
    handled from here, in order per chat; ``done_at`` is set once it has been handled."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_pending", "done_at", "update_id"),)

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None]  # the order key: updates of one chat are handled one by one
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class IncidentRow(Base):
    """An incident (SPEC §2); its number is its id. Every change also writes a timeline event
    (``events`` with subject ``incident:<id>``) in the same transaction."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_unit_state", "unit_id", "state"),
        Index("ix_incidents_reporter", "reporter_id", "id"),
        Index("ix_incidents_assignee", "assignee_id", "state"),
        Index("ix_incidents_level_id", "level", "id"),  # /status pages: level, then number
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    category: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16), default="unassessed")
    sensitive: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location_text: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    occurred_at: Mapped[datetime | None]
    reported_at: Mapped[datetime]
    reporter_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    dead: Mapped[int | None]
    injured: Mapped[int | None]
    missing: Mapped[int | None]
    trapped: Mapped[int | None]
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    drill: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20), default="reported")
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    accepted_at: Mapped[datetime | None]
    # when the incident reached its current unit (the report, or the last transfer): the
    # acceptance clock runs from here
    unit_since: Mapped[datetime | None]
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    # where the report came from (SPEC §2): field (in the bot), phone (/call), upper, media, other
    source: Mapped[str] = mapped_column(String(12), default="field")
    caller_name: Mapped[str | None] = mapped_column(String(120))
    caller_org: Mapped[str | None] = mapped_column(String(200))
    caller_phone: Mapped[str | None] = mapped_column(String(60))


class IncidentAlert(Base):
    """One copy of an incident's alert card (an outbox row), so every copy can be edited."""

    __tablename__ = "incident_alerts"
    __table_args__ = (Index("ix_incident_alerts_incident", "incident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # one INSERT for many rows
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    chat_id: Mapped[int]
    person_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    # a line of a digest message (the chat had a backlog), not a card of its own: never edited
    digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # set when the copy is queued in the same flush (its key not known yet); never loaded
    outbox: Mapped[OutboxMessage] = relationship(lazy="raise")


class BotState(Base):
    """python-telegram-bot's persistence (forms half-filled, pending questions) as rows."""

    __tablename__ = "bot_state"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]]


class Deadline(Base):
    """Something that falls due (DESIGN principle 1): the only record of what is due.

    Kinds: ``accept``, ``initial_report``, ``followup``, ``final`` (met by people), and the
    engine's own ``warning`` (before a report deadline) and ``escalation`` (one rung of the chain
    after a missed deadline, ``parent_id`` pointing at it). States: ``pending`` → ``met`` or
    ``fired`` (a missed deadline fires and becomes late for good; it may be met later, late) or
    ``cancelled``. ``warned_at``: when a warning about this deadline fired (the assignee was
    reminded), so "a warning was ignored" is read from the deadline itself.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_due", "state", "due_at"),
        Index("ix_deadlines_incident", "incident_id", "kind", "state", "due_at"),
        Index("ix_deadlines_directive", "directive_id", "kind", "state"),
        # the /status counts: what is overdue, or near, by kind (only the rows that count)
        Index("ix_deadlines_state_kind_due", "state", "kind", "due_at", "incident_id"),
        # ... and the warned deadlines still pending (a handful, whatever the history)
        Index(
            "ix_deadlines_warned",
            "state",
            "incident_id",
            sqlite_where=text("warned_at IS NOT NULL"),
            postgresql_where=text("warned_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # one INSERT for many rows
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    directive_id: Mapped[int | None] = mapped_column(ForeignKey("directives.id"))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")
    sequence: Mapped[int | None]  # the follow-up number; the escalation rung
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    late: Mapped[bool] = mapped_column(default=False)
    fired_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # set when the parent is added in the same flush (its key not known yet); never loaded
    parent: Mapped[Deadline | None] = relationship(remote_side=[id], lazy="raise")


class OfficialReport(Base):
    """An initial (首报), follow-up (续报) or final (终报) report on an incident."""

    __tablename__ = "official_reports"
    __table_args__ = (Index("ix_official_reports_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(12))  # initial | followup | final
    number: Mapped[int] = mapped_column(default=0)  # follow-ups: 1, 2, …
    author_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    state: Mapped[str] = mapped_column(String(20))  # awaiting_signoff | filed | sent_back
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    filed_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(default=False)


class DutyShift(Base):
    """A shift change of a unit's officer position (SPEC §3.7), booked ahead once per unit and
    time: its ``duty.shift`` deadline sends the handover card and books the shift's spot checks."""

    __tablename__ = "duty_shifts"
    __table_args__ = (UniqueConstraint("unit_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    incoming: Mapped[list[str]] = mapped_column(JSON, default=list)
    outgoing: Mapped[list[str]] = mapped_column(JSON, default=list)
    handover: Mapped[bool] = mapped_column(default=False)  # the holders changed: a card went
    taken_over_at: Mapped[datetime | None]
    taken_over_by: Mapped[str | None] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(default=False)


class SpotCheck(Base):
    """A presence check (查岗) of a unit's officers on duty: pending → answered or missed."""

    __tablename__ = "spot_checks"
    __table_args__ = (Index("ix_spot_checks_unit", "unit_id", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    asked_by: Mapped[str | None] = mapped_column(String(64))  # None: a random check
    asked_at: Mapped[datetime]
    due_at: Mapped[datetime]
    officers: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(64))


class SwapRow(Base):
    """A shift handed to a colleague (换班/代班): requested → accepted → approved (a one-off
    shift that beats the roster file) or refused."""

    __tablename__ = "swaps"
    __table_args__ = (Index("ix_swaps_state", "state", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[str] = mapped_column(String(16))
    requester_id: Mapped[str] = mapped_column(String(64))
    colleague_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="requested")
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))


class ChangeRequest(Base):
    """An officer's request to dismiss an incident, lower its level or mark it a drill: it takes
    effect only when the leader on duty approves (SPEC §3.2)."""

    __tablename__ = "change_requests"
    __table_args__ = (Index("ix_change_requests_incident", "incident_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    action: Mapped[str] = mapped_column(String(12))  # dismiss | level | drill
    value: Mapped[str] = mapped_column(String(300), default="")  # the new level; the reason
    requested_by: Mapped[str] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")  # approved | refused
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]


class Follow(Base):
    """A supervisor following a unit (``/follow``): its reports reach them too, and they may read
    its incidents (SPEC §3.4)."""

    __tablename__ = "follows"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), primary_key=True)
    since: Mapped[datetime]


class DirectiveRow(Base):
    """A directive (督办, SPEC §3.6): an instruction going down to a lead unit (主办) with
    assisting units (协办), to be received (签收) and answered within a limit (限时反馈).

    States: ``issued`` → ``received`` → ``completed`` (awaiting the issuer's review) →
    ``closed`` (办结); a completion sent back returns to ``received`` with a new deadline.
    Feedback, extensions and decisions are events on its timeline (``directive:<id>``).
    """

    __tablename__ = "directives"
    __table_args__ = (
        Index("ix_directives_lead", "lead_unit_id", "state"),
        Index("ix_directives_issuer", "issuer_id", "id"),
        Index("ix_directives_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(64))
    lead_unit_id: Mapped[str] = mapped_column(String(64))
    assisting: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[str] = mapped_column(String(12))  # urgent | pressing | normal | complex | set
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [kind, file id]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    state: Mapped[str] = mapped_column(String(12), default="issued")
    issued_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the current feedback deadline (moved by extension, send back)
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(64))
    receive_late: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_on_time: Mapped[bool | None]
    overdue: Mapped[bool] = mapped_column(default=False)  # a feedback deadline was ever missed
    extensions: Mapped[int] = mapped_column(default=0)
    sent_back: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None]  # the last reminder to the lead unit
    feedback_at: Mapped[datetime | None]  # the lead unit's last word (feedback, extension asked)
    version: Mapped[int] = mapped_column(default=1)


class DirectiveRequest(Base):
    """An extension asked for (``/extend``): pending until the issuer approves or refuses."""

    __tablename__ = "directive_requests"
    __table_args__ = (Index("ix_directive_requests_directive", "directive_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id"))
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")  # approved | refused
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
