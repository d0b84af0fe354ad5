"""Text perturbations at severities 0..5 (0 = identity, exactly), seeded and pure Python.

Each perturbation acts on a share `p` of its units, p = RATES[severity] = 0, .02, .05, .1, .2, .3:

  typos        p of the words (2+ letters) get one character edit: swap two neighbours, drop,
               repeat or replace a letter (a neighbouring key on a QWERTY row)
  casing       p of the words are UPPER-cased, Title-cased or lower-cased (whichever differs)
  whitespace   p of the spaces are doubled, turned into a newline or removed (merging words)
  word_order   p of the words are swapped with their right neighbour (within the text)
  code_switch  p of the words found in the English -> Spanish lexicon (audit.robustness.lexicon)
               are replaced by their translation, keeping capitalisation

`scrambled` shuffles a text's characters: the control text the clean baseline is checked against.

OUT_OF_DISTRIBUTION holds short project-authored texts of another kind (source code, tables of
numbers), scored beside the clean text as a reference for how far "foreign" text moves perplexity.
"""

from __future__ import annotations

import random
import re
from typing import Callable

from audit.robustness.lexicon import EN_ES

SEVERITIES = (0, 1, 2, 3, 4, 5)
RATES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3)
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
WORD = re.compile(r"[A-Za-z]+")


def _rng(seed: int, salt: str) -> random.Random:
    return random.Random(f"{seed}:{salt}")


def _neighbour(ch: str, rng: random.Random) -> str:
    low = ch.lower()
    for row in KEYBOARD_ROWS:
        i = row.find(low)
        if i >= 0:
            options = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            out = rng.choice(options)
            return out.upper() if ch.isupper() else out
    return ch


def _edit_word(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    kind = rng.randrange(4)
    if kind == 0 and len(word) >= 2:
        i = min(i, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1 and len(word) >= 3:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[: i + 1] + word[i] + word[i + 1 :]
    return word[:i] + _neighbour(word[i], rng) + word[i + 1 :]


def _map_words(text: str, p: float, rng: random.Random, fn: Callable[[str, random.Random], str | None]) -> str:
    def repl(m: re.Match[str]) -> str:
        if rng.random() >= p:
            return m.group(0)
        out = fn(m.group(0), rng)
        return m.group(0) if out is None else out

    return WORD.sub(repl, text)


def typos(text: str, severity: int, seed: int = 0) -> str:
    _check(severity)
    if severity == 0:
        return text
    return _map_words(text, RATES[severity], _rng(seed, "typos"), lambda w, r: _edit_word(w, r) if len(w) >= 2 else None)


def casing(text: str, severity: int, seed: int = 0) -> str:
    _check(severity)
    if severity == 0:
        return text

    def recase(w: str, r: random.Random) -> str:
        options = [v for v in (w.upper(), w.title(), w.lower()) if v != w]
        return r.choice(options) if options else w

    return _map_words(text, RATES[severity], _rng(seed, "casing"), recase)


def whitespace(text: str, severity: int, seed: int = 0) -> str:
    _check(severity)
    if severity == 0:
        return text
    rng, p = _rng(seed, "whitespace"), RATES[severity]
    out = []
    for ch in text:
        if ch == " " and rng.random() < p:
            out.append(rng.choice(("  ", "\n", "")))
        else:
            out.append(ch)
    return "".join(out)


def word_order(text: str, severity: int, seed: int = 0) -> str:
    _check(severity)
    if severity == 0:
        return text
    rng, p = _rng(seed, "word_order"), RATES[severity]
    tokens = text.split(" ")
    i = 0
    while i < len(tokens) - 1:
        if rng.random() < p:
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
            i += 2
        else:
            i += 1
    return " ".join(tokens)


def code_switch(text: str, severity: int, seed: int = 0) -> str:
    _check(severity)
    if severity == 0:
        return text

    def translate(w: str, r: random.Random) -> str | None:
        es = EN_ES.get(w.lower())
        if es is None:
            return None
        if w.isupper() and len(w) > 1:
            return es.upper()
        return es[0].upper() + es[1:] if w[0].isupper() else es

    # the rate applies to lexicon words only: draw only for words the lexicon knows
    rng, p = _rng(seed, "code_switch"), RATES[severity]

    def repl(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.lower() not in EN_ES or rng.random() >= p:
            return w
        return translate(w, rng) or w

    return WORD.sub(repl, text)


def _check(severity: int) -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity}")


PERTURBATIONS: dict[str, Callable[[str, int, int], str]] = {
    "typos": typos, "casing": casing, "whitespace": whitespace, "word_order": word_order, "code_switch": code_switch,
}


def perturb(text: str, name: str, severity: int, seed: int = 0) -> str:
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown text perturbation '{name}'; valid: {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name](text, severity, seed)


def scrambled(text: str, seed: int = 0) -> str:
    """`text` with its characters in a seeded random order: the same characters, no language.
    A model that reads text finds it far less likely than the original; one that ignores what it
    reads (uniform probabilities) cannot tell them apart, so it is the baseline of text robustness."""
    chars = list(text)
    _rng(seed, "scrambled").shuffle(chars)
    return "".join(chars)


OUT_OF_DISTRIBUTION: dict[str, tuple[str, ...]] = {
    "code": (
        "def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)\n",
        "for (int i = 0; i < n; ++i) {\n    if (a[i] > best) best = a[i];\n}\nreturn best;\n",
        "import numpy as np\nx = np.arange(10)\nprint(x.reshape(2, 5).sum(axis=1))\n",
        "SELECT name, COUNT(*) FROM orders WHERE total > 100 GROUP BY name ORDER BY 2 DESC;",
        "<div class=\"card\"><h2>{{ title }}</h2><p>{{ body | safe }}</p></div>",
        "const add = (a, b) => a + b;\nmodule.exports = { add };\n",
    ),
    "numbers": (
        "3.14159 2.71828 1.41421 1.73205 0.57721 1.61803 2.30258 0.69314",
        "2024-03-01 17:45:09 UTC, 48.8566 N, 2.3522 E, 35 m, 1013.25 hPa",
        "id,qty,price\n1,4,9.99\n2,12,0.45\n3,7,120.00\n4,1,3.50\n",
        "+44 20 7946 0958, 0x7FFF_FFFF, 1e-9, 6.022e23, 299792458",
        "1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987 1597 2584 4181",
        "Invoice 00417: 3 x 19.90 = 59.70; VAT 20% = 11.94; total 71.64",
    ),
}
