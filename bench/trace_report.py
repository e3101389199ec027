"""Trace one report's path end to end: the user's ``/report`` entering the stand-in Bot API →
the first alert card reaching an officer (or, with ``official``, a 续报's File press → its first
upward copy). Prints every Bot API call, transaction and statement with its start and end (ms
after the message entered the stand-in) for the median sample of a run, then the median number
of statements per sample.

Run: ``.venv/bin/python bench/trace_report.py [sqlite|postgresql+psycopg://…] [samples] [ms]
[report|official] [slow]`` (``ms``: added to every Bot API answer, as ``bench/intake.py``'s
second network). Each handler callback, the gate's included, is marked where it begins and
ends. With ``slow``, asyncio's debug mode also marks every step of a task that held the event
loop over 0.5 ms, with the task's name: what shared the processor with the path (a statement
that takes long between ``sql>`` and ``sql<`` was usually waiting for such a step). Debug mode
slows everything down: read the marks, not the times.
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from bot.delivery.sender import Sender
from bot.inbox import dispatch, polling
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.conftest import START
from tests.harness import (
    CHEN,
    LI,
    QIAN,
    SUN,
    WANG,
    XU,
    ZHOU,
    BotHarness,
    alert_for,
    file_report,
    official_report_card,
    quick_report,
    write_config,
)

Trace = list[tuple[float, str]]


class Recorder:
    """Timestamped lines, one list per report."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.lines: Trace = []

    def mark(self, what: str) -> None:
        """Record ``what`` now (ms after the report entered the stand-in)."""
        self.lines.append(((time.perf_counter() - self.t0) * 1000, what))


def instrument(recorder: Recorder, server: StandInBotApi) -> None:
    """Wrap the stand-in's getUpdates/sendMessage, the inbox store and the dispatcher."""
    for name in ("_m_getupdates", "_m_sendmessage"):
        original = getattr(server, name)

        async def wrapped(params: dict[str, Any], _o: Any = original, _n: str = name) -> Any:
            recorder.mark(f"botapi {_n[3:]} in")
            result = await _o(params)
            recorder.mark(f"botapi {_n[3:]} out ({len(result) if isinstance(result, list) else 1})")
            return result

        setattr(server, name, wrapped)
    store = polling.store

    async def traced_store(database: Any, batch: Any) -> Any:
        recorder.mark("inbox store begin")
        stored = await store(database, batch)
        recorder.mark("inbox store end")
        return stored

    polling.store = traced_store  # type: ignore[assignment]
    handle = dispatch.Dispatcher._handle

    async def traced_handle(self: Any, item: Any) -> None:
        recorder.mark("dispatcher handle begin")
        await handle(self, item)
        recorder.mark("dispatcher handle end")

    dispatch.Dispatcher._handle = traced_handle  # type: ignore[method-assign]
    take, call = Sender.take, Sender._call

    def traced_take(self: Any, items: Any) -> Any:
        recorder.mark(f"sender takes {len(items)} claimed at birth")
        return take(self, items)

    async def traced_call(self: Any, item: Any) -> Any:
        recorder.mark(f"sender calls the Bot API ({item.chat_id})")
        return await call(self, item)

    Sender.take = traced_take  # type: ignore[method-assign]
    Sender._call = traced_call  # type: ignore[method-assign]


def listen(recorder: Recorder, engine: Any) -> None:
    """SQLAlchemy events: begin, every statement, commit."""

    @event.listens_for(engine, "begin")
    def begin(_conn: Any) -> None:
        recorder.mark("BEGIN")

    @event.listens_for(engine, "commit")
    def commit(_conn: Any) -> None:
        recorder.mark("COMMIT")

    @event.listens_for(engine, "before_cursor_execute")
    def before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        recorder.mark("  sql> " + " ".join(statement.split())[:90])

    @event.listens_for(engine, "after_cursor_execute")
    def after(*_a: Any) -> None:
        recorder.mark("  sql<")


class SlowSteps(logging.Handler):
    """Marks asyncio's debug-mode "Executing … took …" warnings with the task's name."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        """Mark one slow step."""
        message = record.getMessage()
        if message.startswith("Executing"):
            name = re.search(r"name='([^']+)'", message)
            took = re.search(r"took ([0-9.]+) seconds", message)
            # asyncio prints the time to the millisecond
            self.recorder.mark(
                f"slow step: {name.group(1) if name else '?'} ({took.group(1) if took else '?'} s)"
            )


def watch_slow_steps(recorder: Recorder) -> None:
    """Mark every step of a task that holds the event loop over 0.5 ms (asyncio debug mode)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.0005
    logger = logging.getLogger("asyncio")
    logger.addHandler(SlowSteps(recorder))
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def mark_handlers(recorder: Recorder, application: Any) -> None:
    """Mark where each python-telegram-bot handler callback (the gate's too) begins and ends."""

    def wrap(handler: Any) -> None:
        callback, name = handler.callback, getattr(handler.callback, "__name__", "?")

        async def traced(update: Any, context: Any) -> Any:
            recorder.mark(f"handler {name} begin")
            result = await callback(update, context)
            recorder.mark(f"handler {name} end")
            return result

        handler.callback = traced

    for handlers in application.handlers.values():
        for handler in handlers:
            for inner in getattr(handler, "entry_points", [handler]):
                wrap(inner)


async def report_samples(
    harness: BotHarness, server: StandInBotApi, recorder: Recorder, count: int
) -> list[tuple[float, Trace]]:
    """``count`` spaced ``/report`` messages, each timed to the first alert card."""
    reporter, traces = server.user(XU, "Xu"), []
    for n in range(count + 5):
        await asyncio.sleep(0.3)
        before = len(server.messages_to(WANG))
        receipts = len(server.messages_to(XU))
        recorder.lines = []
        recorder.t0 = time.perf_counter()
        await reporter.send(f"/report pipe burst number {n} at the pumping station")
        await server.wait_until(lambda b=before: len(server.messages_to(WANG)) > b, 30)
        recorder.mark("=== alert reached officer")
        total = (time.perf_counter() - recorder.t0) * 1000
        await server.wait_until(lambda r=receipts: len(server.messages_to(XU)) > r, 30)
        await asyncio.sleep(0.2)  # let the trailing work (marking sent, done) show
        if n >= 5:
            traces.append((total, list(recorder.lines)))
    return traces


async def official_samples(
    harness: BotHarness, server: StandInBotApi, recorder: Recorder, count: int
) -> list[tuple[float, Trace]]:
    """``count`` 续报 by Li Lei, each timed from the File press to the first upward copy (as
    ``bench/intake.py``'s official row)."""
    server.started_chats.update({CHEN, SUN, ZHOU})
    li, traces = server.user(LI, "Li"), []
    number = await quick_report(harness, server.user(XU, "Xu"), "pipe burst at the station")
    await li.press(await alert_for(li), "Accept")
    await harness.quiet()
    li._read = len(li.inbox())
    await file_report(li, f"/initial {number}")
    for n in range(count + 5):
        await harness.quiet()
        await asyncio.sleep(0.25)
        li._read = len(li.inbox())
        finished = await official_report_card(li, f"/followup {number}", {4: f"step {n}"})
        await harness.quiet()
        await asyncio.sleep(0.25)
        before = len(server.sent)
        recorder.lines = []
        recorder.t0 = time.perf_counter()
        await li.press(finished, data="1:ofy:file")
        await server.wait_until(lambda b=before: any(s.chat_id != LI for s in server.sent[b:]), 30)
        recorder.mark("=== upward copy reached")
        total = (time.perf_counter() - recorder.t0) * 1000
        await asyncio.sleep(0.2)
        if n >= 5:
            traces.append((total, list(recorder.lines)))
    return traces


PATHS = {"report": report_samples, "official": official_samples}


async def run(
    url: str | None,
    samples: int,
    latency: float = 0.0,
    path: str = "report",
    slow: bool = False,
) -> None:
    """Take ``samples`` spaced samples of ``path``; print the median one's trace (with
    ``slow``, marking the slow steps of every task, ``watch_slow_steps``)."""
    recorder = Recorder()
    if slow:
        watch_slow_steps(recorder)
    server = StandInBotApi()
    server.latency = latency
    await server.start()
    server.started_chats.update({WANG, LI, QIAN})
    instrument(recorder, server)
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(
            Path(directory),
            base_url=server.base_url,
            database_url=url or f"sqlite+aiosqlite:///{directory}/bench.db",
            private_per_second=1000.0,
            extra="overall_per_second = 100000\n\n[flood]\nupdates_per_minute = 100000\n"
            "reports_per_minute = 100000\n",
        )
        harness = BotHarness(config, server, FakeClock(START))
        await harness.start()
        assert harness.runtime is not None and harness.application is not None
        listen(recorder, harness.runtime.database.engine.sync_engine)
        mark_handlers(recorder, harness.application)
        traces = await PATHS[path](harness, server, recorder, samples)
        await harness.stop()
    await server.stop()
    traces.sort(key=lambda t: t[0])
    total, median = traces[len(traces) // 2]
    print(f"median of {len(traces)}: {total:.1f} ms; p10 {traces[len(traces) // 10][0]:.1f} ms")
    last = 0.0
    for at, what in median:
        print(f"{at:8.2f} (+{at - last:6.2f}) {what}")
        last = at
    statements = [sum(1 for _, w in t if w.startswith("  sql>")) for _, t in traces]
    print(f"statements per sample (incl. trailing work): median {statistics.median(statements)}")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    added = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
    which = sys.argv[4] if len(sys.argv) > 4 else "report"
    slow_steps = len(sys.argv) > 5 and sys.argv[5] == "slow"
    asyncio.run(run(None if target == "sqlite" else target, count, added, which, slow_steps))
