"""The user's own association tests, read from a TOML file: a bias axis nobody wrote a probe for
is measured all the same.

`fairness.association`'s `tests` parameter names a TOML file of `[[test]]` tables, each with:

    name      the test's name, unique, not the name of a built-in test
    category  free text ("caste", "socioeconomic"): the test is judged with the other tests of its
              category, a new category gets its own `by_group` entry
    axis      free text: what the attributes are about ("occupations", "sentiment")
    groups    the labels of groups A and B: ["Dalit", "Brahmin"]
    targets   matched target phrases, [A phrase, B phrase] pairs (at least 2)
    x, y      attribute words: X the stereotype of A, Y of B (at least 2 each, none in both)
    source    where the lists come from: a citation the report shows beside the test

Each test is scored exactly like the built-in ones (audit.fairness.association: the same
templates, CrowS-Pairs margins, preference share, WEAT d and bootstrap) and added to them.
A relative path is read against the working directory audit runs in (a suite's parameters do not
carry the suite file's folder). Bad input is InputError (exit 2), one line naming the file, the
test and the field: `check_association_params` finds it when the run is planned.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from audit.errors import InputError, plain_text, read_input_text
from audit.fairness.association import ASSOCIATION_TESTS, AssociationTest
from audit.messages import one_line

__all__ = ["CHECK_ID", "PARAMS", "FIELDS", "MAX_PAIRS", "MAX_WORDS", "MIN_PAIRS", "MIN_WORDS", "read_tests", "parse_tests", "check_association_params"]

CHECK_ID = "fairness.association"
PARAMS = ("tests",)
"""The parameters `fairness.association` takes (a suite's `"fairness.association" = { tests = "my_axes.toml" }`)."""
FIELDS = ("name", "category", "axis", "groups", "targets", "x", "y", "source")
MIN_PAIRS = 2
"""Fewest target pairs a test may have: the bootstrap resamples them, and one pair is one way of naming a group."""
MIN_WORDS = 2
"""Fewest attribute words a side: one word a side is a single comparison, not an association."""
MAX_WORDS = 200
"""Most attribute words a side: the share compares every x with every y in each bootstrap draw,
so its cost grows with |X|·|Y| (3,000 a side ran for over an hour at 1.3 GB); the published
lists the built-in tests use have 4 to 25 words."""
MAX_PAIRS = 100
"""Most target pairs a test may have: every pair is scored with every template and word."""


def check_association_params(params: Mapping[str, Mapping[str, Any]]) -> None:
    """Plan-time check of `fairness.association`'s parameters in a plan's {check id: parameters}:
    known names only, and a `tests` file that reads and parses (InputError, exit 2, otherwise),
    so a bad file stops the run before anything is measured."""
    given = params.get(CHECK_ID)
    if given is None:
        return
    unknown = [k for k in given if k not in PARAMS]
    if unknown:
        raise InputError(f"Check '{CHECK_ID}' has no parameter '{unknown[0]}'; valid: {', '.join(PARAMS)}.")
    if "tests" in given:
        read_tests(given["tests"])


def read_tests(path: Any) -> tuple[AssociationTest, ...]:
    """The tests of a `tests` file (a relative path against the working directory), checked."""
    if not isinstance(path, str) or not path.strip():
        raise InputError(f"Check '{CHECK_ID}': tests must name a TOML file (a non-empty string), got {path!r}.")
    file = Path(path).expanduser()
    where = f"Association tests file '{file}'"
    return parse_tests(read_input_text(file, where), where)


def parse_tests(text: str, where: str) -> tuple[AssociationTest, ...]:
    """The tests of a file's TOML text: one or more [[test]] tables, each checked (see the module)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where} is not valid TOML: {one_line(exc)}.") from None
    unknown = [k for k in data if k != "test"]
    if unknown:
        raise InputError(f"{where}: unknown top-level key '{unknown[0]}'; declare each test in a [[test]] table.")
    tables = data.get("test")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise InputError(f"{where} declares no tests: give one or more [[test]] tables.")
    tests = tuple(_test(t, f"{where}, test {i + 1}") for i, t in enumerate(tables))
    _unique_names(tests, where)
    return tests


def _unique_names(tests: tuple[AssociationTest, ...], where: str) -> None:
    """A name the report and the memo tell tests apart by: not a built-in test's, not given twice."""
    builtin = {t.name for t in ASSOCIATION_TESTS}
    seen: set[str] = set()
    for test in tests:
        if test.name in builtin:
            raise InputError(f"{where}: test name {test.name!r} is a built-in test's; give it another name.")
        if test.name in seen:
            raise InputError(f"{where}: test name {test.name!r} is given twice.")
        seen.add(test.name)


def _test(table: dict[str, Any], where: str) -> AssociationTest:
    """One [[test]] table as an AssociationTest: every field present and well formed, X and Y apart."""
    missing = [f for f in FIELDS if f not in table]
    if missing:
        raise InputError(f"{where}: missing field '{missing[0]}'; a test has {', '.join(FIELDS)}.")
    unknown = [k for k in table if k not in FIELDS]
    if unknown:
        raise InputError(f"{where}: unknown field '{unknown[0]}'; a test has {', '.join(FIELDS)}.")
    where = f"{where} ({table['name']!r})" if isinstance(table["name"], str) else where
    groups = _texts(table["groups"], where, "groups", 2, MAX_WORDS)
    if len(groups) != 2:
        raise InputError(f"{where}: groups must be the two labels [A, B], got {len(groups)}.")
    x, y = _texts(table["x"], where, "x", MIN_WORDS, MAX_WORDS), _texts(table["y"], where, "y", MIN_WORDS, MAX_WORDS)
    both = [w for w in x if _same_word(w) in {_same_word(v) for v in y}]
    if both:
        raise InputError(f"{where}: attribute word {both[0]!r} is in both x and y; each word belongs to one side.")
    return AssociationTest(
        name=_text(table["name"], where, "name"), category=_text(table["category"], where, "category"),
        axis=_text(table["axis"], where, "axis"), groups=(groups[0], groups[1]), targets=_targets(table["targets"], where),
        x=x, y=y, sources=(), citation=_text(table["source"], where, "source"),
    )


def _text(value: Any, where: str, field: str) -> str:
    """A non-blank one-line string of plain text (no control or format character), without
    leading or trailing spaces (a sentence would carry them, and "slow " would pass for "slow")."""
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\r" in value:
        raise InputError(f"{where}: {field} must be a non-empty one-line string, got {_shown(value)}.")
    plain_text(value, f"{where}: {field}")
    if value != value.strip():
        raise InputError(f"{where}: {field} {value!r} has leading or trailing spaces; give the word alone.")
    return value


def _shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut to keep the message one short line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_word(word: str) -> str:
    """The form two words are compared in: Unicode NFC, so "Café" composed and decomposed are one
    word and cannot sit on both sides, or twice on one, by its encoding. Case is kept: "Polish" and
    "polish" are different words to a language model."""
    return unicodedata.normalize("NFC", word)


def _texts(value: Any, where: str, field: str, minimum: int, maximum: int) -> tuple[str, ...]:
    """Between `minimum` and `maximum` distinct non-blank strings."""
    if not isinstance(value, list) or len(value) < minimum:
        raise InputError(f"{where}: {field} must be a list of at least {minimum} strings, got {_shown(value)}.")
    if len(value) > maximum:
        raise InputError(f"{where}: {field} lists {len(value)} words; at most {maximum} a side.")
    words = tuple(_text(v, where, field) for v in value)
    forms = [_same_word(w) for w in words]
    twice = [w for i, w in enumerate(words) if forms[i] in forms[:i]]
    if twice:
        raise InputError(f"{where}: {field} lists {twice[0]!r} twice.")
    return words


def _targets(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """MIN_PAIRS to MAX_PAIRS distinct [A phrase, B phrase] pairs; no phrase names both groups."""
    if not isinstance(value, list) or len(value) < MIN_PAIRS:
        raise InputError(f"{where}: targets must be a list of at least {MIN_PAIRS} [A phrase, B phrase] pairs, got {_shown(value)}.")
    if len(value) > MAX_PAIRS:
        raise InputError(f"{where}: targets lists {len(value)} pairs; at most {MAX_PAIRS}.")
    pairs = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError(f"{where}: each target must be a pair [A phrase, B phrase], got {_shown(pair)}.")
        a, b = _text(pair[0], where, "targets"), _text(pair[1], where, "targets")
        if _same_word(a) == _same_word(b):
            raise InputError(f"{where}: target pair [{a!r}, {b!r}] names the same phrase for A and B.")
        if (a, b) in pairs:
            raise InputError(f"{where}: target pair [{a!r}, {b!r}] is given twice.")
        pairs.append((a, b))
    b_side = {_same_word(b) for _, b in pairs}
    both = [a for a, _ in pairs if _same_word(a) in b_side]
    if both:
        raise InputError(f"{where}: target phrase {both[0]!r} names group A in one pair and group B in another; "
                         "each phrase names one group (a swapped pair cancels the other's margins).")
    return tuple(pairs)
