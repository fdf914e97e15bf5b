"""Every word the demo page shows, as catalog message ids: the server renders them (in Persian)
into the page as JSON, so the page's own text goes through the catalog like the bot's."""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.personas import Part
from bot.domain.roles import ROLE_LABELS, Role
from bot.i18n import N_, _

BOT_NAME = N_("Complaints desk 135")

PAGE: dict[str, str] = {
    "title": N_("Ta'zirat complaints bot: local demo"),
    "bot_name": BOT_NAME,
    "bot_tag": N_("bot"),
    "play_as": N_("Play as"),
    "chats": N_("Chats"),
    "private_subtitle": N_("bot"),
    "group_subtitle": N_("group, {n} members"),
    "composer": N_("Write a message…"),
    "send": N_("Send"),
    "attach": N_("Attach"),
    "attach_file": N_("Photo or file from this computer"),
    "attach_location": N_("Location"),
    "attach_contact": N_("My phone number"),
    "reply": N_("Reply"),
    "replying_to": N_("Reply to {name}"),
    "cancel": N_("Cancel"),
    "ok": N_("OK"),
    "edited": N_("edited"),
    "download": N_("Download"),
    "photo": N_("photo"),
    "location": N_("Location"),
    "contact": N_("Contact"),
    "no_messages": N_("No messages yet."),
    "start_hint": N_("Press «Start» to talk to the bot."),
    "start": N_("Start"),
    "show_keyboard": N_("Show the bot's keyboard"),
    "hide_keyboard": N_("Hide the bot's keyboard"),
    "location_title": N_("Share a location"),
    "location_presets": N_("Pick a place"),
    "location_typed": N_("Or type the coordinates"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "location_send": N_("Send this location"),
    "location_invalid": N_(
        "Coordinates are numbers: latitude from -90 to 90, longitude from -180 to 180."
    ),
    "tour_title": N_("Try the complaints bot without Telegram"),
    "tour_intro": N_(
        "Behind this page runs the real bot, with the same code, rules and database it uses on "
        "Telegram, talking to a Bot API server on this computer. You play every part: choose a "
        "person on the right and use their chats."
    ),
    "tour_path": N_("A path to try:"),
    "tour_1": N_("As a citizen, open the chat with the bot, file a complaint and attach a photo."),
    "tour_2": N_("As a staff member, claim the new case in the staff group and ask a question."),
    "tour_3": N_("As the citizen, answer the question."),
    "tour_4": N_("As the staff member, refer the case to the market regulation unit."),
    "tour_5": N_("As the unit's member, accept the referral in the unit's chat."),
    "tour_6": N_(
        "As the supervisor, announce the outcome from the case card in the staff group (the "
        "unit's member holds the case now; a supervisor may act on any case)."
    ),
    "tour_7": N_("As the citizen, rate how the complaint was handled."),
    "tour_8": N_("As the manager, send /report in the managers' chat and open the chart."),
    "tour_start": N_("Start as the citizen"),
    "tour_note": N_("Nothing leaves this computer: there is no Telegram here."),
    "guide": N_("Guide"),
    "seed": N_("Fill with sample data"),
    "seed_hint": N_("A few hundred past cases, so that reports and charts have something to show."),
    "seed_running": N_("Adding sample cases…"),
    "seed_done": N_("{n} sample cases added."),
    "seed_refused": N_(
        "Sample data goes only into an empty database: start the demo again with --fresh --seed."
    ),
    "seed_failed": N_("The sample data could not be added: {error}"),
    "api_refused": N_("The Bot API refused the bot's call {method} (error {code}):"),
    "api_429": N_("Too many requests: the Bot API told the bot to wait {seconds} s ({method})."),
    "no_answer": N_("The bot did not answer this button in time."),
    "offline": N_("The connection to the demo server was lost; reconnecting…"),
    "send_failed": N_("Not sent: {reason}"),
}

# Why the page's backend refuses an action (shown in the page after «Not sent: »).
REFUSALS: dict[str, str] = {
    "not_your_chat": N_("this person is not in that chat"),
    "no_message": N_("that message is not there any more"),
    "no_button": N_("that button is not there any more"),
    "too_long": N_("the text is too long"),
    "empty": N_("there is nothing to send"),
    "private_only": N_("this can only be sent in the private chat with the bot"),
    "bad_location": N_("the coordinates are out of range"),
    "too_big": N_("the file is too large"),
    "too_many": N_("at most ten files at once"),
    "busy": N_("sample data is already being added"),
}

PART_LABELS: dict[Part, str] = {
    Part.CITIZEN: N_("Citizens"),
    Part.STAFF: N_("Ta'zirat staff"),
    Part.UNIT: N_("Executive unit"),
    Part.MANAGER: N_("Managers"),
}
CITIZEN_LABEL = N_("citizen")
UNIT_LABEL = N_("unit member")


@dataclass(frozen=True)
class Place:
    """A preset place for «share location»: markets and squares people complain about."""

    key: str
    name: str  # msgid
    latitude: float
    longitude: float


PLACES: tuple[Place, ...] = (
    Place("tehran_bazaar", N_("Tehran Grand Bazaar"), 35.6727, 51.4210),
    Place("tajrish", N_("Tajrish Bazaar, Tehran"), 35.8043, 51.4338),
    Place("azadi", N_("Azadi Square, Tehran"), 35.6997, 51.3380),
    Place("isfahan", N_("Naqsh-e Jahan Square, Isfahan"), 32.6575, 51.6776),
    Place("mashhad", N_("Reza Bazaar, Mashhad"), 36.2877, 59.6158),
    Place("tabriz", N_("Tabriz Bazaar"), 38.0808, 46.2920),
    Place("shiraz", N_("Vakil Bazaar, Shiraz"), 29.6155, 52.5436),
)


def page_strings() -> dict[str, str]:
    """The page's words in Persian, keyed as the page's script reads them."""
    out = {key: _(msgid) for key, msgid in PAGE.items()}
    out.update({f"refusal_{key}": _(msgid) for key, msgid in REFUSALS.items()})
    out.update({f"part_{part.value}": _(msgid) for part, msgid in PART_LABELS.items()})
    return out


def role_label(role: Role | None, part: Part) -> str:
    """What the switcher says a persona is (a unit's member holds the staff role, but plays
    the unit)."""
    if part == Part.UNIT:
        return _(UNIT_LABEL)
    return _(ROLE_LABELS[role]) if role is not None else _(CITIZEN_LABEL)
