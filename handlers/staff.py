"""The staff desk in the staff group (and units' chats): card buttons, prompts and commands.
Privacy mode stays on: in a group the bot only reads commands and replies to its own prompts,
and takes nothing else there as input.

A prompt for text is asked twice: in the group (a reply answers it; ForceReply where the
platform has it) and in the member's private chat with the bot, where their next text is the
answer (routed by `CitizenInput`, like everything typed there), so the desk works where ForceReply
or replies in groups do not.

Every press and command is checked again on the server (role, holder, state) by `Desk`;
callback_data is only a hint of what was pressed.
"""

from __future__ import annotations

import logging

from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.context import BotContext
from bot.domain import ids
from bot.domain.lifecycle import NEEDS_TEXT, Action, Outcome
from bot.domain.refusal import Refusal
from bot.domain.staff_words import UnitName, read_change, read_outcome, read_role, read_unit
from bot.services.desk import Actor, Done, Posted, PromptPlace, Refused
from bot.storage.rows import AttachmentRow, UnitRow
from bot.text import split_message, typed_digits
from bot.views import staff as views
from bot.views.staff_card import submenu
from handlers.common import answer

log = logging.getLogger(__name__)

ANONYMOUS_ADMIN_BOT = 1087968824
DESK_CHATS = filters.ChatType.GROUPS | filters.ChatType.PRIVATE


def _posted_as_group(message: Message) -> bool:
    """A staff member writing as an anonymous admin arrives as the group: nobody to record."""
    return message.sender_chat is not None or (
        message.from_user is not None and message.from_user.id == ANONYMOUS_ADMIN_BOT
    )


async def _reply(message: Message, body: str) -> None:
    await message.reply_text(body, do_quote=message.chat.type != "private")


# -- card buttons ------------------------------------------------------------------------------


async def on_card_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query and query.from_user
    desk = context.services.desk
    press = cb.parse_card(query.data or "")
    if press is None:  # malformed or forged: as if the case did not exist
        return await answer(query, views.refusal(Refusal.NO_CASE), show_alert=True)
    actor = await desk.actor(query.from_user.id)
    # Like the desk commands, card buttons are for desk roles and work only on the desk: a
    # card forwarded to some other group (or forged data on any bot message there) must not
    # prompt, act or redraw.
    chat = query.message.chat if query.message else None
    refused = (
        await desk.command_refusal(actor, chat.id, private=chat.type == "private")
        if chat is not None
        else Refused(Refusal.NOT_STAFF if not actor.on_desk else Refusal.NOT_DESK_CHAT)
    )
    if refused:
        return await answer(query, views.refusal(refused.reason), show_alert=True)
    message = query.message if isinstance(query.message, Message) else None
    name = query.from_user.first_name

    async def outcome(result: Done | Refused) -> None:
        if isinstance(result, Refused):
            await answer(query, views.refusal(result.reason, result.holder_name), show_alert=True)
        else:
            await answer(query, views.done(result.action))

    async def checked(case_id: int, action: Action) -> bool:
        """Answer the press; False (after saying why) when the action is not possible now."""
        refused = await desk.check(actor, case_id, action)
        if refused:
            await outcome(refused)
            return False
        await answer(query)
        return True

    match press:
        case cb.CardAction(Action.RESOLVE, case_id):
            if await checked(case_id, Action.RESOLVE):
                await _show_submenu(query, submenu(case_id, views.outcome_choices(case_id)))
        case cb.CardAction(Action.REFER, case_id):
            if await checked(case_id, Action.REFER):
                options = views.unit_choices(case_id, await desk.units())
                await _show_submenu(query, submenu(case_id, options))
        case cb.CardAction(action, case_id) if action in NEEDS_TEXT:
            if await checked(case_id, action) and message:
                await _prompt(context, message, actor, name, case_id, action)
        case cb.CardAction(action, case_id):
            await outcome(await desk.act(actor, action, case_id))
        case cb.ResolveAs(case_id, result):
            if await checked(case_id, Action.RESOLVE) and message:
                await _prompt(context, message, actor, name, case_id, Action.RESOLVE, result)
        case cb.ReferTo(case_id, unit_id):
            await outcome(await desk.refer(actor, case_id, unit_id))
        case cb.CardShow(cb.Show.PHONE, case_id):
            phone = await desk.phone_for(actor, case_id)
            if isinstance(phone, Refused):
                return await answer(query, views.refusal(phone.reason), show_alert=True)
            await answer(query, views.phone_alert(phone.phone, phone.name), show_alert=True)
        case cb.CardShow(cb.Show.FILES, case_id):
            await _send_files(update, context, actor, case_id)
        case cb.CardShow(cb.Show.POST, case_id):
            await _post_card(query, context, case_id)
        case cb.CardShow(cb.Show.CARD, case_id):
            await answer(query)
            if message:
                unit_chat = await desk.is_unit_chat(message.chat_id)
                card = await desk.card(case_id, unit_chat=unit_chat, chat_id=message.chat_id)
                if card and "reply_markup" in card:
                    markup = InlineKeyboardMarkup.de_json(card["reply_markup"], context.bot)
                    await _show_submenu(query, markup)


async def _post_card(query, context: BotContext, case_id: int) -> None:  # type: ignore[no-untyped-def]
    """A case pressed in a digest of new cases: its card, posted under the digest in the same
    group (and topic), or a word that it is there already."""
    message = query.message
    if not isinstance(message, Message) or message.chat.type == "private":
        return await answer(query, views.refusal(Refusal.NOT_DESK_CHAT), show_alert=True)
    desk = context.services.desk
    card = await desk.card_to_post(case_id, message.chat_id)
    if card is None:
        return await answer(query, views.refusal(Refusal.NO_CASE), show_alert=True)
    if isinstance(card, Posted):
        return await answer(query, views.card_already_here(), show_alert=True)
    await answer(query)
    sent = await context.bot.send_message(
        message.chat_id,
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
        text=card["text"],
        parse_mode=card["parse_mode"],
        reply_markup=InlineKeyboardMarkup.de_json(card["reply_markup"], context.bot),
    )
    if not await desk.card_posted(case_id, message.chat_id, sent.message_id, card):
        await sent.delete()  # a colleague's press posted the case's card a moment before


async def _show_submenu(query, markup: InlineKeyboardMarkup) -> None:  # type: ignore[no-untyped-def]
    message = query.message
    if not isinstance(message, Message) or message.reply_markup == markup:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # someone else's press redrew it first
        if "not modified" not in exc.message.lower():
            raise


async def _prompt(
    context: BotContext,
    card: Message,
    actor: Actor,
    name: str,
    case_id: int,
    action: Action,
    result: Outcome | None = None,
) -> None:
    """Ask the staff member for text: in their private chat with the bot, and in the group
    as a reply to the card (with a selective ForceReply where the platform has one)."""
    desk = context.services.desk
    case, *_ = await desk.case_detail(case_id)
    code = case["code"]
    places: list[PromptPlace] = []
    kinds = context.services.rt.chat_kinds
    if card.chat.type != "private" and not kinds.is_unopened(actor.user_id):
        try:
            private = await context.bot.send_message(
                actor.user_id, views.private_prompt(action, code=code, outcome=result)
            )
            places.append(PromptPlace(private.chat_id, private.message_id, private=True))
        except Forbidden:  # never opened the bot: the group prompt is the only one
            kinds.never_opened(actor.user_id)
    body = views.prompt(action, user_id=actor.user_id, name=name, code=code, outcome=result)
    if card.chat.type == "private":
        body = views.private_prompt(action, code=code, outcome=result)
    else:
        body += "\n" + views.asked_privately_too(bool(places))
    force = (
        ForceReply(selective=True)
        if context.services.rt.settings.profile.supports_force_reply
        else None
    )
    sent = await card.reply_text(body, reply_markup=force, do_quote=True)
    places.append(PromptPlace(sent.chat_id, sent.message_id, private=sent.chat.type == "private"))
    await desk.remember_prompt(actor, case_id, action, places, result)


async def _send_files(update: Update, context: BotContext, actor: Actor, case_id: int) -> None:
    """The evidence goes to the asker's private chat, grouped as albums: the case's own, then
    each supporting report's under a line naming it."""
    query = update.callback_query
    assert query
    desk = context.services.desk
    files = await desk.files(case_id)
    if files is None:
        return await answer(query, views.refusal(Refusal.NO_CASE), show_alert=True)
    supporting = [(r, f) for r, f in await desk.supporting_files(case_id) if f]
    if not files and not supporting:
        return await answer(query, views.files_none(), show_alert=True)
    try:
        await _send_albums(context, actor.user_id, files)
        for report, report_files in supporting:
            header = views.supporting_files_header(report["code"], len(report_files))
            await context.bot.send_message(actor.user_id, header)
            await _send_albums(context, actor.user_id, report_files)
    except Forbidden:
        return await answer(query, views.start_private_first(), show_alert=True)
    await answer(query, views.files_sent(), show_alert=False)


async def _send_albums(context: BotContext, chat_id: int, files: list[AttachmentRow]) -> None:
    visual = [f for f in files if f["kind"] in ("photo", "video")]
    documents = [f for f in files if f["kind"] == "document"]
    for group in (visual, documents):
        if len(group) == 1:
            f = group[0]
            if f["kind"] == "photo":
                await context.bot.send_photo(chat_id, f["file_id"])
            elif f["kind"] == "video":
                await context.bot.send_video(chat_id, f["file_id"])
            else:
                await context.bot.send_document(chat_id, f["file_id"])
        elif group:
            media = [
                {"photo": InputMediaPhoto, "video": InputMediaVideo}.get(
                    f["kind"], InputMediaDocument
                )(f["file_id"])
                for f in group
            ]
            await context.bot.send_media_group(chat_id, media)


# -- replies to prompts ------------------------------------------------------------------------


async def on_prompt_reply(update: Update, context: BotContext) -> None:
    message = update.message
    assert message and message.reply_to_message
    desk = context.services.desk
    prompt = await desk.prompt(message.chat_id, message.reply_to_message.message_id)
    if prompt is None:
        return  # a reply to some other message of the bot: staff chatter, not for us
    if _posted_as_group(message):
        return await _reply(message, views.refusal(Refusal.ANONYMOUS_ADMIN))
    assert message.from_user
    actor = await desk.actor(message.from_user.id)
    if not actor.on_desk:
        return await _reply(message, views.refusal(Refusal.NOT_STAFF))
    result = await desk.answer_prompt(actor, prompt, message.text or "")
    if isinstance(result, Refused):
        return await _reply(message, views.refusal_message(result.reason, result.holder_name))
    await _reply(message, views.done(result.action))


# -- commands ----------------------------------------------------------------------------------


async def _command_actor(update: Update, context: BotContext) -> Actor | None:
    """The desk member behind a command typed on the desk, or None after telling them why not
    (the rule of who and where is `Desk.command_refusal`)."""
    message = update.message
    assert message
    if _posted_as_group(message):
        await _reply(message, views.refusal(Refusal.ANONYMOUS_ADMIN))
        return None
    assert message.from_user
    desk = context.services.desk
    actor = await desk.actor(message.from_user.id)
    refused = await desk.command_refusal(
        actor, message.chat_id, private=message.chat.type == "private"
    )
    if refused:
        await _reply(message, views.refusal(refused.reason))
        return None
    return actor


async def cmd_help(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if actor:
        assert update.message
        await _reply(update.message, views.help_text(actor.role))


async def cmd_call_here(update: Update, context: BotContext) -> None:
    """/call typed in a group: calls are registered in the private chat (their draft, the
    caller's number and the code are for the operator's eyes)."""
    actor = await _command_actor(update, context)
    if actor:
        assert update.message
        await _reply(update.message, views.call_in_private())


async def cmd_queue(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if actor:
        services = context.services
        assert update.message
        cases, total = await services.desk.queue()
        await _reply(update.message, views.queue(cases, total, services.rt.now()))


async def cmd_mine(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if actor:
        services = context.services
        assert update.message
        await _reply(update.message, views.mine(await services.desk.mine(actor), services.rt.now()))


async def cmd_find(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if actor:
        services = context.services
        assert update.message
        found = await services.desk.find(actor, " ".join(context.args or []))
        if isinstance(found, Refused):
            return await _reply(update.message, views.refusal_message(found.reason))
        await _reply(update.message, views.found(found, services.rt.now()))


async def cmd_case(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if not actor:
        return
    services = context.services
    assert update.message
    case = await services.desk.case_by_code(" ".join(context.args or []))
    if case is None:
        return await _reply(update.message, views.refusal(Refusal.NO_CASE))
    case, events, _files, names = await services.desk.case_detail(case["id"])
    card = await services.desk.card(case["id"], unit_chat=False)
    assert card is not None
    await update.message.reply_text(card["text"])
    timeline = views.timeline(case, events, names, services.rt.settings.tz)
    for part in split_message(timeline):  # a long history goes out in several messages
        await _reply(update.message, part)


async def _with_case(update: Update, context: BotContext):  # type: ignore[no-untyped-def]
    """(actor, case, rest of the arguments) for `/cmd CODE …`, or None after explaining."""
    actor = await _command_actor(update, context)
    if not actor:
        return None
    assert update.message
    args = context.args or []
    case = await context.services.desk.case_by_code(args[0]) if args else None
    if case is None:
        await _reply(update.message, views.refusal(Refusal.NO_CASE))
        return None
    return actor, case, args[1:]


async def _finish(update: Update, result: Done | Refused) -> None:
    assert update.message
    if isinstance(result, Refused):
        await _reply(update.message, views.refusal(result.reason, result.holder_name))
    else:
        await _reply(update.message, views.done(result.action))


def _text_command(method: str):  # type: ignore[no-untyped-def]
    async def handler(update: Update, context: BotContext) -> None:
        got = await _with_case(update, context)
        if got:
            actor, case, rest = got
            desk = context.services.desk
            await _finish(update, await getattr(desk, method)(actor, case["id"], " ".join(rest)))

    return handler


def _unit(words: list[str], units: list[UnitRow]) -> UnitRow | None:
    """The unit named by its code or a word of its name («بازار»), as `read_unit` reads it."""
    code = read_unit(words, [UnitName(u["code"], u["name"]) for u in units])
    return next((u for u in units if u["code"] == code), None)


async def cmd_refer(update: Update, context: BotContext) -> None:
    got = await _with_case(update, context)
    if got:
        actor, case, rest = got
        desk = context.services.desk
        units = await desk.units()
        unit = _unit(rest, units)
        if unit is None:
            assert update.message
            return await _reply(update.message, views.units(units))
        await _finish(update, await desk.refer(actor, case["id"], unit["id"]))


async def cmd_resolve(update: Update, context: BotContext) -> None:
    got = await _with_case(update, context)
    if got:
        actor, case, rest = got
        desk = context.services.desk
        read = read_outcome(rest)
        if read is None:
            assert update.message
            return await _reply(update.message, views.resolve_usage())
        outcome, explanation = read
        await _finish(
            update, await desk.resolve(actor, case["id"], outcome.value, " ".join(explanation))
        )


async def cmd_reassign(update: Update, context: BotContext) -> None:
    got = await _with_case(update, context)
    if got:
        actor, case, rest = got
        to_user = ids.user_id(typed_digits(rest[0])) if rest else None
        if to_user is None:
            return await _finish(update, Refused(Refusal.BAD_INPUT))
        await _finish(update, await context.services.desk.reassign(actor, case["id"], to_user))


async def cmd_units(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if not actor:
        return
    assert update.message
    desk = context.services.desk
    args = context.args or []
    units = await desk.units()
    if len(args) >= 2:
        # «/units UNIT CHAT [THREAD]»: the unit may be several words of its name.
        numbers = [ids.chat_id(typed_digits(a)) for a in args]
        split = len(args) - 2 if len(args) > 2 and numbers[-2] is not None else len(args) - 1
        chat = numbers[split]
        thread = ids.row_id(typed_digits(args[-1])) if split == len(args) - 2 else None
        unit = _unit(args[:split], units)
        with_thread = split == len(args) - 2
        topics = context.services.rt.settings.profile.supports_forum_topics  # none on Bale
        if unit is None or chat is None or (with_thread and (thread is None or not topics)):
            return await _reply(update.message, views.refusal(Refusal.BAD_INPUT))
        result = await desk.set_unit_chat(actor, unit["code"], chat, thread)
        if isinstance(result, Refused):
            return await _reply(update.message, views.refusal(result.reason))
        units = await desk.units()
    await _reply(update.message, views.units(units))


async def cmd_staff(update: Update, context: BotContext) -> None:
    actor = await _command_actor(update, context)
    if not actor:
        return
    assert update.message
    desk = context.services.desk
    args = context.args or []
    adding = read_change(args[0]) if args else None
    if adding is not None:
        user = ids.user_id(typed_digits(args[1])) if len(args) >= 2 else None
        if user is None:
            return await _reply(update.message, views.refusal(Refusal.BAD_INPUT))
        role = read_role(args[2:]) if adding else None
        if adding and role is None:
            return await _reply(update.message, views.refusal(Refusal.BAD_INPUT))
        refused = await desk.set_role(actor, user, role)
        if refused:
            return await _reply(update.message, views.refusal(refused.reason))
    await _reply(update.message, views.staff_list(await desk.staff()))


def register(app: Application) -> None:  # type: ignore[type-arg]
    new = filters.UpdateType.MESSAGE
    commands = {
        "queue": cmd_queue,
        "mine": cmd_mine,
        "case": cmd_case,
        "find": cmd_find,
        "note": _text_command("note"),
        "ask": _text_command("ask"),
        "reject": _text_command("reject"),
        "refer": cmd_refer,
        "resolve": cmd_resolve,
        "reassign": cmd_reassign,
        "units": cmd_units,
        "staff": cmd_staff,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=DESK_CHATS & new))
    app.add_handler(CommandHandler("help", cmd_help, filters=filters.ChatType.GROUPS & new))
    app.add_handler(CommandHandler("call", cmd_call_here, filters=filters.ChatType.GROUPS & new))
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & new & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            on_prompt_reply,
        )
    )
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=r"^s:"))
