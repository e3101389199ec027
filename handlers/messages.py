"""Sending answers that may be long: split on line boundaries under Telegram's 4096 characters."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Message
from telegram.constants import MessageLimit

LIMIT = MessageLimit.MAX_TEXT_LENGTH


def split_text(lines: Iterable[str], limit: int = LIMIT) -> list[str]:
    """Pack lines into as few chunks as fit ``limit``; a single overlong line is cut hard."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks or [""]


async def reply_long(message: Message, lines: Iterable[str]) -> None:
    """Reply with as many messages as the text needs."""
    for chunk in split_text(lines):
        await message.reply_text(chunk)
