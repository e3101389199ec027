"""Typed, immutable settings read from the TOML config file (SPEC §7), with env overrides."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from bot.logging_setup import LOG_FORMATS, LOG_LEVELS, LogFormat
from bot.tomlreader import Table, load_toml

LEVELS = ("I", "II", "III", "IV", "unassessed")
CATEGORIES = ("natural", "accident", "health", "security")
POSITIONS = ("officer", "backup", "leader", "head")
LANGUAGES = ("en", "zh")
ESCALATION_RUNGS = ("officer", "backup", "leader", "head", "parent")

ENV_TOKEN = "DUTYBOT_TELEGRAM_TOKEN"
ENV_DATABASE_URL = "DUTYBOT_DATABASE_URL"
ENV_WEBHOOK_SECRET = "DUTYBOT_WEBHOOK_SECRET"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")
LOOPBACK = ("127.0.0.1", "localhost", "::1")

Mode = Literal["polling", "webhook"]


def _m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class LevelPolicy:
    """The reporting clock of one incident level (SPEC §3.3)."""

    accept: timedelta
    initial_report: timedelta
    followup_every: timedelta | None
    followup_at: tuple[time, ...]
    warn_before: timedelta
    require_signoff: bool
    close_within: timedelta | None = None
    flash_report: timedelta | None = None  # 快报/电话报告; None: no flash report is due
    followup_min_gap: timedelta = timedelta(0)  # a fixed time this close to a report is skipped
    followup_on_change: timedelta | None = None  # a 续报 falls due this long after casualties rise


_DAILY = (time(8, 0), time(17, 0))
_MAJOR = LevelPolicy(
    accept=_m(5),
    flash_report=_m(30),
    initial_report=_m(60),
    followup_every=None,
    followup_at=_DAILY,
    followup_min_gap=_m(120),
    followup_on_change=_m(60),
    warn_before=_m(10),
    require_signoff=True,
)
DEFAULT_LEVELS: dict[str, LevelPolicy] = {
    "I": _MAJOR,
    "II": _MAJOR,
    "III": replace(_MAJOR, accept=_m(10), flash_report=None),
    "IV": replace(
        _MAJOR,
        accept=_m(15),
        flash_report=None,
        initial_report=_m(120),
        followup_at=(time(17, 0),),
        require_signoff=False,
    ),
    # A quick report with no level may well be a major event: the level-II clock.
    "unassessed": replace(_MAJOR, require_signoff=False),
}
LEVEL_KEYS = (
    "accept",
    "flash_report",
    "initial_report",
    "followup_every",
    "followup_at",
    "followup_min_gap",
    "followup_on_change",
    "warn_before",
    "require_signoff",
    "close_within",
)
OPTIONAL_DURATIONS = ("flash_report", "followup_every", "followup_on_change", "close_within")


@dataclass(frozen=True)
class LimitRule:
    """One ``[[limits]]`` entry: overrides of the reporting clock for a unit and/or a category
    (and optionally one level). The most specific matching rule wins."""

    unit: str | None
    category: str | None
    level: str | None
    overrides: MappingProxyType[str, object]
    index: int = 0  # position in the file (a later rule beats an equally specific one)

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key: more selectors first; a unit beats a category; later beats earlier."""
        return (
            sum(x is not None for x in (self.unit, self.category, self.level)),
            int(self.unit is not None),
            int(self.level is not None),
            self.index,
        )

    def matches(self, level: str, unit: str | None, category: str | None) -> bool:
        """Whether this rule applies to an incident of ``level`` in ``unit`` and ``category``."""
        return (
            (self.level is None or self.level == level)
            and (self.unit is None or self.unit == unit)
            and (self.category is None or self.category == category)
        )


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook mode: where Telegram posts updates and where this process listens for them."""

    url: str  # the public HTTPS address given to Telegram (setWebhook)
    secret_token: str  # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token
    listen: str = "0.0.0.0"
    port: int = 8443

    @property
    def path(self) -> str:
        """The path of ``url``, which the local server answers."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class TelegramSettings:
    """How to reach the Bot API."""

    token: str
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Mode = "polling"
    poll_timeout: int = 30
    webhook: WebhookSettings | None = None


@dataclass(frozen=True)
class EscalationSettings:
    """The chain of command walked when a deadline is missed."""

    chain: tuple[str, ...] = ESCALATION_RUNGS
    step: timedelta = _m(5)
    repeat: timedelta = _m(15)


DIRECTIVE_URGENCIES = ("urgent", "pressing", "normal", "complex")


@dataclass(frozen=True)
class DirectiveSettings:
    """Directives (督办, SPEC §3.6): how soon the lead unit must receive one, when it is
    reminded, and the feedback limit of each urgency."""

    receive_within: timedelta = _m(30)
    warn_before: timedelta = _m(120)
    urgency: MappingProxyType[str, timedelta] = field(
        default_factory=lambda: MappingProxyType(
            {
                "urgent": timedelta(hours=24),
                "pressing": timedelta(days=5),
                "normal": timedelta(days=15),
                "complex": timedelta(days=30),
            }
        )
    )


@dataclass(frozen=True)
class DeliverySettings:
    """Telegram's sending limits the sender keeps to."""

    overall_per_second: int = 30
    private_per_second: float = 1.0
    group_per_minute: int = 20
    claim_lease: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class FloodSettings:
    """How much one person may send before the bot slows them down (a flood from one user must
    not starve everyone else)."""

    updates_per_minute: int = 60  # any message or button press, anyone in the roster
    reports_per_minute: int = 20  # new reports (/report, /call), anyone
    stranger_answers_per_minute: int = 1  # refusals to people outside the roster


@dataclass(frozen=True)
class LoggingSettings:
    """How log lines look and how much is logged (``--log-format``/``--log-level`` override)."""

    format: LogFormat = "text"
    level: str = "INFO"


@dataclass(frozen=True)
class HttpSettings:
    """The health and metrics endpoint (``[http]``); off unless a port is configured.

    The config file takes ports 1-65535; ``port=0`` (any free port) is for tests building the
    settings directly.
    """

    listen: str = "127.0.0.1"
    port: int | None = None

    @property
    def enabled(self) -> bool:
        """Tell whether ``/healthz``, ``/readyz`` and ``/metrics`` are served."""
        return self.port is not None


MAX_SPOTCHECKS_PER_SHIFT = 24


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with; built only by ``load_settings``."""

    config_file: Path
    timezone: ZoneInfo
    language: str
    telegram: TelegramSettings
    database_url: str
    roster_file: Path
    routing: MappingProxyType[str, str]
    levels: MappingProxyType[str, LevelPolicy]
    report_direct_to_root: tuple[str, ...] = ("I", "II", "sensitive")
    limits: tuple[LimitRule, ...] = ()
    tell_leader: tuple[str, ...] = ("I", "II", "sensitive", "unassessed")
    receipt_within: timedelta = _m(15)
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    invite_valid: timedelta = timedelta(hours=24)
    bulletin_daily_at: time = time(8, 0)
    handover_accept_within: timedelta = _m(15)
    spotcheck_answer_within: timedelta = _m(5)
    spotcheck_per_shift: int = 0
    directives: DirectiveSettings = field(default_factory=DirectiveSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    flood: FloodSettings = field(default_factory=FloodSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    http: HttpSettings = field(default_factory=HttpSettings)

    def require_token(self) -> str:
        """The bot token, or a ``ConfigError`` when running without one."""
        if not self.telegram.token.strip():
            raise ConfigError(
                str(self.config_file),
                "[telegram] token",
                f"missing: set the bot token from @BotFather here or in env {ENV_TOKEN}",
            )
        return self.telegram.token


def _optional_duration(t: Table, key: str, default: timedelta | None) -> timedelta | None:
    """A duration, ``"none"`` for none, or the default when absent."""
    if t.data.get(key) == "none":
        return None
    return t.optional_duration(key, default)


def _level_values(t: Table, base: LevelPolicy | None) -> dict[str, object]:
    """The keys of a ``[levels.X]`` or ``[[limits]]`` table that are set (all of them, with the
    defaults of ``base``, when ``base`` is given)."""
    values: dict[str, object] = {}
    for key in LEVEL_KEYS:
        if key not in t.data and base is None:
            continue
        default = getattr(base, key) if base is not None else None
        if key in OPTIONAL_DURATIONS:
            values[key] = _optional_duration(t, key, default)
        elif key == "followup_at":
            values[key] = tuple(t.clock_times(key, list(default or ())))
        elif key == "require_signoff":
            values[key] = t.boolean(key, bool(default))
        elif key == "followup_min_gap" and t.data.get(key) in ("0", "none"):
            values[key] = timedelta(0)
        else:
            values[key] = t.duration(key, default)
    return values


def _read_levels(root: Table) -> dict[str, LevelPolicy]:
    levels_table = root.table("levels")
    levels_table.reject_unknown(LEVELS)
    levels: dict[str, LevelPolicy] = {}
    for name in LEVELS:
        t = levels_table.table(name)
        t.reject_unknown(LEVEL_KEYS)
        levels[name] = LevelPolicy(**_level_values(t, DEFAULT_LEVELS[name]))  # type: ignore[arg-type]
    return levels


def _read_limits(root: Table) -> tuple[LimitRule, ...]:
    """``[[limits]]``: per unit and/or category (optionally one level), most specific wins."""
    rules = []
    for index, t in enumerate(root.tables("limits")):
        t.reject_unknown(("unit", "category", "level", *LEVEL_KEYS))
        unit = t.optional_string("unit")
        category = t.optional_string("category")
        level = t.optional_string("level")
        if unit is None and category is None:
            raise t.fail("unit", 'a unit id and/or a category (e.g. category = "health")')
        if category is not None and category not in CATEGORIES:
            raise t.fail("category", f"expected one of {', '.join(CATEGORIES)}, got {category!r}")
        if level is not None and level not in LEVELS:
            raise t.fail("level", f"expected one of {', '.join(LEVELS)}, got {level!r}")
        overrides = _level_values(t, None)
        if not overrides:
            raise t.fail(
                "initial_report", f"at least one limit to override: {', '.join(LEVEL_KEYS)}"
            )
        rules.append(LimitRule(unit, category, level, MappingProxyType(overrides), index))
    return tuple(rules)


def _read_telegram(root: Table) -> TelegramSettings:
    t = root.table("telegram")
    t.reject_unknown(("token", "base_url", "base_file_url", "mode", "poll_timeout", "webhook"))
    token = os.environ.get(ENV_TOKEN) or (t.string("token", "") if t.has("token") else "")
    mode = t.string("mode", "polling")
    if mode not in ("polling", "webhook"):
        raise t.fail("mode", f'expected "polling" or "webhook", got {mode!r}')
    base_url = t.string("base_url", "https://api.telegram.org/bot")
    default_file_url = base_url.rstrip("/").removesuffix("bot") + "file/bot"
    poll_timeout = t.integer("poll_timeout", 30)
    if not 0 <= poll_timeout <= 50:
        raise t.fail("poll_timeout", f"expected seconds between 0 and 50, got {poll_timeout}")
    return TelegramSettings(
        token=token,
        base_url=base_url,
        base_file_url=t.string("base_file_url", default_file_url),
        mode="webhook" if mode == "webhook" else "polling",
        poll_timeout=poll_timeout,
        webhook=_read_webhook(t) if mode == "webhook" else None,
    )


def _read_webhook(telegram: Table) -> WebhookSettings:
    """``[telegram.webhook]``: required in webhook mode, with a secret token."""
    if not telegram.has("webhook"):
        raise telegram.fail(
            "webhook", 'a [telegram.webhook] table (url, secret_token) in mode "webhook"'
        )
    t = telegram.table("webhook")
    t.reject_unknown(("url", "secret_token", "listen", "port"))
    url = t.string("url", required=True)
    parts = urlsplit(url)
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
    ):
        raise t.fail("url", f"expected the public https:// address Telegram posts to, got {url!r}")
    secret = os.environ.get(ENV_WEBHOOK_SECRET) or (
        t.string("secret_token") if t.has("secret_token") else ""
    )
    if not SECRET_TOKEN.fullmatch(secret):
        raise t.fail(
            "secret_token",
            f"16 to 256 characters A-Z, a-z, 0-9, _ or - (here or in env {ENV_WEBHOOK_SECRET})",
        )
    port = t.integer("port", 8443)
    if not 0 <= port <= 65535:
        raise t.fail("port", f"expected a TCP port, got {port}")
    return WebhookSettings(
        url=url, secret_token=secret, listen=t.string("listen", "0.0.0.0"), port=port
    )


def _read_escalation(root: Table) -> EscalationSettings:
    t = root.table("escalation")
    t.reject_unknown(("chain", "step", "repeat"))
    chain = t.string_list("chain", list(ESCALATION_RUNGS))
    for rung in chain:
        if rung not in ESCALATION_RUNGS:
            raise t.fail(
                "chain", f"expected rungs from {', '.join(ESCALATION_RUNGS)}, got {rung!r}"
            )
    if not chain:
        raise t.fail("chain", "expected at least one rung")
    return EscalationSettings(
        chain=tuple(chain),
        step=t.duration("step", _m(5)),
        repeat=t.duration("repeat", _m(15)),
    )


def _read_directives(root: Table) -> DirectiveSettings:
    directives = root.table("directives")
    directives.reject_unknown(("receive_within", "warn_before", "urgency"))
    defaults = DirectiveSettings()
    urgency = directives.table("urgency")
    urgency.reject_unknown(DIRECTIVE_URGENCIES)
    return DirectiveSettings(
        receive_within=directives.duration("receive_within", defaults.receive_within),
        warn_before=directives.duration("warn_before", defaults.warn_before),
        urgency=MappingProxyType(
            {name: urgency.duration(name, limit) for name, limit in defaults.urgency.items()}
        ),
    )


def _read_delivery(root: Table) -> DeliverySettings:
    t = root.table("delivery")
    t.reject_unknown(
        ("overall_per_second", "private_per_second", "group_per_minute", "claim_lease")
    )
    overall = t.integer("overall_per_second", 30)
    group = t.integer("group_per_minute", 20)
    private = t.data.get("private_per_second", 1.0)
    if isinstance(private, bool) or not isinstance(private, int | float) or private <= 0:
        raise t.fail("private_per_second", f"expected a positive number, got {private!r}")
    if overall <= 0:
        raise t.fail("overall_per_second", f"expected a positive number, got {overall}")
    if group <= 0:
        raise t.fail("group_per_minute", f"expected a positive number, got {group}")
    lease = t.duration("claim_lease", timedelta(seconds=30))
    return DeliverySettings(overall, float(private), group, lease)


def _read_flood(root: Table) -> FloodSettings:
    t = root.table("flood")
    keys = ("updates_per_minute", "reports_per_minute", "stranger_answers_per_minute")
    t.reject_unknown(keys)
    defaults = FloodSettings()
    values = {}
    for key in keys:
        value = t.integer(key, getattr(defaults, key))
        if value <= 0:
            raise t.fail(key, f"expected a positive number, got {value}")
        values[key] = value
    return FloodSettings(**values)


def _read_logging(root: Table) -> LoggingSettings:
    t = root.table("logging")
    t.reject_unknown(("format", "level"))
    log_format = t.string("format", "text")
    if log_format not in LOG_FORMATS:
        raise t.fail("format", f'expected "text" or "json", got {log_format!r}')
    level = t.string("level", "INFO")
    if level.upper() not in LOG_LEVELS:
        raise t.fail("level", f"expected one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return LoggingSettings(format="json" if log_format == "json" else "text", level=level.upper())


def _read_http(root: Table) -> HttpSettings:
    t = root.table("http")
    t.reject_unknown(("listen", "port"))
    listen = t.string("listen", "127.0.0.1")
    if not listen.strip():
        raise t.fail("listen", 'expected an address to listen on like "127.0.0.1" or "0.0.0.0"')
    port = t.optional_integer("port")
    if port is not None and not 1 <= port <= 65535:
        raise t.fail("port", f"expected a TCP port between 1 and 65535, got {port}")
    return HttpSettings(listen=listen, port=port)


def load_settings(path: str | Path) -> Settings:
    """Read and validate the config file; raise ``ConfigError`` naming file, key and expectation."""
    config_path = Path(path)
    file = str(config_path)
    root = Table(file, "", load_toml(config_path))
    root.reject_unknown(
        (
            "timezone",
            "language",
            "telegram",
            "database",
            "roster",
            "routing",
            "levels",
            "escalation",
            "delivery",
            "reporting",
            "limits",
            "intake",
            "onboarding",
            "bulletin",
            "handover",
            "spotcheck",
            "directives",
            "flood",
            "logging",
            "http",
        )
    )

    tz_name = root.string("timezone", "Asia/Shanghai")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise root.fail(
            "timezone", f"expected an IANA time zone like Asia/Shanghai, got {tz_name!r}"
        ) from None

    language = root.string("language", "zh")
    if language not in LANGUAGES:
        raise root.fail("language", f"expected one of {', '.join(LANGUAGES)}, got {language!r}")

    database = root.table("database")
    database.reject_unknown(("url",))
    database_url = os.environ.get(ENV_DATABASE_URL) or database.string(
        "url", "sqlite+aiosqlite:///dutybot.db"
    )

    roster = root.table("roster")
    roster.reject_unknown(("file",))
    roster_file = Path(roster.string("file", "roster.toml"))
    if not roster_file.is_absolute():
        roster_file = config_path.parent / roster_file

    routing_table = root.table("routing")
    routing_table.reject_unknown(CATEGORIES)
    routing = {category: routing_table.string(category) for category in routing_table.data}

    reporting = root.table("reporting")
    reporting.reject_unknown(("direct_to_root", "receipt_within"))
    direct = reporting.string_list("direct_to_root", ["I", "II", "sensitive"])
    for item in direct:
        if item not in (*LEVELS, "sensitive"):
            raise reporting.fail("direct_to_root", f'expected levels or "sensitive", got {item!r}')
    intake = root.table("intake")
    intake.reject_unknown(("tell_leader",))
    tell_leader = intake.string_list("tell_leader", ["I", "II", "sensitive", "unassessed"])
    for item in tell_leader:
        if item not in (*LEVELS, "sensitive"):
            raise intake.fail("tell_leader", f'expected levels or "sensitive", got {item!r}')

    onboarding = root.table("onboarding")
    onboarding.reject_unknown(("invite_valid",))
    bulletin = root.table("bulletin")
    bulletin.reject_unknown(("daily_at",))
    handover = root.table("handover")
    handover.reject_unknown(("accept_within",))
    spotcheck = root.table("spotcheck")
    spotcheck.reject_unknown(("answer_within", "per_shift"))
    per_shift = spotcheck.integer("per_shift", 0)
    if not 0 <= per_shift <= MAX_SPOTCHECKS_PER_SHIFT:
        raise spotcheck.fail(
            "per_shift", f"expected a whole number from 0 to {MAX_SPOTCHECKS_PER_SHIFT}"
        )

    return Settings(
        config_file=config_path,
        timezone=timezone,
        language=language,
        telegram=_read_telegram(root),
        database_url=database_url,
        roster_file=roster_file,
        routing=MappingProxyType(routing),
        levels=MappingProxyType(_read_levels(root)),
        report_direct_to_root=tuple(direct),
        limits=_read_limits(root),
        tell_leader=tuple(tell_leader),
        receipt_within=reporting.duration("receipt_within", _m(15)),
        escalation=_read_escalation(root),
        invite_valid=onboarding.duration("invite_valid", timedelta(hours=24)),
        bulletin_daily_at=bulletin.clock_time("daily_at", time(8, 0)),
        handover_accept_within=handover.duration("accept_within", _m(15)),
        spotcheck_answer_within=spotcheck.duration("answer_within", _m(5)),
        spotcheck_per_shift=per_shift,
        directives=_read_directives(root),
        delivery=_read_delivery(root),
        flood=_read_flood(root),
        logging=_read_logging(root),
        http=_read_http(root),
    )
