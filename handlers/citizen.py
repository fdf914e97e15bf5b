"""The citizen's private chat: menu, filing steps, tracking and «my complaints».

Every handler parses the update, calls one service, and renders the result with `bot.views`.
Filing state lives in the database (`Filing`), not in a ConversationHandler, so a restart or a
second process continues where the citizen stood.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import text
from bot.app import services_of
from bot.domain.complaint import CHOICE_STEPS, Problem, Step
from bot.services.desk import Done
from bot.services.filing import Attachment, Outcome, Submitted
from bot.views import citizen as views
from bot.views import labels as L
from bot.views.screen import Screen
from handlers.common import answer

PRIVATE = filters.ChatType.PRIVATE
ALBUM_SETTLE_SECONDS = 1.0


async def _send(message: Message, *screens: Screen) -> None:
    for screen in screens:
        await message.reply_text(screen.text, reply_markup=screen.markup)


def _screens_for(outcome: Outcome, before: Step | None) -> list[Screen]:
    """What to show after a filing input: a hint if it was refused, then the step's prompt."""
    screens: list[Screen] = []
    if outcome.expired:
        screens.append(views.draft_expired())
    draft = outcome.draft
    if draft is None:
        return screens or [views.use_menu()]
    step_screen = views.step_screen(draft.step, draft.data, draft.attachments)
    if outcome.problem is not None:
        hint = Screen("⚠️ " + views.problem_text(outcome.problem, draft.step))
        # Buttons scroll away: show them again when the citizen typed instead of choosing.
        if draft.step in CHOICE_STEPS or draft.step == Step.REVIEW:
            return [*screens, hint, step_screen]
        return [*screens, hint]
    if before in views.SPECIAL_KEYBOARD_STEPS and draft.step not in views.REPLY_KEYBOARD_STEPS:
        screens.append(views.noted())  # put the plain keyboard back before inline-only steps
    return [*screens, step_screen]


# -- commands and menu -----------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message and update.effective_user
    await services_of(context).my_cases.stop_lookup(update.effective_user.id)
    await _send(update.message, views.welcome(update.effective_user.first_name))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message
    await _send(update.message, views.help_screen())


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message and update.effective_user
    services = services_of(context)
    if await services.my_cases.stop_lookup(update.effective_user.id):
        await _send(update.message, views.use_menu())
    elif await services.filing.cancel(update.effective_user.id):
        await _send(update.message, views.cancelled())
    else:
        await _send(update.message, views.nothing_to_cancel())


async def file_complaint(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert message.from_user
    services = services_of(context)
    await services.my_cases.stop_lookup(message.from_user.id)
    was_open = (await services.filing.current(message.from_user.id)).draft is not None
    outcome = await services.filing.begin(message.from_user.id)
    if outcome.problem == Problem.DAILY_LIMIT:
        limit = services.rt.settings.max_complaints_per_day
        await _send(message, views.daily_limit(limit))
        return
    assert outcome.draft is not None
    intro = views.resumed() if was_open else views.filing_started()
    screens = [views.draft_expired()] if outcome.expired else []
    step = views.step_screen(outcome.draft.step, outcome.draft.data, outcome.draft.attachments)
    if was_open and outcome.draft.step not in views.REPLY_KEYBOARD_STEPS:
        intro = Screen(intro.text, views.filing_started().markup)
    await _send(message, *screens, intro, step)


async def track(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert message.from_user
    await services_of(context).my_cases.start_lookup(message.from_user.id)
    await _send(message, views.ask_code())


async def my_cases(message: Message, context: ContextTypes.DEFAULT_TYPE, page: int = 0) -> None:
    assert message.from_user
    services = services_of(context)
    await services.my_cases.stop_lookup(message.from_user.id)
    rows, total, page = await services.my_cases.page(
        message.from_user.id, page, views.CASES_PER_PAGE
    )
    await _send(message, views.my_cases(rows, total, page, services.rt.settings.tz))


# -- messages --------------------------------------------------------------------------------


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message and message.text is not None and message.from_user
    raw, user_id = message.text, message.from_user.id
    services = services_of(context)
    if L.matches(raw, L.FILE):
        return await file_complaint(message, context)
    if L.matches(raw, L.TRACK):
        return await track(message, context)
    if L.matches(raw, L.MINE):
        return await my_cases(message, context)
    if L.matches(raw, L.HELP):
        return await help_command(update, context)
    if L.matches(raw, L.CANCEL):
        return await cancel(update, context)
    pending = await services.my_cases.pending(user_id) or ""
    if pending.startswith(("answer:", "comment:", "reopen:")):
        return await _pending_reply(message, context, pending, raw)
    if pending == "track":
        code = services.my_cases.parse_code(raw)
        if code is None:
            return await _send(message, views.bad_code_format())
        detail = await services.my_cases.lookup(user_id, code)
        if detail is None:
            return await _send(message, views.code_not_found())
        screen = views.case_screen(
            detail.case, detail.events, detail.evidence, services.rt.settings.tz, detail.merged_into
        )
        return await _send(message, screen)
    filing = services.filing
    current = await filing.current(user_id)
    if current.expired:
        return await _send(message, views.draft_expired())
    before = current.draft
    if L.matches(raw, L.SKIP):
        outcome = await filing.skip(user_id)
    elif L.matches(raw, L.EVIDENCE_DONE):
        outcome = await filing.finish_evidence(user_id)
    elif L.matches(raw, L.ANONYMOUS):
        outcome = await filing.stay_anonymous(user_id)
    else:
        outcome = await filing.text(user_id, raw)
    await _send(message, *_screens_for(outcome, before.step if before else None))


async def _pending_reply(
    message: Message, context: ContextTypes.DEFAULT_TYPE, pending: str, raw: str
) -> None:
    """Text that answers something the bot asked about an existing case."""
    assert message.from_user
    services = services_of(context)
    user_id = message.from_user.id
    kind, _sep, case_ref = pending.partition(":")
    case_id = int(case_ref) if case_ref.isdigit() else -1
    if kind == "answer":
        result = await services.desk.citizen_answer(user_id, case_id, text.normalize(raw), None)
        ok = isinstance(result, Done)
        await _send(message, views.answer_sent() if ok else views.answer_not_expected())
        if not ok:
            await services.my_cases.set_pending(user_id, None)
        return
    if kind == "comment":
        if L.matches(raw, L.SKIP):
            await services.my_cases.set_pending(user_id, None)
            return await _send(message, views.use_menu())
        await services.my_cases.comment(user_id, case_id, raw)
        return await _send(message, views.comment_saved())
    result = await services.desk.citizen_reopen(user_id, case_id, raw)
    await services.my_cases.set_pending(user_id, None)
    if isinstance(result, Done):
        return await _send(message, views.reopened())
    await _send(message, Screen(views.reopen_refused(), views.main_menu()))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message and message.location and message.from_user
    outcome = await services_of(context).filing.location(
        message.from_user.id, message.location.latitude, message.location.longitude
    )
    await _send(message, *_screens_for(outcome, Step.LOCATION))


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message and message.contact and message.from_user
    outcome = await services_of(context).filing.contact(
        message.from_user.id, message.contact.phone_number, message.contact.user_id
    )
    await _send(message, *_screens_for(outcome, Step.CONTACT))


def _attachment(message: Message) -> Attachment | None:
    if message.photo:
        best = message.photo[-1]
        return Attachment(
            "photo",
            best.file_id,
            best.file_unique_id,
            None,
            "image/jpeg",
            best.file_size,
            message.media_group_id,
        )
    if message.video:
        v = message.video
        return Attachment(
            "video",
            v.file_id,
            v.file_unique_id,
            v.file_name,
            v.mime_type,
            v.file_size,
            message.media_group_id,
        )
    if message.document:
        d = message.document
        return Attachment(
            "document",
            d.file_id,
            d.file_unique_id,
            d.file_name,
            d.mime_type,
            d.file_size,
            message.media_group_id,
        )
    return None


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Evidence. Items of an album arrive as separate updates: acknowledge the album once."""
    message = update.message
    assert message and message.from_user
    item = _attachment(message)
    assert item is not None
    services = services_of(context)
    pending = await services.my_cases.pending(message.from_user.id) or ""
    if pending.startswith("answer:") and pending[7:].isdigit():
        # A photo or document answering an officer's question: copied to the staff as is.
        result = await services.desk.citizen_answer(
            message.from_user.id,
            int(pending[7:]),
            text.normalize(message.caption or "") or None,
            (message.chat_id, message.message_id),
        )
        await _send(
            message,
            views.answer_sent() if isinstance(result, Done) else views.answer_not_expected(),
        )
        return
    outcome = await services.filing.attach(message.from_user.id, item)
    if outcome.problem is not None or outcome.draft is None or outcome.draft.step != Step.EVIDENCE:
        await _send(message, *_screens_for(outcome, Step.EVIDENCE))
        return
    if message.media_group_id is None:
        await _send(message, views.evidence_progress(outcome.draft.attachments))
        return
    assert context.job_queue is not None
    name = f"album:{message.chat_id}:{message.media_group_id}"
    for job in context.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    context.job_queue.run_once(
        _album_settled,
        ALBUM_SETTLE_SECONDS,
        chat_id=message.chat_id,
        user_id=message.from_user.id,
        name=name,
    )


async def _album_settled(context: ContextTypes.DEFAULT_TYPE) -> None:
    assert context.job and context.job.user_id is not None and context.job.chat_id is not None
    outcome = await services_of(context).filing.current(context.job.user_id)
    if outcome.draft is None or outcome.draft.step != Step.EVIDENCE:
        return
    screen = views.evidence_progress(outcome.draft.attachments)
    await context.bot.send_message(context.job.chat_id, screen.text, reply_markup=screen.markup)


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes, polls…: say what the current step expects."""
    message = update.message
    assert message and message.from_user
    outcome = await services_of(context).filing.wrong_input(message.from_user.id)
    await _send(message, *_screens_for(outcome, None))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.edited_message
    await update.edited_message.reply_text(views.edits_ignored().text)


# -- buttons ---------------------------------------------------------------------------------


async def _edit_markup(query: CallbackQuery, screen: Screen) -> None:
    """Replace a message's text and buttons unless they are already the same."""
    message = query.message
    if not isinstance(message, Message):
        return
    if message.reply_markup == screen.markup and message.text_html == screen.text:
        return
    try:
        await query.edit_message_text(screen.text, reply_markup=screen.markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def _close_prompt(query: CallbackQuery, note: str) -> None:
    """Take the buttons off a prompt that was answered, and say what was chosen."""
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await query.edit_message_text(f"{message.text_html}\n\n✓ {note}", reply_markup=None)


async def on_filing_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query and query.data is not None and query.from_user
    user_id = query.from_user.id
    services = services_of(context)
    filing = services.filing
    parts = query.data.split(":")
    action = parts[1] if len(parts) > 1 else ""
    message = query.message if isinstance(query.message, Message) else None

    if action == "pp" and len(parts) == 3 and parts[2].isdigit():
        current = await filing.current(user_id)
        if current.draft is None or current.draft.step != Step.PROVINCE:
            return await _stale(query)
        await answer(query)
        return await _edit_markup(query, views.province_screen(int(parts[2])))
    if action == "cancel" and len(parts) == 2:
        cancelled = await filing.cancel(user_id)
        await answer(query)
        if not cancelled:
            return await _close_prompt_quietly(query)
        await _close_prompt(query, views.cancelled_note())
        if message:
            await _send(message, views.cancelled())
        return
    if action == "ok" and len(parts) == 2:
        result = await filing.submit(user_id)
        if isinstance(result, Submitted):
            await answer(query)
            await _close_prompt(query, views.sent_note())  # the receipt comes via the outbox
            return
        if result.problem in (Problem.STALE_BUTTON, Problem.NO_DRAFT):
            return await _stale(query)
        await answer(query)
        return await _after_button(query, result, services.rt.settings.max_complaints_per_day)
    if action == "edit" and len(parts) == 2:
        current = await filing.current(user_id)
        if current.draft is None or current.draft.step != Step.REVIEW:
            return await _stale(query)
        await answer(query)
        return await _edit_markup(
            query, views.review_with_edit_menu(current.draft.data, current.draft.attachments)
        )
    if action == "back" and len(parts) == 2:
        outcome = await filing.edit(user_id, None)
        if outcome.problem or outcome.draft is None:
            return await _stale(query)
        await answer(query)
        return await _edit_markup(
            query, views.review_screen(outcome.draft.data, outcome.draft.attachments)
        )
    if action == "eg" and len(parts) == 3:
        outcome = await filing.edit(user_id, parts[2])
        if outcome.problem or outcome.draft is None:
            return await _stale(query)
        await answer(query)
        await _close_prompt(query, views.editing_note(parts[2]))
        if message:
            await _send(message, *_screens_for(outcome, Step.REVIEW))
        return
    if len(parts) == 3 and parts[1] in {s.value for s in CHOICE_STEPS}:
        outcome = await filing.choose(user_id, parts[1], parts[2])
        if outcome.problem == Problem.STALE_BUTTON or outcome.draft is None:
            return await _stale(query)
        await answer(query)
        await _close_prompt(query, views.choice_note(parts[1], parts[2]))
        if message:
            await _send(message, *_screens_for(outcome, Step(parts[1])))
        return
    await _stale(query)


async def _after_button(query: CallbackQuery, outcome: Outcome, limit: int) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    if outcome.problem == Problem.DAILY_LIMIT:
        await _send(message, views.daily_limit(limit))
    else:
        await _send(message, *_screens_for(outcome, None))


async def _close_prompt_quietly(query: CallbackQuery) -> None:
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await query.edit_message_reply_markup(reply_markup=None)


async def _stale(query: CallbackQuery) -> None:
    await answer(query, views.problem_text(Problem.STALE_BUTTON, None), show_alert=True)


async def on_cases_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query and query.data is not None and query.from_user
    services = services_of(context)
    parts = query.data.split(":")
    if len(parts) == 3 and parts[1] == "l" and parts[2].isdigit() and len(parts[2]) < 6:
        rows, total, page = await services.my_cases.page(
            query.from_user.id, int(parts[2]), views.CASES_PER_PAGE
        )
        await answer(query)
        return await _edit_markup(query, views.my_cases(rows, total, page, services.rt.settings.tz))
    if len(parts) == 4 and parts[1] == "rate" and parts[2].isdigit() and parts[3].isdigit():
        if not await services.my_cases.rate(query.from_user.id, int(parts[2]), int(parts[3])):
            return await _stale(query)
        await answer(query, "⭐" * int(parts[3]))
        if isinstance(query.message, Message):
            await _send(query.message, views.rated())
        return
    if len(parts) == 3 and parts[1] == "reo" and parts[2].isdigit():
        case = await services.my_cases.case_of(query.from_user.id, int(parts[2]))
        window = timedelta(days=services.rt.settings.reopen_window_days)
        if (
            case is None
            or case["status"] != "resolved"
            or case["resolved_at"] is None
            or services.rt.now() - case["resolved_at"] > window
        ):
            return await answer(query, views.reopen_refused(), show_alert=True)
        await services.my_cases.set_pending(query.from_user.id, f"reopen:{case['id']}")
        await answer(query)
        if isinstance(query.message, Message):
            await _send(query.message, views.ask_reopen_reason())
        return
    if len(parts) == 3 and parts[1] == "o":
        detail = await services.my_cases.open(query.from_user.id, parts[2])
        if detail is None:
            return await answer(query, views.stale_case_button(), show_alert=True)
        await answer(query)
        if isinstance(query.message, Message):
            screen = views.case_screen(
                detail.case,
                detail.events,
                detail.evidence,
                services.rt.settings.tz,
                detail.merged_into,
            )
            await _send(query.message, screen)
        return
    await _stale(query)


async def on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query
    await _stale(update.callback_query)


def register(app: Application) -> None:  # type: ignore[type-arg]
    edited = filters.UpdateType.EDITED_MESSAGE
    new = filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(PRIVATE & edited, on_edited))
    app.add_handler(CommandHandler("start", start, filters=PRIVATE & new))
    app.add_handler(CommandHandler("help", help_command, filters=PRIVATE & new))
    app.add_handler(CommandHandler("cancel", cancel, filters=PRIVATE & new))
    app.add_handler(MessageHandler(PRIVATE & new & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(PRIVATE & new & filters.LOCATION, on_location))
    app.add_handler(MessageHandler(PRIVATE & new & filters.CONTACT, on_contact))
    media = filters.PHOTO | filters.VIDEO | filters.Document.ALL
    app.add_handler(MessageHandler(PRIVATE & new & media, on_media))
    app.add_handler(MessageHandler(PRIVATE & new, on_unsupported))
    app.add_handler(CallbackQueryHandler(on_filing_button, pattern=r"^f:"))
    app.add_handler(CallbackQueryHandler(on_cases_button, pattern=r"^c:"))
    app.add_handler(CallbackQueryHandler(on_unknown_button))
