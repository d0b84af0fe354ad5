"""The small grammar of words users type: `base?key=value&key=value` options and true/false flags.

One syntax for the whole project: `torchscript:gen.pt?latent=64`, `pkg.mod:make?ckpt=a.pt&ema=true`
and `gan?temperature=0.8` are all a base word and its options, parsed here. This module imports
nothing of the package, so every layer may use it.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

from audit.errors import InputError
from audit.messages import did_you_mean

__all__ = ["FLAG_WORDS", "INTEGER_WORD", "NUMBER_WORD", "is_integer_word", "is_number_word", "parse_flag", "parse_options",
           "split_options", "shown"]

FLAG_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
"""The words a true/false value may be written as (any case)."""


INTEGER_WORD = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*", re.ASCII)
"""An integer as users type it: ASCII digits and an optional sign. int() also reads '1_000' and
other scripts' digits ('٣٢' is 32, '１２' is 12), which no one means on a command line."""
NUMBER_WORD = re.compile(r"[ \t]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t]*", re.ASCII)
"""A finite decimal number as users type it (float() also reads 'nan', 'inf', '1_0.5')."""


def is_integer_word(value: str) -> bool:
    return INTEGER_WORD.fullmatch(value) is not None


def is_number_word(value: str) -> bool:
    return NUMBER_WORD.fullmatch(value) is not None and math.isfinite(float(value))


def shown(value: str, limit: int = 40) -> str:
    """A user's word as an error message quotes it: cut, so one line stays one short line."""
    return value if len(value) <= limit else value[:limit] + "..."


def parse_flag(key: str, value: str) -> bool:
    """A true/false word (1/true/yes, 0/false/no, any case): a typo is an error, not False."""
    if value.lower() not in FLAG_WORDS:
        raise InputError(f"'{key}' must be true or false, got '{shown(value)}'.")
    return FLAG_WORDS[value.lower()]


def parse_options(word: str, query: str, allowed: Iterable[str] | None = None, kind: str = "option") -> dict[str, str]:
    """`key=value&key=value` (the part after `?` of `word`) as a dict of raw strings. Every part
    must be key=value with a non-empty value, a key may appear once, and with `allowed` given an
    unknown key is an error naming the valid ones."""
    valid = list(allowed) if allowed is not None else None
    options: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key or not value:
            raise InputError(f"Model '{word}': option '{part}' must be key=value.")
        if valid is not None and key not in valid:
            raise InputError(f"Model '{word}': " + did_you_mean(kind, key, valid))
        if key in options:
            raise InputError(f"Model '{word}': option '{key}' is given twice.")
        options[key] = value
    return options


def split_options(word: str, last: bool = False) -> tuple[str, str]:
    """(base, query) of `base?query`; ('word', '') without a `?`. `last` splits at the last `?`
    (a file path before it may hold one), otherwise at the first (an import path holds none)."""
    if "?" not in word:
        return word, ""
    base, _, query = word.rpartition("?") if last else word.partition("?")
    if not query:  # `gan?` had run as a model named 'gan?'
        raise InputError(f"Model '{word}': nothing follows '?'; give key=value options after it, or drop the '?'.")
    return base, query
