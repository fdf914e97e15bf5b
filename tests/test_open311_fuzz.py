"""schemathesis against the running bot's Open311 API, with a valid key: the server answers
every generated request — valid ones and nonsense alike — without a 5xx, and the answers to
valid ones match the OpenAPI document it serves. A run must meet enough 2xx answers to mean
something (one that meets only 403s proves nothing). Bounded to keep well under a minute."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import aiohttp
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bot.services import apikeys
from tests.test_open311 import web_bot

POSITIVE_EXAMPLES = 60
NEGATIVE_EXAMPLES = 20
MIN_2XX = 100
BUDGET_SECONDS = 60.0


def _fuzz(document: dict[str, Any], base: str, key: str) -> Counter[tuple[str, int]]:
    """Runs in a thread: schemathesis is synchronous, and the bot's loop must keep serving."""
    schema = schemathesis.openapi.from_dict(document)
    seen: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in (
            (GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
        ):

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                if time.monotonic() - started > BUDGET_SECONDS:
                    return
                case.query = {**(case.query or {}), "api_key": key}
                response = case.call(base_url=base, timeout=10)
                seen[(case.operation.label, response.status_code)] += 1
                if case.meta.generation.mode == GenerationMode.POSITIVE:
                    # Every check but one: a text's length counts after its spaces are
                    # normalised, a phone must be Iranian, dates may span 90 days at most —
                    # rules JSON Schema cannot state, so valid-looking data may get a 400.
                    case.validate_response(response, excluded_checks=[positive_data_acceptance])
                else:
                    case.validate_response(response, checks=[not_a_server_error])

            run()
    return seen


async def test_schemathesis_finds_no_server_error(db_url: str) -> None:
    # Hundreds of requests within the test clock's one minute: limits out of the way.
    limits = {"open311_writes_per_minute": 100_000, "open311_reads_per_minute": 100_000}
    async with web_bot(db_url, **limits) as (bot, base):
        key = await apikeys.create(bot.services.rt, "fuzz")
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/open311/v2/openapi.json") as r:
                assert r.status == 200
                document = json.loads(await r.read())
        seen = await asyncio.to_thread(_fuzz, document, base, key)
        print(sorted(seen.items()))
        assert not [k for k in seen if k[1] >= 500], seen
        assert sum(n for (_, status), n in seen.items() if 200 <= status < 300) >= MIN_2XX, seen
        created = sum(n for (label, s), n in seen.items() if label.startswith("POST") and s == 200)
        assert created >= 1, seen  # valid requests were filed, not only refused
