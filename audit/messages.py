"""One-line messages shared by every error path: unknown names and exceptions shown in a line.

Every error `audit` prints is one line (see audit.errors); these helpers build the parts that
many modules need, so they import nothing of the package and anyone may use them.
"""

from __future__ import annotations

import difflib
import unicodedata

__all__ = ["did_you_mean", "one_line", "printable", "printable_tree"]


def did_you_mean(kind: str, name: str, valid: list[str]) -> str:
    """The one-line message for an unknown name: close matches first, then every valid name."""
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"Unknown {kind} '{name}'.{hint} Available: {', '.join(valid) or '(none)'}."


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line; for TorchScript errors, the final line that says what
    went wrong (not the serialized TorchScript traceback before it)."""
    text = str(exc)
    if "Traceback of TorchScript" in text:
        lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
        text = lines[-1] if lines else text
        head, sep, rest = text.partition(": ")
        if sep and head.endswith(("Error", "Exception")) and head.isidentifier():
            text = rest  # the caller names the exception type
    text = printable(" ".join(text.split()))
    return text[:limit] + ("..." if len(text) > limit else "")


def printable(text: str) -> str:
    """`text` with its control and format characters (ESC, BEL, carriage return, bidi overrides)
    written as escapes (`\\x1b`): a message from model code then cannot move the terminal's cursor,
    retitle it, overwrite a line or reorder one in a CI log."""
    if text.isprintable():
        return text
    return "".join(c if c == " " or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else c.encode("unicode_escape").decode("ascii") for c in text)



def printable_tree(obj: object, keep: str = "") -> object:
    """A copy of a JSON-like value (a results.json read back) with every string, keys included,
    made `printable`, except the characters of `keep` (e.g. "\\n" in text samples): what a
    hand-edited or hostile file holds is shown escaped, never written raw to a terminal or report."""
    if isinstance(obj, str):
        return "".join(c if c in keep else printable(c) for c in obj) if keep else printable(obj)
    if isinstance(obj, dict):
        return {printable(k) if isinstance(k, str) else k: printable_tree(v, keep) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [printable_tree(v, keep) for v in obj]
    return obj
