"""The reporter's and the officer's own lists: ``/myreports``, ``/addinfo``, photos captioned
``#N``, and ``/mine``."""

from __future__ import annotations

import re

from telegram import Update

from bot.db.models import IncidentRow
from bot.delivery.outbox import enqueue_photo
from bot.directory import telegram_ids
from bot.incidents import service as incidents
from bot.incidents.flows import tell
from bot.incidents.messaging import list_entry
from bot.incidents.routing import alert_targets
from bot.levels import accept_due, initial_report_due
from bot.parsing import parse_number
from bot.render import local_time
from bot.runtime import Runtime
from handlers.common.context import DutyContext, require_caller
from handlers.common.respond import reply, reply_in

CAPTION = re.compile(r"^\s*#(\d{1,12})\b\s*(.*)$", re.S)
MAX_INFO = 3000


async def my_reports(update: Update, context: DutyContext) -> None:
    """The caller's own reports, newest first, with their state."""
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    async with runtime.database.sessions() as session:
        rows = await incidents.reported_by(session, caller.person.id)
    if not rows:
        await reply(update, context, tr._("You have not reported anything yet. /report to start."))
        return
    lines = [tr._("Your reports:")] + [list_entry(tr, row, runtime.settings) for row in rows]
    await reply(update, context, "\n".join(lines))


async def _add(
    update: Update, context: DutyContext, number: int, *, text: str | None, photo: str | None
) -> None:
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    async with runtime.database.transaction() as session:
        incident = await incidents.get(session, number)
        if incident is None or incident.reporter_id != caller.person.id:
            reply_in(
                session,
                update,
                context,
                tr._(
                    "You can add information only to your own reports; #{number} is not one of them."
                ).format(number=number),
            )
            return
        await incidents.add_info(
            session, incident, caller.person, runtime.now(), text=text, photo=photo
        )
        for person in await _who_to_tell(runtime, incident):
            await tell(
                session,
                runtime,
                person,
                lambda t: t._("New information on #{number} from {name}: {text}").format(
                    number=number, name=caller.person.name, text=text or t._("a photo")
                ),
            )
            if photo:
                chat = (await telegram_ids(session, runtime.roster)).get(person)
                if chat is not None:
                    enqueue_photo(session, chat, photo, f"#{number}", person_id=person)
        reply_in(session, update, context, tr._("Added to #{number}.").format(number=number))
    runtime.outbox_committed()


async def _who_to_tell(runtime: Runtime, incident: IncidentRow) -> list[str]:
    """The assignee; before anyone accepted, the officers on duty of the unit."""
    if incident.assignee_id:
        return [incident.assignee_id]
    targets = alert_targets(runtime.roster, incident.unit_id, runtime.now())
    return [person for person, _, _ in targets.people]


async def add_info(update: Update, context: DutyContext) -> None:
    """``/addinfo <#> <text>``: add to one's own report; the assignee is told."""
    tr = context.tr
    args = context.args or []
    number = parse_number(args[0]) if args else None
    message = update.effective_message
    text = (message.text or "").split(maxsplit=2) if message else []
    if number is None or len(text) < 3 or not text[2].strip():
        await reply(
            update,
            context,
            tr._("Usage: /addinfo <number> <text>, for example /addinfo 17 water now knee-deep"),
        )
        return
    if len(text[2]) > MAX_INFO:
        await reply(
            update,
            context,
            tr._("That is too long ({length} characters; at most {limit}).").format(
                length=len(text[2]), limit=MAX_INFO
            ),
        )
        return
    await _add(update, context, number, text=text[2].strip(), photo=None)


async def captioned_photo(update: Update, context: DutyContext) -> None:
    """A photo captioned ``#17 …`` adds the photo (and the caption's text) to report #17."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    match = CAPTION.match(message.caption or "")
    if match is None:
        await reply(
            update,
            context,
            context.tr._(
                "To add a photo to a report, caption it with the report number, for example #17."
            ),
        )
        return
    await _add(
        update,
        context,
        int(match.group(1)),
        text=match.group(2).strip()[:MAX_INFO] or None,
        photo=message.photo[-1].file_id,
    )


async def mine(update: Update, context: DutyContext) -> None:
    """The caller's open incidents with their next deadline, and what waits in their unit."""
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    if not caller.has_role("officer", "leader"):
        await reply(
            update,
            context,
            tr._(
                "Only duty officers and leaders have incidents "
                "assigned; /myreports lists your reports."
            ),
        )
        return
    settings, tz = runtime.settings, runtime.settings.timezone
    async with runtime.database.sessions() as session:
        assigned = await incidents.assigned_to(session, caller.person.id)
        units = {h.unit for h in runtime.roster.holdings(caller.person.id, runtime.now())}
        units.add(caller.person.unit)
        waiting = await incidents.awaiting_acceptance(session, sorted(units))
    lines = [tr._("Your open incidents:")]
    for row in assigned:
        if row.state == "accepted":
            due = initial_report_due(settings, row)
            next_step = tr._("initial report due {time}").format(time=local_time(due, tz))
        elif row.state == "reported":
            next_step = tr._("waiting for {unit} to accept").format(
                unit=runtime.roster.units[row.unit_id].name
            )
        else:
            next_step = tr._("follow-ups as they fall due")
        lines.append(f"{list_entry(tr, row, settings)} — {next_step}")
    if not assigned:
        lines.append(tr._("none"))
    if waiting:
        lines += ["", tr._("Waiting for acceptance in your unit:")]
        for row in waiting:
            due = accept_due(settings, row)
            lines.append(
                f"{list_entry(tr, row, settings)} — "
                + tr._("accept by {time}").format(time=local_time(due, tz))
            )
    await reply(update, context, "\n".join(lines))
