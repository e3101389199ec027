"""The commands the bot offers and their one-line descriptions; who sees each in their menu
comes from ``bot.access`` (the one home of permissions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.access import EVERYONE, menu_roles
from bot.i18n import N_

__all__ = ["COMMANDS", "EVERYONE", "CommandInfo", "command", "commands_for"]


@dataclass(frozen=True)
class CommandInfo:
    """One command: its name, what it is for, and how it is typed."""

    name: str
    description: str
    usage: str = ""

    @property
    def roles(self) -> frozenset[str]:
        """The roles that may use it (empty: everyone), as ``bot.access`` says."""
        return menu_roles(self.name)

    def allowed_for(self, roles: Iterable[str]) -> bool:
        """Tell whether a person with ``roles`` may use the command."""
        return not self.roles or bool(self.roles.intersection(roles))


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("start", N_("Start, or link your account with an invite code")),
    CommandInfo("help", N_("What I can do for you")),
    CommandInfo("whoami", N_("Who you are and whether you are on duty now")),
    CommandInfo("lang", N_("Choose your language"), usage="[en|zh]"),
    CommandInfo("cancel", N_("Leave the current form")),
    CommandInfo("report", N_("Report an emergency: a form, or at once with text"), usage="[text]"),
    CommandInfo("addinfo", N_("Add information to your report"), usage="<number> <text>"),
    CommandInfo("myreports", N_("Your reports and their state")),
    CommandInfo("mine", N_("Your open incidents and their next deadline")),
    CommandInfo("accept", N_("Accept an incident"), usage="<number>"),
    CommandInfo(
        "transfer",
        N_("Hand an incident to another unit"),
        usage="<number> <unit> <reason>",
    ),
    CommandInfo(
        "dismiss",
        N_("Close a report that is not an incident"),
        usage="<number> <reason>",
    ),
    CommandInfo(
        "level",
        N_("Raise or lower an incident's level"),
        usage="<number> <I|II|III|IV>",
    ),
    CommandInfo(
        "sensitive",
        N_("Mark an incident sensitive (deadlines of level II, reports to the root)"),
        usage="<number> [on|off]",
    ),
    CommandInfo(
        "drill",
        N_("Mark an incident as a drill (left out of the bulletin)"),
        usage="<number> [on|off]",
    ),
    CommandInfo(
        "initial",
        N_("File the initial report (首报) of an incident"),
        usage="<number>",
    ),
    CommandInfo(
        "followup",
        N_("File a follow-up report (续报)"),
        usage="<number>",
    ),
    CommandInfo(
        "final",
        N_("File the final report (终报) and close the incident"),
        usage="<number>",
    ),
    CommandInfo(
        "merge",
        N_("Merge a duplicate report into another"),
        usage="<number> <into number>",
    ),
    CommandInfo(
        "oncall",
        N_("Who is on duty now, and the next handover"),
        usage="[unit]",
    ),
    CommandInfo(
        "status",
        N_("Open incidents in your scope, by level, with what is due"),
    ),
    CommandInfo(
        "overdue",
        N_("Everything late or overdue in your scope, worst first"),
    ),
    CommandInfo(
        "incident",
        N_("An incident's full card and timeline"),
        usage="<number>",
    ),
    CommandInfo(
        "bulletin",
        N_("The duty bulletin for a duty day, week or month, with a chart"),
        usage="[day|week|month] [date]",
    ),
    CommandInfo(
        "export",
        N_("The bulletin as a spreadsheet, or an incident's dossier as a document"),
        usage="bulletin <day|week|month> [date] | incident <number>",
    ),
    CommandInfo(
        "roster",
        N_("Show the roster now, or reload it from its file"),
        usage="[reload]",
    ),
    CommandInfo(
        "handover",
        N_("Leave notes for the next shift's handover (交接班)"),
        usage="<notes>",
    ),
    CommandInfo(
        "log",
        N_("Write in the duty log: a call, a document, a notice or other"),
        usage="<call|document|notice|other> <text>",
    ),
    CommandInfo("here", N_("Answer a spot check: I am at my post")),
    CommandInfo(
        "dutylog",
        N_("A shift's duty log"),
        usage="[unit] [YYYY-MM-DD]",
    ),
    CommandInfo(
        "swap",
        N_("Hand your shift on a date to a colleague"),
        usage="<YYYY-MM-DD> <person-id>",
    ),
    CommandInfo(
        "spotcheck",
        N_("Check that a unit's officer on duty is at the post"),
        usage="<unit>",
    ),
    CommandInfo(
        "invite",
        N_("Make a one-time link that connects a person's Telegram account"),
        usage="<person-id>",
    ),
)


def commands_for(roles: Iterable[str]) -> list[CommandInfo]:
    """The commands a person with ``roles`` may use, in menu order."""
    held = frozenset(roles)
    return [command for command in COMMANDS if command.allowed_for(held)]


def command(name: str) -> CommandInfo:
    """Look a command up by name."""
    return next(c for c in COMMANDS if c.name == name)
