"""``dutybot backup FILE``: a consistent SQLite copy while another connection keeps writing."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.backup import BackupRefused, backup_sqlite
from tests.test_config_cli import dutybot


def write_config(directory: Path, database_url: str) -> Path:
    """A config that needs nothing but the database (backup does not read the roster)."""
    config = directory / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n')
    return config


class Writer(threading.Thread):
    """Inserts rows one transaction at a time, in WAL mode, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=30)
            while not self.stopping.is_set():
                with connection:
                    connection.execute(
                        "INSERT INTO reports (body) VALUES (?)", ("x" * 2000,)
                    )  # a few pages per row, so the copy has work to do
                self.committed += 1
            connection.close()
        except BaseException as error:
            self.error = error


def make_database(path: Path, rows: int) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    with connection:
        connection.executemany("INSERT INTO reports (body) VALUES (?)", [("y" * 2000,)] * rows)
    connection.close()


@pytest.mark.parametrize("via_cli", [False, True])
def test_backup_while_writing_is_consistent(tmp_path: Path, via_cli: bool) -> None:
    database = tmp_path / "dutybot.db"
    make_database(database, rows=5000)
    writer = Writer(database)
    writer.start()
    try:
        while writer.committed < 50:  # the writer is well under way
            time.sleep(0.01)
        committed_before = writer.committed
        target = tmp_path / "copy.db"
        if via_cli:
            config = write_config(tmp_path, f"sqlite+aiosqlite:///{database}")
            result = dutybot("backup", str(target), "--config", str(config), cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            assert "integrity ok" in result.stdout
        else:
            backup_sqlite(f"sqlite+aiosqlite:///{database}", target)
    finally:
        writer.stopping.set()
        writer.join(timeout=30)
    assert writer.error is None, writer.error

    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        (count,) = copy.execute("SELECT count(*) FROM reports").fetchone()
        (highest,) = copy.execute("SELECT max(id) FROM reports").fetchone()
    finally:
        copy.close()
    assert count >= 5000 + committed_before  # everything committed before the backup started
    assert count == highest  # and no gap: one snapshot, not pages from different moments
    assert not list(tmp_path.glob(".copy.db.*")), "the temporary file is left behind"


def test_backup_refuses_an_existing_file(tmp_path: Path) -> None:
    database = tmp_path / "dutybot.db"
    make_database(database, rows=1)
    target = tmp_path / "exists.db"
    target.write_bytes(b"precious")
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{database}")
    result = dutybot("backup", str(target), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: backup: {target} exists: choose a new file name"
    ]
    assert target.read_bytes() == b"precious"


def test_backup_refuses_postgresql(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://dutybot:s3cret@db.example/dutybot")
    result = dutybot("backup", str(tmp_path / "copy.db"), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pg_dump" in lines[0], result.stderr
    assert "s3cret" not in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_refuses_a_missing_database_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    with pytest.raises(BackupRefused, match="no such database file"):
        backup_sqlite(f"sqlite+aiosqlite:///{missing}", tmp_path / "copy.db")
    assert not missing.exists()
    assert not (tmp_path / "copy.db").exists()


def test_help_lists_backup_and_the_log_options() -> None:
    assert "backup" in dutybot("--help").stdout
    assert "FILE" in dutybot("backup", "--help").stdout
    run_help = dutybot("run", "--help").stdout
    assert "--log-format {text,json}" in run_help and "--log-level" in run_help
