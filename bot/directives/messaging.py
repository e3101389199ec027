"""How directives read (SPEC §3.6): the card the lead and assisting units get, the issuer's
notices, reminders, the escalation card, the buttons, lists and the whole history. Every line is
in the reader's language; the issuer's and answerers' words are quoted, never bare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import callback_data
from bot.db.models import DirectiveRow
from bot.duty_table import with_phone
from bot.escalation.messaging import lateness
from bot.i18n import N_, Translator
from bot.render import inline_quoted, local_time, quoted
from bot.roster import Roster
from bot.settings import Settings

URGENCY_NAMES = {
    "urgent": N_("urgent"),
    "pressing": N_("pressing"),
    "normal": N_("routine"),
    "complex": N_("complex"),
    "set": N_("fixed deadline"),
}
STATE_NAMES = {
    "issued": N_("not yet received"),
    "received": N_("in progress"),
    "completed": N_("completed, awaiting acceptance"),
    "closed": N_("accepted as done"),
}


def code(directive: DirectiveRow | int) -> str:
    """``D12``: how people name a directive."""
    return f"D{directive if isinstance(directive, int) else directive.id}"


def urgency_name(tr: Translator, urgency: str) -> str:
    """An urgency in the reader's language (特急, 加急, 一般, 复杂)."""
    return tr._(URGENCY_NAMES[urgency])


def unit_name(roster: Roster, unit: str) -> str:
    """A unit's name (its id if the roster lost it)."""
    found = roster.units.get(unit)
    return found.name if found else unit


def person_name(roster: Roster, person: str | None) -> str:
    """A person's name (their id if the roster lost them)."""
    found = roster.people.get(person or "")
    return found.name if found else (person or "?")


def units_line(tr: Translator, roster: Roster, directive: DirectiveRow) -> str:
    """Lead unit (主办) and assisting units (协办)."""
    line = tr._("Lead unit: {unit}").format(unit=unit_name(roster, directive.lead_unit_id))
    if directive.assisting:
        line += " · " + tr._("Assisting: {units}").format(
            units=tr._(", ").join(unit_name(roster, u) for u in directive.assisting)
        )
    return line


def head_lines(tr: Translator, roster: Roster, tz: ZoneInfo, directive: DirectiveRow) -> list[str]:
    """The top of every card: number and issuer, units, urgency and deadline, the text."""
    lines = [
        "📌 "
        + tr._("Directive {code} from {issuer}").format(
            code=code(directive), issuer=person_name(roster, directive.issuer_id)
        ),
        units_line(tr, roster, directive),
        tr._("Urgency: {urgency} · feedback due {due}").format(
            urgency=urgency_name(tr, directive.urgency), due=local_time(directive.due_at, tz)
        ),
    ]
    if directive.incident_id is not None:
        lines.append(tr._("Instruction on incident #{number}").format(number=directive.incident_id))
    lines.append(quoted(directive.text))
    return lines


def lead_card(tr: Translator, roster: Roster, settings: Settings, directive: DirectiveRow) -> str:
    """To the lead unit's officers on duty, with Receive."""
    tz = settings.timezone
    lines = head_lines(tr, roster, tz, directive)
    lines.append(
        tr._(
            "Press Receive (签收) by {time}. Answer with /feedback {code} <text>; when it is "
            "done: /feedback {code} done <text>. More time: /extend {code} <duration> <reason>."
        ).format(
            time=local_time(directive.issued_at + settings.directives.receive_within, tz),
            code=code(directive),
        )
    )
    return "\n".join(lines)


def assisting_card(
    tr: Translator, roster: Roster, settings: Settings, directive: DirectiveRow
) -> str:
    """To the assisting units' officers on duty, for information."""
    lines = head_lines(tr, roster, settings.timezone, directive)
    lines.append(
        tr._(
            "Your unit assists. Send your input with /feedback {code} <text>: it reaches the "
            "lead unit and the issuer."
        ).format(code=code(directive))
    )
    return "\n".join(lines)


def receive_button(tr: Translator, directive: DirectiveRow) -> dict[str, Any]:
    """Receive (签收) under the lead unit's card."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✍️ " + tr._("Receive"),
                    "callback_data": callback_data.encode("drc", str(directive.id)),
                }
            ]
        ]
    }


def issued_answer(tr: Translator, roster: Roster, directive: DirectiveRow, told: int) -> str:
    """To the issuer: the directive went out."""
    return "✅ " + tr._(
        "Directive {code} issued to {unit}: {count} officers on duty told. You will be told "
        "when it is received and answered."
    ).format(code=code(directive), unit=unit_name(roster, directive.lead_unit_id), count=told)


def received_notice(
    tr: Translator, roster: Roster, tz: ZoneInfo, directive: DirectiveRow, how: str
) -> str:
    """To the issuer: the lead unit received it (签收)."""
    text = tr._("{code} received by {name} ({unit}) at {time}.").format(
        code=code(directive),
        name=person_name(roster, directive.received_by),
        unit=unit_name(roster, directive.lead_unit_id),
        time=local_time(directive.received_at or directive.issued_at, tz),
    )
    if how == "take_over":
        text += " " + tr._("Taken over from above.")
    if directive.receive_late:
        text += " " + tr._("Received late.")
    return "✍️ " + text


def received_answer(
    tr: Translator, settings: Settings, done: bool, directive: DirectiveRow | None
) -> str:
    """The answer to Receive, with the deadline in local time."""
    if directive is None:
        return no_directive(tr)
    if not done:
        return tr._("{code} was received already.").format(code=code(directive))
    return tr._("Received {code}. Feedback is due {due}.").format(
        code=code(directive), due=local_time(directive.due_at, settings.timezone)
    )


def feedback_notice(
    tr: Translator,
    roster: Roster,
    directive: DirectiveRow,
    person: str,
    unit: str,
    text: str,
    *,
    lead: bool,
    completed: bool,
) -> str:
    """To the issuer (and, for an assisting unit's input, to the lead unit)."""
    name, unit_label = person_name(roster, person), unit_name(roster, unit)
    if completed:
        head = "🏁 " + tr._("{code}: {name} ({unit}) reports it done.").format(
            code=code(directive), name=name, unit=unit_label
        )
    elif lead:
        head = "📝 " + tr._("{code}: progress from {name} ({unit}).").format(
            code=code(directive), name=name, unit=unit_label
        )
    else:
        head = "📝 " + tr._("{code}: input from the assisting unit {unit} ({name}).").format(
            code=code(directive), name=name, unit=unit_label
        )
    lines = [head, quoted(text)]
    if completed:
        lines.append(tr._("Accept it as done (办结), or send it back with a new deadline."))
    return "\n".join(lines)


def feedback_answer(tr: Translator, directive: DirectiveRow, *, lead: bool, completed: bool) -> str:
    """The answer to ``/feedback``."""
    if completed:
        return tr._("{code}: reported done; the issuer reviews it.").format(code=code(directive))
    if lead:
        return tr._("{code}: progress recorded and passed to the issuer.").format(
            code=code(directive)
        )
    return tr._("{code}: your input reached the lead unit and the issuer.").format(
        code=code(directive)
    )


def review_buttons(tr: Translator, directive: DirectiveRow) -> dict[str, Any]:
    """Accept (办结) and Send back, to the issuer."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "🏁 " + tr._("Accept as done"),
                    "callback_data": callback_data.encode("dac", str(directive.id)),
                },
                {
                    "text": "↩️ " + tr._("Send back"),
                    "callback_data": callback_data.encode("dsb", str(directive.id)),
                },
            ]
        ]
    }


def extension_request(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    directive: DirectiveRow,
    person: str,
    until: datetime,
    reason: str,
) -> str:
    """To the issuer: the lead unit asks for more time (延期申请)."""
    return "⏳ " + tr._(
        "{code}: {name} asks to extend the deadline from {due} to {until}. Reason: {reason}"
    ).format(
        code=code(directive),
        name=person_name(roster, person),
        due=local_time(directive.due_at, tz),
        until=local_time(until, tz),
        reason=inline_quoted(reason),
    )


def extension_buttons(tr: Translator, request_id: int) -> dict[str, Any]:
    """Approve / Refuse an extension."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✅ " + tr._("Approve"),
                    "callback_data": callback_data.encode("dxa", str(request_id)),
                },
                {
                    "text": "✖️ " + tr._("Refuse"),
                    "callback_data": callback_data.encode("dxr", str(request_id)),
                },
            ]
        ]
    }


def extension_asked_answer(tr: Translator, directive: DirectiveRow) -> str:
    """The answer to ``/extend``."""
    return tr._("{code}: your request went to the issuer.").format(code=code(directive))


def extension_decided(
    tr: Translator, tz: ZoneInfo, directive: DirectiveRow, approved: bool, until: datetime
) -> str:
    """To the lead unit: the issuer decided."""
    if approved:
        return "⏳ " + tr._("{code}: extension approved; feedback is now due {due}.").format(
            code=code(directive), due=local_time(until, tz)
        )
    return "⏳ " + tr._("{code}: extension refused; feedback stays due {due}.").format(
        code=code(directive), due=local_time(directive.due_at, tz)
    )


def decided_answer(tr: Translator, directive: DirectiveRow, approved: bool) -> str:
    """The answer to the issuer's Approve / Refuse."""
    if approved:
        return tr._("{code}: extension approved.").format(code=code(directive))
    return tr._("{code}: extension refused.").format(code=code(directive))


def closed_notice(tr: Translator, directive: DirectiveRow) -> str:
    """To the lead unit: accepted as done (办结)."""
    if directive.closed_on_time:
        return "🏁 " + tr._("{code} is closed (办结), on time.").format(code=code(directive))
    return "🏁 " + tr._("{code} is closed (办结), late.").format(code=code(directive))


def closed_answer(tr: Translator, directive: DirectiveRow) -> str:
    """The answer to Accept."""
    return tr._("{code} closed.").format(code=code(directive))


def ask_send_back(tr: Translator, directive: DirectiveRow) -> str:
    """Send back was pressed: ask for the new deadline and the reason."""
    return tr._(
        "Send {code} back: reply with the new time limit and the reason, e.g. "
        "“2d the figures are missing”. /cancel to leave it."
    ).format(code=code(directive))


def sent_back_notice(tr: Translator, tz: ZoneInfo, directive: DirectiveRow, reason: str) -> str:
    """To the lead unit: sent back with a reason and a new deadline."""
    return "↩️ " + tr._("{code} was sent back: {reason}. Feedback is now due {due}.").format(
        code=code(directive), reason=inline_quoted(reason), due=local_time(directive.due_at, tz)
    )


def sent_back_answer(tr: Translator, tz: ZoneInfo, directive: DirectiveRow) -> str:
    """The answer to the issuer's send back."""
    return tr._("{code} sent back; due {due}.").format(
        code=code(directive), due=local_time(directive.due_at, tz)
    )


def reminder(tr: Translator, tz: ZoneInfo, directive: DirectiveRow, *, at_due: bool) -> str:
    """To the lead unit: ``warn_before`` the deadline, and at it."""
    if at_due:
        return "⏰ " + tr._(
            "{code}: feedback was due now ({due}). Send it with /feedback {code}, or ask for "
            "more time with /extend."
        ).format(code=code(directive), due=local_time(directive.due_at, tz))
    return "⏰ " + tr._("Reminder: {code} feedback is due at {due}.").format(
        code=code(directive), due=local_time(directive.due_at, tz)
    )


WHAT = {"dir_receive": N_("receiving it (签收)"), "dir_due": N_("its feedback")}


def escalation_card(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    directive: DirectiveRow,
    what: str,
    due: datetime,
    now: datetime,
) -> str:
    """To a rung of the lead unit's chain (逐级催报)."""
    on_duty = [
        with_phone(roster, p) for p in roster.holders(directive.lead_unit_id, "officer", now)
    ]
    lines = [
        "🔺 "
        + tr._("DIRECTIVE {code}: {what} is late by {late} (was due {due}).").format(
            code=code(directive),
            what=tr._(WHAT[what]),
            late=lateness(now - due, tr),
            due=local_time(due, tz),
        ),
        units_line(tr, roster, directive),
        tr._("Issued by {name}").format(name=person_name(roster, directive.issuer_id)),
        quoted(directive.text),
    ]
    if on_duty:
        lines.append(tr._("Officer on duty: {people}").format(people="; ".join(on_duty)))
    lines.append(
        tr._(
            "Press Press (催办) to urge the people responsible below, or, as a last resort, "
            "Take over to take charge yourself."
        )
    )
    return "\n".join(lines)


def chase_buttons(tr: Translator, directive: DirectiveRow) -> dict[str, Any]:
    """Press (催办) and Take over (接手) under a directive's escalation card."""
    number = str(directive.id)
    return {
        "inline_keyboard": [
            [
                {
                    "text": "‼️ " + tr._("Press"),
                    "callback_data": callback_data.encode("dpr", number),
                },
                {
                    "text": "🙋 " + tr._("Take over"),
                    "callback_data": callback_data.encode("dtk", number),
                },
            ]
        ]
    }


def pressed(tr: Translator, tz: ZoneInfo, directive: DirectiveRow, presser: str) -> str:
    """To the lead unit: the upper rung presses (催办)."""
    return "‼️ " + tr._(
        "{name} presses you (催办) on directive {code}: feedback is due {due}. Act on it now."
    ).format(name=presser, code=code(directive), due=local_time(directive.due_at, tz))


def press_answer(tr: Translator, done: bool, told: int) -> str:
    """The answer to Press."""
    if not done:
        return tr._("You may not press on this directive, or it is closed.")
    return tr._("Pressed: {count} responsible people told; it stays theirs.").format(count=told)


def taken_over_answer(tr: Translator, done: bool, directive: DirectiveRow | None) -> str:
    """The answer to Take over."""
    if not done or directive is None:
        return tr._("You may not take this directive over, or it is closed.")
    return tr._("{code} is yours now: answer it with /feedback {code}.").format(
        code=code(directive)
    )


def no_directive(tr: Translator) -> str:
    """Unknown, or not one the reader may see: the same answer (numbers map to nothing)."""
    return tr._("No directive with that number that concerns you.")


def refused(tr: Translator) -> str:
    """The reader may not do this to the directive."""
    return tr._("You may not do that on this directive.")


def closed_already(tr: Translator, directive: DirectiveRow) -> str:
    """The directive is closed: nothing more is taken."""
    return tr._("{code} is closed already.").format(code=code(directive))


def feedback_usage(tr: Translator) -> str:
    """How to use ``/feedback``."""
    return tr._(
        "Usage: /feedback D<number> <text> (progress), or /feedback D<number> done <text> "
        "when it is completed."
    )


def extend_usage(tr: Translator) -> str:
    """How to use ``/extend``."""
    return tr._(
        "Usage: /extend D<number> <duration> <reason>, e.g. /extend D3 2d waiting for the "
        "survey. Ask before the deadline."
    )


def extend_too_late(tr: Translator, directive: DirectiveRow) -> str:
    """``/extend`` after the deadline, or with a pending request."""
    return tr._("{code}: an extension must be asked before the deadline, one at a time.").format(
        code=code(directive)
    )


def instruct_usage(tr: Translator) -> str:
    """How to use ``/instruct``."""
    return tr._("Usage: /instruct <incident number> <instruction>")


def instruct_refused(tr: Translator, number: int) -> str:
    """``/instruct`` on an incident that is unknown, closed or outside the instructor's units
    (one answer for all three)."""
    return tr._(
        "You cannot instruct on #{number}: it is closed, or not in a unit below you."
    ).format(number=number)


def already_decided(tr: Translator, directive: DirectiveRow) -> str:
    """A review or extension button pressed again, or on a directive no longer waiting."""
    return tr._("{code}: this was decided already, or it no longer waits for you.").format(
        code=code(directive)
    )


def receive_outcome(
    tr: Translator,
    settings: Settings,
    directive: DirectiveRow | None,
    done: bool,
    refusal: str | None,
) -> str:
    """The answer to Receive (the button and ``/receive``)."""
    if directive is None:
        return no_directive(tr)
    if refusal == "refused":
        return refused(tr)
    if refusal == "closed":
        return closed_already(tr, directive)
    return received_answer(tr, settings, done, directive)


def ask_instruction(tr: Translator, number: int) -> str:
    """Instruct was pressed on an incident card: ask for the instruction."""
    return tr._(
        "Your instruction (批示) on #{number}: type it. It goes to the incident's unit as an "
        "urgent directive. /cancel to leave it."
    ).format(number=number)


def send_back_usage(tr: Translator) -> str:
    """A send-back answer that does not parse."""
    return tr._(
        "Reply with the new time limit and the reason, e.g. “2d the figures are missing” or "
        "“2026-12-01 18:00 add the photos”. /cancel to leave it."
    )


def instruct_button(tr: Translator, number: int) -> dict[str, Any]:
    """Instruct (批示) under an incident's card, for those who may."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "🖊 " + tr._("Instruct"),
                    "callback_data": callback_data.encode("ins", str(number)),
                }
            ]
        ]
    }
