"""The ``/directive`` form's questions and buttons (SPEC §3.6): lead unit, assisting units,
urgency or a time limit, the text, then a preview to issue or cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import callback_data
from bot.directives.messaging import URGENCY_NAMES, urgency_name
from bot.i18n import Translator
from bot.levels import URGENCIES
from bot.render import local_time, quoted
from bot.roster import Roster
from bot.settings import Settings

ROW = 2


def _button(text: str, choice: str) -> dict[str, str]:
    return {"text": text, "callback_data": callback_data.encode("dru", choice)}


def _rows(buttons: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    return [buttons[i : i + ROW] for i in range(0, len(buttons), ROW)]


def ask_lead(tr: Translator, roster: Roster, units: list[str]) -> tuple[str, dict[str, Any]]:
    """Step 1: the lead unit (主办单位)."""
    buttons = [_button(roster.units[u].name, f"l.{u}") for u in units]
    return (
        tr._("New directive (督办). Which unit leads (主办单位)? /cancel leaves the form."),
        {"inline_keyboard": _rows(buttons)},
    )


def ask_assisting(
    tr: Translator, roster: Roster, units: list[str], chosen: list[str]
) -> tuple[str, dict[str, Any]]:
    """Step 2: assisting units (协办单位), zero or more; each press adds or removes one."""
    buttons = [
        _button(("✅ " if u in chosen else "") + roster.units[u].name, f"a.{u}") for u in units
    ]
    names = tr._(", ").join(roster.units[u].name for u in chosen) or tr._("none")
    text = tr._(
        "Assisting units (协办单位): press to add or remove, then Done. Chosen: {names}"
    ).format(names=names)
    return text, {"inline_keyboard": [*_rows(buttons), [_button(tr._("Done"), "a.done")]]}


def ask_urgency(tr: Translator, settings: Settings) -> tuple[str, dict[str, Any]]:
    """Step 3: urgency (the feedback limit), or a time limit typed."""
    buttons = [
        _button(
            f"{urgency_name(tr, u)} ({_limit(tr, settings, u)})",
            f"u.{u}",
        )
        for u in URGENCIES
    ]
    return (
        tr._(
            "Urgency? Or type the time limit: a duration like 3d or 36h, or a date and time "
            "like 2026-12-01 18:00."
        ),
        {"inline_keyboard": _rows(buttons)},
    )


def _limit(tr: Translator, settings: Settings, urgency: str) -> str:
    hours = int(settings.directives.urgency[urgency].total_seconds() // 3600)
    if hours % 24 == 0:
        return tr._("{days} d").format(days=hours // 24)
    return tr._("{hours} h").format(hours=hours)


def bad_limit(tr: Translator) -> str:
    """A typed time limit that does not parse or is not in the future."""
    return tr._(
        "That is not a time limit in the future: type 3d, 36h or 2026-12-01 18:00, or press "
        "an urgency."
    )


def ask_text(tr: Translator) -> str:
    """Step 4: what is to be done."""
    return tr._(
        "What is to be done? Type the directive. You may send a photo or a document with the "
        "text as its caption."
    )


def bad_text(tr: Translator, limit: int) -> str:
    """Empty or over-long text."""
    return tr._("Please type the directive (at most {limit} characters).").format(limit=limit)


def preview(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    answers: dict[str, Any],
    due: datetime,
) -> tuple[str, dict[str, Any]]:
    """Step 5: the directive as it will go out, with Issue and Cancel."""
    assisting = answers.get("assisting") or []
    lines = [
        tr._("Issue this directive?"),
        tr._("Lead unit: {unit}").format(unit=roster.units[answers["lead"]].name),
        tr._("Assisting: {units}").format(
            units=tr._(", ").join(roster.units[u].name for u in assisting) or tr._("none")
        ),
        tr._("Urgency: {urgency} · feedback due {due}").format(
            urgency=tr._(URGENCY_NAMES[answers["urgency"]]), due=local_time(due, tz)
        ),
        quoted(answers["text"]),
    ]
    if answers.get("attachments"):
        lines.append(tr._("Attachments: {count}").format(count=len(answers["attachments"])))
    buttons = [[_button("📌 " + tr._("Issue"), "y.send"), _button(tr._("Cancel"), "y.cancel")]]
    return "\n".join(lines), {"inline_keyboard": buttons}


def form_in_group(tr: Translator) -> str:
    """The form is for private chats."""
    return tr._("Open the directive form in a private chat with me.")


def no_units(tr: Translator) -> str:
    """Nobody the actor may direct."""
    return tr._(
        "You may issue directives only to the units below you (supervisors: your unit and "
        "below; leaders: the units below your own)."
    )


def cancelled(tr: Translator) -> str:
    """The form was left."""
    return tr._("Cancelled: no directive was issued.")


def refused(tr: Translator, refusal: str | None) -> str:
    """The issue was refused at submit."""
    if refusal == "limit":
        return tr._("The time limit must be in the future and within a year.")
    return tr._("You may not issue a directive to these units (any more).")
