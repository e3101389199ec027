"""Telegram handlers: thin layers that parse, check who is asking, call a service, and answer."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callback_data import pattern

IDENTIFY_GROUP = -2
GUARD_GROUP = -1
RECORD_GROUP = 99


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler of the bot, in the order they must be tried."""
    from handlers import (
        approvals,
        bulletin,
        call_form,
        directive_buttons,
        directive_commands,
        directive_form,
        directive_replies,
        duty_roster,
        dutylog,
        exports,
        fallback,
        flash,
        handover,
        incident_buttons,
        incident_commands,
        incident_view,
        my_incidents,
        official_form,
        onboarding,
        press,
        profile,
        reasons,
        received,
        report_form,
        signoff,
        spotcheck,
        status,
        swap,
    )
    from handlers.common.context import identify_caller, record_update
    from handlers.common.gate import guard
    from handlers.errors import on_error

    application.add_handler(TypeHandler(Update, identify_caller), group=IDENTIFY_GROUP)
    application.add_handler(TypeHandler(Update, guard), group=GUARD_GROUP)
    application.add_handler(report_form.conversation())
    application.add_handler(call_form.conversation())
    application.add_handler(reasons.conversation())
    application.add_handler(official_form.conversation())
    application.add_handler(signoff.conversation())
    application.add_handler(directive_form.conversation())
    application.add_handler(directive_replies.conversation())
    commands = {
        "start": onboarding.start,
        "invite": onboarding.invite,
        "help": profile.help_command,
        "whoami": profile.whoami,
        "lang": profile.lang,
        "cancel": profile.cancel,
        "oncall": duty_roster.oncall,
        "roster": duty_roster.roster_command,
        "accept": incident_commands.accept_command,
        "transfer": incident_commands.transfer_command,
        "dismiss": incident_commands.dismiss_command,
        "merge": incident_commands.merge_command,
        "myreports": my_incidents.my_reports,
        "addinfo": my_incidents.add_info,
        "mine": my_incidents.mine,
        "level": incident_commands.level_command,
        "sensitive": incident_commands.flag_command,
        "drill": incident_commands.flag_command,
        "status": status.status,
        "incident": incident_view.incident_command,
        "overdue": bulletin.overdue_command,
        "bulletin": bulletin.bulletin_command,
        "flash": flash.flash_command,
        "follow": received.follow_command,
        "unfollow": received.follow_command,
        "export": exports.export_command,
        "handover": handover.handover_command,
        "log": dutylog.log_command,
        "dutylog": dutylog.dutylog_command,
        "here": spotcheck.here_command,
        "spotcheck": spotcheck.spotcheck_command,
        "swap": swap.swap_command,
        "directives": directive_commands.directives_command,
        "receive": directive_commands.receive_command,
        "feedback": directive_commands.feedback_command,
        "extend": directive_commands.extend_command,
        "instruct": directive_commands.instruct_command,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(profile.lang_button, pattern=pattern("lang")))
    application.add_handler(incident_buttons.handler())
    application.add_handler(signoff.approve_handler())
    application.add_handler(approvals.handler())
    application.add_handler(press.handler())
    application.add_handler(received.handler())
    application.add_handler(CallbackQueryHandler(status.status_button, pattern=pattern("stp")))
    application.add_handler(handover.take_over_handler())
    application.add_handler(dutylog.page_handler())
    application.add_handler(spotcheck.here_handler())
    application.add_handler(swap.swap_handler())
    application.add_handler(CallbackQueryHandler(bulletin.overdue_button, pattern=pattern("ovp")))
    application.add_handler(CallbackQueryHandler(my_incidents.mine_button, pattern=pattern("mnp")))
    application.add_handler(CallbackQueryHandler(onboarding.move_button, pattern=pattern("mov")))
    application.add_handler(directive_buttons.handler())
    application.add_handler(directive_commands.page_handler())
    application.add_handler(directive_commands.media_handler())
    application.add_handler(MessageHandler(filters.PHOTO, my_incidents.captioned_photo))
    application.add_handler(MessageHandler(filters.COMMAND, fallback.unknown_command))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, fallback.stray_text)
    )
    application.add_handler(CallbackQueryHandler(fallback.stale_button))
    application.add_handler(TypeHandler(Update, record_update), group=RECORD_GROUP)
    application.add_error_handler(on_error)
