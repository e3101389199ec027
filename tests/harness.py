"""Run dutybot's real Application against the stand-in Bot API, and the test city's roster."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select
from telegram.ext import Application

from bot.app import DutyBot
from bot.configuration import load_configuration
from bot.db.models import Deadline, Event, IncidentRow, OutboxMessage, ProcessedUpdate
from bot.delivery.outbox import PENDING, SENDING
from bot.i18n import translator
from bot.reports.service import FIELDS
from bot.runtime import Runtime, runtime_from
from scheduling.clock import FakeClock
from tests.botapi import TOKEN, Sent, StandInBotApi, User

# Telegram ids of the test city's people
CHEN = 1001  # city officer
SUN = 1002  # city leader
ZHOU = 1003  # city supervisor and admin
WU = 2001  # emergency officer
ZHENG = 2002  # emergency officer (backup today)
HE = 2003  # emergency leader (by one-off shifts)
MA = 2010  # emergency field staff
WANG = 3001  # water officer, Chinese-speaking
LI = 3002  # water officer
QIAN = 3003  # water leader
XU = 3010  # water field staff
GAO = 3011  # water supervisor
STRANGER = 9999

ROSTER = f"""
[[units]]
id = "city"
name = "City Duty Office"

[[units]]
id = "emergency"
name = "Emergency Bureau"
parent = "city"

[[units]]
id = "water"
name = "Water Authority"
parent = "city"

[[people]]
id = "chen.jing"
name = "Chen Jing"
unit = "city"
roles = ["officer"]
telegram_id = {CHEN}

[[people]]
id = "sun.li"
name = "Sun Li"
unit = "city"
roles = ["leader"]
telegram_id = {SUN}

[[people]]
id = "zhou.hua"
name = "Zhou Hua"
unit = "city"
roles = ["supervisor", "admin"]
telegram_id = {ZHOU}

[[people]]
id = "wu.gang"
name = "Wu Gang"
unit = "emergency"
roles = ["officer"]
telegram_id = {WU}

[[people]]
id = "zheng.mei"
name = "Zheng Mei"
unit = "emergency"
roles = ["officer"]
telegram_id = {ZHENG}

[[people]]
id = "he.jun"
name = "He Jun"
unit = "emergency"
roles = ["leader"]
telegram_id = {HE}

[[people]]
id = "ma.lin"
name = "Ma Lin"
unit = "emergency"
roles = ["field"]
telegram_id = {MA}

[[people]]
id = "wang.fang"
name = "Wang Fang"
unit = "water"
roles = ["officer"]
telegram_id = {WANG}
language = "zh"

[[people]]
id = "li.lei"
name = "Li Lei"
unit = "water"
roles = ["officer"]
telegram_id = {LI}

[[people]]
id = "qian.bo"
name = "Qian Bo"
unit = "water"
roles = ["leader"]
telegram_id = {QIAN}

[[people]]
id = "xu.tao"
name = "Xu Tao"
unit = "water"
roles = ["field"]
telegram_id = {XU}

[[people]]
id = "gao.yan"
name = "Gao Yan"
unit = "water"
roles = ["supervisor"]
telegram_id = {GAO}

[[people]]
id = "new.hire"
name = "New Hire"
unit = "water"
roles = ["officer"]

[[rotations]]
unit = "city"
position = "officer"
people = ["chen.jing"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "city"
position = "leader"
people = ["sun.li"]
start = "2026-11-01T08:00"
length = "7d"

[[rotations]]
unit = "emergency"
position = "officer"
people = ["wu.gang", "zheng.mei"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "emergency"
position = "backup"
people = ["zheng.mei", "wu.gang"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "officer"
people = ["wang.fang", "li.lei"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "backup"
people = ["li.lei", "wang.fang"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "leader"
people = ["qian.bo"]
start = "2026-11-01T08:00"
length = "7d"

# The emergency bureau's leader works by one-off shifts; nobody leads it on 28 November: a gap.
[[shifts]]
unit = "emergency"
position = "leader"
person = "he.jun"
start = "2026-11-27T08:00"
end = "2026-11-28T08:00"

[[shifts]]
unit = "emergency"
position = "leader"
person = "he.jun"
start = "2026-11-29T08:00"
end = "2026-12-20T08:00"
"""


def write_config(
    directory: Path,
    *,
    base_url: str,
    database_url: str,
    roster: str = ROSTER,
    extra: str = "",
    language: str = "en",
    private_per_second: float = 100.0,
    telegram_extra: str = "",
) -> Path:
    """Write ``config.toml`` and ``roster.toml`` into ``directory``; return the config path."""
    (directory / "roster.toml").write_text(roster)
    config = directory / "config.toml"
    config.write_text(
        f'timezone = "Asia/Shanghai"\nlanguage = "{language}"\n\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\npoll_timeout = 1\n{telegram_extra}\n'
        f'[database]\nurl = "{database_url}"\n\n[roster]\nfile = "roster.toml"\n\n'
        f"[delivery]\nprivate_per_second = {private_per_second}\n{extra}"
    )
    return config


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition (e.g. a database state) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def settle(botapi: StandInBotApi) -> None:
    """Wait until the bot's first fetch has returned (with nothing waiting, a short batch): its
    later batches are handled before they are stored (``Dispatcher.take``)."""
    await botapi.wait_until(lambda: sum(m == "getupdates" for m, _ in botapi.calls) >= 2, 30)


class ConnectionHolders:
    """Which asyncio tasks hold one of ``database``'s connections right now: a session holds
    one exactly while a transaction is open, so a task not listed has no transaction open."""

    def __init__(self, database: Any) -> None:
        self.holders: dict[int, asyncio.Task[Any] | None] = {}
        pool = database.engine.sync_engine.pool
        event.listen(pool, "checkout", self._checked_out)
        event.listen(pool, "checkin", self._checked_in)

    def _checked_out(self, _connection: Any, record: Any, _proxy: Any) -> None:
        self.holders[id(record)] = asyncio.current_task()

    def _checked_in(self, _connection: Any, record: Any) -> None:
        self.holders.pop(id(record), None)

    def held_by(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether ``task`` holds a connection (has a transaction open)."""
        return task in self.holders.values()


class BotHarness:
    """Starts and stops dutybot exactly as ``dutybot run`` does (``bot.app.DutyBot``), minus
    the signals: inbox intake, handling, sending and firing against the stand-in server."""

    def __init__(self, config_path: Path, botapi: StandInBotApi, clock: FakeClock) -> None:
        self.config_path = config_path
        self.botapi = botapi
        self.clock = clock
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.runtime: Runtime | None = None
        self.process: DutyBot | None = None

    async def start(self) -> None:
        """Build the bot from the config files and start it (migrations, Application, intake)."""
        self.runtime = runtime_from(load_configuration(self.config_path), self.clock)
        process = DutyBot(self.runtime)
        await process.start()
        await asyncio.wait_for(process.led.wait(), timeout=30)  # PostgreSQL: the lock is taken
        self.process = process
        self.application = process.application

    async def stop(self) -> None:
        """Stop intake, handling, firing and sending, then the Application, in order."""
        process = self.process
        if process is None:
            return
        self.process = None
        self.application = None
        await process.stop()

    async def restart(self) -> None:
        """Stop and start again on the same database and files."""
        await self.stop()
        await self.start()

    async def advance(self, delta: timedelta) -> int:
        """Move the fake clock and let the deadline engine fire what fell due; return how many."""
        self.clock.advance(delta)
        assert self.runtime is not None and self.runtime.engine is not None
        fired = await self.runtime.engine.tick()
        self.runtime.engine.changed()  # re-arm for what the firing added, as the engine's job does
        return fired

    def open_chats(self, *telegram_ids: int) -> None:
        """These people have pressed Start in their chat with the bot (so it may message them)."""
        self.botapi.started_chats.update(telegram_ids)

    def user(self, telegram_id: int, name: str = "User", language: str | None = "en") -> User:
        """An actor in a private chat with the bot."""
        return self.botapi.user(telegram_id, name, language)

    async def quiet(self, timeout: float = 10.0) -> None:
        """Wait until the bot has handled every update the test pushed and delivered every
        message that is due: after this, silence means the bot has nothing more to say."""
        assert self.runtime is not None
        database = self.runtime.database

        async def handled_and_delivered() -> bool:
            async with database.sessions() as session:
                handled = set(await session.scalars(select(ProcessedUpdate.update_id)))
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state.in_((PENDING, SENDING)))
                )
            return self.botapi.pushed_ids <= handled and not waiting

        await eventually(handled_and_delivered, timeout)

    async def incident(self, number: int) -> IncidentRow:
        """Incident ``number`` as the database has it now."""
        assert self.runtime is not None
        async with self.runtime.database.sessions() as session:
            row = await session.get(IncidentRow, number)
        assert row is not None, f"no incident #{number}"
        return row

    async def timeline(self, number: int) -> list[Event]:
        """The timeline of incident ``number``, oldest first."""
        assert self.runtime is not None
        async with self.runtime.database.sessions() as session:
            rows = await session.scalars(
                select(Event).where(Event.subject == f"incident:{number}").order_by(Event.id)
            )
            return list(rows)

    async def rows(self, model: type, **where: object) -> list[Any]:
        """Every row of ``model`` matching ``where`` (column = value), by id."""
        assert self.runtime is not None
        async with self.runtime.database.sessions() as session:
            query = select(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return list(await session.scalars(query.order_by(model.id)))  # type: ignore[attr-defined]


def says(language: str, message: str) -> str:
    """The fixed beginning of a bot message in ``language`` (up to its first placeholder), to
    recognise it without accepting either language."""
    return translator(language)._(message).split("{", 1)[0]


async def alert_for(user: User) -> Sent:
    """The next message to ``user``, which must be an alert card."""
    message = await user.next_message()
    assert message.text.startswith("🚨"), message.text
    return message


RECEIPT = (
    "Received as #{number}. The duty officers of {unit} have been alerted; you will be "
    "told when it is accepted.\nAdd to it with /addinfo {number} <text> or a photo "
    "captioned #{number}."
)


async def quick_report(harness: BotHarness, reporter: User, text: str, language: str = "en") -> int:
    """``/report <text>`` from ``reporter``; the incident number from the receipt."""
    await reporter.send(f"/report {text}")
    start = says(language, RECEIPT)
    receipt = await reporter.next_message()
    while not receipt.text.startswith(start):  # skip earlier notifications
        receipt = await reporter.next_message()
    match = re.match(r"\D*(\d+)", receipt.text)
    assert match is not None, receipt.text
    return int(match.group(1))


async def accepted_report(harness: BotHarness, officer: User, text: str) -> int:
    """A quick report by Xu Tao, accepted by ``officer`` (on duty for its unit) with
    ``/accept``; the incident number."""
    number = await quick_report(harness, harness.user(XU, "Xu"), text)
    await alert_for(officer)
    await officer.send(f"/accept {number}")
    await officer.next_message()
    return number


ESCALATION = "ESCALATION #{number}: {what} is late by {late} (was due {due})."


def escalations(user: User, language: str = "en") -> list[str]:
    """Every escalation card the user was sent."""
    start = "🔺 " + says(language, ESCALATION)
    return [m.text for m in user.inbox() if m.text.startswith(start)]


REPORT_FORM_INTRO = (
    "{title} for #{number}: {count} short questions, each pre-filled. Send new text, or "
    "press Keep. (/cancel to stop)"
)


async def file_report(
    user: User, command: str, answers: dict[int, str] | None = None, language: str = "en"
) -> str:
    """Walk an official report's form (keeping every pre-filled value unless told); return the
    bot's answer to File."""
    await user.send(command)
    intro = await user.next_message()
    marker = translator(language)._(REPORT_FORM_INTRO).split("{count}")[1].split("{")[0]
    assert marker in intro.text, intro.text
    for index in range(len(FIELDS)):
        question = await user.next_message()
        if answers and index in answers:
            await user.send(answers[index])
        else:
            await user.press(question, data="1:ofk")
    card = await user.next_message()
    await user.press(card, data="1:ofy:file")
    return (await user.next_message()).text


async def count_rows(database_url: str, model: type, *where: Any) -> int:
    """How many rows of ``model`` match ``where``, read by a separate connection (for tests that
    watch a ``dutybot run`` process)."""
    from bot.db.engine import Database

    database = Database(database_url)
    try:
        async with database.sessions() as session:
            found = await session.scalar(select(func.count()).select_from(model).where(*where))
            return int(found or 0)
    finally:
        await database.close()


async def start_bot(config_path: Path) -> asyncio.subprocess.Process:
    """``dutybot run`` as a real process on ``config_path`` (no DUTYBOT_* from outside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config_path),
        cwd=config_path.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def head_revision() -> str | None:
    """The newest migration."""
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def said(language: str, message: str, **values: object) -> str:
    """A whole bot message in ``language`` with its placeholders filled, to compare exactly."""
    return translator(language)._(message).format(**values)


async def official_report_card(
    user: User, command: str, answers: dict[int, str] | None = None, language: str = "en"
) -> Sent:
    """Walk an official report's form up to the finished report with File / Cancel, without
    pressing either; return that card."""
    await user.send(command)
    intro = await user.next_message()
    marker = translator(language)._(REPORT_FORM_INTRO).split("{count}")[1].split("{")[0]
    assert marker in intro.text, intro.text
    for index in range(len(FIELDS)):
        question = await user.next_message()
        if answers and index in answers:
            await user.send(answers[index])
        else:
            await user.press(question, data="1:ofk")
    return await user.next_message()


def catch_up(user: User) -> None:
    """Mark every message the user received so far as read."""
    user._read = len(user.inbox())


# The reporting clock the mechanism tests were written against (one stage, a cadence of
# follow-ups, no minimum gap): explicit, so they test the mechanism and not today's defaults.
MECHANISM_LEVELS = """
[levels.I]
accept = "5m"
flash_report = "none"
initial_report = "30m"
followup_every = "2h"
followup_min_gap = "0"
require_signoff = true

[levels.II]
accept = "5m"
flash_report = "none"
initial_report = "30m"
followup_every = "4h"
followup_min_gap = "0"
require_signoff = true

[levels.III]
accept = "10m"
initial_report = "1h"
followup_every = "12h"
followup_min_gap = "0"
require_signoff = false

[levels.IV]
accept = "15m"
initial_report = "2h"
followup_every = "1d"
followup_at = []
followup_min_gap = "0"
require_signoff = false

[levels.unassessed]
accept = "10m"
flash_report = "none"
initial_report = "1h"
followup_every = "12h"
followup_at = []
followup_min_gap = "0"
require_signoff = false
"""
# --- the bulletin's hand-computed fixture (tests/test_bulletin.py) -----------------------------


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> Any:
    """A moment of 2026 in UTC (local Asia/Shanghai is 8 hours ahead)."""
    from datetime import UTC

    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def seed_watched(
    session: Any,
    unit: str,
    count: int,
    kind: str,
    state: str,
    due: datetime,
    *,
    warned_at: datetime | None = None,
) -> None:
    """``count`` open incidents of ``unit`` (level III) straight into the database, each with
    one deadline of ``kind`` in ``state`` due at ``due`` (warned at ``warned_at``)."""
    ids = list(
        await session.scalars(
            insert(IncidentRow).returning(IncidentRow.id),
            [
                {
                    "unit_id": unit,
                    "level": "III",
                    "sensitive": False,
                    "summary": f"Seeded {kind} {state} {n}",
                    "description": "",
                    "reported_at": due,
                    "reporter_id": "xu.tao",
                    "attachments": [],
                    "drill": False,
                    "state": "reported",
                    "version": 1,
                }
                for n in range(count)
            ],
        )
    )
    await session.execute(
        insert(Deadline),
        [
            {
                "incident_id": number,
                "kind": kind,
                "due_at": due,
                "state": state,
                "late": False,
                "warned_at": warned_at,
                "data": {},
            }
            for number in ids
        ],
    )


async def seed_bulletin_fixture(session: Any) -> None:
    """Incidents, deadlines and events whose bulletin numbers are worked out by hand in
    ``tests/test_bulletin.py``. Times in UTC; the duty day 26 November (local) is
    [26 00:00, 27 00:00) UTC.

    #1 water, old (20 Nov): initial on time; follow-up on time 25 Nov; follow-up missed 26 Nov.
    #2 water: accepted after 10 min; initial never filed (漏报).
    #3 water → emergency: water accepted after 20 min, missed the initial (due 04:00), then
       transferred at 05:00; emergency accepted after 5 min, filed the initial late at 05:30
       (charged to water) and the final at 10:00 (closed); a follow-up cancelled by the final.
    #4 water drill: late everywhere, counted nowhere.
    #5 emergency: accepted after 30 min; initial on time; follow-up 1 filed late within the day;
       follow-up 2 missed on 27 Nov.
    #6 water: reported on the last duty day of October, dismissed 2 Nov.
    #7 city: reported 27 Nov, accepted after 2 min, initial on time.
    """
    from bot.db.models import Deadline

    await session.flush()  # the roster's units and people first

    def incident(number: int, unit: str, reported: Any, state: str, **more: Any) -> IncidentRow:
        return IncidentRow(
            id=number,
            unit_id=unit,
            level="III",
            sensitive=False,
            summary=f"fixture {number}",
            description="",
            reported_at=reported,
            reporter_id="xu.tao",
            attachments=[],
            drill=more.pop("drill", False),
            state=state,
            version=1,
            **more,
        )

    def event(number: int, kind: str, at: Any, **data: Any) -> Event:
        return Event(
            at=at, kind=kind, actor_id="wang.fang", subject=f"incident:{number}", data=data
        )

    def deadline(number: int, kind: str, due: Any, state: str, **more: Any) -> Deadline:
        late = more.pop("late", state == "fired")
        data = more.pop("data", {})
        return Deadline(
            incident_id=number, kind=kind, due_at=due, state=state, late=late, data=data, **more
        )

    session.add_all(
        [
            incident(1, "water", utc(20, 2), "initial_reported", accepted_at=utc(20, 2, 5)),
            incident(2, "water", utc(26, 1), "accepted", accepted_at=utc(26, 1, 10)),
            incident(3, "emergency", utc(26, 3), "closed", accepted_at=utc(26, 5, 5)),
            incident(4, "water", utc(26, 2), "accepted", accepted_at=utc(26, 2, 1), drill=True),
            incident(5, "emergency", utc(26, 6), "initial_reported", accepted_at=utc(26, 6, 30)),
            incident(6, "water", utc(31, 23, month=10), "dismissed"),
            incident(7, "city", utc(27, 1), "initial_reported", accepted_at=utc(27, 1, 2)),
        ]
    )
    await session.flush()
    session.add_all(
        [
            event(1, "incident.accepted", utc(20, 2, 5), unit="water"),
            event(2, "incident.accepted", utc(26, 1, 10), unit="water"),
            event(3, "incident.accepted", utc(26, 3, 20), unit="water"),
            event(3, "incident.transferred", utc(26, 5), old="water", new="emergency"),
            event(3, "incident.accepted", utc(26, 5, 5), unit="emergency"),
            event(
                3, "report.filed", utc(26, 10), what="final", old="initial_reported", new="closed"
            ),
            event(4, "incident.accepted", utc(26, 2, 1), unit="water"),
            event(5, "incident.accepted", utc(26, 6, 30), unit="emergency"),
            event(6, "incident.dismissed", utc(2, 1), old="reported", new="dismissed"),
            event(7, "incident.accepted", utc(27, 1, 2), unit="city"),
        ]
    )
    session.add_all(
        [
            deadline(1, "initial_report", utc(20, 3, 30), "met", met_at=utc(20, 3)),
            deadline(1, "followup", utc(25, 4), "met", met_at=utc(25, 3, 50)),
            deadline(1, "followup", utc(26, 4), "fired"),
            # taken over at 05:00: the same missing follow-up falls due again (not a new one)
            deadline(1, "followup", utc(26, 6), "fired", data={"renews": 0}),
            deadline(2, "initial_report", utc(26, 2), "fired"),
            deadline(3, "accept", utc(26, 3, 10), "met", met_at=utc(26, 3, 20), late=True),
            deadline(3, "initial_report", utc(26, 4), "met", met_at=utc(26, 5, 30), late=True),
            deadline(3, "followup", utc(26, 11, 30), "cancelled"),
            deadline(4, "initial_report", utc(26, 3), "fired"),
            deadline(5, "initial_report", utc(26, 7, 30), "met", met_at=utc(26, 7)),
            deadline(5, "followup", utc(26, 23), "met", met_at=utc(26, 23, 30), late=True),
            deadline(5, "followup", utc(27, 5), "fired"),
            deadline(7, "initial_report", utc(27, 2), "met", met_at=utc(27, 1, 30)),
        ]
    )


# --- duty discipline (SPEC §3.7) ---------------------------------------------------------

NEW_HIRE = 3020  # water officer, not on any rotation: the colleague who takes a swapped shift
# The test city with phone numbers and a reachable new hire, for the duty discipline scenarios.
DUTY_ROSTER = (
    ROSTER.replace(f"telegram_id = {LI}", f'telegram_id = {LI}\nphone = "+86 138 0000 3002"')
    .replace(f"telegram_id = {QIAN}", f'telegram_id = {QIAN}\nphone = "+86 138 0000 3003"')
    .replace(
        'name = "New Hire"\nunit = "water"\nroles = ["officer"]',
        f'name = "New Hire"\nunit = "water"\nroles = ["officer"]\ntelegram_id = {NEW_HIRE}',
    )
)


def messages_starting(user: User, language: str, message: str, prefix: str = "") -> list[str]:
    """Every message to ``user`` that begins (after ``prefix``) like ``message`` in
    ``language``."""
    start = prefix + says(language, message)
    return [m.text for m in user.inbox() if m.text.startswith(start)]


def last_with_button(user: User, label_part: str) -> Sent:
    """The latest message to ``user`` carrying a button whose label contains ``label_part``."""
    for message in reversed(user.inbox()):
        if any(label_part in text for text, _ in message.buttons()):
            return message
    raise AssertionError(f"no message with a {label_part!r} button")


# What must never reach a Chinese reader: an internal value. ASCII words standing next to Chinese
# characters have no \b between them (both are \w): the patterns look for non-letters around.
INTERNAL = [
    re.compile(r"(?<![A-Za-z])[a-z]+_[a-z_]+(?![A-Za-z])"),
    re.compile(r"(?<![A-Za-z])(True|False)(?![A-Za-z])"),
    re.compile(r"(?<![A-Za-z])(city|water|emergency)(?![A-Za-z])"),
    re.compile(r"\d+h\d+m"),
]


def internal_values(texts: list[str]) -> list[tuple[str, str]]:
    """Every (pattern, text) where a text shows an internal value."""
    return [(p.pattern, t) for t in texts for p in INTERNAL if p.search(t)]
