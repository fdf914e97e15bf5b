"""A local Telegram Bot API server on 127.0.0.1: the demo runs the real bot against it, and the
end-to-end tests drive it (one implementation, Telegram's limits and error strings).

Start it, point PTB at it, act as users, wait for the bot's answers::

    async with FakeTelegram(limits=Limits()) as server:
        app = (ApplicationBuilder().token(server.token)
               .base_url(f"{server.base_url}/bot")
               .base_file_url(f"{server.base_url}/file/bot").build())
        u = server.user(1001, first_name="علی")
        await u.send_text("/start")
        reply = await u.expect_message("سلام")
        server.assert_no_refusals()

Every refusal uses Telegram's own status code and description, so a bot bug surfaces as a
failed call in ``server.calls`` / ``server.refused``.
"""

from .actors import FakeGroup, FakeUser
from .limits import Limits
from .models import BotMessage, Call
from .outage import Hold, Outage
from .profiles import BALE, TELEGRAM, ServerProfile
from .server import FakeTelegram

__all__ = [
    "BALE",
    "TELEGRAM",
    "BotMessage",
    "Call",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "Hold",
    "Limits",
    "Outage",
    "ServerProfile",
]
