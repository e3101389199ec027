"""How incidents read on screen: the alert card and its buttons, the status lines under it,
what the reporter and assignees are told, the answers to every action, receipts and lists."""

from __future__ import annotations

from typing import Any

from bot import callback_data
from bot.db.models import IncidentRow
from bot.i18n import N_, Translator
from bot.incidents.call_messaging import caller_line
from bot.incidents.service import Attempt, Outcome
from bot.levels import (
    ASSESSED_LEVELS,
    LEVEL_COLOURS,
    MAX_ADDED_TEXT,
    MAX_ADDITIONS,
    MAX_PHOTOS,
    Level,
    accept_due,
    initial_report_due,
)
from bot.render import inline_quoted, local_time, quoted
from bot.roster import Roster
from bot.settings import Settings

CATEGORY_NAMES = {
    "natural": N_("Natural disaster"),
    "accident": N_("Accident"),
    "health": N_("Public health"),
    "security": N_("Social security"),
}
LEVEL_NAMES = {
    "I": N_("Level I (particularly serious)"),
    "II": N_("Level II (serious)"),
    "III": N_("Level III (major)"),
    "IV": N_("Level IV (general)"),
    "unassessed": N_("Level not assessed"),
}
STATE_NAMES = {
    "reported": N_("awaiting acceptance"),
    "accepted": N_("accepted"),
    "initial_reported": N_("initial report filed"),
    "closed": N_("closed"),
    "merged": N_("merged"),
    "dismissed": N_("dismissed"),
}
DESCRIPTION_IN_CARD = 1000


def category_name(tr: Translator, category: str | None) -> str:
    """A category in the reader's language."""
    return tr._(CATEGORY_NAMES[category]) if category else tr._("Category not given")


def level_line(tr: Translator, incident: IncidentRow) -> str:
    """Colour, level and (if so) the sensitive mark."""
    line = f"{LEVEL_COLOURS[incident.level]} {tr._(LEVEL_NAMES[incident.level])}"
    if incident.sensitive:
        line += " · " + tr._("sensitive")
    if incident.drill:
        line += " · " + tr._("DRILL")
    return line


def map_link(latitude: float, longitude: float) -> str:
    """A map of the spot (OpenStreetMap: reachable wherever the duty office is)."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}"
        f"#map=17/{latitude:.5f}/{longitude:.5f}"
    )


def casualty_line(tr: Translator, incident: IncidentRow) -> str | None:
    """Dead, injured, missing, trapped — when any was given."""
    counts = (incident.dead, incident.injured, incident.missing, incident.trapped)
    if all(c is None for c in counts):
        return None
    return tr._(
        "Casualties: {dead} dead, {injured} injured, {missing} missing, {trapped} trapped"
    ).format(
        dead=incident.dead or 0,
        injured=incident.injured or 0,
        missing=incident.missing or 0,
        trapped=incident.trapped or 0,
    )


def alert_text(
    tr: Translator,
    incident: IncidentRow,
    roster: Roster,
    settings: Settings,
    *,
    duplicate_of: int | None = None,
) -> str:
    """The alert card sent to the officers on duty."""
    tz = settings.timezone
    reporter = roster.people.get(incident.reporter_id)
    reporter_name = reporter.name if reporter else incident.reporter_id
    reporter_unit = roster.units[reporter.unit].name if reporter else ""
    lines = [
        f"🚨 #{incident.id} · {category_name(tr, incident.category)}",
        level_line(tr, incident),
        "",
        quoted(incident.summary),
    ]
    if incident.description and incident.description != incident.summary:
        description = incident.description
        if len(description) > DESCRIPTION_IN_CARD:
            description = description[: DESCRIPTION_IN_CARD - 1] + "…"
        lines += ["", quoted(description)]
    lines.append("")
    if incident.location_text:
        lines.append("📍 " + inline_quoted(incident.location_text))
    if incident.latitude is not None and incident.longitude is not None:
        lines.append("🗺 " + map_link(incident.latitude, incident.longitude))
    casualties = casualty_line(tr, incident)
    if casualties:
        lines.append("🩹 " + casualties)
    if incident.attachments:
        lines.append("📷 " + tr._("Photos: {count}").format(count=len(incident.attachments)))
    lines.append(
        "👤 "
        + tr._("Reported by {name} ({unit}) at {time}").format(
            name=reporter_name, unit=reporter_unit, time=local_time(incident.reported_at, tz)
        )
    )
    if incident.occurred_at is not None:
        lines.append(
            "🕒 " + tr._("Happened at {time}").format(time=local_time(incident.occurred_at, tz))
        )
    if incident.source == "phone":
        lines.append(caller_line(tr, incident))
    lines.append("🏢 " + tr._("For: {unit}").format(unit=roster.units[incident.unit_id].name))
    lines.append(
        "⏱ "
        + tr._("Accept by {accept}; initial report due {initial}").format(
            accept=local_time(accept_due(settings, incident), tz),
            initial=local_time(initial_report_due(settings, incident), tz),
        )
    )
    if duplicate_of is not None:
        lines.append("⚠️ " + tr._("Possible duplicate of #{number}").format(number=duplicate_of))
    return "\n".join(lines)


def alert_buttons(tr: Translator, incident_id: int, duplicate_of: int | None) -> dict[str, Any]:
    """Accept, Transfer, Dismiss, and Merge when a duplicate candidate exists."""
    number = str(incident_id)
    row = [
        {"text": "✅ " + tr._("Accept"), "callback_data": callback_data.encode("acc", number)},
        {"text": "↪️ " + tr._("Transfer"), "callback_data": callback_data.encode("trf", number)},
        {"text": "🚫 " + tr._("Dismiss"), "callback_data": callback_data.encode("dis", number)},
    ]
    rows = [row]
    if duplicate_of is not None:
        rows.append(
            [
                {
                    "text": "🔗 " + tr._("Merge into #{number}").format(number=duplicate_of),
                    "callback_data": callback_data.encode("mrg", number, str(duplicate_of)),
                }
            ]
        )
    return {"inline_keyboard": rows}


def digest_text(tr: Translator, incidents: list[IncidentRow], limit: int) -> str:
    """New reports merged into one message while the chat is behind (most serious first):
    each line points to ``/incident`` and ``/accept``."""
    shown = incidents[:limit]
    numbers = " ".join(f"#{i.id}" for i in shown)
    lines = [
        "🚨 "
        + tr._("{count} new reports: {numbers}").format(count=len(incidents), numbers=numbers),
        tr._("Earlier alerts are still on their way; these are listed here, most serious first."),
        "",
    ]
    for incident in shown:
        lines.append(
            f"{LEVEL_COLOURS[incident.level]} #{incident.id} "
            f"{category_name(tr, incident.category)} · {inline_quoted(incident.summary[:60])} — "
            f"/incident {incident.id} · /accept {incident.id}"
        )
    if len(incidents) > limit:
        lines.append(tr._("… and {count} more: /mine").format(count=len(incidents) - limit))
    return "\n".join(lines)


def state_name(tr: Translator, state: str) -> str:
    """An incident state in the reader's language."""
    return tr._(STATE_NAMES[state])


def list_entry(tr: Translator, incident: IncidentRow, settings: Settings) -> str:
    """One line of /myreports or /mine."""
    return (
        f"{LEVEL_COLOURS[incident.level]} #{incident.id} {incident.summary} — "
        f"{state_name(tr, incident.state)} ({local_time(incident.reported_at, settings.timezone)})"
    )


# --- status lines under the alert card ---------------------------------------------------


def accepted_status(tr: Translator, name: str, when: str) -> str:
    """Under every copy of the card: who accepted, and when."""
    return "✅ " + tr._("Accepted by {name} at {time}").format(name=name, time=when)


def transferred_status(tr: Translator, unit: str, name: str, reason: str) -> str:
    """Under the old unit's copies: where it went, who sent it, why."""
    return "↪️ " + tr._("Transferred to {unit} by {name}: {reason}").format(
        unit=unit, name=name, reason=inline_quoted(reason)
    )


def dismissed_status(tr: Translator, name: str, reason: str) -> str:
    """Under every copy: dismissed, by whom, why."""
    return "🚫 " + tr._("Dismissed by {name}: {reason}").format(
        name=name, reason=inline_quoted(reason)
    )


def merged_status(tr: Translator, into: int, name: str) -> str:
    """Under every copy: merged into which incident, by whom."""
    return "🔗 " + tr._("Merged into #{into} by {name}").format(into=into, name=name)


def taken_over_status(tr: Translator, name: str, when: str) -> str:
    """Under every copy: who took over from the escalation, and when."""
    return "🙋 " + tr._("Taken over by {name} at {time}").format(name=name, time=when)


# --- what the reporter and the previous assignee are told ---------------------------------


def reporter_accepted(tr: Translator, number: int, name: str, unit: str) -> str:
    """To the reporter: somebody accepted their report."""
    return tr._("Your report #{number} was accepted by {name} ({unit}).").format(
        number=number, name=name, unit=unit
    )


def reporter_transferred(tr: Translator, number: int, unit: str) -> str:
    """To the reporter: their report went to another unit."""
    return tr._("Your report #{number} was transferred to {unit}.").format(number=number, unit=unit)


def reporter_dismissed(tr: Translator, number: int, reason: str) -> str:
    """To the reporter: their report is not an incident."""
    return tr._("Your report #{number} was dismissed as not an incident: {reason}").format(
        number=number, reason=inline_quoted(reason)
    )


def reporter_merged(tr: Translator, number: int, into: int) -> str:
    """To the reporter: their report is a duplicate."""
    return tr._(
        "Your report #{number} is the same event as #{into} and was merged into it."
    ).format(number=number, into=into)


def no_longer_yours(tr: Translator, number: int, name: str, unit: str) -> str:
    """To the previous assignee: the new unit accepted."""
    return tr._("#{number} was accepted by {name} ({unit}); it is no longer yours.").format(
        number=number, name=name, unit=unit
    )


def taken_over_from_you(tr: Translator, number: int, name: str) -> str:
    """To the previous assignee: somebody on the escalation ladder took over."""
    return tr._("{name} took over #{number}.").format(name=name, number=number)


def new_information(tr: Translator, number: int, name: str, text: str | None) -> str:
    """To the assignee (or the officers on duty): the reporter added to the report."""
    return tr._("New information on #{number} from {name}: {text}").format(
        number=number, name=name, text="\n" + quoted(text) if text else tr._("a photo")
    )


# --- answers to the person acting ---------------------------------------------------------


def _person_name(roster: Roster, person_id: str | None) -> str:
    person = roster.people.get(person_id or "")
    return person.name if person else "?"


def refusal(tr: Translator, attempt: Attempt, roster: Roster) -> str | None:
    """The answer to a refused or impossible attempt, or ``None`` when it was done or needs
    an answer of its own. Someone who may not see an incident learns nothing of it: the same
    answer whether it exists or not."""
    incident = attempt.incident
    if attempt.outcome is Outcome.HIDDEN or incident is None:
        return tr._("There is no incident #{number} that you may act on.").format(
            number=attempt.number
        )
    if attempt.outcome is Outcome.FORBIDDEN:
        return tr._("You may not act on #{number}: it belongs to {unit}.").format(
            number=attempt.number, unit=roster.units[incident.unit_id].name
        )
    if attempt.outcome is Outcome.NOT_OPEN:
        return tr._("#{number} is {state}; nothing to do.").format(
            number=incident.id, state=state_name(tr, incident.state)
        )
    if attempt.outcome is Outcome.REQUESTED:
        return tr._(
            "#{number}: sent to the leader on duty for approval; nothing changes until it is "
            "approved."
        ).format(number=attempt.number)
    if attempt.outcome is Outcome.ALREADY_ACCEPTED:
        return tr._("#{number} is already accepted by {name}.").format(
            number=attempt.number, name=_person_name(roster, incident.assignee_id)
        )
    return None


def accept_answer(tr: Translator, attempt: Attempt, roster: Roster, settings: Settings) -> str:
    """The answer to Accept or ``/accept``."""
    if attempt.incident is None or not attempt.done:
        return refusal(tr, attempt, roster) or ""
    due = initial_report_due(settings, attempt.incident)
    return tr._("You have accepted #{number}. The initial report is due {time}.").format(
        number=attempt.number, time=local_time(due, settings.timezone)
    )


def transfer_answer(tr: Translator, attempt: Attempt, roster: Roster) -> str:
    """The answer to a transfer."""
    incident = attempt.incident
    if incident is not None and attempt.outcome is Outcome.SAME_UNIT:
        return tr._("#{number} already belongs to {unit}.").format(
            number=attempt.number, unit=roster.units[incident.unit_id].name
        )
    if incident is None or not attempt.done:
        return refusal(tr, attempt, roster) or ""
    return tr._(
        "#{number} is transferred to {unit}; its officers are alerted. It stays "
        "yours until one of them accepts it."
    ).format(number=attempt.number, unit=roster.units[incident.unit_id].name)


def dismiss_answer(tr: Translator, attempt: Attempt, roster: Roster) -> str:
    """The answer to a dismissal."""
    if not attempt.done:
        return refusal(tr, attempt, roster) or ""
    return tr._("#{number} is dismissed.").format(number=attempt.number)


def merge_answer(tr: Translator, attempt: Attempt, roster: Roster, into: int) -> str:
    """The answer to a merge (``attempt.number`` is the incident refused, when one is)."""
    if attempt.outcome is Outcome.SAME_INCIDENT:
        return tr._("An incident cannot be merged into itself.")
    if not attempt.done:
        return refusal(tr, attempt, roster) or ""
    return tr._("#{number} is merged into #{into}.").format(number=attempt.number, into=into)


def take_over_answer(tr: Translator, attempt: Attempt, roster: Roster) -> str:
    """The answer to Take over."""
    if not attempt.done:
        return refusal(tr, attempt, roster) or ""
    return tr._("You have taken over #{number}; the escalation has stopped.").format(
        number=attempt.number
    )


def level_answer(tr: Translator, attempt: Attempt, roster: Roster) -> str:
    """The answer to ``/level``."""
    if attempt.incident is None or not attempt.done:
        return refusal(tr, attempt, roster) or ""
    return tr._("#{number} is now {level}; its deadlines follow the new level.").format(
        number=attempt.number, level=tr._(LEVEL_NAMES[attempt.incident.level])
    )


def flag_answer(tr: Translator, attempt: Attempt, roster: Roster, flag: str, value: bool) -> str:
    """The answer to ``/sensitive`` and ``/drill``."""
    if not attempt.done:
        return refusal(tr, attempt, roster) or ""
    if flag == "sensitive":
        text = (
            tr._(
                "#{number} is marked sensitive: its deadlines follow level II and its "
                "reports go straight to the root unit."
            )
            if value
            else tr._("#{number} is no longer marked sensitive.")
        )
    else:
        text = (
            tr._("#{number} is marked as a drill: it is left out of the bulletin.")
            if value
            else tr._("#{number} is no longer marked as a drill.")
        )
    return text.format(number=attempt.number)


def add_info_answer(tr: Translator, attempt: Attempt) -> str:
    """The answer to ``/addinfo`` and a captioned photo (the same for a missing report and
    somebody else's)."""
    incident = attempt.incident
    if attempt.outcome is Outcome.NOT_OPEN and incident is not None:
        return tr._("#{number} is {state}; it takes no more information.").format(
            number=attempt.number, state=state_name(tr, incident.state)
        )
    if attempt.outcome is Outcome.ADDITIONS_FULL:
        return tr._(
            "#{number} already has {limit} additions, the most one report takes; the officers "
            "have them. Call the duty office for anything more."
        ).format(number=attempt.number, limit=MAX_ADDITIONS)
    if attempt.outcome is Outcome.TEXT_FULL:
        return tr._(
            "#{number} already has {limit} characters of added text, the most one report "
            "takes. Call the duty office for anything more."
        ).format(number=attempt.number, limit=MAX_ADDED_TEXT)
    if attempt.outcome is Outcome.PHOTOS_FULL:
        return tr._("#{number} already has {limit} photos, the most one report takes.").format(
            number=attempt.number, limit=MAX_PHOTOS
        )
    if not attempt.done:
        return tr._(
            "You can add information only to your own reports; #{number} is not one of them."
        ).format(number=attempt.number)
    return tr._("Added to #{number}.").format(number=attempt.number)


def receipt(tr: Translator, incident: IncidentRow, roster: Roster) -> str:
    """To the reporter, at once: the number, who was alerted, how to add to it."""
    return tr._(
        "Received as #{number}. The duty officers of {unit} have been alerted; you will be "
        "told when it is accepted.\nAdd to it with /addinfo {number} <text> or a photo "
        "captioned #{number}."
    ).format(number=incident.id, unit=roster.units[incident.unit_id].name)


# --- the transfer and reason exchange -----------------------------------------------------


def transfer_choice(tr: Translator, number: int) -> str:
    """The question above the unit buttons."""
    return tr._("Transfer #{number} to which unit?").format(number=number)


def transfer_buttons(roster: Roster, incident: IncidentRow) -> dict[str, Any]:
    """One button per other unit."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": unit.name,
                    "callback_data": callback_data.encode("tru", str(incident.id), unit.id),
                }
            ]
            for unit in roster.units.values()
            if unit.id != incident.unit_id
        ]
    }


def ask_reason(tr: Translator, action: str, number: int) -> str:
    """Ask for the reason of a transfer or a dismissal."""
    question = (
        tr._("Send the reason for transferring #{number} (or /cancel).")
        if action == "transfer"
        else tr._("Send the reason for dismissing #{number} (or /cancel).")
    )
    return question.format(number=number)


def reason_too_long(tr: Translator, limit: int) -> str:
    """A reason that is empty or too long."""
    return tr._("Please send a reason of at most {limit} characters (or /cancel).").format(
        limit=limit
    )


def stale_button(tr: Translator) -> str:
    """A button that does not parse or names what no longer exists."""
    return tr._("This button is no longer valid.")


# --- /myreports and /mine -----------------------------------------------------------------


def my_reports_text(tr: Translator, rows: list[IncidentRow], settings: Settings) -> str:
    """The reporter's own reports, newest first."""
    if not rows:
        return tr._("You have not reported anything yet. /report to start.")
    lines = [tr._("Your reports:")] + [list_entry(tr, row, settings) for row in rows]
    return "\n".join(lines)


def mine_text(
    tr: Translator,
    assigned: list[IncidentRow] | None,
    waiting: list[IncidentRow],
    roster: Roster,
    settings: Settings,
    *,
    page: int = 1,
    starts_with_own: bool = True,
    next_key: tuple[int, int] | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """``/mine``: one page of the caller's open incidents, with their next step, and of what
    waits for acceptance in their units; ``assigned`` is ``None`` for someone without a desk.
    A Next page button carries where the next page starts."""
    if assigned is None:
        return tr._(
            "Only duty officers and leaders have incidents assigned; /myreports lists your reports."
        ), None
    tz = settings.timezone
    lines = [] if page == 1 else [tr._("Page {page}").format(page=page)]
    if starts_with_own:
        lines.append(tr._("Your open incidents:"))
    for row in assigned:
        if row.state == "accepted":
            due = initial_report_due(settings, row)
            next_step = tr._("initial report due {time}").format(time=local_time(due, tz))
        elif row.state == "reported":
            next_step = tr._("waiting for {unit} to accept").format(
                unit=roster.units[row.unit_id].name
            )
        else:
            next_step = tr._("follow-ups as they fall due")
        lines.append(f"{list_entry(tr, row, settings)} — {next_step}")
    if not assigned and page == 1:
        lines.append(tr._("none"))
    if waiting:
        lines += ["", tr._("Waiting for acceptance in your unit:")]
        for row in waiting:
            due = accept_due(settings, row)
            lines.append(
                f"{list_entry(tr, row, settings)} — "
                + tr._("accept by {time}").format(time=local_time(due, tz))
            )
    if next_key is None:
        return "\n".join(lines), None
    key = f"{page + 1}.{next_key[0]}.{next_key[1]}"
    button = {"text": tr._("Next page ▶"), "callback_data": callback_data.encode("mnp", key)}
    return "\n".join(lines), {"inline_keyboard": [[button]]}


def parse_mine_key(arg: str) -> tuple[int, int, int] | None:
    """A /mine Next page button's ``page.section.number``, or ``None`` when it is not one."""
    parts = arg.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    page, section, after = (int(p) for p in parts)
    return (page, section, after) if page >= 2 and section in (0, 1) else None


# --- the /report form ---------------------------------------------------------------------


def _button(text: str, action: str, *args: str) -> dict[str, Any]:
    return {"text": text, "callback_data": callback_data.encode(action, *args)}


def form_opened(tr: Translator) -> str:
    """The first question of the guided form."""
    return tr._("New report. What kind of emergency is it? (/cancel to stop at any step)")


def form_in_group(tr: Translator) -> str:
    """``/report`` alone in a group: the form is for private chats."""
    return tr._(
        "Use /report <what happened> here, or open a private chat with me for the guided form."
    )


def category_buttons(tr: Translator, categories: tuple[str, ...]) -> dict[str, Any]:
    """One button per category, two a row."""
    buttons = [_button(tr._(CATEGORY_NAMES[c]), "rc", c) for c in categories]
    return {"inline_keyboard": [buttons[:2], buttons[2:]]}


def ask_level(tr: Translator) -> str:
    """The level question."""
    return tr._("How serious is it?")


def level_buttons(tr: Translator) -> dict[str, Any]:
    """The four levels, two a row, and Don't know."""
    levels = [_button(tr._(LEVEL_NAMES[lv]), "rl", lv) for lv in ASSESSED_LEVELS]
    unknown = _button(tr._("Don't know"), "rl", Level.UNASSESSED)
    return {"inline_keyboard": [levels[:2], levels[2:], [unknown]]}


def ask_location(tr: Translator) -> str:
    """The location question."""
    return tr._("Where is it? Share your location with the button below, or type the address.")


def location_keyboard(tr: Translator) -> dict[str, Any]:
    """The reply keyboard with the share-my-location button."""
    share = {"text": "📍 " + tr._("Share my location"), "request_location": True}
    return {"keyboard": [[share]], "resize_keyboard": True, "one_time_keyboard": True}


def location_problem(tr: Translator, limit: int) -> str:
    """Neither a location nor a short enough address."""
    return tr._(
        "Share your location with the button, or type the address (at most {limit} characters)."
    ).format(limit=limit)


def ask_description(tr: Translator) -> str:
    """The what-happened question."""
    return tr._("What happened? Describe it in one message.")


def description_problem(tr: Translator, text: str, limit: int) -> str | None:
    """What is wrong with a description, if anything."""
    if not text.strip():
        return tr._("The report is empty. Say what happened.")
    if len(text) > limit:
        return tr._(
            "That is too long ({length} characters; at most {limit}). Send the essentials now "
            "and add details later with /addinfo."
        ).format(length=len(text), limit=limit)
    return None


def ask_casualties(tr: Translator) -> str:
    """The casualties question."""
    return tr._(
        "Casualties? Send four numbers: dead, injured, missing, trapped (for example 0 2 0 1), "
        "or press Skip."
    )


def skip_button(tr: Translator) -> dict[str, Any]:
    """Skip the casualties."""
    return {"inline_keyboard": [[_button(tr._("Skip"), "rk")]]}


def casualties_problem(tr: Translator) -> str:
    """Not four whole numbers."""
    return tr._(
        "Please send four whole numbers: dead, injured, missing, trapped (for example 0 2 0 1)."
    )


def ask_photos(tr: Translator) -> str:
    """The photos question."""
    return tr._("Send photos if you have any, then press Done.")


def done_button(tr: Translator) -> dict[str, Any]:
    """No more photos."""
    return {"inline_keyboard": [[_button(tr._("Done"), "rp")]]}


def photo_added(tr: Translator, count: int) -> str:
    """One more photo taken."""
    return tr._("Photo {count} added. Send more, or press Done.").format(count=count)


def too_many_photos(tr: Translator, limit: int) -> str:
    """The form takes no more photos."""
    return tr._("That is the most I take in one report ({limit}); press Done.").format(limit=limit)


def preview(tr: Translator, incident: IncidentRow, roster: Roster, settings: Settings) -> str:
    """The report as the officers will see it, before it is sent."""
    card = alert_text(tr, incident, roster, settings).replace("#0", "#…")
    return tr._("Check your report:") + "\n\n" + card


def confirm_buttons(tr: Translator) -> dict[str, Any]:
    """Send or Cancel."""
    return {
        "inline_keyboard": [
            [_button("📨 " + tr._("Send"), "ry", "send"), _button(tr._("Cancel"), "ry", "cancel")]
        ]
    }


def form_cancelled(tr: Translator) -> str:
    """The form was left; nothing was reported."""
    return tr._("Report cancelled; nothing was sent.")


def form_reask(tr: Translator) -> str:
    """An answer that does not fit the current question."""
    return tr._("Please answer the question above (or /cancel to stop the report).")


# --- requests to the leader on duty -----------------------------------------------------------

CHANGE_NAMES = {
    "dismiss": N_("dismiss it as not an incident"),
    "level": N_("change its level to {level}"),
    "drill": N_("mark it as a drill"),
}


def change_name(tr: Translator, action: str, value: str) -> str:
    """What an officer asked for, in the reader's language."""
    level = tr._(LEVEL_NAMES[value]) if action == "level" and value in LEVEL_NAMES else ""
    return tr._(CHANGE_NAMES[action]).format(level=level)


def change_request_card(
    tr: Translator, roster: Roster, incident: IncidentRow, action: str, value: str, name: str
) -> str:
    """To the leader on duty: an officer's request that needs approval."""
    lines = [
        "🛂 "
        + tr._("Approval needed: {name} asks to {what} for #{number}.").format(
            name=name, what=change_name(tr, action, value), number=incident.id
        ),
        level_line(tr, incident) + " · " + incident.summary,
        tr._("Unit: {unit}").format(unit=roster.units[incident.unit_id].name),
    ]
    if action == "dismiss" and value:
        lines.append(tr._("Reason: {reason}").format(reason=value))
    return "\n".join(lines)


def change_request_buttons(tr: Translator, request_id: int) -> dict[str, Any]:
    """Approve / Refuse under the request."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✅ " + tr._("Approve the request"),
                    "callback_data": callback_data.encode("cha", str(request_id)),
                },
                {
                    "text": "✖️ " + tr._("Refuse"),
                    "callback_data": callback_data.encode("chr", str(request_id)),
                },
            ]
        ]
    }


def change_decided(tr: Translator, number: int, action: str, leader: str, approved: bool) -> str:
    """To the officer who asked."""
    if approved:
        return tr._("{leader} approved your request on #{number}.").format(
            leader=leader, number=number
        )
    return tr._("{leader} refused your request on #{number}; nothing changed.").format(
        leader=leader, number=number
    )


def change_decision_answer(tr: Translator, done: bool, approved: bool) -> str:
    """The answer to the leader's press."""
    if not done:
        return tr._("This request is no longer waiting for you.")
    return tr._("Approved: the change is made.") if approved else tr._("Refused.")


def for_information(tr: Translator) -> str:
    """Under the alert a leader on duty gets at intake."""
    return "ℹ️ " + tr._(
        "For your information as leader on duty: the duty officers have the alert and accept it."
    )
