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
    CommandInfo("lang", N_("Choose your language"), usage=N_("[en|zh]")),
    CommandInfo("cancel", N_("Leave the current form")),
    CommandInfo(
        "report", N_("Report an emergency: a form, or at once with text"), usage=N_("[text]")
    ),
    CommandInfo("addinfo", N_("Add information to your report"), usage=N_("<number> <text>")),
    CommandInfo("myreports", N_("Your reports and their state")),
    CommandInfo("mine", N_("Your open incidents and their next deadline")),
    CommandInfo("accept", N_("Accept an incident"), usage=N_("<number>")),
    CommandInfo(
        "transfer",
        N_("Hand an incident to another unit"),
        usage=N_("<number> <unit> <reason>"),
    ),
    CommandInfo(
        "dismiss",
        N_("Close a report that is not an incident"),
        usage=N_("<number> <reason>"),
    ),
    CommandInfo(
        "level",
        N_("Raise or lower an incident's level"),
        usage=N_("<number> <I|II|III|IV>"),
    ),
    CommandInfo(
        "sensitive",
        N_("Mark an incident sensitive (deadlines of level II, reports to the root)"),
        usage=N_("<number> [on|off]"),
    ),
    CommandInfo(
        "drill",
        N_("Mark an incident as a drill (left out of the bulletin)"),
        usage=N_("<number> [on|off]"),
    ),
    CommandInfo("call", N_("Log a phone call reporting an incident (来电登记)")),
    CommandInfo("follow", N_("Receive a unit's reports"), usage=N_("<unit>")),
    CommandInfo("unfollow", N_("Stop receiving a unit's reports"), usage=N_("<unit>")),
    CommandInfo(
        "flash",
        N_("Send the flash report (快报), or record it was reported by phone"),
        usage=N_("<number> <text> | <number> phone <to whom>"),
    ),
    CommandInfo(
        "initial",
        N_("File the initial report (首报) of an incident"),
        usage=N_("<number>"),
    ),
    CommandInfo(
        "followup",
        N_("File a follow-up report (续报)"),
        usage=N_("<number>"),
    ),
    CommandInfo(
        "final",
        N_("File the final report (终报) and close the incident"),
        usage=N_("<number>"),
    ),
    CommandInfo(
        "merge",
        N_("Merge a duplicate report into another"),
        usage=N_("<number> <into number>"),
    ),
    CommandInfo(
        "oncall",
        N_("Who is on duty now, and the next handover"),
        usage=N_("[unit]"),
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
        usage=N_("<number>"),
    ),
    CommandInfo(
        "bulletin",
        N_("The duty bulletin for a duty day, week or month, with a chart"),
        usage=N_("[day|week|month] [date]"),
    ),
    CommandInfo(
        "export",
        N_("The bulletin as a spreadsheet, or an incident's dossier as a document"),
        usage=N_("bulletin <day|week|month> [date] | incident <number>"),
    ),
    CommandInfo(
        "roster",
        N_("Show the roster now, or reload it from its file"),
        usage=N_("[reload]"),
    ),
    CommandInfo(
        "handover",
        N_("Leave notes for the next shift's handover (交接班)"),
        usage=N_("<notes>"),
    ),
    CommandInfo(
        "log",
        N_("Write in the duty log: a call, a document, a notice or other"),
        usage=N_("<call|document|notice|other> <text>"),
    ),
    CommandInfo("here", N_("Answer a spot check: I am at my post")),
    CommandInfo(
        "dutylog",
        N_("A shift's duty log"),
        usage=N_("[unit] [YYYY-MM-DD]"),
    ),
    CommandInfo(
        "swap",
        N_("Hand your shift on a date to a colleague"),
        usage=N_("<YYYY-MM-DD> <person-id>"),
    ),
    CommandInfo(
        "spotcheck",
        N_("Check that a unit's officer on duty is at the post"),
        usage=N_("<unit>"),
    ),
    CommandInfo(
        "directive",
        N_("Issue a directive (督办), or show one with its history"),
        usage=N_("[D<number>]"),
    ),
    CommandInfo("directives", N_("Open directives you issued or your unit must answer")),
    CommandInfo(
        "instruct",
        N_("Instruct (批示) on an incident: an urgent directive to its unit"),
        usage=N_("<number> <instruction>"),
    ),
    CommandInfo("receive", N_("Receive (签收) a directive"), usage=N_("D<number>")),
    CommandInfo(
        "feedback",
        N_("Answer a directive: progress, or done"),
        usage=N_("D<number> [done] <text>"),
    ),
    CommandInfo(
        "extend",
        N_("Ask the issuer for more time on a directive"),
        usage=N_("D<number> <duration> <reason>"),
    ),
    CommandInfo(
        "invite",
        N_("Make a one-time link that connects a person's Telegram account"),
        usage=N_("<person-id>"),
    ),
)


def commands_for(roles: Iterable[str]) -> list[CommandInfo]:
    """The commands a person with ``roles`` may use, in menu order."""
    held = frozenset(roles)
    return [command for command in COMMANDS if command.allowed_for(held)]


def command(name: str) -> CommandInfo:
    """Look a command up by name."""
    return next(c for c in COMMANDS if c.name == name)
