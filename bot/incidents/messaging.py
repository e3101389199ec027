"""How incidents read on screen: the alert card, status lines, short list entries."""

from __future__ import annotations

from typing import Any

from bot import callback_data
from bot.db.models import IncidentRow
from bot.i18n import N_, Translator
from bot.levels import LEVEL_COLOURS, accept_due, initial_report_due
from bot.render import local_time
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
        incident.summary,
    ]
    if incident.description and incident.description != incident.summary:
        description = incident.description
        if len(description) > DESCRIPTION_IN_CARD:
            description = description[: DESCRIPTION_IN_CARD - 1] + "…"
        lines += ["", description]
    lines.append("")
    if incident.location_text:
        lines.append("📍 " + incident.location_text)
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


def state_name(tr: Translator, state: str) -> str:
    """An incident state in the reader's language."""
    return tr._(STATE_NAMES[state])


def list_entry(tr: Translator, incident: IncidentRow, settings: Settings) -> str:
    """One line of /myreports or /mine."""
    return (
        f"{LEVEL_COLOURS[incident.level]} #{incident.id} {incident.summary} — "
        f"{state_name(tr, incident.state)} ({local_time(incident.reported_at, settings.timezone)})"
    )
