"""The Persian catalog is complete and keeps the house rules (docs/style-fa.md):

* every message id that `pybabel extract` finds (babel.cfg, the keywords scripts/i18n-update
  uses) has a Persian translation, and no catalog call hides a message id from it;
* no Persian text is built outside the catalog in bot/ and handlers/ (input vocabulary, data
  and character tables are listed below, each with its reason);
* no translation uses the Arabic letters «ي ك» or the Latin «, ; ? %», shows a Latin digit
  outside a code span, a URL or a /command, or has a line that would read left-to-right.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, _
from tests.persian_output import Shown, latin_digits, ltr_lines

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
TAG = re.compile(r"<[^<>]+>")
CODE_SPAN = re.compile(r"<code>.*?</code>", re.DOTALL)


def _extracted(tmp_path: Path) -> set[str]:
    """What `pybabel extract` finds, run as scripts/i18n-update runs it."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            *(sys.executable, "-m", "babel.messages.frontend", "extract"),
            *("-F", "babel.cfg", "-k", "_", "-k", "N_", "--no-location", "--omit-header"),
            *("-o", str(pot), "."),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        found = {m.id for m in read_po(fh) if m.id and isinstance(m.id, str)}
    assert len(found) > 300, "pybabel found almost nothing: is babel.cfg still read?"
    return found


def _catalog() -> dict[str, str]:
    with (LOCALES_DIR / "fa" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        cat = read_po(fh, locale="fa")
    return {m.id: m.string for m in cat if m.id and not m.fuzzy and m.string}


def _sources() -> list[Path]:
    return sorted(p for sub in ("bot", "handlers") for p in (ROOT / sub).rglob("*.py"))


def test_every_message_pybabel_extracts_is_translated(tmp_path: Path) -> None:
    missing = sorted(_extracted(tmp_path) - set(_catalog()))
    assert missing == [], "add these to messages.po and translate them: " + repr(missing[:5])


def _catalog_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("_", "N_")
    ]


def test_no_catalog_call_hides_a_message_id_from_pybabel() -> None:
    """pybabel reads a literal in `_()`/`N_()`, but not one nested in another catalog call
    (`_(DONE.get(action, N_("Done.")))` left «Done.» untranslated): keep marks flat."""
    hidden = []
    for path in _sources():
        for call in _catalog_calls(ast.parse(path.read_text(encoding="utf-8"))):
            for arg in call.args:
                if any(inner is not call for inner in _catalog_calls(arg)):
                    hidden.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert hidden == []


# Persian literals outside the catalog that are not text the bot writes: (file, the module-level
# name that holds them) -> why. A folder ending in "/" covers every file under it.
NOT_CATALOG_TEXT = {
    ("bot/text.py", "_UNIT_WORDS"): "currency words citizens type, read by parse_amount",
    ("bot/text.py", "_MULTIPLIER_WORDS"): "«هزار», «میلیون» as citizens type them",
    # Number words: read in amounts citizens write in words; count_in_words also writes one to
    # ten with them («یک روز»). They are the language's numerals, not copy to translate.
    ("bot/text.py", "_HALF"): "«نیم» in «یک و نیم میلیون»",
    ("bot/text.py", "_ONES"): "number words, read and (one to nine) written",
    ("bot/text.py", "_TEENS"): "number words, read and («ده») written",
    ("bot/text.py", "_TENS"): "number words citizens type",
    ("bot/text.py", "_HUNDREDS"): "number words citizens type",
    ("bot/text.py", "_SPOKEN"): "spoken spellings citizens type («یه», «پونصد»)",
    ("bot/domain/periods.py", "PERIOD_WORDS"): "period words managers type",
    ("bot/domain/staff_words.py", "OUTCOME_WORDS"): "outcome words staff type",
    ("bot/domain/staff_words.py", "ROLE_WORDS"): "role words administrators type",
    ("bot/domain/staff_words.py", "ADD_WORDS"): "/staff's «افزودن»",
    ("bot/domain/staff_words.py", "REMOVE_WORDS"): "/staff's «حذف»",
    ("bot/views/labels.py", "FORMER_SKIP_LABELS"): "the old «رد شدن», still read when typed",
    ("bot/domain/periods.py", "_RANGE_FROM"): "«از» before a date range",
    ("bot/domain/periods.py", "_RANGE_TO"): "«تا» inside a date range",
    ("bot/charts.py", "PERSIAN_SAMPLE"): "glyphs a chart font must have",
    ("bot/views/citizen.py", "PERSIAN_ALPHABET"): "the alphabet provinces are sorted by",
    ("bot/storage/migrations/", None): "seed data (unit names staff may rename)",
    ("bot/demo/", None): "the demo's made-up people and complaints",
}
# Two Arabic-script letters in a row: a word, not a separator such as «، » or «٫».
PERSIAN_WORD = re.compile("[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]{2}")


def _owner(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return statement.name
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_persian_text_is_built_outside_the_catalog() -> None:
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if any(rel.startswith(f) for f, name in NOT_CATALOG_TEXT if name is None):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        marked = {id(n) for call in _catalog_calls(tree) for a in call.args for n in ast.walk(a)}
        skip = marked | _docstrings(tree)
        for statement in tree.body:
            owner = _owner(statement)
            for node in ast.walk(statement):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in skip
                    and PERSIAN_WORD.search(node.value)
                    and (rel, owner) not in NOT_CATALOG_TEXT
                ):
                    found.append(f"{rel}:{node.lineno} ({owner}): {node.value[:40]!r}")
    assert found == [], "put these in the catalog (or list why not):\n" + "\n".join(found)


def test_the_allowances_are_still_needed() -> None:
    """An allowance whose name is gone would silently allow the next literal put there."""
    for (rel, name), _why in NOT_CATALOG_TEXT.items():
        if name is None:
            assert (ROOT / rel).is_dir(), rel
            continue
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert name in {_owner(s) for s in tree.body}, (rel, name)


def test_translations_keep_their_placeholders_and_are_persian() -> None:
    for msgid, msgstr in _catalog().items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        assert re.search("[\u0600-\u06ff]", msgstr), f"not Persian: {msgid!r}"


def _prose(msgstr: str) -> str:
    """The words of a translation: no placeholders, no tags."""
    return TAG.sub("", PLACEHOLDER.sub("", msgstr))


def test_translations_use_persian_letters_and_punctuation() -> None:
    wrong = {
        msgid: msgstr
        for msgid, msgstr in _catalog().items()
        if re.search("[يكى]", msgstr) or re.search(r"[,;?%]", _prose(msgstr))
    }
    assert wrong == {}, "use ی ک and ، ؛ ؟ ٪"


@pytest.mark.parametrize("rule", [latin_digits, ltr_lines])
def test_translations_keep_the_display_rules(rule) -> None:  # type: ignore[no-untyped-def]
    """The rules the end-to-end suite checks on sent messages, here on every translation,
    also those no test sends: a placeholder is read as nothing, code spans as code."""
    broken = []
    for msgid, msgstr in _catalog().items():
        plain = TAG.sub("", CODE_SPAN.sub("<code></code>", PLACEHOLDER.sub("", msgstr)))
        broken += [str(o) for o in rule(Shown(msgid, plain))]
    assert broken == []


def test_runtime_lookup_uses_the_catalog() -> None:
    assert _("File a complaint") == "ثبت شکایت"
    assert _("no such message id") == "no such message id"
