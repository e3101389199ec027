"""The deployment files in deploy/, checked as far as possible without Docker or systemd running:
the compose file parses and documents its variables, the image runs as a non-root user, the
systemd unit passes ``systemd-analyze verify`` (when the tool is there)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def production_section() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("## Running in production")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_has_postgresql_and_two_bot_processes() -> None:
    services = compose()["services"]
    bots = {name: s for name, s in services.items() if name != "postgres"}
    assert "postgres" in services and len(bots) == 2
    for bot in bots.values():
        assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
        assert set(bot["environment"]) == {"DUTYBOT_TELEGRAM_TOKEN", "DUTYBOT_DATABASE_URL"}
        assert bot["environment"]["DUTYBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in bot["environment"]["DUTYBOT_DATABASE_URL"]
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert bot["restart"] == "on-failure"
        assert any(volume.endswith(":/etc/dutybot:ro") for volume in bot["volumes"])
        assert all(
            port.startswith("127.0.0.1:") and port.endswith(":9100") for port in bot["ports"]
        )
    assert "healthcheck" in services["postgres"]


def strings(value: object) -> list[str]:
    """Every string in a parsed YAML document, keys included (comments are gone)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def test_every_compose_variable_is_documented_in_the_readme() -> None:
    used = {name for text in strings(compose()) for name in VARIABLE.findall(text)}
    assert {"DUTYBOT_TELEGRAM_TOKEN", "POSTGRES_PASSWORD"} <= used
    section = production_section()
    missing = sorted(name for name in used if f"`{name}`" not in section)
    assert not missing, f"not documented in README 'Running in production': {missing}"


def test_env_example_names_only_documented_variables() -> None:
    names = re.findall(r"^#?\s*([A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE)
    section = production_section()
    assert names and all(f"`{name}`" in section for name in names), names


def test_container_config_is_valid_and_serves_the_status_port(tmp_path: Path) -> None:
    settings = load_settings(DEPLOY / "etc" / "config.toml")
    assert settings.http.enabled and settings.http.port == 9100
    assert settings.http.listen == "0.0.0.0"
    assert settings.logging.format == "json"
    assert settings.roster_file == DEPLOY / "etc" / "roster.toml"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_slim_non_root_and_runs_the_bot() -> None:
    instructions = dockerfile_instructions()
    bases = [arg for op, arg in instructions if op == "FROM"]
    assert bases and all(base.startswith("python:3.11-slim") for base in bases)
    assert any(op == "RUN" and "pip install ." in arg for op, arg in instructions)
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [arg for op, arg in final_stage if op == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    entrypoint = [arg for op, arg in final_stage if op == "ENTRYPOINT"][-1]
    command = [arg for op, arg in final_stage if op == "CMD"][-1]
    assert entrypoint == '["dutybot"]'
    assert command.startswith('["run", "--config", "/etc/dutybot/config.toml"')
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in final_stage)
    assert ("EXPOSE", "9100") in final_stage
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert "*" in ignore and "!bot/" in ignore  # the context is the packages, not .venv


def unit() -> str:
    return (DEPLOY / "dutybot.service").read_text()


def test_systemd_unit_runs_as_its_own_user_and_restarts() -> None:
    text = unit()
    for line in (
        "User=dutybot",
        "Restart=on-failure",
        "EnvironmentFile=/etc/dutybot/dutybot.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=dutybot",
    ):
        assert f"\n{line}\n" in text, line
    assert re.search(r"^ExecStart=\S+/dutybot run --config /etc/dutybot/config.toml", text, re.M)
    # The secrets are in the environment file only, never in the unit.
    assert not re.search(r"^Environment=.*DUTYBOT_TELEGRAM_TOKEN", text, re.M)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: stand in for the installed one.
    program = tmp_path / "bin" / "dutybot"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    copy = tmp_path / "dutybot.service"
    copy.write_text(unit().replace("/opt/dutybot/bin/dutybot", str(program)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "dutybot.service" in line or "Unknown" in line
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
