"""The gate's duplicate check from memory (``bot.updates.SeenMessages``): a message whose update id
is new to every process and whose message id is above its chat's highest is new without a
question to the database; the same message under a new update id, a retry and an update not
known new are asked of the database; a chat is read once; what is forgotten is read again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from bot.db.engine import Database
from bot.db.models import ProcessedUpdate
from bot.updates import SeenMessages, UpdateKey
from tests.conftest import START

XU, LI = 3010, 3001


@pytest.fixture
def questions(database: Database) -> Iterator[list[str]]:
    """``highest`` or ``handled`` for every question asked of ``processed_updates`` from now on."""
    asked: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        if re.match(r"\s*SELECT max\(processed_updates\.message_id\)", sql):
            asked.append("highest")
        elif re.match(r"\s*SELECT processed_updates\.update_id", sql):
            asked.append("handled")

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield asked
    event.remove(engine, "before_cursor_execute", record)


async def _handled(database: Database, *keys: UpdateKey) -> None:
    async with database.transaction() as session:
        for key in keys:
            session.add(
                ProcessedUpdate(
                    update_id=key.update_id,
                    chat_id=key.chat_id,
                    message_id=key.message_id,
                    processed_at=START,
                )
            )


async def test_new_messages_above_their_chat_s_highest_are_let_through_from_memory(
    database: Database, questions: list[str]
) -> None:
    await _handled(database, UpdateKey(900, XU, 5))
    seen = SeenMessages()
    first = UpdateKey(950, XU, 7)
    assert not await seen.handled_before(database, first, new_id=True)
    seen.passed(first)
    assert questions == ["highest"]  # the chat read once
    for n, message_id in enumerate((8, 9, 12)):
        key = UpdateKey(951 + n, XU, message_id)
        assert not await seen.handled_before(database, key, new_id=True)
        seen.passed(key)
    assert questions == ["highest"]  # and never asked again
    # another chat is read on its own
    assert not await seen.handled_before(database, UpdateKey(960, LI, 1), new_id=True)
    assert questions == ["highest", "highest"]


async def test_the_same_message_under_a_new_update_id_is_caught(
    database: Database, questions: list[str]
) -> None:
    seen = SeenMessages()
    await _handled(database, UpdateKey(900, XU, 5))
    assert await seen.handled_before(database, UpdateKey(951, XU, 5), new_id=True)  # from the db
    later = UpdateKey(952, XU, 6)
    assert not await seen.handled_before(database, later, new_id=True)
    seen.passed(later)
    await _handled(database, later)
    # a proxy's retry brings message 6 back under update 953: not above the mark, so asked
    assert await seen.handled_before(database, UpdateKey(953, XU, 6), new_id=True)
    assert questions == ["highest", "handled", "handled"]


async def test_a_message_let_through_whose_handling_failed_is_handled_on_its_return(
    database: Database, questions: list[str]
) -> None:
    seen = SeenMessages()
    await _handled(database, UpdateKey(900, XU, 5))
    failed = UpdateKey(951, XU, 6)
    assert not await seen.handled_before(database, failed, new_id=True)
    seen.passed(failed)  # let through; its handling then rolled back: nothing recorded
    assert not await seen.handled_before(database, UpdateKey(952, XU, 6), new_id=True)
    assert questions == ["highest", "handled"]


async def test_updates_not_known_new_and_presses_are_asked_of_the_database(
    database: Database, questions: list[str]
) -> None:
    seen = SeenMessages()
    await _handled(database, UpdateKey(900, XU, 5), UpdateKey(901, None, None))
    # read back from the inbox, or a retry: its update id may have been handled
    assert await seen.handled_before(database, UpdateKey(900, XU, 5), new_id=False)
    assert not await seen.handled_before(database, UpdateKey(902, XU, 9), new_id=False)
    # a button press has no message to compare: its update id is asked
    assert await seen.handled_before(database, UpdateKey(901, None, None), new_id=True)
    assert questions == ["handled", "handled", "handled"]


async def test_forgotten_marks_are_read_again(database: Database, questions: list[str]) -> None:
    seen = SeenMessages()
    await _handled(database, UpdateKey(900, XU, 5))
    key = UpdateKey(950, XU, 6)
    assert not await seen.handled_before(database, key, new_id=True)
    seen.passed(key)
    # meanwhile another process led, and handled message 7
    await _handled(database, UpdateKey(951, XU, 7))
    seen.forget()
    assert await seen.handled_before(database, UpdateKey(952, XU, 7), new_id=True)
    assert questions == ["highest", "highest", "handled"]


async def test_a_chat_not_read_yet_gets_no_mark_from_a_message_let_through(
    database: Database, questions: list[str]
) -> None:
    seen = SeenMessages()
    await _handled(database, UpdateKey(900, XU, 50))
    # let through unasked (the inbox found it new as it stored it): its chat stays unknown
    seen.passed(UpdateKey(901, XU, 3))
    assert await seen.handled_before(database, UpdateKey(902, XU, 50), new_id=True)
    assert questions == ["highest", "handled"]
