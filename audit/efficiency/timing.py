"""Interleaved wall-clock timing of model workloads.

On a shared machine the speed of a core drifts with what else runs on it. Timing A for a minute
and then B for a minute puts that drift into the A/B ratio; timing them in alternating rounds
(A B, B A, A B, ...: the order flips every round so neither always runs first) exposes both to
the same drift, and a ratio of medians over rounds, with a bootstrap CI that resamples rounds
(pairs), is what the checks report. Each workload is warmed up first (lazy initialisation,
allocator growth, oneDNN primitive caches, torch.compile's compilation) and timed with
`time.perf_counter` on CPU. A workload on a CUDA device is timed with CUDA events recorded on its
stream around the call, after synchronizing the device (so earlier queued work is not counted),
and read after the end event completes: the GPU time of the call, launch gaps included.

A workload is one call of the model's own API on a fixed input: `sample(batch, seed, labels)` for
image generators (with `steps=` for diffusion samplers that take it), greedy decoding of a fixed
number of new tokens after a fixed-length prompt for language models (EOS ignored, so every call
makes the same number of tokens), or one scoring pass over a fixed number of tokens (prefill).
Language-model prompts are cut from the held-out documents the caller passes: a check passes the
run's (`ctx.heldout_text()`: the `text=` file, else the bundled default).

A workload's output is checked (README, "Fail closed"), never inside the timed region: the
warm-up call's and the last timed call's, each against the contract of the call (images:
audit.adapters.images.validate_images; `generate`: one str per prompt, not all empty; audit's
decoder: every asked token; a prefill: finite logits for every position). A model that returns
nothing, or the wrong thing, fast is a ModelOutputError of that model, never a throughput. Where
the tokens `generate` made are countable (the adapter declares a tokenizer and the caller passes
a counter), `items` is the tokens the checked calls produced (each output capped at the tokens asked
for), not the tokens asked for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from audit.adapters.base import CAUSAL_LM, GENERATE, LOG_PROBS, SAMPLE, TOKENIZER, accepts, has_capability
from audit.adapters.texts import checked_texts
from audit.errors import ModelOutputError
from audit.families import get_family

if TYPE_CHECKING:
    from audit.context import CheckContext

PROMPT_TOKENS = 16
"""Prompt length of the decoding workloads (a held-out document's first tokens)."""
DEFAULT_LM_BATCH = 1
"""Prompts of the language-model workload `default_workload` runs."""


@dataclass
class Workload:
    """One timed call: `fn()` produces `items` units (`unit`: images or tokens); `x` places it on a
    scaling curve."""

    name: str
    fn: Callable[[], Any]
    items: int
    unit: str
    x: float | None = None
    describe: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    """Where the work runs: a CUDA device is timed with CUDA events."""
    validate: Callable[[Any], int] | None = None
    """Checks one call's output against the contract (ModelOutputError naming the model and the
    defect) and returns the units of work it holds; `interleaved` applies it to the warm-up calls and
    the last timed call. None: an output nobody checks (a caller's own function)."""

    def checked(self, output: Any, which: str) -> int:
        """The units of work `output` holds, once `validate` accepted it (`which` call it was)."""
        if self.validate is None:
            return self.items
        try:
            return int(self.validate(output))
        except ModelOutputError as exc:
            raise ModelOutputError(f"{exc} (workload {self.name}, {which} call)") from None


def adapter_device(adapter: Any) -> str:
    return str(getattr(getattr(adapter, "info", None), "device", None) or "cpu")


def time_call(fn: Callable[[], Any], device: str = "cpu") -> float:
    """Seconds one call of `fn` takes: CUDA events around it on a CUDA device (after a
    synchronize), `time.perf_counter` elsewhere."""
    return timed_call(fn, device)[0]


def timed_call(fn: Callable[[], Any], device: str = "cpu") -> tuple[float, Any]:
    """(seconds, output) of one call of `fn`, timed as `time_call` times it; the output is let go
    (or checked) after the clock stops."""
    if not str(device).startswith("cuda"):
        started = time.perf_counter()
        output = fn()
        return time.perf_counter() - started, output
    import torch

    torch.cuda.synchronize(device)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    output = fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000.0, output


def interleaved(
    workloads: Sequence[Workload], rounds: int, warmup: int = 1, repeats: dict[str, int] | None = None,
    meters: dict[str, Any] | None = None, first_calls: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Seconds per call of each workload: `warmup` calls each kept out of the rounds, then `rounds`
    rounds in which every workload runs `repeats[name]` (default 1) times, the order reversed
    every other round; `meters[name]` (a context manager, e.g. an EnergyMeter) wraps that
    workload's timed calls. `first_calls`, when given, receives each workload's first warm-up call
    in seconds: lazy initialisation and torch.compile's compilation, reported apart from the
    steady state. Each workload's warm-up calls and its last timed call are checked by its
    `validate` after their clocks stopped (ModelOutputError on a broken output); where the units
    they hold differ from `items`, `items` becomes the fewest of them (`meta["items_checked"]`).
    Returns {name: array [rounds, repeats]}."""
    import contextlib

    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    repeats = repeats or {}
    meters = meters or {}
    checked: dict[str, list[int]] = {w.name: [] for w in workloads}
    for w in workloads:
        for k in range(warmup):
            if k == 0 and first_calls is not None:
                first_calls[w.name], output = timed_call(w.fn, w.device)
            else:
                output = w.fn()
            checked[w.name].append(w.checked(output, "warm-up"))
            del output
    times = {w.name: np.zeros((rounds, max(1, repeats.get(w.name, 1)))) for w in workloads}
    for r in range(rounds):
        order = list(workloads) if r % 2 == 0 else list(reversed(workloads))
        for w in order:
            meter = meters.get(w.name) or contextlib.nullcontext()
            calls = times[w.name].shape[1]
            for k in range(calls):
                with meter:
                    times[w.name][r, k], output = timed_call(w.fn, w.device)
                if r == rounds - 1 and k == calls - 1:
                    checked[w.name].append(w.checked(output, "last timed"))
                del output
    for w in workloads:
        if w.validate is not None:
            w.meta["items_checked"] = checked[w.name]
            w.items = min([w.items, *checked[w.name]])
    return times


def warm_up_overhead(first_call_s: float, median_s: float) -> float:
    """Seconds a workload's first call took beyond a steady-state call (never below 0): lazy
    initialisation and, for a compiled variant, torch.compile's compilation."""
    return max(0.0, first_call_s - median_s)


def quantile_ci(values: np.ndarray, q: float, resamples: int, seed: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """The q-quantile of `values` with a percentile-bootstrap CI (resamples=0: no interval)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    point = float(np.quantile(values, q))
    if resamples <= 0 or len(values) < 2:
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.quantile(values[rng.integers(0, len(values), (resamples, len(values)))], q, axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return point, float(low), float(high)


def ratio_of_medians_ci(numerator: np.ndarray, denominator: np.ndarray, resamples: int, seed: int) -> tuple[float, float, float]:
    """median(numerator) / median(denominator) over paired rounds, with a paired bootstrap CI
    (round indices resampled jointly; bias-adjusted percentile interval of audit.stats)."""
    from audit.stats import bootstrap_ci

    pairs = np.stack([np.asarray(numerator, float).ravel(), np.asarray(denominator, float).ravel()], axis=1)

    def statistic(rows: np.ndarray) -> float:
        return float(np.median(rows[:, 0]) / np.median(rows[:, 1]))

    low, high = bootstrap_ci(statistic, [pairs], resamples, seed)
    return statistic(pairs), low, high


# --- workloads of the adapter contract --------------------------------------------------------



def image_workload(adapter: Any, batch: int, seed: int = 0, steps: int | None = None) -> Workload:
    """`adapter.sample(batch, seed, labels)` with balanced labels where the model is conditional."""
    import torch

    labels = torch.arange(batch) % adapter.num_classes if getattr(adapter, "num_classes", None) else None
    kwargs: dict[str, Any] = {}
    if steps is not None:
        if not accepts(adapter.sample, "steps"):
            raise ValueError(f"model '{adapter.info.name}' sample() takes no steps= argument")
        kwargs["steps"] = int(steps)
    where = f", {steps} steps" if steps is not None else ""
    name = adapter.info.name

    def validate(images: Any) -> int:
        from audit.adapters.images import validate_images

        validate_images(name, images, batch)  # the contract the quality checks hold samples to
        return batch

    return Workload(f"sample[b={batch}{where}]", lambda: adapter.sample(batch, seed, labels=labels, **kwargs), batch, "images",
                    describe=f"sample({batch}, seed={seed}{where})", device=adapter_device(adapter), validate=validate)


def workload_documents(ctx: CheckContext) -> tuple[str, ...]:
    """Held-out documents the language-model workloads cut their prompts from: the run's
    (`text=`, else the bundled default); none for image models, which need no text."""
    if has_capability(ctx.adapter, SAMPLE):
        return ()
    return tuple(ctx.heldout_text().documents)


def prompt_documents(documents: Sequence[str], prompts: int, prompt_tokens: int = PROMPT_TOKENS) -> tuple[str, ...]:
    """The leading documents `prompts` prompts of `prompt_tokens` tokens draw from: each document
    adds at least one token after the start token, so prompts x prompt_tokens documents suffice
    (what a child process needs to build the same workload)."""
    return tuple(documents[: prompts * prompt_tokens])


def _require_documents(adapter: Any, documents: Sequence[str]) -> None:
    if not documents:
        raise ValueError(f"model '{adapter.info.name}': a language-model workload needs held-out documents for its prompts")


def _story_ids(adapter: Any, documents: Sequence[str], count: int, length: int) -> list[list[int]]:
    """`count` token sequences of exactly `length` tokens: held-out documents (concatenated when
    short) encoded by the adapter, as the model would see them (start token first)."""
    _require_documents(adapter, documents)
    out, i = [], 0
    while len(out) < count:
        ids: list[int] = []
        while len(ids) < length:
            piece = adapter.encode(documents[i % len(documents)])
            ids += piece if not ids else piece[1:]
            i += 1
        out.append(ids[:length])
    return out


def checked_generations(model: str, outputs: Any, prompts: int) -> list[str]:
    """`outputs` of `generate(prompts...)` once they are one str per prompt, not all empty (or
    whitespace); ModelOutputError naming the model and the defect otherwise."""
    texts = checked_texts(model, outputs, prompts)
    if not any(t.strip() for t in texts):
        raise ModelOutputError(f"model '{model}' generate() returned an empty (or whitespace-only) str for every one of {prompts} prompts")
    return texts


def decode_workload(
    adapter: Any, batch: int, new_tokens: int, documents: Sequence[str], seed: int = 0, prompt_tokens: int = PROMPT_TOKENS,
    count_tokens: Callable[[Any, str], int] | None = None,
) -> Workload:
    """Greedy decoding of `new_tokens` tokens for `batch` prompts of `prompt_tokens` tokens each,
    cut from the held-out `documents`.

    Adapters that declare CAUSAL_LM (the bundled GPT-2, local Hugging Face LMs) decode with
    audit's KV-cache decoder (audit.lm) with EOS disabled, so every call makes exactly batch x new_tokens
    tokens (checked); others call `generate` (which may stop early at EOS), whose output must be one
    str per prompt, not all empty. Where the adapter declares a tokenizer and `count_tokens(adapter,
    text)` is given (audit.text_generation.token_count), `items` becomes the tokens the checked calls
    produced, each output capped at `new_tokens`; otherwise batch x new_tokens is an upper bound."""
    name = adapter.info.name
    if has_capability(adapter, CAUSAL_LM):
        from audit.lm import decode

        prompts = _story_ids(adapter, documents, batch, prompt_tokens)
        fn = lambda: decode(adapter.model, prompts, new_tokens, seed, eos_id=-1, greedy=True)  # noqa: E731
        how = "bundled KV-cache decoder, EOS ignored"

        def validate(out: Any) -> int:
            made = [len(o) for o in out] if isinstance(out, list) and all(isinstance(o, list) for o in out) else None
            if made is None or len(made) != batch or any(m != new_tokens for m in made):
                raise ModelOutputError(f"model '{name}' decoded {made} tokens for {batch} prompts, expected {new_tokens} each")
            return batch * new_tokens
    elif has_capability(adapter, GENERATE):
        _require_documents(adapter, documents)
        texts = [" ".join(s.split()[:prompt_tokens]) for s in documents[:batch]]
        kwargs = {"greedy": True} if accepts(adapter.generate, "greedy") else {}
        fn = lambda: adapter.generate(texts, new_tokens, seed, **kwargs)  # noqa: E731
        counted = count_tokens is not None and has_capability(adapter, TOKENIZER)
        how = ("adapter.generate; tokens counted by the adapter's tokenizer, at most the asked number per prompt" if counted
               else "adapter.generate (may stop at EOS: tokens asked for, an upper bound)")

        def validate(out: Any) -> int:
            outputs = checked_generations(name, out, len(texts))
            if not counted:
                return len(texts) * new_tokens
            made = sum(min(max(0, int(count_tokens(adapter, o))), new_tokens) for o in outputs)  # type: ignore[misc]
            if made < 1:
                raise ModelOutputError(f"model '{name}' generate() produced no tokens for {len(texts)} prompts (by its tokenizer)")
            return made
    else:
        raise ValueError(f"model '{name}' can neither decode nor generate")
    return Workload(f"decode[b={batch}]", fn, batch * new_tokens, "tokens",
                    describe=f"greedy decoding of {new_tokens} new tokens after a {prompt_tokens}-token prompt, batch {batch} ({how})",
                    device=adapter_device(adapter), validate=validate)


def prefill_workload(adapter: Any, tokens: int, documents: Sequence[str]) -> Workload:
    """One forward pass over `tokens` tokens of the held-out `documents` at batch 1 (scoring a
    prompt: the prefill)."""
    import torch

    if not has_capability(adapter, CAUSAL_LM):
        raise ValueError(f"model '{adapter.info.name}' does not declare {CAUSAL_LM}: a prefill workload runs its `model`")
    ids = torch.tensor(_story_ids(adapter, documents, 1, tokens))
    device = next(adapter.model.parameters()).device

    @torch.no_grad()
    def fn() -> Any:
        return adapter.model(input_ids=ids.to(device)).logits

    def validate(logits: Any) -> int:
        shape = tuple(getattr(logits, "shape", ()))
        if not isinstance(logits, torch.Tensor) or len(shape) != 3 or shape[:2] != (1, tokens) or not logits.is_floating_point():
            raise ModelOutputError(f"model '{adapter.info.name}' model(input_ids [1, {tokens}]).logits is "
                                   f"{type(logits).__name__} {shape}, expected float logits [1, {tokens}, vocabulary]")
        bad = int((~torch.isfinite(logits)).sum().item())
        if bad:
            raise ModelOutputError(f"model '{adapter.info.name}' model(input_ids [1, {tokens}]).logits holds {bad} non-finite values")
        return tokens

    return Workload(f"prefill[L={tokens}]", fn, tokens, "tokens", describe=f"one forward pass over {tokens} tokens, batch 1",
                    device=str(device), validate=validate)


def default_workload(
    adapter: Any, batch: int | None = None, new_tokens: int = 32, seed: int = 0, documents: Sequence[str] = (),
    count_tokens: Callable[[Any, str], int] | None = None,
) -> Workload:
    """The workload the memory probe and the speedup check run: a batch of samples for image
    models (the family's `workload_batch`: 64; 8 for diffusion), batch-1 greedy decoding of 32
    tokens after prompts cut from the held-out `documents` for language models (`count_tokens`:
    see `decode_workload`)."""
    if has_capability(adapter, SAMPLE):
        return image_workload(adapter, batch or get_family(adapter.info.family).workload_batch, seed)
    if has_capability(adapter, GENERATE) or has_capability(adapter, LOG_PROBS):
        return decode_workload(adapter, batch or DEFAULT_LM_BATCH, new_tokens, documents, seed, count_tokens=count_tokens)
    raise ValueError(f"model '{adapter.info.name}' has neither sample nor generate: nothing to time")
