"""Each row type's keys are exactly its table's columns, so the casts in `bot.storage.rows`
cannot lie about what a row holds; projections name only real columns."""

from __future__ import annotations

from typing import get_type_hints

from bot.storage import rows
from bot.storage.tables import metadata


def test_each_row_type_has_its_tables_columns() -> None:
    for table, row_type in rows.TABLE_OF.items():
        columns = set(metadata.tables[table].columns.keys())
        assert set(get_type_hints(row_type)) == columns, table


def test_every_table_read_back_by_a_query_module_has_a_row_type() -> None:
    kept_as_raw = {"processed_updates", "scheduled_pushes", "spike_alerts", "sla_alerts"}
    kept_as_raw |= {"ratings", "chat_moves", "chat_kinds"}  # read as one value, never a row
    assert set(metadata.tables) - set(rows.TABLE_OF) <= kept_as_raw


def test_projections_and_extensions_name_real_columns() -> None:
    cases = set(metadata.tables["cases"].columns.keys())
    users = set(metadata.tables["users"].columns.keys())
    assert set(get_type_hints(rows.SpikeCase)) <= cases
    assert set(get_type_hints(rows.StaffMember)) <= users
    assert set(get_type_hints(rows.ClockedCase)) - cases == {"since_event_id", "since"}
