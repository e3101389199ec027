"""Button data: a compact, versioned string (≤ 64 bytes) that the server checks on every press.

Format: ``<version>:<action>:<arg>[:<arg>…]``. Anything that does not parse, carries another
version, names an unknown action or has the wrong number of arguments is refused, so forged or
stale buttons change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
_ARG = re.compile(r"[A-Za-z0-9_.\-]{1,40}")

# action -> number of arguments
ACTIONS: dict[str, int] = {
    "lang": 1,  # language code
    "acc": 1,  # accept incident
    "trf": 1,  # transfer incident: choose a unit
    "tru": 2,  # transfer incident to unit
    "dis": 1,  # dismiss incident: ask the reason
    "mrg": 2,  # merge incident into another
    "rc": 1,  # report form: category
    "rl": 1,  # report form: level
    "rk": 0,  # report form: skip casualties
    "rp": 0,  # report form: photos done
    "ry": 1,  # report form: send or cancel
    "tko": 1,  # take over an escalated incident
    "stp": 1,  # /status: the next page (page.rank.number of the last line shown)
    "mov": 1,  # an admin confirms that a linked person moves to a new account (invite id)
    "mnp": 1,  # /mine: the next page (page.section.number of the last line shown)
    "ovp": 1,  # /overdue: the next page (page.deadline of the last line shown)
    "ofk": 0,  # official report form: keep the value shown
    "ofy": 1,  # official report form: file or cancel
    "apr": 1,  # approve an official report (sign-off)
    "sbk": 1,  # send an official report back
    "cf": 1,  # /call form: a choice (now, hour, skip, send, cancel)
    "rs": 1,  # report form: sensitive yes / no
    "rw": 1,  # report form: when it happened (now, hour)
    "rcv": 1,  # Received (签收): an upward report was received
    "prs": 1,  # press (催办) the people responsible below for an escalated incident
    "cha": 1,  # approve an officer's request (dismiss, level down, drill)
    "chr": 1,  # refuse an officer's request
    "hto": 1,  # take over duty (接班): the shift change
    "here": 1,  # I'm here (在岗): the spot check
    "swc": 2,  # swap: the colleague accepts (y) or refuses (n)
    "swl": 2,  # swap: the leader approves (y) or refuses (n)
    "dlp": 3,  # /dutylog: unit, date (YYYYMMDD), page
    "dru": 1,  # the /directive form: a choice (l.<unit>, a.<unit>, a.done, u.<urgency>, y.send …)
    "drc": 1,  # Receive (签收) a directive
    "dac": 1,  # Accept a completed directive as done (办结)
    "dsb": 1,  # Send a completed directive back: ask for the new limit and the reason
    "dxa": 1,  # approve an extension request
    "dxr": 1,  # refuse an extension request
    "dpr": 1,  # Press (催办) the lead unit of an escalated directive
    "dtk": 1,  # Take over an escalated directive
    "dnp": 1,  # /directives: the next page (position)
    "ins": 1,  # Instruct (批示) on an incident: ask for the instruction
}


@dataclass(frozen=True)
class ButtonData:
    """A decoded button press."""

    action: str
    args: tuple[str, ...]


def encode(action: str, *args: str) -> str:
    """Encode a button; raises ``ValueError`` for anything the decoder would refuse."""
    if ACTIONS.get(action) != len(args) or not all(_ARG.fullmatch(a) for a in args):
        raise ValueError(f"bad button {action!r} {args!r}")
    data = ":".join((VERSION, action, *args))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data


def pattern(*actions: str) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern accepting well-formed buttons of ``actions`` (of this
    codec's version, with the right number of arguments): the codec owns button routing."""
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown button actions {unknown!r}")
    wanted = frozenset(actions)

    def matches(data: object) -> bool:
        decoded = decode(data) if isinstance(data, str) else None
        return decoded is not None and decoded.action in wanted

    return matches


def decode(data: str | None) -> ButtonData | None:
    """Decode button data, or ``None`` when it is forged, stale or malformed."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    version, _, rest = data.partition(":")
    if version != VERSION:
        return None
    action, *args = rest.split(":")
    if ACTIONS.get(action) != len(args) or not all(_ARG.fullmatch(a) for a in args):
        return None
    return ButtonData(action, tuple(args))
