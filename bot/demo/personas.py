"""Who is in the local demo: the people one person plays, and the chats they sit in.

One table, read by the demo's start-up (roles, units, settings), its web page (the persona
switcher) and its seed data, so that the three never disagree about an id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.roles import Role

BOT_TOKEN = "100000001:LOCAL-DEMO-not-a-telegram-token"
BOT_USERNAME = "tazirat_demo_bot"


class Part(StrEnum):
    """What a persona does in the demo (the page groups the switcher by it)."""

    CITIZEN = "citizen"
    STAFF = "staff"
    UNIT = "unit"
    MANAGER = "manager"


@dataclass(frozen=True)
class Persona:
    user_id: int
    first_name: str
    last_name: str
    phone: str  # what «share my phone» sends, Iranian mobile format
    part: Part
    role: Role | None  # the desk role given at start (a unit's officer is staff); None: citizens


@dataclass(frozen=True)
class GroupChat:
    chat_id: int
    title: str
    members: tuple[int, ...]  # user ids


CITIZEN_1 = Persona(1001, "مریم", "احمدی", "09121234567", Part.CITIZEN, None)
CITIZEN_2 = Persona(1002, "رضا", "کریمی", "09351112233", Part.CITIZEN, None)
STAFF = Persona(2001, "سارا", "رضایی", "09123334455", Part.STAFF, Role.STAFF)
SUPERVISOR = Persona(2002, "علی", "محمدی", "09124445566", Part.STAFF, Role.SUPERVISOR)
ADMIN = Persona(2003, "زهرا", "حسینی", "09125556677", Part.STAFF, Role.ADMIN)
UNIT_MEMBER = Persona(3001, "حمید", "نوری", "09126667788", Part.UNIT, Role.STAFF)
MANAGER = Persona(4001, "نرگس", "کاظمی", "09127778899", Part.MANAGER, Role.MANAGER)

PERSONAS: tuple[Persona, ...] = (
    CITIZEN_1,
    CITIZEN_2,
    STAFF,
    SUPERVISOR,
    ADMIN,
    UNIT_MEMBER,
    MANAGER,
)

UNIT_CODE = "market_regulation"  # the unit whose group is in the demo

STAFF_GROUP = GroupChat(
    -1001000000100, "میز کارشناسان ۱۳۵", (STAFF.user_id, SUPERVISOR.user_id, ADMIN.user_id)
)
UNIT_GROUP = GroupChat(-1001000000200, "واحد تنظیم بازار", (UNIT_MEMBER.user_id,))
MANAGERS_GROUP = GroupChat(-1001000000300, "مدیران", (MANAGER.user_id, ADMIN.user_id))
GROUPS: tuple[GroupChat, ...] = (STAFF_GROUP, UNIT_GROUP, MANAGERS_GROUP)


def persona(user_id: int) -> Persona | None:
    return next((p for p in PERSONAS if p.user_id == user_id), None)


def groups_of(user_id: int) -> tuple[GroupChat, ...]:
    return tuple(g for g in GROUPS if user_id in g.members)
