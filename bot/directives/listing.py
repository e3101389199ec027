"""How directives are listed (SPEC §3.6): one line per directive with its colour, the
``/directives`` pages, the directives part of ``/status`` and ``/overdue``, and ``/directive D#``
with its whole history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import callback_data
from bot.db.models import DirectiveRow, Event
from bot.directives.messaging import (
    STATE_NAMES,
    WHAT,
    code,
    head_lines,
    person_name,
    unit_name,
)
from bot.i18n import N_, Translator
from bot.levels import directive_colour
from bot.render import inline_quoted, local_time, quoted
from bot.roster import Roster
from bot.settings import Settings

PREVIEW = 60


def line(tr: Translator, settings: Settings, roster: Roster, d: DirectiveRow, now: datetime) -> str:
    """One directive in a list: colour, number, lead unit, due time, state, the text's start."""
    colour = directive_colour(
        settings,
        state=d.state,
        issued_at=d.issued_at,
        due_at=d.due_at,
        reminded_at=d.reminded_at,
        feedback_at=d.feedback_at,
        now=now,
    )
    text = " ".join(d.text.split())
    preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    return "{colour}{code} · {unit} · {due} · {state} · {text}".format(
        colour=(colour + " ") if colour else "▫️ ",
        code=code(d),
        unit=unit_name(roster, d.lead_unit_id),
        due=tr._("due {time}").format(time=local_time(d.due_at, settings.timezone)),
        state=tr._(STATE_NAMES[d.state]),
        text=inline_quoted(preview),
    )


def directives_list(
    tr: Translator,
    settings: Settings,
    roster: Roster,
    directives: list[DirectiveRow],
    now: datetime,
    *,
    more: bool,
) -> str:
    """``/directives``: the open directives I issued or my unit must answer."""
    if not directives:
        return tr._("No open directives for you.")
    lines = [tr._("Open directives (🔵 little time left, 🟡 overdue, 🔴 overdue and reminded):")]
    lines += [line(tr, settings, roster, d, now) for d in directives]
    if more:
        lines.append(tr._("More below: press Next page."))
    return "\n".join(lines)


def next_page_button(tr: Translator, after: int) -> dict[str, Any]:
    """``/directives``: the next page (after the list's position ``after``)."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": tr._("Next page ▶"),
                    "callback_data": callback_data.encode("dnp", str(after)),
                }
            ]
        ]
    }


HISTORY = {
    "directive.issued": N_("issued"),
    "directive.received": N_("received (签收)"),
    "directive.feedback": N_("feedback"),
    "directive.completed": N_("reported done"),
    "directive.extension_asked": N_("extension asked, to {until}"),
    "directive.extended": N_("extension approved, due {until}"),
    "directive.extension_refused": N_("extension refused"),
    "directive.closed": N_("closed (办结)"),
    "directive.sent_back": N_("sent back, due {due}"),
    "directive.reminded": N_("reminder sent"),
    "directive.missed": N_("{what} missed its deadline"),
    "directive.rung": N_("escalated (逐级催报) to {names}"),
    "directive.pressed": N_("pressed (催办)"),
    "directive.taken_over": N_("taken over"),
}


def history_line(tr: Translator, roster: Roster, tz: ZoneInfo, event: Event) -> str:
    """One line of a directive's history."""
    data = event.data
    template = HISTORY.get(event.kind)
    if template is None:
        return ""
    text = tr._(template).format(
        until=local_time(datetime.fromisoformat(data["until"]), tz) if "until" in data else "",
        due=local_time(datetime.fromisoformat(data["due"]), tz) if "due" in data else "",
        what=tr._(WHAT.get(str(data.get("what")), N_("a deadline"))),
        names=", ".join(person_name(roster, p) for p in data.get("told", [])) or "—",
    )
    who = f" — {person_name(roster, event.actor_id)}" if event.actor_id else ""
    out = f"{local_time(event.at, tz)} {text}{who}"
    words = data.get("text") or data.get("reason")
    if words:
        out += "\n" + quoted(str(words))
    return out


def directive_view(
    tr: Translator,
    settings: Settings,
    roster: Roster,
    directive: DirectiveRow,
    history: list[Event],
    now: datetime,
) -> str:
    """``/directive D#``: the directive and its whole history."""
    tz = settings.timezone
    lines = head_lines(tr, roster, tz, directive)
    lines.append(
        tr._("State: {state}").format(state=tr._(STATE_NAMES[directive.state]))
        + (" · " + line(tr, settings, roster, directive, now).split(" ")[0])
    )
    lines.append(tr._("History:"))
    lines += [text for e in history if (text := history_line(tr, roster, tz, e))]
    return "\n".join(lines)


SCOPE_LINES = 15


def scope_directives(
    tr: Translator,
    settings: Settings,
    roster: Roster,
    directives: list[DirectiveRow],
    now: datetime,
    *,
    overdue: bool,
) -> str:
    """The directives part of ``/status`` (open ones) and ``/overdue`` (late ones) in scope."""
    head = (
        tr._("Directives overdue (督办): {count}")
        if overdue
        else tr._("Open directives (督办): {count}")
    ).format(count=len(directives))
    lines = [head] + [line(tr, settings, roster, d, now) for d in directives[:SCOPE_LINES]]
    if len(directives) > SCOPE_LINES:
        lines.append(
            tr._("… and {count} more: /directive D<number> shows one.").format(
                count=len(directives) - SCOPE_LINES
            )
        )
    return "\n".join(lines)
