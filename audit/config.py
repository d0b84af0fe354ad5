"""RunConfig: the words of `audit run` turned into a validated configuration.

`key=value` words and `--key value` options are the same thing; lists are comma-separated.
Every error names the bad word and the valid choices.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from audit.errors import InputError, plain_text
from audit.verdicts import FAIL_ON
from audit.words import FLAG_WORDS, is_integer_word, parse_flag  # noqa: F401  (re-exported: audit train reads them here)

RUN_KEYS: dict[str, str] = {
    "suite": "suite to run: a name (audit list suites) or a suite file (*.toml)",
    "model": "models, comma-separated: registered names or package.module:factory paths (either with ?key=value&... factory arguments), hf:/torchscript: words, models files (*.toml); alias models",
    "precision": "precision variants, comma-separated (audit list precisions); default fp32",
    "device": "cpu, cuda or auto; default cpu",
    "n": "samples per model for sample-based checks: 2..16384; default from the suite",
    "seed": "random seed for sampling and bootstrap: 0..2147483647 (2**31 - 1); default 0",
    "check": "run only these checks of the suite, comma-separated",
    "policy": "TOML policy file of gates (adds to and overrides the suite's default gates)",
    "out": "folder the run directory is created in; default reports",
    "bootstrap": "bootstrap resamples for confidence intervals: 0 (none) or 20..10000; default 500",
    "fail_on": "which failed gates fail the run: error (default), warn or never",
    "data": "real reference images for image metrics: a folder of PNG/JPEG images or an .npz (x [N,C,H,W], optional y); default the bundled digits",
    "text": "held-out text for language-model metrics: a UTF-8 file, documents separated by blank lines (else one per line); default bundled TinyStories",
    "evaluator": "image evaluator (features + logits): inception (FID's Inception-v3; weights from a local file), a TorchScript file, package.module:factory, or clip:<dir> / dinov2:<dir> (a local Hugging Face model folder; features only); default the bundled digits CNN",
    "prompts": "prompts for text-to-image models: a UTF-8 file, one prompt per line (sample i gets line i mod the number of lines)",
    "attributes": "attribute classifier for image fairness: package.module:factory or a TorchScript file mapping images [N,C,H,W] in [0,1] to one group label (int or str) per image; default: group by the evaluator's classes",
    "executor": "where the (model, precision) units run: local (default, this process, one after another) or ray (Ray tasks; needs the ray extra)",
    "ray_address": "with executor=ray: auto (default: the running cluster, else a local one on this machine's CPUs) or a cluster address (host:port, ray://host:port)",
    "cache": "on (default) or off: read and write generated samples, evaluator features and text generations in the sample cache across runs ($AUDIT_CACHE_DIR, else ~/.cache/audit/samples; audit cache info|clear)",
    "timeout": "seconds each model/precision may run (load and all its checks) before it gets error records and the run goes on: 1..2592000 (30 days), or 0 for no limit; default 1800",
}
KEY_ALIASES = {"models": "model", "precisions": "precision", "checks": "check", "suite_name": "suite"}

DEVICES = ("cpu", "cuda", "auto")
EXECUTORS = ("local", "ray")

MAX_SEED = 2**31 - 1
"""Largest seed of `audit run`, `audit train` and `audit check-model`. numpy's legacy seeding and
scikit-learn's `random_state` refuse seeds >= 2**32 (torch's refuse >= 2**64), and audit derives
seeds by adding offsets (seed + 1, seed + prompt index < n, the detectors' seed + 1_000_000): with
2**31 - 1 every derived seed stays below 2**32, valid for every library."""
MAX_N = 16_384
"""Largest `n`: the quality suite holds n x n float64 matrices (fake-feature distances, KID kernels)
and [bootstrap, n] count matrices. Measured peak of those metrics above the process: 0.73 GiB at
n=4096 with 2500 resamples, 2.4 GiB at n=8192 with 5000; extrapolated 10-12 GiB at this bound with
MAX_BOOTSTRAP resamples, which a 24 GB machine holds beside the models (n=32768 would need ~40)."""
MAX_BOOTSTRAP = 10_000
"""Largest `bootstrap`: resamples cost time and [bootstrap, n] memory linearly (see MAX_N)."""
MAX_TIMEOUT = 30 * 24 * 3600
"""Largest `timeout` in seconds (0 is no limit): the interval timer overflows near 9.2e9 s."""


@dataclass
class RunConfig:
    """Everything a run needs to know, as given (defaults filled from the suite later)."""

    suite: str
    models: list[str] | None = None
    precisions: list[str] = field(default_factory=lambda: ["fp32"])
    device: str = "cpu"
    n: int | None = None
    seed: int = 0
    checks: list[str] | None = None
    policy: Path | None = None
    out: Path = Path("reports")
    bootstrap: int = 500
    fail_on: str = "error"
    data: Path | None = None
    text: Path | None = None
    evaluator: str | None = None
    timeout: int = 1800
    attributes: str | None = None
    prompts: Path | None = None
    cache: bool = True
    """Read and write the persistent sample cache (audit.sample_cache); `cache=off` does neither."""
    executor: str = "local"
    ray_address: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["policy"] = str(self.policy) if self.policy else None
        d["out"] = str(self.out)
        d["data"] = str(self.data) if self.data else None
        d["text"] = str(self.text) if self.text else None
        d["prompts"] = str(self.prompts) if self.prompts else None
        return d


def split_words(words: list[str], allowed: dict[str, str]) -> dict[str, str]:
    """Parse `key=value`, `--key value` and `--key=value` words into a dict of raw strings."""
    raw: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = plain_text(words[i], "The word")  # model words, suite names, out= paths... (README, Fail closed)
        if word.startswith("--"):
            body = word[2:]
            if "=" in body:
                key, value = body.split("=", 1)
            else:
                if i + 1 >= len(words):
                    raise InputError(f"Option '{word}' needs a value.")
                key, value = body, words[i + 1]
                i += 1
        elif "=" in word:
            key, value = word.split("=", 1)
        else:
            raise InputError(f"Unexpected word '{word}': give settings as key=value (keys: {', '.join(allowed)}).")
        key = key.replace("-", "_")
        key = KEY_ALIASES.get(key, key)
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise InputError(f"Unknown key '{key}'.{hint} Valid keys: {', '.join(allowed)}.")
        if key in raw:
            raise InputError(f"Key '{key}' is given twice.")
        raw[key] = value
        i += 1
    return raw


def _shown(value: str, limit: int = 40) -> str:
    """A user's word as an error message quotes it: cut, so one line stays one short line."""
    return value if len(value) <= limit else value[:limit] + "..."


def _int(key: str, value: str, minimum: int, maximum: int | None = None) -> int:
    """An integer word in minimum..maximum; the error names the key and the valid range."""
    valid = f"at least {minimum}" if maximum is None else f"in {minimum}..{maximum}"
    if not is_integer_word(str(value)):
        raise InputError(f"'{key}' must be an integer {valid}, got '{_shown(value)}'.")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        raise InputError(f"'{key}' must be an integer {valid}, got {_shown(value.strip())}.")
    return number


def parse_seed(value: str) -> int:
    """A seed word of run, train or check-model: 0..MAX_SEED (see MAX_SEED)."""
    return _int("seed", value, 0, MAX_SEED)


def parse_n(value: str, minimum: int = 2) -> int:
    """A sample count word: minimum..MAX_N (see MAX_N)."""
    return _int("n", value, minimum, MAX_N)


def require_device(device: str) -> str:
    """`device` itself ('auto' resolved: CUDA when present); InputError when CUDA is asked for
    and there is none (audit.devices.resolve_device)."""
    from audit.devices import resolve_device

    return resolve_device(device)


def _list(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise InputError("An empty list was given.")
    return items


def _distinct_list(key: str, value: str) -> list[str]:
    """`_list`, refusing a name given twice (one line, exit 2), as two models of one name are
    refused: a precision or check listed twice would run twice and write duplicate records."""
    items = _list(value)
    twice = next((item for i, item in enumerate(items) if item in items[:i]), None)
    if twice is not None:
        raise InputError(f"'{key}' names '{_shown(twice)}' twice ({key}={_shown(value)}): name each {key} once.")
    return items


def _choice(key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(f"Unknown {key} '{value}'. Valid: {', '.join(choices)}.")
    return value


_PARSERS: dict[str, Callable[[str], tuple[str, Any]]] = {
    "suite": lambda v: ("suite", v),
    "model": lambda v: ("models", _list(v)),
    "precision": lambda v: ("precisions", _distinct_list("precision", v)),
    "device": lambda v: ("device", _choice("device", v, DEVICES)),
    "n": lambda v: ("n", parse_n(v)),
    "seed": lambda v: ("seed", parse_seed(v)),
    "check": lambda v: ("checks", _distinct_list("check", v)),
    "policy": lambda v: ("policy", Path(_nonempty("policy", v, "a policy TOML file"))),
    "out": lambda v: ("out", Path(_nonempty("out", v, "a folder (default reports)"))),
    "bootstrap": lambda v: ("bootstrap", _int("bootstrap", v, 0, MAX_BOOTSTRAP)),
    "fail_on": lambda v: ("fail_on", _choice("fail_on", v, FAIL_ON)),
    "data": lambda v: ("data", _existing("data", v)),
    "text": lambda v: ("text", _existing("text", v, file=True)),
    "evaluator": lambda v: ("evaluator", _evaluator_word(v)),
    "timeout": lambda v: ("timeout", _int("timeout", v, 0, MAX_TIMEOUT)),
    "attributes": lambda v: ("attributes", _attributes_word(v)),
    "prompts": lambda v: ("prompts", _existing("prompts", v, file=True)),
    "cache": lambda v: ("cache", _on_off("cache", v)),
    "executor": lambda v: ("executor", _choice("executor", v, EXECUTORS)),
    "ray_address": lambda v: ("ray_address", _nonempty("ray_address", v)),
}


def _nonempty(key: str, value: str, give: str = "auto or a cluster address") -> str:
    """`value` stripped; InputError when nothing is left (`out=` alone had written the run into the working folder)."""
    if not value.strip():
        raise InputError(f"'{key}' is empty: give {give}.")
    return value.strip()


def _on_off(key: str, value: str) -> bool:
    """on/off (or a true/false word)."""
    word = value.strip().lower()
    if word in ("on", "off"):
        return word == "on"
    if word in FLAG_WORDS:
        return FLAG_WORDS[word]
    raise InputError(f"'{key}' must be on or off, got '{_shown(value)}'.")


def _existing(key: str, value: str, file: bool = False) -> Path:
    path = Path(value).expanduser()
    if not path.exists():
        raise InputError(f"'{key}' names '{value}', which does not exist.")
    if file and not path.is_file():
        raise InputError(f"'{key}' names '{value}', which is not a file.")
    return path


def _attributes_word(value: str) -> str:
    """A TorchScript file that exists, or a package.module:factory import path (imported and probed when the run is planned)."""
    if Path(value).expanduser().is_file() or (":" in value and Path(value).suffix not in (".pt", ".pth", ".ts")):
        return value
    raise InputError(f"'attributes' names '{value}', which does not exist (give package.module:factory or a TorchScript file).")


@dataclass(frozen=True)
class Prompts:
    """The `prompts=` file read: its prompts in order, its name and sha256 (for the fingerprint)."""

    texts: tuple[str, ...]
    name: str
    sha256: str

    def for_samples(self, n: int) -> list[str]:
        """The prompt of each of n samples: the list cycled, sample i gets prompt i mod P."""
        return [self.texts[i % len(self.texts)] for i in range(n)]


def read_prompts(path: Path) -> Prompts:
    """A UTF-8 file of one prompt per line (blank lines skipped); InputError (one line) when it
    cannot be read, is not UTF-8 text or holds no prompt."""
    import hashlib

    from audit.reference_data import read_utf8_text

    try:
        raw, text = read_utf8_text(path, f"Prompts file '{path}'")
    except OSError as exc:
        raise InputError(f"'prompts' names '{path}', which cannot be read ({exc.strerror or type(exc).__name__}).") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # not splitlines: U+2028 or a form feed is inside a prompt
    texts = tuple(line.strip() for line in lines if line.strip())
    if not texts:
        raise InputError(f"'prompts' names '{path}', which holds no prompt (it is empty or only whitespace): put one prompt per line.")
    return Prompts(texts, path.name, hashlib.sha256(raw).hexdigest())


def _evaluator_word(value: str) -> str:
    """`inception`, a TorchScript file that exists, a package.module:factory import path, or clip:<dir> /
    dinov2:<dir> naming a folder that holds such a model (checked without loading it)."""
    from audit.evaluators.hf_vision import check_hf_vision_dir, split_hf_vision_word

    if value == "inception":  # audit.evaluators.inception; its weights are looked up when the run is planned
        return value
    hf_word = split_hf_vision_word(value)
    if hf_word is not None:
        check_hf_vision_dir(*hf_word)
        return value
    if Path(value).expanduser().is_file() or (":" in value and Path(value).suffix not in (".pt", ".pth", ".ts")):
        return value
    raise InputError(f"'evaluator' names '{value}', which does not exist (give a TorchScript file or package.module:factory).")


def parse_run_words(words: list[str]) -> RunConfig:
    """Turn the words after `audit run` into a RunConfig (names are checked later, in planning)."""
    raw = split_words(words, RUN_KEYS)
    if "suite" not in raw:
        raise InputError("No suite given: say suite=NAME (audit list suites).")
    values = dict(_PARSERS[key](value) for key, value in raw.items())
    if "ray_address" in values and values.get("executor", "local") != "ray":
        raise InputError("'ray_address' is read only with executor=ray: add executor=ray, or leave ray_address out.")
    return RunConfig(**values)


def writable_folder(out: Path) -> Path:
    """Create `out` and write and remove a probe file in it, so a destination that is a file, a
    read-only folder or a path under a file fails (InputError: exit 2) before training, not after."""
    import os
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".audit-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"'out' names '{out}', which is not a writable folder ({exc.strerror or type(exc).__name__}).") from None
    return out
