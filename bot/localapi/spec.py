"""Bot API method table: which methods exist, their parameter types and which are required.

The table lives next to this module (``bot_api_spec.json``) so the tests do not depend on files
outside the repository. It is derived from the MIT-licensed PaulSonOfLars/telegram-bot-api-spec
``api.json``; regenerate it with ``python -m bot.localapi.spec /path/to/api.json``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("bot_api_spec.json")
_INT_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class ParamSpec:
    """One method parameter: its Bot API type names and whether Telegram requires it."""

    name: str
    types: tuple[str, ...]
    required: bool

    @property
    def is_file(self) -> bool:
        """True for parameters that accept an uploaded file (multipart part)."""
        return "InputFile" in self.types


@dataclass(frozen=True)
class MethodSpec:
    """One Bot API method."""

    name: str
    returns: tuple[str, ...]
    params: dict[str, ParamSpec]

    @property
    def required(self) -> list[str]:
        """Names of the required parameters, in the documented order."""
        return [p.name for p in self.params.values() if p.required]


@cache
def _table() -> dict[str, MethodSpec]:
    data = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    table: dict[str, MethodSpec] = {}
    for name, entry in data["methods"].items():
        params = {
            pname: ParamSpec(pname, tuple(types), bool(required))
            for pname, (types, required) in entry["params"].items()
        }
        table[name.lower()] = MethodSpec(name, tuple(entry["returns"]), params)
    return table


def lookup(method: str) -> MethodSpec | None:
    """Find a method by name; Telegram treats method names case-insensitively."""
    return _table().get(method.lower())


def spec_version() -> str:
    """The Bot API version the table was generated from."""
    return str(json.loads(SPEC_PATH.read_text(encoding="utf-8"))["version"])


class ParamDecodeError(ValueError):
    """A parameter could not be read as its declared type (bad JSON, not a number)."""

    def __init__(self, name: str, *, json_object: bool) -> None:
        super().__init__(name)
        self.name = name
        self.json_object = json_object


def decode_value(param: ParamSpec | None, value: Any) -> Any:
    """Turn a form/JSON field into the Python value Telegram would see.

    PTB sends every non-string value JSON-encoded (``"123"``, ``"true"``, ``'{"inline_keyboard":
    ...}'``), so the declared type decides how a string is read back; ``text="123"`` stays a str.
    """
    if not isinstance(value, str):
        return value
    if param is None:
        return value
    types = set(param.types)
    if "Integer" in types and "String" in types:
        return int(value) if _INT_RE.fullmatch(value) else value
    if types == {"Integer"}:
        if not _INT_RE.fullmatch(value.strip()):
            raise ParamDecodeError(param.name, json_object=False)
        return int(value)
    if types & {"Float", "Float number"} and types <= {"Float", "Float number", "Integer"}:
        try:
            return float(value)
        except ValueError:
            return value
    if types == {"Boolean"}:
        return value.strip().lower() in {"true", "1"}
    if param.is_file or "String" in types:
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ParamDecodeError(param.name, json_object=True) from exc


def _generate(api_json: Path) -> None:
    source = json.loads(api_json.read_text(encoding="utf-8"))
    methods = {
        name: {
            "returns": m.get("returns", []),
            "params": {f["name"]: [f["types"], f["required"]] for f in m.get("fields", [])},
        }
        for name, m in sorted(source["methods"].items())
    }
    out = {
        "_source": "derived from PaulSonOfLars/telegram-bot-api-spec api.json (MIT licence)",
        "version": source.get("version", "?"),
        "release_date": source.get("release_date", "?"),
        "methods": methods,
    }
    SPEC_PATH.write_text(
        json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    _generate(Path(sys.argv[1]))
