"""Claim at birth: an outbox row queued by this process, while it sends, is claimed in the
very transaction that queues it and handed to the sender straight after the commit — no claim
query, no second transaction between a report and its alert going out.

Only a row that is its chat's next message (nothing of higher priority or older waiting for
that chat, and for an edit, its original delivered) and whose chat the pacer lets through now
is claimed so; every other row stays pending for the sender's loop, which is woken after the
commit only then: a transaction whose rows all went out at birth leaves it asleep. Durability
is that of the loop's claim: the claim commits with the row (nothing is sent before the
commit), a rollback takes both away, and a process that dies after the commit leaves a claim
whose lease runs out, so the row is sent by the next sender (once).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from bot.db.engine import Database, first_after_commit
from bot.db.models import OutboxMessage
from bot.delivery.outbox import EDIT, Claimed, claim_at_birth, utcnow
from bot.delivery.pacing import Pacer

NEW, BORN, HELD = "dutybot.outbox.new", "dutybot.outbox.born", "dutybot.outbox.held"
LEFT = "dutybot.outbox.left"
# the first message handed over goes out alone this long (seconds): the rest of the batch, and
# the committing caller's own trailing work, wait, so its request reaches the network first
HEAD_START = 0.005


@dataclass
class Midwife:
    """What claims at birth need of a running sender."""

    pacer: Pacer
    lease: timedelta
    # after the commit: send these now; returns the first one's sending
    take: Callable[[list[Claimed]], asyncio.Future[None] | None]
    monotonic: Callable[[], float]
    wake: Callable[[], None]  # after the commit: rows were left pending, look at the outbox


_senders: weakref.WeakKeyDictionary[Engine, Midwife] = weakref.WeakKeyDictionary()


def attach(database: Database, midwife: Midwife) -> None:
    """Rows queued through ``database`` are claimed at birth for this sender from now on."""
    _senders[database.engine.sync_engine] = midwife


def detach(database: Database) -> None:
    """Stop claiming at birth (the sender stops: rows stay pending for the next one)."""
    _senders.pop(database.engine.sync_engine, None)


def _midwife(session: Session) -> Midwife | None:
    bind: Any = session.bind
    return _senders.get(bind) if isinstance(bind, Engine) else None


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush: UOWTransaction) -> None:
    new = [row for row in session.new if isinstance(row, OutboxMessage)]
    if new and _midwife(session) is not None:
        session.info.setdefault(NEW, []).extend(new)


@event.listens_for(Session, "before_commit")
def _claim(session: Session) -> None:
    midwife = _midwife(session)
    if midwife is None or session.in_nested_transaction():
        return
    # before_commit comes before the commit's own flush: rows queued since the last flush are
    # only in ``session.new`` yet
    if NEW not in session.info and not any(isinstance(r, OutboxMessage) for r in session.new):
        return
    session.flush()  # the rows' keys (and whatever else is pending)
    if NEW not in session.info:
        return
    rows: list[OutboxMessage] = session.info.pop(NEW, [])
    now = midwife.monotonic()
    chosen, chats = [], set()
    for row in sorted(rows, key=lambda r: (r.priority, r.id)):
        if row.chat_id in chats or (row.method == EDIT and row.edit_message_id is None):
            continue
        chats.add(row.chat_id)  # at most one per chat: the pacer spaces the rest
        if midwife.pacer.ready_at(row.chat_id, now) <= now:
            midwife.pacer.reserve(row.chat_id)
            chosen.append(row)
    session.info[HELD] = [row.chat_id for row in chosen]
    try:
        born = claim_at_birth(session, [row.id for row in chosen], utcnow(), midwife.lease)
    except BaseException:
        _release(session, midwife)
        raise
    won = {item.chat_id for item in born}
    for chat in [c for c in session.info[HELD] if c not in won]:
        midwife.pacer.release(chat)
    session.info[HELD] = list(won)
    if len(born) < len(rows):  # paced, queued behind another message, or claimed elsewhere
        session.info[LEFT] = True
    # handed over most urgent (then oldest) first: the first one started is the first on the wire
    session.info[BORN] = sorted(born, key=lambda item: (item.priority, item.id))


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    born: list[Claimed] = session.info.pop(BORN, [])
    session.info.pop(HELD, None)
    left = session.info.pop(LEFT, False)
    midwife = _midwife(session)
    if midwife is None:
        return
    if born:
        head = midwife.take(born)
        if head is not None:
            first_after_commit(session, head, HEAD_START)
    if left:
        midwife.wake()


def _release(session: Session, midwife: Midwife | None) -> None:
    held: list[int] = session.info.pop(HELD, [])
    if midwife is not None:
        for chat in held:
            midwife.pacer.release(chat)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit handed them over already)
        _release(session, _midwife(session))
        session.info.pop(NEW, None)
        session.info.pop(BORN, None)
        session.info.pop(LEFT, None)
