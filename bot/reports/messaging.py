"""How official reports read (SPEC §3.4): titles, the report as its readers see it, the form's
questions and buttons, the sign-off card and its buttons, and every answer and refusal.

Markups are plain dicts (Telegram's JSON shape); the handlers turn them into Telegram objects.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot import callback_data
from bot.db.models import IncidentRow, OfficialReport
from bot.i18n import N_, Translator
from bot.incidents.messaging import LEVEL_NAMES, level_line
from bot.render import local_time, quoted
from bot.reports.service import DISPLAY_ORDER, FIELD_NAMES, FIELDS
from bot.roster import Roster
from bot.settings import Settings

TITLES = {
    "flash": N_("Flash report (快报)"),
    "initial": N_("Initial report (首报)"),
    "followup": N_("Follow-up report no. {number} (续报)"),
    "final": N_("Final report (终报)"),
}


class Refusal(StrEnum):
    """Why a report cannot be written, filed or signed off."""

    HIDDEN = "hidden"  # no such incident, or one the person may not see: the same answer
    FORBIDDEN = "forbidden"  # may see the incident, may not write its reports
    CLOSED = "closed"
    NOT_ACCEPTED = "not_accepted"
    INITIAL_DONE = "initial_done"
    INITIAL_FIRST = "initial_first"


REFUSALS = {
    Refusal.CLOSED: N_("#{number} is closed; no more reports are due."),
    Refusal.NOT_ACCEPTED: N_("#{number} has not been accepted yet: /accept it first."),
    Refusal.INITIAL_DONE: N_(
        "The initial report of #{number} is already filed: use /followup or /final."
    ),
    Refusal.INITIAL_FIRST: N_("File the initial report of #{number} first: /initial {number}."),
}


def title(tr: Translator, kind: str, number: int) -> str:
    """The report's name in the reader's language (``kind`` is initial, followup or final)."""
    return tr._(TITLES[kind]).format(number=number)


def report_text(
    tr: Translator,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    kind: str,
    number: int,
    fields: dict[str, Any],
    *,
    author: str,
    filed: OfficialReport | None = None,
) -> str:
    """A report as its readers see it: heading, who filed (or wrote) it, and every field."""
    lines = [
        f"📄 {title(tr, kind, number)} · #{incident.id} · {roster.units[incident.unit_id].name}",
        level_line(tr, incident) + " · " + incident.summary,
    ]
    if filed is not None and filed.filed_at is not None:
        status = tr._("LATE") if filed.late else tr._("on time")
        approver = roster.people.get(filed.approved_by or "")
        line = tr._("Filed by {name} at {time} ({status})").format(
            name=author, time=local_time(filed.filed_at, settings.timezone), status=status
        )
        if approver is not None:
            line += "; " + tr._("approved by {name}").format(name=approver.name)
        lines.append(line)
        lines.append(
            tr._("Reporting unit: {unit} · Drafter: {drafter} · Signer: {signer}").format(
                unit=roster.units[incident.unit_id].name,
                drafter=author,
                signer=approver.name if approver is not None else author,
            )
        )
    else:
        lines.append(tr._("Written by {name}").format(name=author))
    lines.append("")
    for name in DISPLAY_ORDER:
        value = str(fields.get(name, "")).strip() or "—"
        if "\n" in value:  # the author's own lines, quoted: none can pass for the bot's
            lines.append(f"▪️ {tr._(FIELD_NAMES[name])}:\n{quoted(value)}")
        else:
            lines.append(f"▪️ {tr._(FIELD_NAMES[name])}: {value}")
    return "\n".join(lines)


def refusal(tr: Translator, why: Refusal, number: int, unit: str = "") -> str:
    """The answer when a report cannot be written or filed now."""
    if why is Refusal.HIDDEN:
        return tr._("There is no incident #{number} that you may act on.").format(number=number)
    if why is Refusal.FORBIDDEN:
        return tr._("You may not act on #{number}: it belongs to {unit}.").format(
            number=number, unit=unit
        )
    return tr._(REFUSALS[why]).format(number=number)


# --- the form -------------------------------------------------------------------------------


def usage(tr: Translator, command: str) -> str:
    """``/initial`` without a number."""
    return tr._("Usage: /{command} <number>, for example /{command} 17").format(
        command=command or "initial"
    )


def form_intro(tr: Translator, kind: str, report_number: int, number: int) -> str:
    """The first message of the form."""
    return tr._(
        "{title} for #{number}: {count} short questions, each pre-filled. Send new text, or "
        "press Keep. (/cancel to stop)"
    ).format(title=title(tr, kind, report_number), number=number, count=len(FIELDS))


def question(tr: Translator, field: str, current: str) -> str:
    """One field's question with its current value."""
    return tr._("{field}? Now: {value}").format(
        field=tr._(FIELD_NAMES[field]), value=(current.strip() or "—")[:1000]
    )


def keep_button(tr: Translator) -> dict[str, Any]:
    """Keep the value shown."""
    return {
        "inline_keyboard": [[{"text": tr._("Keep"), "callback_data": callback_data.encode("ofk")}]]
    }


def confirm_buttons(tr: Translator) -> dict[str, Any]:
    """File or Cancel under the finished report."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "📨 " + tr._("File"),
                    "callback_data": callback_data.encode("ofy", "file"),
                },
                {"text": tr._("Cancel"), "callback_data": callback_data.encode("ofy", "cancel")},
            ]
        ]
    }


def field_too_long(tr: Translator, limit: int) -> str:
    """A field answer that is empty or too long."""
    return tr._("Please send at most {limit} characters, or press Keep.").format(limit=limit)


def cancelled(tr: Translator) -> str:
    """The form was left."""
    return tr._("Report cancelled; nothing was filed.")


def reask(tr: Translator) -> str:
    """Something that does not answer the current question."""
    return tr._("Please answer the question above (or /cancel to stop the report).")


def stale_button(tr: Translator) -> str:
    """A button that no longer means anything."""
    return tr._("This button is no longer valid.")


def filed_answer(tr: Translator, kind: str, report_number: int, number: int) -> str:
    """To the author: the report counts."""
    return tr._("{title} for #{number} is filed.").format(
        title=title(tr, kind, report_number), number=number
    )


def waiting_answer(
    tr: Translator, kind: str, report_number: int, number: int, signers: list[str]
) -> str:
    """To the author: the report waits for sign-off by these people."""
    return tr._("{title} for #{number} is waiting for sign-off by {names}.").format(
        title=title(tr, kind, report_number),
        number=number,
        names=", ".join(signers) or tr._("the leader on duty"),
    )


# --- sign-off -------------------------------------------------------------------------------


def signoff_card(
    tr: Translator,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    report: OfficialReport,
) -> str:
    """The report as the signer sees it, before it counts."""
    author = roster.people[report.author_id].name
    return (
        "✍️ "
        + tr._("Sign-off needed")
        + "\n"
        + report_text(
            tr, roster, settings, incident, report.kind, report.number, report.fields, author=author
        )
    )


def signoff_buttons(tr: Translator, report_id: int) -> dict[str, Any]:
    """Approve / Send back."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✅ " + tr._("Approve"),
                    "callback_data": callback_data.encode("apr", str(report_id)),
                },
                {
                    "text": "↩️ " + tr._("Send back"),
                    "callback_data": callback_data.encode("sbk", str(report_id)),
                },
            ]
        ]
    }


def not_waiting(tr: Translator) -> str:
    """The report was decided already (or never waited)."""
    return tr._("This report is no longer waiting for sign-off.")


def not_a_signer(tr: Translator) -> str:
    """Someone who may not sign this report off."""
    return tr._("Only the leader on duty can sign this report off.")


def own_report(tr: Translator) -> str:
    """A leader pressing Approve or Send back on their own report."""
    return tr._("You wrote this report: another leader must sign it off.")


def ask_send_back_reason(tr: Translator) -> str:
    """Send back pressed: the reason, please."""
    return tr._("Send the reason for sending the report back (or /cancel).")


def reason_too_long(tr: Translator, limit: int) -> str:
    """A reason that is empty or too long."""
    return tr._("Please send a reason of at most {limit} characters (or /cancel).").format(
        limit=limit
    )


def send_back_cancelled(tr: Translator) -> str:
    """``/cancel`` instead of a reason: the report still waits for sign-off."""
    return tr._("Cancelled.")


def approved_answer(tr: Translator, kind: str, report_number: int, number: int) -> str:
    """To the signer."""
    return tr._("Approved: {title} for #{number} is filed.").format(
        title=title(tr, kind, report_number), number=number
    )


def approved_notice(tr: Translator, signer: str, kind: str, report_number: int, number: int) -> str:
    """To the author."""
    return tr._("{name} approved your {title} for #{number}; it is filed.").format(
        name=signer, title=title(tr, kind, report_number), number=number
    )


def sent_back_answer(tr: Translator) -> str:
    """To the signer."""
    return tr._("Sent back to its author.")


def sent_back_notice(
    tr: Translator, signer: str, kind: str, report_number: int, number: int, reason: str
) -> str:
    """To the author: rewrite it."""
    return tr._(
        "{name} sent your {title} for #{number} back: {reason}\nRewrite it with "
        "/{command} {number}."
    ).format(
        name=signer,
        title=title(tr, kind, report_number),
        number=number,
        reason=reason,
        command=kind,
    )


def closed_notice(tr: Translator, number: int) -> str:
    """To the reporter, when the final report is filed."""
    return tr._("Your report #{number} is closed: the final report was filed.").format(
        number=number
    )


# --- the flash report (快报) ------------------------------------------------------------------


def flash_usage(tr: Translator) -> str:
    """``/flash`` without what it needs."""
    return tr._(
        "Usage: /flash <number> <what we know now>, or /flash <number> phone <to whom> [HH:MM] "
        "when you reported it by phone."
    )


def flash_text(
    tr: Translator,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    report: OfficialReport,
    author: str,
) -> str:
    """The flash report as the upper offices read it."""
    when = local_time(report.filed_at or report.created_at, settings.timezone)
    lines = [
        f"⚡ {title(tr, 'flash', report.number)} · #{incident.id} · "
        f"{roster.units[incident.unit_id].name}",
        level_line(tr, incident) + " · " + incident.summary,
        tr._("Sent by {name} at {time}; the written report follows.").format(
            name=author, time=when
        ),
        "",
        str(report.fields.get("what_happened", "")).strip() or "—",
    ]
    return "\n".join(lines)


def flash_answer(tr: Translator, number: int, by_phone: bool, late: bool) -> str:
    """The answer to ``/flash``."""
    if by_phone:
        text = tr._("Recorded: #{number} was reported by phone.").format(number=number)
    else:
        text = tr._("Flash report on #{number} sent upward.").format(number=number)
    if late:
        text += " " + tr._("It is late (迟报).")
    return text


def level_raised_banner(tr: Translator, incident: IncidentRow, old_level: str) -> str:
    """The mark on a report sent again because the level was raised (报告升级)."""
    return "⬆️ " + tr._("Level raised (报告升级): #{number} is now {new}, was {old}.").format(
        number=incident.id,
        new=tr._(LEVEL_NAMES[incident.level]),
        old=tr._(LEVEL_NAMES[old_level]),
    )


# --- received (签收) ----------------------------------------------------------------------------


def received_button(tr: Translator, report_id: int) -> dict[str, Any]:
    """Received (签收) under a report delivered upward."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "📥 " + tr._("Received"),
                    "callback_data": callback_data.encode("rcv", str(report_id)),
                }
            ]
        ]
    }


def receipt_reminder(tr: Translator, incident: IncidentRow, report: OfficialReport) -> str:
    """To the receiving office, ``receipt_within`` after delivery."""
    return "⏰ " + tr._("Please acknowledge (签收) the {title} of #{number}.").format(
        title=title(tr, report.kind, report.number), number=incident.id
    )


def received_answer(tr: Translator, done: bool) -> str:
    """The answer to Received."""
    if not done:
        return tr._("This report was not delivered to you.")
    return tr._("Received (签收): recorded on the timeline.")


def follow_usage(tr: Translator, command: str) -> str:
    """``/follow`` without a unit."""
    return tr._("Usage: /{command} <unit>, for example /{command} health").format(
        command=command or "follow"
    )


def follow_answer(tr: Translator, done: bool, on: bool, unit: str) -> str:
    """The answer to ``/follow`` and ``/unfollow``."""
    if not done:
        return tr._("Only supervisors follow units, and only units of the roster.")
    if on:
        return tr._("You now receive the reports of {unit}.").format(unit=unit)
    return tr._("You no longer receive the reports of {unit}.").format(unit=unit)
