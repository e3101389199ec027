"""The exports an office files (SPEC §3.5): the bulletin as an XLSX workbook (one sheet per
table, the figures as numbers) and an incident's dossier as a DOCX document (card, every official
report as filed with drafter and signer, the timeline). Every word in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.i18n import Translator
from bot.incidents.messaging import alert_text, state_name
from bot.render import local_time
from bot.reports.messaging import title
from bot.reports.service import FIELD_NAMES, FIELDS
from bot.runtime import Runtime
from bot.supervision import messaging
from bot.supervision.figures import MINUTES, TABLES, Bulletin


@dataclass(frozen=True)
class Document:
    """A file to send or write: its name, its bytes and its caption."""

    filename: str
    data: bytes
    caption: str


def _stamp(runtime: Runtime, bulletin: Bulletin) -> str:
    local = bulletin.start.astimezone(runtime.settings.timezone)
    return local.strftime("%Y-%m-%d")


def bulletin_workbook(tr: Translator, runtime: Runtime, bulletin: Bulletin, kind: str) -> Document:
    """The bulletin as XLSX: a sheet per table, a row per unit, a column per figure; counts
    are integers and times are minutes (numbers, never text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    heading = messaging.bulletin_title(tr, runtime, bulletin, kind)
    for table, figures in bulletin.tables():
        sheet = book.create_sheet(tr._(TABLES[table])[:31])
        sheet.append([heading])
        sheet.append([tr._("Unit"), *(tr._(f.heading) for f in figures)])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for unit in bulletin.units:
            row: list[object] = [runtime.roster.units[unit].name]
            for item in figures:
                value = bulletin.value(item.key, unit)
                if value is not None and item.unit == MINUTES:
                    value = round(float(value), 1)
                row.append(value)
            sheet.append(row)
        sheet.column_dimensions["A"].width = 24
    buffer = BytesIO()
    book.save(buffer)
    name = f"bulletin-{kind}-{_stamp(runtime, bulletin)}.xlsx"
    return Document(name, buffer.getvalue(), heading)


def report_lines(tr: Translator, runtime: Runtime, report: OfficialReport) -> list[str]:
    """One filed report: who drafted it, who signed it, when it was filed, and every field."""
    people = runtime.roster.people
    tz = runtime.settings.timezone
    drafter = people[report.author_id].name if report.author_id in people else report.author_id
    signer_id = report.approved_by or report.author_id
    signer = people[signer_id].name if signer_id in people else signer_id
    filed = local_time(report.filed_at, tz) if report.filed_at else "—"
    status = tr._("LATE") if report.late else tr._("on time")
    lines = [
        tr._("Drafter: {drafter} · Signer: {signer} · Filed: {filed} ({status})").format(
            drafter=drafter, signer=signer, filed=filed, status=status
        )
    ]
    for name in FIELDS:
        value = str(report.fields.get(name, "")).strip() or "—"
        lines.append(tr._("{field}: {value}").format(field=tr._(FIELD_NAMES[name]), value=value))
    return lines


def incident_dossier(
    tr: Translator,
    runtime: Runtime,
    incident: IncidentRow,
    deadlines: Sequence[Deadline],
    reports: Sequence[OfficialReport],
    events: Sequence[Event],
) -> Document:
    """The incident's dossier as DOCX: the card, the deadlines, every filed report, the
    timeline."""
    from docx import Document as Docx

    doc = Docx()
    heading = tr._("Incident dossier #{number}").format(number=incident.id)
    doc.add_heading(heading, level=0)
    for line in alert_text(tr, incident, runtime.roster, runtime.settings).splitlines():
        doc.add_paragraph(line)
    doc.add_paragraph(
        tr._("State: {state}; responsible: {name}").format(
            state=state_name(tr, incident.state),
            name=messaging.assignee_name(tr, runtime, incident),
        )
    )
    if deadlines:
        doc.add_heading(tr._("Deadlines:").rstrip(":："), level=1)
        for line in messaging.deadline_lines(tr, runtime, deadlines):
            doc.add_paragraph(line, style="List Bullet")
    doc.add_heading(tr._("Reports filed:").rstrip(":："), level=1)
    for report in reports:
        doc.add_heading(title(tr, report.kind, report.number), level=2)
        for line in report_lines(tr, runtime, report):
            doc.add_paragraph(line)
    doc.add_heading(tr._("Timeline:").rstrip(":："), level=1)
    for event in events:
        doc.add_paragraph(messaging.event_line(tr, runtime, event), style="List Bullet")
    buffer = BytesIO()
    doc.save(buffer)
    return Document(f"incident-{incident.id}.docx", buffer.getvalue(), heading)
