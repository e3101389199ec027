"""The status server: /healthz, /readyz and /metrics over real HTTP, against a migrated database."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Deadline, IncidentRow, OutboxMessage, PersonRow, UnitRow
from bot.delivery.outbox import enqueue
from bot.errors import ConfigError
from bot.observability import (
    Metrics,
    Readiness,
    TelegramReachability,
    readiness_check,
    send_result,
)
from bot.observability.server import StatusServer
from bot.settings import HttpSettings, load_settings
from scheduling.clock import FakeClock
from tests.botapi import TOKEN, StandInBotApi
from tests.harness import XU, BotHarness, eventually, quick_report, write_config

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
PASSWORD = "pg-s3cret-password"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database with a few rows of everything the gauges count."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'status.db'}")
    await upgrade(db)
    async with db.transaction() as session:
        session.add(UnitRow(id="city", name="City"))
        await session.flush()
        session.add(PersonRow(id="xu", name="Xu", unit_id="city", roles="officer"))
        await session.flush()
        for minutes, state in ((7, "pending"), (3, "sending"), (1, "pending"), (30, "sent")):
            session.add(
                OutboxMessage(
                    chat_id=1,
                    method="sendMessage",
                    text=f"message with {TOKEN}",
                    state=state,
                    next_attempt_at=NOW,
                    created_at=NOW - timedelta(minutes=minutes),
                )
            )
        for level, state in (("I", "reported"), ("I", "accepted"), ("III", "initial_reported")):
            session.add(
                IncidentRow(
                    unit_id="city",
                    level=level,
                    state=state,
                    summary="flood",
                    reported_at=NOW,
                    reporter_id="xu",
                )
            )
        session.add(
            IncidentRow(
                unit_id="city",
                level="II",
                state="closed",
                summary="old",
                reported_at=NOW,
                reporter_id="xu",
            )
        )
        for due, state in ((-90, "pending"), (-10, "pending"), (600, "pending"), (-900, "met")):
            session.add(Deadline(kind="accept", due_at=NOW + timedelta(seconds=due), state=state))
    yield db
    await db.close()


class Ready:
    """A readiness callable the test can switch."""

    def __init__(self) -> None:
        self.state = Readiness(database=True, leadership="leader", telegram=True)
        self.fail = False

    async def __call__(self) -> Readiness:
        if self.fail:
            raise RuntimeError(f"cannot connect to postgresql://dutybot:{PASSWORD}@db/dutybot")
        return self.state


@pytest.fixture
async def served(database: Database) -> AsyncIterator[tuple[StatusServer, Ready, str]]:
    ready = Ready()
    server = StatusServer(HttpSettings(port=0), database, ready, now=lambda: NOW)
    await server.start()
    assert server.port
    yield server, ready, f"http://127.0.0.1:{server.port}"
    await server.stop()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_healthz_and_readyz(served: tuple[StatusServer, Ready, str]) -> None:
    _, ready, base = served
    assert (await get(f"{base}/healthz"))[::2] == (200, "ok\n")
    status, kind, body = await get(f"{base}/readyz")
    assert (status, kind.split(";")[0]) == (200, "application/json")
    assert body == (
        '{"status": "ready", "database": "ok", "leadership": "leader", "telegram": "ok"}'
    )

    ready.state = Readiness(database=True, leadership="standby", telegram=None)
    status, _, body = await get(f"{base}/readyz")
    assert status == 503 and '"leadership": "standby"' in body and '"status": "not ready"' in body

    ready.state = Readiness(database=False, leadership="leader", telegram=True)
    status, _, body = await get(f"{base}/readyz")
    assert status == 503 and '"database": "unreachable"' in body

    ready.state = Readiness(database=True, leadership="leader", telegram=False)
    status, _, body = await get(f"{base}/readyz")
    assert status == 503 and '"telegram": "unreachable"' in body

    ready.fail = True
    status, _, body = await get(f"{base}/readyz")
    assert status == 503 and PASSWORD not in body and "postgresql" not in body


async def test_metrics_count_the_database_and_the_sends(
    served: tuple[StatusServer, Ready, str],
) -> None:
    server, _, base = served
    server.metrics.set_leader(True)
    server.metrics.observe_send(None, 0.04)
    server.metrics.observe_send(None, 0.2)
    server.metrics.observe_send(RetryAfter(3), 0.01)
    server.metrics.record_send("5xx", 12.0)
    status, kind, body = await get(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain")
    values = samples(body)
    assert values[("dutybot_outbox_depth", ())] == 3  # pending, sending, pending; not the sent
    assert values[("dutybot_outbox_oldest_age_seconds", ())] == 7 * 60
    assert values[("dutybot_deadlines_pending", ())] == 3
    assert values[("dutybot_deadline_firing_lag_seconds", ())] == 90
    open_by_level = {
        dict(labels)["level"]: value
        for (name, labels), value in values.items()
        if name == "dutybot_incidents_open"
    }
    assert open_by_level == {"I": 2, "II": 0, "III": 1, "IV": 0, "unassessed": 0}
    assert values[("dutybot_leader", ())] == 1
    assert values[("dutybot_database_up", ())] == 1
    sends = {
        dict(labels)["result"]: value
        for (name, labels), value in values.items()
        if name == "dutybot_sends_total"
    }
    assert sends == {"ok": 2, "429": 1, "5xx": 1, "403": 0, "other": 0}
    assert values[("dutybot_send_duration_seconds_count", ())] == 4
    assert values[("dutybot_send_duration_seconds_bucket", (("le", "0.05"),))] == 2
    assert values[("dutybot_send_duration_seconds_bucket", (("le", "10.0"),))] == 3
    assert TOKEN not in body and PASSWORD not in body


async def test_metrics_follow_the_database(
    served: tuple[StatusServer, Ready, str], database: Database
) -> None:
    server, _, base = served
    async with database.transaction() as session:
        await session.execute(OutboxMessage.__table__.update().values(state="sent"))
        await session.execute(Deadline.__table__.update().values(state="met"))
    values = samples((await get(f"{base}/metrics"))[2])
    assert values[("dutybot_outbox_depth", ())] == 0
    assert values[("dutybot_outbox_oldest_age_seconds", ())] == 0
    assert values[("dutybot_deadlines_pending", ())] == 0
    assert values[("dutybot_deadline_firing_lag_seconds", ())] == 0

    server.database = Database("postgresql+psycopg://dutybot:" + PASSWORD + "@127.0.0.1:1/x")
    try:
        status, _, body = await get(f"{base}/metrics")
    finally:
        await server.database.close()
    assert status == 200 and PASSWORD not in body
    assert samples(body)[("dutybot_database_up", ())] == 0


async def test_two_servers_keep_separate_registries(database: Database) -> None:
    first, second = (
        StatusServer(HttpSettings(port=0), database, readiness_check(database)) for _ in range(2)
    )
    await first.start()
    await second.start()
    try:
        first.metrics.record_send("ok", 0.1)
        one = samples((await get(f"http://127.0.0.1:{first.port}/metrics"))[2])
        two = samples((await get(f"http://127.0.0.1:{second.port}/metrics"))[2])
        assert one[("dutybot_sends_total", (("result", "ok"),))] == 1
        assert two[("dutybot_sends_total", (("result", "ok"),))] == 0
        status, _, body = await get(f"http://127.0.0.1:{second.port}/readyz")
        assert status == 200 and '"telegram": "unknown"' in body
    finally:
        await first.stop()
        await second.stop()


async def test_disabled_server_does_not_listen(database: Database) -> None:
    server = StatusServer(HttpSettings(), database, readiness_check(database))
    await server.start()
    assert server.port is None
    await server.stop()


async def test_readiness_check_reports_standby_and_a_dead_database(database: Database) -> None:
    standby = await readiness_check(database, is_leader=lambda: False)()
    assert standby == Readiness(database=True, leadership="standby", telegram=None)
    assert not standby.ready
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        state = await readiness_check(broken, telegram_reachable=lambda: True)()
    finally:
        await broken.close()
    assert state == Readiness(database=False, leadership="leader", telegram=True)


def test_telegram_reachability_follows_the_last_call() -> None:
    telegram = TelegramReachability()
    assert telegram() is None
    telegram.observe_send(NetworkError("Bad Gateway"), 1.0)
    assert telegram() is False
    telegram.observe_send(RetryAfter(1), 0.1)  # a refusal is an answer
    assert telegram() is True
    telegram.observe_send(NetworkError("timed out"), 5.0)
    telegram.observe_send(None, 0.1)
    assert telegram() is True


def test_send_results_are_classified() -> None:
    assert send_result(None) == "ok"
    assert send_result(RetryAfter(1)) == "429"
    assert send_result(NetworkError("Bad Gateway")) == "5xx"
    assert send_result(Forbidden("bot was blocked by the user")) == "403"
    assert send_result(BadRequest("chat not found")) == "other"
    assert send_result(ValueError()) == "other"
    metrics = Metrics()
    metrics.record_send("weird", 0.1)
    assert (
        samples(metrics.exposition().decode())[("dutybot_sends_total", (("result", "other"),))] == 1
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[http]\nport = 0\n", "[http] port: expected a TCP port between 1 and 65535, got 0"),
        ('[http]\nport = "9100"\n', "[http] port: expected an integer, got '9100'"),
        ("[http]\nbind = 1\n", "[http] bind: unknown key (expected one of: listen, port)"),
        ('[logging]\nformat = "xml"\n', '[logging] format: expected "text" or "json"'),
        ('[logging]\nlevel = "loud"\n', "[logging] level: expected one of DEBUG, INFO"),
    ],
)
def test_http_and_logging_settings_are_validated(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).startswith(f"{config}: ")
    assert message in str(caught.value)


def test_http_and_logging_settings_defaults_and_values(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    settings = load_settings(config)
    assert settings.http == HttpSettings("127.0.0.1", None) and not settings.http.enabled
    assert (settings.logging.format, settings.logging.level) == ("text", "INFO")
    config.write_text(
        '[http]\nlisten = "0.0.0.0"\nport = 9100\n[logging]\nformat = "json"\nlevel = "debug"\n'
    )
    settings = load_settings(config)
    assert settings.http == HttpSettings("0.0.0.0", 9100) and settings.http.enabled
    assert (settings.logging.format, settings.logging.level) == ("json", "DEBUG")


async def test_the_sender_reports_each_call_to_the_metrics(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """The sender's optional observer hook fills ``dutybot_sends_total`` and the latency."""
    runtime = harness.runtime
    assert runtime is not None and runtime.sender is not None
    metrics = Metrics()
    telegram = TelegramReachability()
    runtime.sender.send_observers += [metrics.observe_send, telegram.observe_send]
    assert telegram() is None
    botapi.started_chats.update((70001, 70002))  # 70003 never started the bot: 403
    botapi.fail("sendMessage", code=429, description="Too Many Requests", retry_after=1)
    botapi.fail("sendMessage", code=500)
    async with runtime.database.transaction() as session:
        for chat in (70001, 70002, 70003):
            enqueue(session, chat, f"to {chat}")

    def sends() -> dict[str, float]:
        return {
            dict(labels)["result"]: value
            for (name, labels), value in samples(metrics.exposition().decode()).items()
            if name == "dutybot_sends_total"
        }

    async def all_counted() -> bool:
        return sum(sends().values()) >= 5

    await eventually(all_counted, timeout=30)
    assert sends() == {"ok": 2, "429": 1, "5xx": 1, "403": 1, "other": 0}
    assert telegram() is True  # the last call got an answer
    assert samples(metrics.exposition().decode())[("dutybot_send_duration_seconds_count", ())] == 5


async def test_the_running_bot_serves_health_and_metrics(
    tmp_path: Path, botapi: StandInBotApi, database_url: str, clock: FakeClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        extra=f'\n[http]\nlisten = "127.0.0.1"\nport = {port}\n',
    )
    bot = BotHarness(config, botapi, clock)
    await bot.start()
    try:
        xu = bot.user(XU, "Xu")
        await quick_report(bot, xu, "Burst main on 3rd Street")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == 200
            async with http.get(f"http://127.0.0.1:{port}/readyz") as answer:
                assert answer.status == 200
                assert (await answer.json())["leadership"] == "leader"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                text = await answer.text()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        open_incidents = {
            s.labels["level"]: s.value for s in families["dutybot_incidents_open"].samples
        }
        assert open_incidents["unassessed"] == 1
        assert TOKEN not in text
    finally:
        await bot.stop()
    with socket.socket() as again:  # stopped with the bot: the port is free again
        again.bind(("127.0.0.1", port))
