"""Telegram's error answers, with the exact descriptions the real Bot API returns.

Keeping the strings in one place lets tests assert on them and keeps the server honest: a bot
that is refused here would be refused by Telegram with the same words.
"""

from __future__ import annotations

from typing import Any

# 400
CHAT_NOT_FOUND = "Bad Request: chat not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
BUTTON_TEXT_INVALID = "Bad Request: BUTTON_TEXT_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
MARKUP_UNPARSABLE = "Bad Request: can't parse reply keyboard markup JSON object"
INLINE_KEYBOARD_EXPECTED = "Bad Request: inline keyboard expected"
CANT_PARSE_ENTITIES = "Bad Request: can't parse entities: "
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_CANT_BE_DELETED = "Bad Request: message can't be deleted"
MESSAGE_TO_COPY_NOT_FOUND = "Bad Request: message to copy not found"
MESSAGE_TO_FORWARD_NOT_FOUND = "Bad Request: message to forward not found"
MESSAGE_CANT_BE_COPIED = "Bad Request: message can't be copied"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "Bad Request: invalid file_id"
FILE_TOO_BIG = "Bad Request: file is too big"
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
USER_NOT_FOUND = "Bad Request: user not found"
WRONG_ACTION = "Bad Request: wrong parameter action in request"
PRIVATE_NO_ADMINS = "Bad Request: there are no administrators in the private chat"
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
MEDIA_GROUP_SIZE = "Bad Request: media group must contain 2-10 items"
MEDIA_GROUP_MIX = "Bad Request: documents and audio can only be grouped with media of the same type"

# 413: an uploaded file over the Bot API's 50 MB (PTB reports it as NetworkError)
ENTITY_TOO_LARGE = "Request Entity Too Large"

# 401/403/404/409/429
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
BLOCKED = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
KICKED_SUPERGROUP = "Forbidden: bot was kicked from the supergroup chat"
KICKED_GROUP = "Forbidden: bot was kicked from the group chat"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def too_many_requests(retry_after: int) -> str:
    """The 429 description for a given wait."""
    return f"Too Many Requests: retry after {retry_after}"


def missing_param(name: str) -> str:
    """Telegram's wording when a required parameter is absent or empty."""
    if name == "text":
        return TEXT_EMPTY
    if name in {"photo", "document", "video", "audio", "voice", "sticker", "animation"}:
        return f"Bad Request: there is no {name} in the request"
    return f"Bad Request: {name} is empty"


class ApiError(Exception):
    """A refusal the server answers with ``{"ok": false, ...}`` and HTTP status ``error_code``.

    ``expected`` marks refusals the test arranged on purpose (injected failures), so that
    ``FakeTelegram.assert_no_refusals`` only complains about refusals caused by the bot.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        expected: bool = False,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id
        self.expected = expected

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would send."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, int] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(description: str) -> ApiError:
    """Shortcut for a 400 refusal; ``description`` must already start with 'Bad Request: '."""
    return ApiError(400, description)
