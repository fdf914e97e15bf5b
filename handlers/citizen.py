"""The citizen's private chat: menu, filing steps, tracking and «my complaints»; and a desk
member's phone calls, registered through the same filing steps (`/call`).

Every handler parses the update, calls one service, and renders the result with `bot.views`.
Filing state lives in the database (`Filing`), not in a ConversationHandler, so a restart or a
second process continues where the citizen stood.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot import text
from bot.context import BotContext
from bot.domain import pending
from bot.domain.complaint import CHOICE_STEPS, DraftKind, Problem, Step
from bot.outgoing import platform_of, shows
from bot.services.citizen_input import (
    Answered,
    Ask,
    BadCode,
    Collecting,
    CommentSaved,
    CommentSkipped,
    Filed,
    FileRefused,
    Gone,
    HeldQuietly,
    Linked,
    LookedUp,
    NotAwaited,
    PromptAnswered,
    PromptRefused,
    Reopened,
    ReopenRefused,
    Result,
    TooManyHeld,
    Unplaced,
)
from bot.services.citizen_input import Message as Received
from bot.services.filing import Attachment, DraftView, Outcome, Submitted
from bot.services.my_cases import CaseDetail
from bot.views import calls as call_views
from bot.views import citizen as views
from bot.views import labels as L
from bot.views import staff as staff_views
from bot.views.screen import Screen
from handlers.common import answer

PRIVATE = filters.ChatType.PRIVATE
CALL = DraftKind.CALL
ALBUM_SETTLE_SECONDS = 1.0


class _Chat:
    """The citizen's chat, for a job that has no incoming message to reply to."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot, self.chat_id = bot, chat_id

    async def reply_text(self, text: str, **kwargs: Any) -> Message:
        return await self.bot.send_message(self.chat_id, text, **kwargs)


Chat = Message | _Chat


async def _send(message: Chat, *screens: Screen) -> None:
    for screen in screens:
        await message.reply_text(screen.text, reply_markup=screen.markup)


def _draft_screen(draft: DraftView, page: int = 0) -> Screen:
    return call_views.draft_screen(
        draft.step,
        draft.data,
        draft.attachments,
        kind=draft.kind,
        page=page,
        codes=draft.codes,
        unit=draft.unit,
    )


def _screens_for(
    outcome: Outcome, before: Step | None, kind: DraftKind = DraftKind.COMPLAINT
) -> list[Screen]:
    """What to show after a filing input: a hint if it was refused, then the step's prompt."""
    screens: list[Screen] = []
    if outcome.expired:
        screens.append(call_views.call_expired() if kind == CALL else views.draft_expired())
    draft = outcome.draft
    if draft is None:
        if outcome.problem in (Problem.NOT_DESK, Problem.NO_DRAFT) and kind == CALL:
            return [Screen("⚠️ " + call_views.problem_text(outcome.problem, None))]
        return screens or [views.use_menu()]
    step_screen = _draft_screen(draft)
    if outcome.problem is not None:
        hint = Screen("⚠️ " + call_views.problem_for(outcome.problem, draft.step, kind))
        # Buttons scroll away: show them again when the citizen typed instead of choosing.
        if draft.step in CHOICE_STEPS or draft.step == Step.REVIEW:
            return [*screens, hint, step_screen]
        return [*screens, hint]
    if before in views.SPECIAL_KEYBOARD_STEPS and draft.step not in views.REPLY_KEYBOARD_STEPS:
        screens.append(views.noted())  # put the plain keyboard back before inline-only steps
    return [*screens, step_screen]


# -- commands and menu -----------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    assert update.message and update.effective_user
    services = context.services
    await services.citizen_input.drop_focus(update.effective_user.id)
    days = services.rt.settings.expected_first_answer_work_days
    welcome = views.welcome(update.effective_user.first_name, days)
    await _send(update.message, await _with_menu(context, update.effective_user.id, welcome))
    await _remind_questions(update.message, context)


async def _remind_questions(message: Message, context: BotContext) -> None:
    """An officer's question stays open whatever the citizen pressed: say so."""
    assert message.from_user
    questions = await context.services.citizen_input.open_questions(message.from_user.id)
    if questions:
        await _send(message, views.questions_waiting(questions))


async def help_command(update: Update, context: BotContext) -> None:
    assert update.message and update.effective_user
    await _send(
        update.message, await _with_menu(context, update.effective_user.id, views.help_screen())
    )


async def _with_menu(context: BotContext, user_id: int, screen: Screen) -> Screen:
    """A screen with the private chat's menu, a desk member's with «ثبت تماس تلفنی»."""
    if screen.markup == views.main_menu() and (await context.services.desk.actor(user_id)).on_desk:
        return Screen(screen.text, views.main_menu(desk=True))
    return screen


async def cancel(update: Update, context: BotContext) -> None:
    assert update.message and update.effective_user
    services = context.services
    user_id = update.effective_user.id
    kind = await services.citizen_input.active_kind(user_id)
    if await services.citizen_input.cancel_prompt(user_id):
        screen = Screen(staff_views.prompt_dropped())
    elif await services.citizen_input.drop_focus(user_id):
        screen = views.use_menu()
    elif await services.filing.cancel(user_id, kind):
        screen = call_views.cancelled() if kind == CALL else views.cancelled()
    else:
        screen = views.nothing_to_cancel()
    await _send(update.message, await _with_menu(context, user_id, screen))


async def file_complaint(message: Message, context: BotContext) -> None:
    assert message.from_user
    services = context.services
    await services.citizen_input.drop_focus(message.from_user.id)
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


async def start_call(message: Message, context: BotContext) -> None:
    """«ثبت تماس تلفنی» or /call: a desk member starts (or resumes) registering a call, apart
    from any complaint of their own; their typing goes to the call from now on."""
    assert message.from_user
    services = context.services
    user_id = message.from_user.id
    was_open = (await services.filing.current(user_id, CALL)).draft is not None
    outcome = await services.filing.begin(user_id, CALL)
    if outcome.draft is None:
        return await _send(message, *_screens_for(outcome, None, CALL))
    await services.citizen_input.focus(user_id, pending.Call())
    intro = call_views.resumed() if was_open else call_views.started()
    screens = [call_views.call_expired()] if outcome.expired else []
    await _send(message, *screens, intro, _draft_screen(outcome.draft))


async def call_command(update: Update, context: BotContext) -> None:
    assert update.message
    await start_call(update.message, context)


async def _submit(message: Message, context: BotContext, kind: DraftKind) -> None:
    """«تأیید و ارسال» or «ثبت تماس» typed instead of pressed."""
    assert message.from_user
    result = await context.services.filing.submit(message.from_user.id, kind)
    if isinstance(result, Submitted):
        if kind == CALL:  # registered: the desk member's typing is theirs again
            await context.services.citizen_input.drop_focus(message.from_user.id)
        return  # the receipt comes via the outbox
    limit = context.services.rt.settings.max_complaints_per_day
    await _show_filing(message, result, None, limit, kind)


async def _urgent_menu(message: Message, context: BotContext) -> bool:
    """«فوری» typed on a call's review: the units to refer it to at once. False when the call
    is not at its review: then the word is an answer like any other."""
    assert message.from_user
    filing = context.services.filing
    draft = (await filing.current(message.from_user.id, CALL)).draft
    if draft is None or draft.step != Step.REVIEW:
        return False
    if draft.data.duplicate_of is not None:  # a supporting report is not referred
        await _send(
            message, Screen("⚠️ " + call_views.problem_text(Problem.USE_BUTTONS, Step.REVIEW))
        )
        return True
    await _send(message, call_views.urgent_menu(draft.data, draft.unit, await filing.units()))
    return True


async def track(message: Message, context: BotContext) -> None:
    assert message.from_user
    await context.services.my_cases.start_lookup(message.from_user.id)
    await _send(message, views.ask_code())


async def my_cases(message: Message, context: BotContext, page: int = 0) -> None:
    assert message.from_user
    services = context.services
    await services.citizen_input.drop_focus(message.from_user.id)
    rows, total, page = await services.my_cases.page(
        message.from_user.id, page, views.CASES_PER_PAGE
    )
    await _send(message, views.my_cases(rows, total, page, services.rt.settings.tz))


# -- messages --------------------------------------------------------------------------------


async def on_text(update: Update, context: BotContext) -> None:
    message = update.message
    assert message and message.text is not None and message.from_user
    raw, user_id = message.text, message.from_user.id
    services = context.services
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
    if L.matches(raw, L.CALL):
        return await start_call(message, context)
    inputs = services.citizen_input
    if L.matches(raw, L.CALL_CONFIRM):
        return await _submit(message, context, CALL)
    if L.matches(raw, L.CONFIRM):  # in a call, the citizen's word means the call
        return await _submit(message, context, await inputs.active_kind(user_id))
    if L.matches(raw, L.URGENT) and await inputs.active_kind(user_id) == CALL:
        if await _urgent_menu(message, context):
            return
    if L.matches(raw, L.CALLER_ANONYMOUS):
        return await _show(message, context, await inputs.stay_anonymous(user_id))
    if L.is_skip(raw):
        return await _show(message, context, await inputs.skip(user_id))
    if L.matches(raw, L.EVIDENCE_DONE):
        return await _show(message, context, await inputs.finish_evidence(user_id))
    if L.matches(raw, L.ANONYMOUS):
        return await _show(message, context, await inputs.stay_anonymous(user_id))
    replied = message.reply_to_message
    received = Received(
        message.chat_id,
        message.message_id,
        text=raw,
        reply_to=replied.message_id if replied is not None else None,
    )
    routed = await services.citizen_input.receive(user_id, received, context.sender)
    await _show(message, context, routed)


async def _show(message: Chat, context: BotContext, result: Result) -> None:
    """Tell the citizen where their message went (or ask where it should go)."""
    settings = context.services.rt.settings
    match result:
        case Answered():
            await _send(message, views.answer_sent())
        case NotAwaited():
            await _send(message, views.answer_not_expected())
        case FileRefused():
            await _send(message, Screen("⚠️ " + views.problem_text(Problem.FILE_TYPE, None)))
        case BadCode():
            await _send(message, views.bad_code_format())
        case LookedUp(None):
            await _send(message, views.code_not_found_or_link())
        case Linked(None):
            await _send(message, views.code_not_found())
        case Linked(detail) if detail is not None:
            await _send(message, views.linked(), _case_screen(detail, settings.tz))
        case LookedUp(detail) if detail is not None:
            await _send(message, _case_screen(detail, settings.tz))
        case CommentSaved():
            await _send(message, views.comment_saved())
        case CommentSkipped():
            await _send(message, views.use_menu())
        case Reopened():
            await _send(message, views.reopened())
        case ReopenRefused():
            await _send(message, Screen(views.reopen_refused(), views.main_menu()))
        case Filed(outcome, before, kind):
            await _show_filing(message, outcome, before, settings.max_complaints_per_day, kind)
        case Ask(held_id, options, excerpt, message_id, again):
            if again:
                await _send(message, views.choice_no_longer_applies())
            screen = views.which_one(held_id, options, excerpt)
            # Asked as a reply to the held message, so that a photo without a caption, or one
            # of several held messages, is plain to see.
            where = ReplyParameters(message_id, allow_sending_without_reply=True)
            await message.reply_text(
                screen.text, reply_markup=screen.markup, reply_parameters=where
            )
        case HeldQuietly() | Collecting():
            pass  # an album's later item: its first item asked already, or it is collected
        case TooManyHeld():
            await _send(message, views.too_many_held())
        case Unplaced():
            await _send(message, views.unplaced())
        case Gone():
            await _send(message, Screen(views.problem_text(Problem.STALE_BUTTON, None)))
        case PromptAnswered(action):  # a desk member answered the bot's prompt here
            await _send(message, Screen(staff_views.done(action)))
        case PromptRefused(reason, holder_name):
            await _send(message, Screen(staff_views.refusal_message(reason, holder_name)))


async def _show_filing(
    message: Chat,
    outcome: Outcome,
    before: Step | None,
    limit: int,
    kind: DraftKind = DraftKind.COMPLAINT,
) -> None:
    if outcome.problem == Problem.DAILY_LIMIT:
        return await _send(message, views.daily_limit(limit))
    draft = outcome.draft
    if draft is not None and draft.step == Step.EVIDENCE and before == Step.EVIDENCE:
        if outcome.problem is None:  # a file taken: albums are acknowledged once, see on_media
            return await _send(message, views.evidence_progress(draft.attachments))
    await _send(message, *_screens_for(outcome, before, kind))


def _case_screen(detail: CaseDetail, tz: ZoneInfo) -> Screen:
    return views.case_screen(detail.case, detail.events, detail.evidence, tz, detail.merged_into)


async def on_location(update: Update, context: BotContext) -> None:
    message = update.message
    assert message and message.location and message.from_user
    outcome = await context.services.filing.location(
        message.from_user.id, message.location.latitude, message.location.longitude
    )
    await _send(message, *_screens_for(outcome, Step.LOCATION))


async def on_contact(update: Update, context: BotContext) -> None:
    """The contact button: it links a case looked up by its code, or answers the contact step."""
    message = update.message
    assert message and message.contact and message.from_user
    contact = message.contact
    result = await context.services.citizen_input.contact(
        message.from_user.id, contact.phone_number, contact.user_id, contact.first_name
    )
    if isinstance(result, Filed):
        step = result.before or Step.CONTACT
        return await _send(message, *_screens_for(result.outcome, step, result.kind))
    await _show(message, context, result)


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


async def on_media(update: Update, context: BotContext) -> None:
    """Evidence, or a file answering an officer. Items of an album arrive as separate updates:
    acknowledge the album once."""
    message = update.message
    assert message and message.from_user
    item = _attachment(message)
    assert item is not None
    services = context.services
    caption = text.normalize(message.caption or "") or None
    received = Received(message.chat_id, message.message_id, text=caption, attachment=item)
    result = await services.citizen_input.receive(message.from_user.id, received, context.sender)
    if isinstance(result, Collecting):
        name = f"album-answer:{message.chat_id}:{result.media_group_id}"
        _after_album(context, message, name, _album_answer_settled, result.media_group_id)
        return
    taken = (
        isinstance(result, Filed)
        and result.outcome.problem is None
        and result.outcome.draft is not None
        and result.outcome.draft.step == Step.EVIDENCE
    )
    if not taken or message.media_group_id is None:
        return await _show(message, context, result)
    name = f"album:{message.chat_id}:{message.media_group_id}"
    _after_album(context, message, name, _album_settled, None)


def _after_album(
    context: BotContext,
    message: Message,
    name: str,
    callback: Callable[[BotContext], Coroutine[Any, Any, None]],
    data: str | None,
) -> None:
    """Items of an album arrive as separate updates: run `callback` once, a moment after the
    last of them (each new item pushes it back)."""
    assert message.from_user
    for job in context.jobs.get_jobs_by_name(name):
        job.schedule_removal()
    context.jobs.run_once(
        callback,
        ALBUM_SETTLE_SECONDS,
        chat_id=message.chat_id,
        user_id=message.from_user.id,
        name=name,
        data=data,
    )


async def _album_settled(context: BotContext) -> None:
    assert context.job and context.job.user_id is not None and context.job.chat_id is not None
    outcome = await context.services.filing.current(context.job.user_id)
    if outcome.draft is None or outcome.draft.step != Step.EVIDENCE:
        return
    screen = views.evidence_progress(outcome.draft.attachments)
    await context.bot.send_message(context.job.chat_id, screen.text, reply_markup=screen.markup)


async def _album_answer_settled(context: BotContext) -> None:
    """An album answering an officer is complete: it goes as one answer (or the citizen is
    asked, if things changed while it arrived)."""
    job = context.job
    assert job and job.user_id is not None and job.chat_id is not None
    assert isinstance(job.data, str)
    result = await context.services.citizen_input.settle_album(job.user_id, job.data)
    if result is not None:
        await _show(_Chat(context.bot, job.chat_id), context, result)


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Stickers, voice notes, polls…: say what the current step expects — or, with no
    complaint being filed, that an officer's question takes text, photos or documents."""
    message = update.message
    assert message and message.from_user
    services = context.services
    kind = await services.citizen_input.active_kind(message.from_user.id)
    outcome = await services.filing.wrong_input(message.from_user.id, kind)
    if outcome.draft is None and not outcome.expired:
        questions = await services.citizen_input.open_questions(message.from_user.id)
        if questions:
            return await _send(message, views.answer_kinds(), views.questions_waiting(questions))
    await _send(message, *_screens_for(outcome, None, kind))


async def on_edited(update: Update, context: BotContext) -> None:
    assert update.edited_message
    await update.edited_message.reply_text(views.edits_ignored().text)


# -- buttons ---------------------------------------------------------------------------------


async def _edit_markup(query: CallbackQuery, screen: Screen) -> None:
    """Replace a message's text and buttons unless they are already the same."""
    message = query.message
    if not isinstance(message, Message):
        return
    markup = screen.markup
    assert markup is None or isinstance(markup, InlineKeyboardMarkup)  # edits keep inline ones
    platform = platform_of(query.get_bot())
    shown = message.text_html if platform.formatting == "html" else message.text
    if message.reply_markup == markup and shown == shows(screen.text, platform):
        return
    try:
        await query.edit_message_text(screen.text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def _close_prompt(query: CallbackQuery, note: str) -> None:
    """Take the buttons off a prompt that was answered, and say what was chosen."""
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await query.edit_message_text(f"{message.text_html}\n\n✓ {note}", reply_markup=None)


async def on_filing_button(update: Update, context: BotContext) -> None:
    """The filing's inline buttons: a citizen's complaint (f:…) or a desk member's call (k:…)."""
    query = update.callback_query
    assert query and query.from_user
    user_id = query.from_user.id
    services = context.services
    filing = services.filing
    message = query.message if isinstance(query.message, Message) else None
    match cb.parse_filing(query.data or ""):
        case cb.ProvincePage(page, kind):
            current = await filing.current(user_id, kind)
            if current.draft is None or current.draft.step != Step.PROVINCE:
                return await _stale(query)
            await answer(query)
            await _edit_markup(query, _draft_screen(current.draft, page))
        case cb.CancelFiling(kind):
            cancelled = await filing.cancel(user_id, kind)
            await answer(query)
            if not cancelled:
                return await _close_prompt_quietly(query)
            await _close_prompt(query, views.cancelled_note())
            if message:
                await _send(message, call_views.cancelled() if kind == CALL else views.cancelled())
        case cb.Confirm(kind):
            result = await filing.submit(user_id, kind)
            if isinstance(result, Submitted):
                if kind == CALL:  # registered: the desk member's typing is theirs again
                    await services.citizen_input.drop_focus(user_id)
                await answer(query)
                await _close_prompt(query, views.sent_note())  # the receipt comes via the outbox
                return
            if result.problem in (Problem.STALE_BUTTON, Problem.NO_DRAFT):
                return await _stale(query)
            await answer(query)
            await _after_button(query, result, services.rt.settings.max_complaints_per_day, kind)
        case cb.EditMenu(kind):
            current = await filing.current(user_id, kind)
            if current.draft is None or current.draft.step != Step.REVIEW:
                return await _stale(query)
            await answer(query)
            draft = current.draft
            await _edit_markup(query, call_views.edit_menu_for(draft))
        case cb.BackToReview(kind):
            outcome = await filing.edit(user_id, None, kind)
            if outcome.problem or outcome.draft is None:
                return await _stale(query)
            await answer(query)
            await _edit_markup(query, _draft_screen(outcome.draft))
        case cb.EditPart(group, kind):
            outcome = await filing.edit(user_id, group, kind)
            if outcome.problem or outcome.draft is None:
                return await _stale(query)
            await answer(query)
            await _close_prompt(query, views.editing_note(group))
            if message:
                await _send(message, *_screens_for(outcome, Step.REVIEW, kind))
        case cb.Choose(step, code, kind):
            outcome = await filing.choose(user_id, step.value, code, kind)
            if outcome.problem == Problem.STALE_BUTTON or outcome.draft is None:
                return await _stale(query)
            await answer(query)
            await _close_prompt(query, views.choice_note(step.value, code))
            if message:
                await _send(message, *_screens_for(outcome, step, kind))
        case cb.UrgentMenu():
            review = (await filing.current(user_id, CALL)).draft
            if review is None or review.step != Step.REVIEW or review.data.duplicate_of:
                return await _stale(query)
            await answer(query)
            units = await filing.units()
            await _edit_markup(query, call_views.urgent_menu(review.data, review.unit, units))
        case cb.UrgentTo(unit_id):
            outcome = await filing.set_urgent(user_id, unit_id)
            if outcome.problem or outcome.draft is None:
                return await _stale(query)
            await answer(query)
            await _edit_markup(query, _draft_screen(outcome.draft))
        case None:
            await _stale(query)


async def _after_button(
    query: CallbackQuery, outcome: Outcome, limit: int, kind: DraftKind
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    if outcome.problem == Problem.DAILY_LIMIT:
        await _send(message, views.daily_limit(limit))
    else:
        await _send(message, *_screens_for(outcome, None, kind))


async def _close_prompt_quietly(query: CallbackQuery) -> None:
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await query.edit_message_reply_markup(reply_markup=None)


async def _stale(query: CallbackQuery) -> None:
    await answer(query, views.problem_text(Problem.STALE_BUTTON, None), show_alert=True)


async def on_cases_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query and query.from_user
    user_id = query.from_user.id
    services = context.services
    message = query.message if isinstance(query.message, Message) else None
    tz = services.rt.settings.tz
    match cb.parse_cases(query.data or ""):
        case cb.CasesPage(page):
            rows, total, shown = await services.my_cases.page(user_id, page, views.CASES_PER_PAGE)
            await answer(query)
            await _edit_markup(query, views.my_cases(rows, total, shown, tz))
        case cb.Rate(case_id, score):
            if not await services.my_cases.rate(user_id, case_id, score):
                return await _stale(query)
            await answer(query, "⭐" * score)
            if message:
                await _send(message, views.rated())
        case cb.AskReopen(case_id):
            if not await services.citizen_input.choose_reopen(user_id, case_id):
                return await answer(query, views.reopen_refused(), show_alert=True)
            await answer(query)
            if message:
                await _send(message, views.ask_reopen_reason())
        case cb.AnswerQuestion(case_id):
            code = await services.citizen_input.choose_answer(user_id, case_id)
            if code is None:
                return await answer(query, views.answer_not_expected().text, show_alert=True)
            await answer(query)
            if message:
                await _send(message, views.write_answer(code))
        case cb.Route(held_id, target):
            result = await services.citizen_input.route(user_id, held_id, target)
            if isinstance(result, Gone):
                return await _stale(query)
            await answer(query)
            if message:
                await _close_prompt_quietly(query)
                await _show(message, context, result)
        case cb.OpenCase(code):
            detail = await services.my_cases.open(user_id, code)
            if detail is None:
                return await answer(query, views.stale_case_button(), show_alert=True)
            await answer(query)
            if message:
                await _send(message, _case_screen(detail, tz))
        case None:
            await _stale(query)


async def on_unknown_button(update: Update, context: BotContext) -> None:
    assert update.callback_query
    await _stale(update.callback_query)


def register(app: Application) -> None:  # type: ignore[type-arg]
    edited = filters.UpdateType.EDITED_MESSAGE
    new = filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(PRIVATE & edited, on_edited))
    app.add_handler(CommandHandler("start", start, filters=PRIVATE & new))
    app.add_handler(CommandHandler("help", help_command, filters=PRIVATE & new))
    app.add_handler(CommandHandler("cancel", cancel, filters=PRIVATE & new))
    app.add_handler(CommandHandler("call", call_command, filters=PRIVATE & new))
    app.add_handler(MessageHandler(PRIVATE & new & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(PRIVATE & new & filters.LOCATION, on_location))
    app.add_handler(MessageHandler(PRIVATE & new & filters.CONTACT, on_contact))
    media = filters.PHOTO | filters.VIDEO | filters.Document.ALL
    app.add_handler(MessageHandler(PRIVATE & new & media, on_media))
    app.add_handler(MessageHandler(PRIVATE & new, on_unsupported))
    app.add_handler(CallbackQueryHandler(on_filing_button, pattern=r"^[fk]:"))
    app.add_handler(CallbackQueryHandler(on_cases_button, pattern=r"^c:"))
    app.add_handler(CallbackQueryHandler(on_unknown_button))
