"""New rows of the busiest tables (deadlines, outbox messages, alert copies) inserted at the
flush by one Core statement per table and round, their keys read back, and the objects kept in
the session as the ORM's own flush would have left them.

A report queues a handful of these rows (its deadlines and their warnings, its alert cards and
the links that let each card be edited later); the ORM's unit of work spends more on them
(sorting the self-referencing deadlines row by row, attribute history, per-row bookkeeping)
than the inserts cost. Here, just before the ORM's flush, the new objects of these models are
inserted in rounds: those whose parent (``Deadline.parent``, ``IncidentAlert.outbox``) is in
the table already, then those whose parent just went in, and so on, one executemany statement
per table and round, keys returned in the order of the rows. Each object then gets its key
and, for every column it left unset, the value the insert wrote (its default, else NULL), and
joins the session as a persistent object: nothing is written twice, nothing is left to load.

Inside a savepoint (``begin_nested``) the ORM inserts them itself: a savepoint rolled back
must take its objects out of the session, which only the ORM's own bookkeeping does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, event, insert
from sqlalchemy.orm import (
    Mapper,
    Session,
    SessionTransaction,
    UOWTransaction,
    class_mapper,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import instance_state

from bot.db.appends import write_before
from bot.db.models import Base, Deadline, IncidentAlert, OutboxMessage, table_of
from bot.db.remembered import note_write

INSERTED = "dutybot.keyed.inserted"
MISSING = object()


@dataclass(frozen=True)
class Shape:
    """How one model's new objects become rows: its columns with what an unset one holds, its
    parents (relationship key → foreign key column key), its insert."""

    model: type[Base]
    columns: tuple[tuple[str, Callable[[], Any]], ...]  # (attribute key, its value when unset)
    parents: tuple[tuple[str, str], ...]
    key: str
    statement: Insert


def _unset_value(column: Any) -> Callable[[], Any]:
    """What an unset attribute of ``column`` holds once inserted: its Python default (a fresh
    one per row for a callable such as ``default=dict``), else NULL."""
    default: Any = column.default
    if default is None:
        if column.server_default is not None:
            raise TypeError(f"{column}: a server default only, which an insert here would skip")
        return lambda: None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    if default.is_callable:
        return lambda: default.arg(None)
    raise TypeError(f"{column}: a default only the database computes")


def shape_of(model: type[Base]) -> Shape:
    """What inserting ``model``'s new objects needs, worked out once."""
    mapper: Mapper[Any] = class_mapper(model)
    table = table_of(model)
    [primary] = table.primary_key.columns
    columns = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column is primary or getattr(column, "_insert_sentinel", False):
            continue
        columns.append((prop.key, _unset_value(column)))
    parents = []
    for relationship in mapper.relationships:
        [local] = relationship.local_columns
        parents.append((relationship.key, mapper.get_property_by_column(local).key))
    statement = insert(table).returning(table.c[primary.key], sort_by_parameter_order=True)
    return Shape(
        model, tuple(columns), tuple(parents), mapper.get_property_by_column(primary).key, statement
    )


SHAPES: dict[type[Base], Shape] = {
    model: shape_of(model) for model in (Deadline, OutboxMessage, IncidentAlert)
}


def _ready(row: Base, shape: Shape) -> bool:
    """Whether every parent object ``row`` was linked to has its key (or none was linked)."""
    values = row.__dict__
    for relationship, _column in shape.parents:
        parent = values.get(relationship)
        if parent is not None and getattr(parent, SHAPES[type(parent)].key, None) is None:
            return False
    return True


def _values(row: Base, shape: Shape) -> dict[str, Any]:
    """The row to insert for ``row``, every column given; sets the unset ones on the object."""
    values = row.__dict__
    for relationship, column in shape.parents:
        parent = values.get(relationship)
        if parent is not None:
            values[column] = getattr(parent, SHAPES[type(parent)].key)
    out: dict[str, Any] = {}
    for key, unset in shape.columns:
        value = values.get(key, MISSING)
        if value is MISSING:
            value = values[key] = unset()
        out[key] = value
    return out


def insert_new(session: Session, rows: Iterable[Base]) -> list[Base]:
    """Insert ``rows`` (new objects of the keyed models, in the order they were added) on the
    session's connection, parents first; returns them, each now persistent in ``session``."""
    waiting = list(rows)
    done: list[Base] = []
    while waiting:
        round_ = [row for row in waiting if _ready(row, SHAPES[type(row)])]
        if not round_:
            break  # a cycle among new objects: left to the ORM
        for model, shape in SHAPES.items():
            batch = [row for row in round_ if type(row) is model]
            if not batch:
                continue
            parameters = [_values(row, shape) for row in batch]
            write_before(session, shape.statement)
            note_write(session, shape.statement)
            result = session.connection().execute(shape.statement, parameters)
            for row, key in zip(batch, result.scalars(), strict=True):
                session.expunge(row)
                setattr(row, shape.key, key)
                make_transient_to_detached(row)
                session.add(row)
            done.extend(batch)
        chosen = set(map(id, round_))
        waiting = [row for row in waiting if id(row) not in chosen]
    return done


def take_inserted(session: Session, model: type[Base]) -> list[Any]:
    """The objects of ``model`` this module inserted in the transaction and nobody took yet."""
    inserted: dict[type[Base], list[Any]] = session.info.get(INSERTED, {})
    return inserted.pop(model, [])


def any_inserted(session: Session, model: type[Base]) -> bool:
    """Whether ``take_inserted`` has objects of ``model`` waiting."""
    return bool(session.info.get(INSERTED, {}).get(model))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush: UOWTransaction, _objects: Any) -> None:
    if session.in_nested_transaction():
        return
    new = [row for row in session.new if type(row) in SHAPES]
    if not new:
        return
    new.sort(key=lambda row: instance_state(row).insert_order or 0)
    inserted: dict[type[Base], list[Any]] = session.info.setdefault(INSERTED, {})
    for row in insert_new(session, new):
        inserted.setdefault(type(row), []).append(row)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(INSERTED, None)
