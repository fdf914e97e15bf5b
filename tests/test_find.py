"""/find's text search on both databases: cases filed through the real filing service, found
through the trigram index (SQLite FTS5, PostgreSQL pg_trgm), with one normalisation for the
stored text and the query."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import text as bot_text
from bot.domain.refusal import Refusal
from bot.domain.roles import Role
from bot.services.desk import Actor, Desk, Refused
from bot.services.filing import Filing, Submitted
from bot.services.people import touch_and_check
from bot.storage import desk as desk_store
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.tables import SEARCH_FTS, SEARCH_TRGM_INDEX, case_events, cases
from tests.conftest import PG_ADMIN_DSN, _pg_admin
from tests.test_filing_service import service_runtime

STAFF = Actor(900, Role.STAFF)
SUPERVISOR = Actor(901, Role.SUPERVISOR)


@dataclass
class World:
    filing: Filing
    desk: Desk
    next_user: int = 1

    async def file(self, business: str, description: str, phone: str | None = None) -> int:
        """A complaint filed as a citizen files it; its case id."""
        uid, self.next_user = self.next_user, self.next_user + 1
        f = self.filing
        await touch_and_check(f.rt, uid, "x", None, None)
        await f.begin(uid)
        await f.choose(uid, "violation", "overpricing")
        await f.choose(uid, "sector", "food")
        await f.choose(uid, "province", "23")
        for answer in ("تهران", business, "خیابان انقلاب، پلاک ۱۲"):
            assert (await f.text(uid, answer)).problem is None, answer
        await f.skip(uid)  # location
        assert (await f.text(uid, description)).problem is None, description
        await f.skip(uid)  # prices
        await f.skip(uid)  # evidence
        if phone:
            await f.contact(uid, phone, uid)
        else:
            await f.stay_anonymous(uid)
        submitted = await f.submit(uid)
        assert isinstance(submitted, Submitted), submitted
        return submitted.case_id

    async def found(self, query: str, actor: Actor = STAFF) -> set[int]:
        result = await self.desk.find(actor, query)
        assert not isinstance(result, Refused), (query, result)
        return {case["id"] for case in result}


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with service_runtime(db_url) as rt:
        yield World(Filing(rt, random.Random(7)), Desk(rt))


async def _fts_consistent(conn: AsyncConnection) -> None:
    """SQLite checks its FTS index against the content table (rank 1: against `cases`)."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql(
            f"INSERT INTO {SEARCH_FTS} ({SEARCH_FTS}, rank) VALUES ('integrity-check', 1)"
        )


async def test_a_word_inside_the_business_name_or_the_description_is_found(world: World) -> None:
    bakery = await world.file("نانوایی بربری سنگک‌پز", "نان را کم‌وزن می‌فروشد و قیمت را بالا برده.")
    shop = await world.file("فروشگاه زنجیره‌ای نمونه", "برچسب قیمت روی قفسه‌ها نیست.")
    assert await world.found("بربری") == {bakery}  # the middle of the name
    assert await world.found("کم‌وزن") == {bakery}  # the middle of the description
    assert await world.found("قیمت") == {bakery, shop}  # in both descriptions
    assert await world.found("قفسه") == {shop}
    assert await world.found("نمونه") == {shop}
    assert await world.found("کفاشی") == set()
    # The business name and the description are separate: no match runs from one into the other.
    assert await world.found("نمونهبرچسب") == set()
    async with world.desk.rt.engine.connect() as conn:
        await _fts_consistent(conn)


async def test_persian_spelling_variants_match(world: World) -> None:
    shop = await world.file("فروشگاه زنجیره‌ای ۲۴ ساعته", "پنیرِ تاریخ‌گذشته فروخت؛ مُهر نداشت.")
    cafe = await world.file("كافه يلدا", "قهوهٔ سرد، بدون فاکتور")
    for typed in (
        "زنجيره‌اي",  # Arabic ي
        "زنجیره ای",  # a space for the ZWNJ
        "زنجیرهای",  # joined
        "زنجیره\u200c\u200cای",  # a doubled ZWNJ
        "24 ساعته",
        "۲۴ساعته",
        "٢٤ ساعته",  # Arabic-Indic digits
        "تاریخ گذشته",
        "مهر نداشت",  # without the damma
        "پنیر تاریخ",  # without the kasra
    ):
        assert await world.found(typed) == {shop}, typed
    for typed in ("کافه یلدا", "كافه", "یلدا", "قهوه سرد", "قهوۀ سرد", "قهوهٔ"):
        assert await world.found(typed) == {cafe}, typed


async def test_case_and_punctuation_are_taken_literally(world: World) -> None:
    latin = await world.file("Digi Sample Shop", '۵۰% تخفیف_ویژه اعلام شد ولی "قیمت" همان بود')
    assert await world.found("SAMPLE") == {latin}
    assert await world.found("gisa") == {latin}  # spaces do not count
    assert await world.found("50%") == {latin}
    assert await world.found("%تخ") == {latin}
    assert await world.found("ف_و") == {latin}
    assert await world.found('"قیمت"') == {latin}
    assert await world.found("0_%") == set()  # neither is a wildcard
    assert await world.found('"قیمت') == {latin}  # a lone quote is a character, not syntax


async def test_an_updated_case_is_found_by_its_new_text_only(world: World) -> None:
    case_id = await world.file("لبنیات پارس", "ماست را گران‌تر از قیمت روی بسته فروخت.")
    other = await world.file("لبنیات شمال", "شیر را گران‌تر از قیمت روی بسته فروخت.")
    new_business, description = "پروتئینی البرز", "ماست را گران‌تر از قیمت روی بسته فروخت."
    async with world.desk.rt.engine.begin() as conn:
        await conn.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(
                business=new_business,
                search_text=bot_text.search_text(new_business, description),
            )
        )
    assert await world.found("البرز") == {case_id}
    assert await world.found("پارس") == set()
    assert await world.found("لبنیات") == {other}
    async with world.desk.rt.engine.begin() as conn:
        await _fts_consistent(conn)
        await conn.execute(delete(case_events).where(case_events.c.case_id == other))
        await conn.execute(delete(cases).where(cases.c.id == other))
        await _fts_consistent(conn)
    assert await world.found("لبنیات") == set()


async def test_short_text_is_refused_codes_and_numbers_still_work(world: World) -> None:
    phone = "+989121234567"
    case_id = await world.file("آش رشته", "آش سرد و کهنه بود و پولش را پس ندادند.", phone=phone)
    refused = Refused(Refusal.SHORT_QUERY)
    for typed in ("", "  ", "آش", "آ ش", "ab", "۱۲", "\u200c", "ِ"):
        assert await world.desk.find(STAFF, typed) == refused, typed
    assert await world.found("آش ر") == {case_id}  # three letters once the space is out
    async with world.desk.rt.engine.connect() as conn:
        code = (await conn.execute(select(cases.c.code).where(cases.c.id == case_id))).scalar_one()
    assert await world.found(code) == {case_id}
    assert await world.found(bot_text.to_persian_digits(code)) == {case_id}
    assert await world.found("09121234567", SUPERVISOR) == {case_id}


async def test_the_migration_fills_the_search_text_of_existing_cases(
    world: World, db_url: str
) -> None:
    case_id = await world.file("قنادی گل‌سرخ", "شیرینی کهنه را به‌جای تازه فروختند.")
    engine = world.desk.rt.engine

    def to(sync_conn: object, revision: str) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if revision != "head" else command.upgrade)(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(to, "0015")
    await upgrade(db_url)
    assert await world.found("گل سرخ") == {case_id}
    async with engine.connect() as conn:
        stored = (
            await conn.execute(select(cases.c.search_text).where(cases.c.id == case_id))
        ).scalar_one()
        await _fts_consistent(conn)
    assert stored == "قنادیگلسرخ\nشیرینیکهنهرابهجایتازهفروختند."


async def _plan(conn: AsyncConnection, key: str) -> str:
    query = desk_store.find_query(
        conn.dialect.name, search_key=key, code=None, phone=None, limit=20
    )
    assert query is not None
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = (await conn.exec_driver_sql(prefix + sql)).all()
    return "\n".join(str(row[-1]) for row in rows)


async def test_the_search_uses_the_trigram_index(world: World) -> None:
    for n in range(5):
        await world.file(f"فروشگاه شماره {n}", "قیمت را دو برابر حساب کردند.")
    async with world.desk.rt.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # A five-row table is cheaper to read whole: forbid that to see the index is usable.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await _plan(conn, bot_text.search_key("شماره"))
    if world.desk.rt.engine.dialect.name == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and SEARCH_FTS in plan, plan
        assert "SCAN cases" not in plan.splitlines(), plan  # no pass over the whole table
    else:
        assert f"Bitmap Index Scan on {SEARCH_TRGM_INDEX}" in plan, plan


async def test_past_the_limit_the_newest_matches_are_shown(world: World) -> None:
    ids = [await world.file(f"کبابی شماره {n}", "کباب را کم‌وزن داد و رسید نداد.") for n in range(4)]
    async with world.desk.rt.engine.connect() as conn:
        found = await desk_store.find(
            conn, search_key=bot_text.search_key("کبابی"), code=None, phone=None, limit=2
        )
        plan = await _plan(conn, bot_text.search_key("کبابی"))
    assert [case["id"] for case in found] == [ids[3], ids[2]]
    if world.desk.rt.engine.dialect.name == "sqlite":  # FTS5 gives the rowids newest first
        assert "USE TEMP B-TREE" not in plan, plan


async def test_the_migration_warns_when_pg_trgm_cannot_read_persian(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Under LC_CTYPE "C" pg_trgm takes no Persian letter for a letter: the index would hold
    nothing of the text, so the operator is told (the search still answers, by reading all)."""
    admin = await _pg_admin()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await admin.execute(
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_CTYPE 'C' LC_COLLATE 'C'"
    )
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        with caplog.at_level(logging.WARNING, logger="alembic"):
            await upgrade(f"{base}/{name}")
        assert "pg_trgm finds no trigrams in Persian text" in caplog.text
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
