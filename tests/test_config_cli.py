"""The command line refuses broken config and roster files with exit 2 and one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_LEVELS, load_settings
from tests.harness import ROSTER, head_revision, write_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.en.toml"
EXAMPLE_ZH = REPO / "config.example.toml"


def dutybot(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``dutybot`` command as a user would."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_config_prints_duty_table_and_gaps_of_the_example(tmp_path: Path) -> None:
    result = dutybot("check-config", "--config", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for unit in ("City Government Duty Office", "Emergency Management Bureau", "Water Authority"):
        assert unit in out
    assert "值班员" in out or "Officer" in out  # the example's language is zh
    assert "14" in out  # the gap horizon line
    assert not (tmp_path / "dutybot.db").exists(), "check-config must not create a database"


def test_the_chinese_example_is_a_chinese_city(tmp_path: Path) -> None:
    result = dutybot("check-config", "--config", str(EXAMPLE_ZH), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("市政府总值班室", "市应急管理局", "市水务局", "单位负责人", "备班"):
        assert name in result.stdout


def test_roster_show_at_a_time_uses_the_one_off_shift(tmp_path: Path) -> None:
    result = dutybot(
        "roster", "show", "--config", str(EXAMPLE), "--at", "2026-12-31 09:00", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    water = result.stdout.split("Water Authority")[1]
    assert "Zhao Min" in water.splitlines()[1]


def test_help_documents_every_command() -> None:
    result = dutybot("--help")
    assert result.returncode == 0
    for command in ("run", "check-config", "db", "roster"):
        assert command in result.stdout


def _broken(
    tmp_path: Path, *, roster: str = ROSTER, extra: str = "", config_text: str | None = None
) -> Path:
    config = write_config(
        tmp_path,
        base_url="http://127.0.0.1:9/bot",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        roster=roster,
        extra=extra,
    )
    if config_text is not None:
        config.write_text(config_text)
    return config


BROKEN_CASES = {
    "unknown unit in a rotation": (
        {
            "roster": ROSTER.replace(
                'unit = "water"\nposition = "leader"', 'unit = "sewage"\nposition = "leader"'
            )
        },
        ["roster.toml", "rotations[", "unit", "sewage"],
    ),
    "unknown person in a rotation": (
        {"roster": ROSTER.replace('people = ["qian.bo"]', 'people = ["qian.bo", "ghost"]')},
        ["roster.toml", "rotations[", "people", "ghost"],
    ),
    "bad duration": (
        {"extra": '\n[levels.I]\naccept = "5 minutes"\n'},
        ["config.toml", "[levels.I] accept", "5 minutes", "1h30m"],
    ),
    "parent cycle": (
        {
            "roster": ROSTER.replace(
                'id = "city"\nname = "City Duty Office"',
                'id = "city"\nname = "City Duty Office"\nparent = "water"',
            )
        },
        ["roster.toml", "parent", "cycle"],
    ),
    "shift ending before it starts": (
        {"roster": ROSTER.replace('end = "2026-11-28T08:00"', 'end = "2026-11-26T08:00"')},
        ["roster.toml", "shifts[1]", "end", "after start"],
    ),
    "TOML syntax error": (
        {"roster": ROSTER.replace('name = "Water Authority"', 'name = "Water Authority')},
        ["roster.toml", "line"],
    ),
    "unknown key": (
        {"extra": '\n[escalation]\nstpe = "5m"\n'},
        ["config.toml", "[escalation] stpe", "unknown key"],
    ),
    "limits for an unknown unit": (
        {"extra": '\n[[limits]]\nunit = "fire"\ninitial_report = "2h"\n'},
        ["config.toml", "[limits[1]] unit", "fire"],
    ),
    "limits with a bad duration": (
        {"extra": '\n[[limits]]\ncategory = "health"\nlevel = "II"\ninitial_report = "2 hours"\n'},
        ["config.toml", "[limits[1]] initial_report", "2 hours", "1h30m"],
    ),
    "limits with neither unit nor category": (
        {"extra": '\n[[limits]]\nlevel = "II"\ninitial_report = "2h"\n'},
        ["config.toml", "[limits[1]] unit", "category"],
    ),
    "limits with an unknown key": (
        {"extra": '\n[[limits]]\nunit = "water"\ninital_report = "2h"\n'},
        ["config.toml", "[limits[1]] inital_report", "unknown key"],
    ),
    "limits with an unknown level": (
        {"extra": '\n[[limits]]\nunit = "water"\nlevel = "V"\naccept = "2m"\n'},
        ["config.toml", "[limits[1]] level", "'V'"],
    ),
    "routing to an unknown unit": (
        {"extra": '\n[routing]\naccident = "fire"\n'},
        ["config.toml", "[routing] accident", "fire"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_broken_input_is_refused_with_one_clear_line(tmp_path: Path, case: str) -> None:
    kwargs, expected = BROKEN_CASES[case]
    config = _broken(tmp_path, **kwargs)
    result = dutybot("check-config", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])


def test_running_without_a_token_is_refused(tmp_path: Path) -> None:
    config = _broken(tmp_path)
    config.write_text(config.read_text().replace('token = "', 'token = "" # "'))
    result = dutybot("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "[telegram] token" in result.stderr and "DUTYBOT_TELEGRAM_TOKEN" in result.stderr


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    result = dutybot("check-config", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "not found" in result.stderr


def test_db_upgrade_applies_migrations_and_is_idempotent(tmp_path: Path) -> None:
    config = _broken(tmp_path)
    for _ in range(2):
        result = dutybot("db", "upgrade", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"revision {head_revision()}" in result.stdout
    check = dutybot("check-config", "--config", str(config), cwd=tmp_path)
    assert "no Telegram account linked" in check.stdout  # new.hire has no account yet


def test_settings_defaults_follow_the_spec(tmp_path: Path) -> None:
    config = _broken(tmp_path)
    settings = load_settings(config)
    assert settings.levels["I"] == DEFAULT_LEVELS["I"]
    assert settings.levels["IV"].initial_report.total_seconds() == 7200
    assert settings.escalation.step.total_seconds() == 300
    assert settings.invite_valid.total_seconds() == 86400


def test_env_overrides_token_and_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _broken(tmp_path)
    monkeypatch.setenv("DUTYBOT_TELEGRAM_TOKEN", "1:from-env")
    monkeypatch.setenv("DUTYBOT_DATABASE_URL", "sqlite+aiosqlite:///env.db")
    settings = load_settings(config)
    assert settings.telegram.token == "1:from-env"
    assert settings.database_url == "sqlite+aiosqlite:///env.db"
