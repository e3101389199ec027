"""How phone intake (来电登记, ``/call``) and the report form's "when" and "sensitive" questions
read (SPEC §3.1). Markups are plain dicts (Telegram's JSON shape)."""

from __future__ import annotations

from typing import Any

from bot import callback_data
from bot.db.models import IncidentRow
from bot.i18n import Translator
from bot.levels import flash_report_due, initial_report_due
from bot.render import local_time
from bot.settings import Settings


def _button(text: str, action: str, *args: str) -> dict[str, Any]:
    return {"text": text, "callback_data": callback_data.encode(action, *args)}


def call_opened(tr: Translator) -> str:
    """The first question of ``/call``."""
    return tr._("Phone intake (来电登记). The caller's name? (/cancel to stop)")


def call_in_group(tr: Translator) -> str:
    """``/call`` is filled in a private chat."""
    return tr._("Log calls in a private chat with me.")


def not_for_you(tr: Translator) -> str:
    """``/call`` by someone without a duty desk."""
    return tr._("Only duty officers and leaders log phone calls.")


def ask_org(tr: Translator) -> str:
    """The caller's organisation."""
    return tr._("The caller's organisation (or Skip)?")


def ask_phone(tr: Translator) -> str:
    """The caller's phone."""
    return tr._("The caller's phone number (or Skip)?")


def skip_button(tr: Translator) -> dict[str, Any]:
    """Skip a question of ``/call``."""
    return {"inline_keyboard": [[_button(tr._("Skip"), "cf", "skip")]]}


def ask_received(tr: Translator) -> str:
    """When the call came in."""
    return tr._(
        "When did the call come in? Press Now, or type the time (HH:MM, up to two hours back)."
    )


def now_button(tr: Translator) -> dict[str, Any]:
    """Now."""
    return {"inline_keyboard": [[_button(tr._("Now"), "cf", "now")]]}


def received_problem(tr: Translator) -> str:
    """Not a time, in the future, or too long ago."""
    return tr._("Please type the time as HH:MM, not in the future and at most two hours back.")


def ask_occurred(tr: Translator) -> str:
    """When it happened (事发时间)."""
    return tr._("When did it happen? Press a button, or type the time (HH:MM or YYYY-MM-DD HH:MM).")


def occurred_buttons(tr: Translator, action: str = "cf") -> dict[str, Any]:
    """Just now / within the hour."""
    return {
        "inline_keyboard": [
            [
                _button(tr._("Just now"), action, "now"),
                _button(tr._("Within the hour"), action, "hour"),
            ]
        ]
    }


def occurred_problem(tr: Translator) -> str:
    """Not a time, or in the future."""
    return tr._("Please type the time as HH:MM or YYYY-MM-DD HH:MM, not in the future.")


def ask_sensitive(tr: Translator) -> str:
    """Whether the report is sensitive."""
    return tr._(
        "Is it sensitive (casualties among students or foreigners, public opinion, …)? "
        "A sensitive report runs on the level-II clock."
    )


def sensitive_buttons(tr: Translator) -> dict[str, Any]:
    """Sensitive / not sensitive."""
    return {
        "inline_keyboard": [
            [_button(tr._("Sensitive"), "rs", "yes"), _button(tr._("Not sensitive"), "rs", "no")]
        ]
    }


def ask_place(tr: Translator) -> str:
    """Where it is (typed: the caller is not here to share a location)."""
    return tr._("Where is it? Type the place as the caller gave it.")


def ask_casualties(tr: Translator) -> str:
    """The casualties of a call."""
    return tr._(
        "Casualties: four whole numbers — dead, injured, missing, trapped (for example 0 2 0 1) "
        "— or Skip."
    )


def confirm_buttons(tr: Translator) -> dict[str, Any]:
    """Log or Cancel."""
    return {
        "inline_keyboard": [
            [
                _button("📞 " + tr._("Log the call"), "cf", "send"),
                _button(tr._("Cancel"), "cf", "cancel"),
            ]
        ]
    }


def caller_line(tr: Translator, incident: IncidentRow) -> str:
    """Who called, for cards."""
    parts = [incident.caller_name or "—"]
    if incident.caller_org:
        parts.append(incident.caller_org)
    if incident.caller_phone:
        parts.append("☎ " + incident.caller_phone)
    return "📞 " + tr._("Caller: {caller}").format(
        caller="，".join(parts) if tr.language == "zh" else ", ".join(parts)
    )


def call_logged(tr: Translator, incident: IncidentRow, settings: Settings) -> str:
    """The answer once the call is logged: the number, that it is the officer's, the clock."""
    tz = settings.timezone
    lines = [
        tr._("Logged as #{number} (phone call received {received}); it is accepted by you.").format(
            number=incident.id, received=local_time(incident.reported_at, tz)
        )
    ]
    flash = flash_report_due(settings, incident)
    if flash is not None:
        lines.append(tr._("Flash report (/flash) due {time}.").format(time=local_time(flash, tz)))
    lines.append(
        tr._("Initial report (/initial) due {time}.").format(
            time=local_time(initial_report_due(settings, incident), tz)
        )
    )
    return "\n".join(lines)


def call_cancelled(tr: Translator) -> str:
    """The form was left; nothing was logged."""
    return tr._("Call not logged.")
