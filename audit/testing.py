"""The ModelAdapter contract as checks you run in your own test suite, in the spirit of
scikit-learn's `check_estimator`.

    from audit.testing import check_adapter
    check_adapter(my_adapter)            # AssertionError "<rule>: <what is wrong>" on the first broken rule

    import pytest
    from audit.testing import adapter_checks

    @pytest.mark.parametrize("check", adapter_checks(load_my_adapter), ids=str)
    def test_contract(check):
        check()                          # one test per rule

`audit check-model model=WORD` runs the same rules from the command line.

Pass an adapter or a zero-argument factory that builds one; with a factory the precision rule
works on a fresh adapter (with an adapter, on a deep copy), so the others see it untouched.
Rules (each id is the prefix of its failure message):

- `info`: `info.name` a non-empty string, `info.family` one of audit.families.FAMILY_NAMES, `info.params` an int >= 0,
  `capabilities` a set of known capability names.
- `modules`: `modules()` a dict of name -> torch.nn.Module. It may be empty (a model without
  torch networks): such a model is audited in fp32 only, since precision variants cast or
  quantize these modules (the run records the other precisions' checks `skipped`).
- `capabilities`: every declared capability's methods and attributes exist (and `sample` is not
  the base class's); CONDITIONAL needs `num_classes` >= 2.
- `sample.shape`, `sample.range`, `sample.determinism`: `sample(n, seed)` returns a float tensor
  [n, C, H, W] (matching `info.image_shape` when set) of finite values in [0, 1]; the same seed
  gives the same images whatever the global RNG state, and another seed other images.
- `conditional`: `sample(n, seed, labels)` honours labels below `num_classes` (a different label
  changes the images).
- `log_likelihood`, `elbo`: a finite float tensor [N] for N images, the same on a second call.
- `denoising_loss`: `denoising_loss(x, t, noise)` a finite float tensor [N] of values >= 0 for N
  images, the same on a second call with the same noise.
- `encode_decode`: `encode(x)` (a tensor or a tuple whose first item is the latent) keeps the
  batch; `decode` of that latent gives images of x's shape in [0, 1].
- `latent`: `latent_shape` a non-empty tuple of positive ints; `sample(n, seed, z=z)` (with
  balanced labels for a conditional model) for z ~ N(0, I) of shape [n, *latent_shape] returns n
  valid images in [0, 1], the same for the same z whatever the global RNG state, and other images
  for another z.
- `text_to_image`: `sample(n, seed, prompts=[...])` (n prompts, two different ones alternating)
  returns n valid images in [0, 1], the same for the same prompts whatever the global RNG state,
  and other images when the prompts are swapped; TEXT_TO_IMAGE needs SAMPLE too.
- `log_probs`: one finite 1-d tensor of log-probabilities (<= 0) per text, non-empty for non-empty
  text, the same on a second call and the same whether a text is scored alone or in a batch; a
  text's leading words score as the text's first values (tokenization splits at word boundaries:
  the fairness and membership-inference checks count tokens this way, with no tokenizer).
- `generate`: a list of one str per prompt; the same seed gives the same text whatever the global
  RNG state.
- `sample_table`: a pandas DataFrame of n rows that the run accepts (`audit.fairness.tabular.coerce_table`
  against the UCI Adult schema: every column named once, values in the training categories, finite
  numbers); the same seed gives the same rows.
- `tokenizer`: `tokenizer.encode(text)` gives a non-empty list of int ids (or an object whose
  `.ids` is one) and `tokenizer.decode(ids)` a str.
- `causal_lm`: `n_positions` an int >= 2; `encode(text)` a non-empty list of int ids below
  `model.config.vocab_size`; `model(input_ids=...)` finite `.logits` of shape [1, L, vocab_size],
  causal: changing the last id leaves the earlier positions' logits as they were.
- `precision`: after the `precision` variant (default bf16) every floating parameter of
  `modules()` has its dtype and the model still produces valid output, which differs from the
  fp32 output (identical output means `modules()` does not return the networks actually used).
  Where the variant cannot run for this model (no modules, no Linear layer for int8: what
  `audit.precision.apply_precision` refuses and the runner records `skipped`) the rule does not
  apply: `run_adapter_checks` reports it as not applicable, never as a failure.

A rule that does not apply returns its reason from `AdapterCheck.run()`; calling the check
returns quietly, and `check_adapter` goes on to the next rule.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, NoReturn

from audit.adapters.base import (
    CAPABILITIES,
    CAUSAL_LM,
    CONDITIONAL,
    DENOISING_LOSS,
    ELBO,
    ENCODE_DECODE,
    GENERATE,
    LATENT,
    LOG_LIKELIHOOD,
    LOG_PROBS,
    SAMPLE,
    SAMPLE_TABLE,
    TEXT_TO_IMAGE,
    TOKENIZER,
    ModelAdapter,
    accepts,
)
from audit.adapters.images import RANGE_TOLERANCE
from audit.errors import NotApplicable
from audit.families import FAMILY_NAMES

REFERENCE_PRECISION = "fp32"
"""The precision adapters are built in: its variant is expected to give bit-identical output."""
BATCH_TOLERANCE = 1e-3
"""Max |difference| in nats between a text scored alone and in a batch (float32 padding noise)."""
TEXTS = ("Once upon a time there was a little dog.", "The sun is hot.", "Tom and Sue played in the park all day long.")
PROMPTS = ("Once upon a time", "The cat")
IMAGE_PROMPTS = ("a red circle on a white background", "a photo of a green forest")
"""Two prompts that ask for different pictures: a text-to-image model's images must follow them."""
DENOISING_TIMESTEP = 25
"""The timestep the kit noises images to (the privacy attack's lowest)."""
LATENT_SHIFT = 0.5
"""Added to every latent entry: a model whose images do not change with it ignores `z`."""
METHODS = {
    SAMPLE: ("sample",),
    LOG_LIKELIHOOD: ("log_likelihood",),
    ELBO: ("elbo",),
    ENCODE_DECODE: ("encode", "decode"),
    DENOISING_LOSS: ("denoising_loss",),
    LOG_PROBS: ("log_probs",),
    GENERATE: ("generate",),
    CAUSAL_LM: ("encode",),
    SAMPLE_TABLE: ("sample_table",),
    LATENT: ("sample",),
    TEXT_TO_IMAGE: ("sample",),
}
"""The methods each capability promises."""
ATTRIBUTES = {
    TOKENIZER: ("tokenizer",),
    CAUSAL_LM: ("model", "n_positions"),
    LATENT: ("latent_shape",),
}
"""The attributes each capability promises (not None)."""


class ContractError(AssertionError):
    """A broken rule of the adapter contract; the message starts with the rule's id."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message


@dataclass
class AdapterCheck:
    """One rule bound to an adapter: call it to run the rule (raises ContractError)."""

    rule: str
    fn: Callable[["_Subject"], None]
    subject: "_Subject"

    def __call__(self) -> None:
        self.run()

    def run(self) -> str | None:
        """Run the rule: None when it holds, the reason when it does not apply to this adapter
        (e.g. a precision the model cannot run); ContractError when it is broken."""
        try:
            self.fn(self.subject)
        except ContractError:
            raise
        except NotApplicable as exc:
            return str(exc)
        except Exception as exc:  # the adapter raised: the rule is broken, say where
            from audit.messages import one_line

            raise ContractError(self.rule, f"raised {type(exc).__name__}: {one_line(exc)}") from exc
        return None

    def __str__(self) -> str:
        return self.rule

    __repr__ = __str__


@dataclass
class Outcome:
    """One rule's result; a rule that does not apply passed, with `skipped` set and the reason."""

    rule: str
    passed: bool
    message: str = ""
    skipped: bool = False


class _Subject:
    """The adapter under test, how to get a fresh copy, and the settings of the run."""

    def __init__(self, adapter_or_factory: Any, n: int, seed: int, precision: str, device: str, fresh: Callable[[], Any] | None = None) -> None:
        if hasattr(adapter_or_factory, "info") or not callable(adapter_or_factory):
            self.adapter, self.factory = adapter_or_factory, fresh
        else:
            self.factory = fresh or adapter_or_factory
            self.adapter = adapter_or_factory()
        self.n, self.seed, self.precision, self.device = n, seed, precision, device

    @property
    def name(self) -> str:
        info = getattr(self.adapter, "info", None)
        return str(getattr(info, "name", type(self.adapter).__name__))

    def caps(self) -> frozenset[str]:
        return frozenset(getattr(self.adapter, "capabilities", ()) or ())

    def fresh(self) -> Any:
        if self.factory is not None:
            return self.factory()
        return copy.deepcopy(self.adapter)


def _fail(rule: str, message: str) -> NoReturn:
    raise ContractError(rule, message)


def _with_global_seed(seed: int, fn: Callable[[], Any]) -> Any:
    """Call `fn` with the global torch RNG seeded to `seed`, then restore the caller's RNG state."""
    import torch

    state = torch.get_rng_state()
    try:
        torch.manual_seed(seed)
        return fn()
    finally:
        torch.set_rng_state(state)


# --- rules -------------------------------------------------------------------------------------


def check_info(s: _Subject) -> None:
    a = s.adapter
    info = getattr(a, "info", None)
    if info is None:
        _fail("info", f"{type(a).__name__} has no `info` (a ModelInfo)")
    name = getattr(info, "name", None)
    if not isinstance(name, str) or not name:
        _fail("info", f"info.name must be a non-empty str, got {name!r}")
    family = getattr(info, "family", None)
    if family not in FAMILY_NAMES:
        _fail("info", f"info.family is {family!r}; valid: {', '.join(FAMILY_NAMES)}")
    params = getattr(info, "params", None)
    if not isinstance(params, int) or isinstance(params, bool) or params < 0:
        _fail("info", f"info.params must be an int >= 0, got {params!r}")
    caps = getattr(a, "capabilities", None)
    if not isinstance(caps, (set, frozenset)):
        _fail("info", f"capabilities must be a set or frozenset of capability names, got {type(caps).__name__}")
    unknown = sorted(str(c) for c in caps if c not in CAPABILITIES)
    if unknown:
        _fail("info", f"unknown capability {', '.join(repr(u) for u in unknown)}; valid: {', '.join(CAPABILITIES)}")


def check_modules(s: _Subject) -> None:
    import torch

    modules = s.adapter.modules() if callable(getattr(s.adapter, "modules", None)) else None
    if not isinstance(modules, dict):
        _fail("modules", f"modules() must return a dict of name -> torch.nn.Module (empty for a model without networks), got {modules!r}: precision variants and efficiency probes work on them")
    for key, module in modules.items():
        if not isinstance(module, torch.nn.Module):
            _fail("modules", f"modules()[{key!r}] is {type(module).__name__}, not a torch.nn.Module")


def check_capabilities(s: _Subject) -> None:
    a = s.adapter
    for cap in sorted(s.caps()):
        for method in METHODS.get(cap, ()):
            fn = getattr(a, method, None)
            if not callable(fn):
                _fail("capabilities", f"declares {cap} but has no {method}() method")
            if method == "sample" and getattr(type(a), "sample", None) is ModelAdapter.sample:
                _fail("capabilities", f"declares {cap} but does not implement sample() (the base class's raises NotImplementedError)")
        for attribute in ATTRIBUTES.get(cap, ()):
            if getattr(a, attribute, None) is None:
                _fail("capabilities", f"declares {cap} but has no `{attribute}` attribute")
    if CONDITIONAL in s.caps():
        k = getattr(a, "num_classes", None)
        if not isinstance(k, int) or isinstance(k, bool) or k < 2:
            _fail("capabilities", f"declares {CONDITIONAL} but num_classes is {k!r} (need an int >= 2)")
        if SAMPLE not in s.caps():
            _fail("capabilities", f"declares {CONDITIONAL} without {SAMPLE}")
    if TEXT_TO_IMAGE in s.caps() and SAMPLE not in s.caps():
        _fail("capabilities", f"declares {TEXT_TO_IMAGE} without {SAMPLE}")


def _images(rule: str, call: str, x: Any, n: int, image_shape: Any = None) -> Any:
    import torch

    if not isinstance(x, torch.Tensor):
        _fail(rule, f"{call} returned {type(x).__name__}, expected a torch.Tensor [N, C, H, W]")
    if x.ndim != 4 or x.shape[0] != n:
        _fail(rule, f"{call} returned shape {tuple(x.shape)}, expected [{n}, C, H, W]")
    if not x.is_floating_point():
        _fail(rule, f"{call} returned dtype {x.dtype}, expected a float tensor")
    if image_shape and tuple(x.shape[1:]) != tuple(image_shape):
        _fail(rule, f"{call} returned images of shape {tuple(x.shape[1:])} but info.image_shape is {tuple(image_shape)}")
    return x


def _in_range(rule: str, call: str, x: Any) -> None:
    import torch

    bad = int((~torch.isfinite(x)).sum())
    if bad:
        _fail(rule, f"{call} returned {bad} non-finite values (NaN or inf)")
    low, high = float(x.min()), float(x.max())
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        _fail(rule, f"{call} returned values in [{low:.4g}, {high:.4g}]; the contract is [0, 1] (tolerance {RANGE_TOLERANCE:g})")


def check_sample_shape(s: _Subject) -> None:
    shape = getattr(s.adapter.info, "image_shape", None)
    for n in (s.n, 1):
        call = f"sample({n}, seed={s.seed})"
        _images("sample.shape", call, s.adapter.sample(n, s.seed), n, shape)


def check_sample_range(s: _Subject) -> None:
    call = f"sample({s.n}, seed={s.seed})"
    _in_range("sample.range", call, _images("sample.range", call, s.adapter.sample(s.n, s.seed), s.n))


def _max_diff(a: Any, b: Any) -> float:
    return float((a.double() - b.double()).abs().max()) if a.shape == b.shape else float("inf")


def check_sample_determinism(s: _Subject) -> None:
    import torch

    call = f"sample({s.n}, seed={s.seed})"
    first = _with_global_seed(1, lambda: s.adapter.sample(s.n, s.seed))
    second = _with_global_seed(2, lambda: s.adapter.sample(s.n, s.seed))
    if not torch.equal(first, second):
        _fail(
            "sample.determinism",
            f"{call} differs between two calls (max |diff| {_max_diff(first, second):.3g}): draw all randomness from a "
            "torch.Generator seeded with `seed`, not the global RNG",
        )
    other = s.adapter.sample(s.n, s.seed + 1)
    if torch.equal(first, other):
        _fail("sample.determinism", f"sample({s.n}, seed={s.seed + 1}) equals {call}: the seed is ignored")


def check_conditional(s: _Subject) -> None:
    import torch

    k = int(s.adapter.num_classes)
    labels = torch.arange(s.n) % k
    call = f"sample({s.n}, seed={s.seed}, labels=arange % {k})"
    _in_range("conditional", call, _images("conditional", call, s.adapter.sample(s.n, s.seed, labels=labels), s.n))
    zeros = s.adapter.sample(s.n, s.seed, labels=torch.zeros(s.n, dtype=torch.long))
    ones = s.adapter.sample(s.n, s.seed, labels=torch.full((s.n,), k - 1, dtype=torch.long))
    if torch.equal(zeros, ones):
        _fail("conditional", f"sample(..., labels=0) equals sample(..., labels={k - 1}) for the same seed: labels are ignored")


def _own_images(s: _Subject) -> Any:
    if SAMPLE in s.caps():
        return s.adapter.sample(s.n, s.seed).float()
    import torch

    shape = getattr(s.adapter.info, "image_shape", None) or (1, 16, 16)
    return torch.rand(s.n, *shape, generator=torch.Generator().manual_seed(s.seed))


def _per_image(rule: str, call: str, values: Any, n: int) -> Any:
    """`values` must be a finite float tensor [n]: one number per image."""
    import torch

    if not isinstance(values, torch.Tensor) or values.shape != (n,):
        _fail(rule, f"{call} returned {getattr(values, 'shape', type(values).__name__)}, expected a tensor [{n}]")
    if not values.is_floating_point() or not bool(torch.isfinite(values).all()):
        _fail(rule, f"{call} returned non-finite or non-float values")
    return values


def _seeded_bound(rule: str, s: _Subject, method: str) -> None:
    """A per-image bound in nats (`log_likelihood`, `elbo`): shape [N], finite, reproducible."""
    import torch

    x = _own_images(s)
    call = f"{method}(x of shape {tuple(x.shape)})"
    fn = getattr(s.adapter, method)
    first = _per_image(rule, call, fn(x), len(x))
    second = fn(x)
    if not torch.allclose(first.double(), second.double(), rtol=1e-5, atol=1e-4):
        _fail(rule, f"{call} differs between two calls (max |diff| {_max_diff(first, second):.3g} nats): seed its Monte Carlo draws")


def check_log_likelihood(s: _Subject) -> None:
    _seeded_bound("log_likelihood", s, "log_likelihood")


def check_elbo(s: _Subject) -> None:
    _seeded_bound("elbo", s, "elbo")


def check_denoising_loss(s: _Subject) -> None:
    import torch

    x = _own_images(s)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(s.seed))
    call = f"denoising_loss(x of shape {tuple(x.shape)}, t={DENOISING_TIMESTEP}, noise)"
    first = _per_image("denoising_loss", call, s.adapter.denoising_loss(x, DENOISING_TIMESTEP, noise), len(x))
    if float(first.min()) < 0:
        _fail("denoising_loss", f"{call} returned {float(first.min()):.4g} < 0: a mean squared error is >= 0")
    second = s.adapter.denoising_loss(x, DENOISING_TIMESTEP, noise)
    if not torch.allclose(first.double(), second.double(), rtol=1e-5, atol=1e-6):
        _fail("denoising_loss", f"{call} differs between two calls with the same noise (max |diff| {_max_diff(first, second):.3g}): draw no noise of its own")


def check_encode_decode(s: _Subject) -> None:
    import torch

    x = _own_images(s)
    code = s.adapter.encode(x)
    latent = code[0] if isinstance(code, (tuple, list)) else code
    if not isinstance(latent, torch.Tensor) or latent.shape[0] != len(x):
        _fail("encode_decode", f"encode(x of {len(x)} images) returned {type(latent).__name__} {tuple(getattr(latent, 'shape', ()))}, expected a latent with {len(x)} rows")
    y = s.adapter.decode(latent)
    call = "decode(encode(x)[0])" if isinstance(code, (tuple, list)) else "decode(encode(x))"
    _images("encode_decode", call, y, len(x))
    if tuple(y.shape) != tuple(x.shape):
        _fail("encode_decode", f"{call} returned shape {tuple(y.shape)}, x has {tuple(x.shape)}")
    _in_range("encode_decode", call, y)


def check_latent(s: _Subject) -> None:
    import torch

    a = s.adapter
    shape = a.latent_shape
    if not isinstance(shape, tuple) or not shape or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        _fail("latent", f"latent_shape is {shape!r}, expected a non-empty tuple of positive ints (the shape of one latent)")
    if not accepts(a.sample, "z"):
        _fail("latent", "sample() takes no `z` keyword: sample(n, seed, labels=None, z=None) must decode the given latents")
    k = a.num_classes if CONDITIONAL in s.caps() else None
    labels = torch.arange(s.n) % int(k) if k else None
    z = torch.randn(s.n, *shape, generator=torch.Generator().manual_seed(s.seed))
    call = f"sample({s.n}, seed={s.seed}, z of shape {(s.n, *shape)})"
    first = _with_global_seed(1, lambda: a.sample(s.n, s.seed, labels=labels, z=z.clone()))
    _in_range("latent", call, _images("latent", call, first, s.n, getattr(a.info, "image_shape", None)))
    second = _with_global_seed(2, lambda: a.sample(s.n, s.seed, labels=labels, z=z.clone()))
    if not torch.equal(first, second):
        _fail("latent", f"{call} differs between two calls with the same z (max |diff| {_max_diff(first, second):.3g}): the images must be a function of z")
    if torch.equal(first, a.sample(s.n, s.seed, labels=labels, z=z + LATENT_SHIFT)):
        _fail("latent", f"sample(..., z=z + {LATENT_SHIFT}) equals {call}: z is ignored")


def check_text_to_image(s: _Subject) -> None:
    import torch

    a = s.adapter
    if not accepts(a.sample, "prompts"):
        _fail("text_to_image", "sample() takes no `prompts` keyword: sample(n, seed, labels=None, prompts=[...]) must generate image i for prompts[i]")
    n = max(2, s.n)
    first_prompts = [IMAGE_PROMPTS[i % 2] for i in range(n)]
    call = f"sample({n}, seed={s.seed}, prompts=[{n} prompts])"
    first = _with_global_seed(1, lambda: a.sample(n, s.seed, prompts=list(first_prompts)))
    _in_range("text_to_image", call, _images("text_to_image", call, first, n, getattr(a.info, "image_shape", None)))
    second = _with_global_seed(2, lambda: a.sample(n, s.seed, prompts=list(first_prompts)))
    if not torch.equal(first, second):
        _fail("text_to_image", f"{call} differs between two calls with the same prompts (max |diff| {_max_diff(first, second):.3g}): seed all randomness")
    swapped = a.sample(n, s.seed, prompts=[IMAGE_PROMPTS[(i + 1) % 2] for i in range(n)])
    if torch.equal(first, swapped):
        _fail("text_to_image", f"{call} gives the same images for other prompts: the prompts are ignored")


def _log_probs(rule: str, s: _Subject, adapter: Any, texts: list[str]) -> list[Any]:
    """`adapter.log_probs(texts)` held to the contract `audit run` holds it to (audit.lm.log_probs)."""
    from audit.errors import ModelOutputError
    from audit.lm.log_probs import contract_checked

    try:
        return contract_checked(adapter, texts, adapter.log_probs(list(texts)))
    except ModelOutputError as exc:
        _fail(rule, str(exc))


def check_log_probs(s: _Subject) -> None:
    texts = list(TEXTS)
    first = _log_probs("log_probs", s, s.adapter, texts)
    second = _log_probs("log_probs", s, s.adapter, texts)
    for i, (a, b) in enumerate(zip(first, second)):
        if a.shape != b.shape or float((a.double() - b.double()).abs().max()) > 1e-5:
            _fail("log_probs", f"log_probs(...)[{i}] differs between two calls")
    for i, text in enumerate(texts):
        alone = _log_probs("log_probs", s, s.adapter, [text])[0]
        diff = _max_diff(alone, first[i])
        if diff > BATCH_TOLERANCE:
            _fail("log_probs", f"text {i} scored alone and in a batch of {len(texts)} differs by {diff:.3g} nats: padding or the attention mask leaks into the scores")
    _check_leading_words(s, texts, first)
    _check_normalized(s)


def _check_normalized(s: _Subject) -> None:
    """The scores are log-probabilities of one distribution (audit.lm.log_probs: what `audit run`
    requires before it reads them)."""
    from audit.errors import ModelOutputError
    from audit.lm.log_probs import MASS_TOLERANCE, NORMALIZATION_PREFIX, NORMALIZATION_WORDS, continuation_mass

    try:
        mass = continuation_mass(s.adapter)
    except ModelOutputError as exc:
        _fail("log_probs", str(exc))
    if mass > 1 + MASS_TOLERANCE:
        _fail("log_probs", f"the {len(NORMALIZATION_WORDS)} continuations {', '.join(repr(w) for w in NORMALIZATION_WORDS[:3])}, ... of "
                           f"{NORMALIZATION_PREFIX!r} (none starts another) have probabilities summing to {mass:.4g}: log_probs must be "
                           "log-probabilities of one distribution, at most 1 in total")


def _check_leading_words(s: _Subject, texts: list[str], scores: list[Any]) -> None:
    """The first half of a text's words scores as the text's first values."""
    heads = [" ".join(t.split()[: max(1, len(t.split()) // 2)]) for t in texts]
    for text, head, full, part in zip(texts, heads, scores, _log_probs("log_probs", s, s.adapter, heads)):
        if len(part) > len(full) or _max_diff(part, full[: len(part)]) > BATCH_TOLERANCE:
            _fail(
                "log_probs",
                f"{head!r} does not score as the first {len(part)} values of {text!r}: checks count a text's tokens by "
                "scoring its leading words, which needs a tokenization that splits at word boundaries",
            )


def check_generate(s: _Subject) -> None:
    prompts = list(PROMPTS)
    call = f"generate({len(prompts)} prompts, max_new_tokens=8, seed={s.seed})"
    first = _with_global_seed(1, lambda: s.adapter.generate(prompts, max_new_tokens=8, seed=s.seed))
    if not isinstance(first, list) or len(first) != len(prompts) or not all(isinstance(t, str) for t in first):
        _fail("generate", f"{call} returned {first!r:.200}, expected a list of {len(prompts)} str")
    second = _with_global_seed(2, lambda: s.adapter.generate(prompts, max_new_tokens=8, seed=s.seed))
    if first != second:
        _fail("generate", f"{call} gives different text on two calls ({first!r:.120} vs {second!r:.120}): seed the sampling with `seed`, not the global RNG")


def check_sample_table(s: _Subject) -> None:
    import pandas as pd

    from audit.datasets import load_dataset
    from audit.errors import ModelOutputError
    from audit.fairness.tabular import DATASET, coerce_table

    call = f"sample_table({s.n}, seed={s.seed})"
    first = _with_global_seed(1, lambda: s.adapter.sample_table(s.n, s.seed))
    if not isinstance(first, pd.DataFrame) or len(first) != s.n:
        _fail("sample_table", f"{call} returned {type(first).__name__} of {len(first) if hasattr(first, '__len__') else '?'} rows, expected a DataFrame of {s.n} rows")
    data = load_dataset(DATASET)
    try:  # the run's own validation: what `audit run` would refuse is refused here
        coerce_table(s.name, first, s.n, data.categories, data.schema)
    except ModelOutputError as exc:
        _fail("sample_table", str(exc))
    second = _with_global_seed(2, lambda: s.adapter.sample_table(s.n, s.seed))
    if not first.equals(second):
        _fail("sample_table", f"{call} differs between two calls: seed it with `seed`, not the global RNG")


def _token_ids(rule: str, call: str, ids: Any) -> list[int]:
    """`ids` (a list, or an object with `.ids`) as a non-empty list of ints."""
    ids = getattr(ids, "ids", ids)
    if not isinstance(ids, (list, tuple)) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        _fail(rule, f"{call} returned {ids!r:.120}, expected a non-empty list of int token ids")
    return list(ids)


def check_tokenizer(s: _Subject) -> None:
    tokenizer = s.adapter.tokenizer
    call = f"tokenizer.encode({TEXTS[0]!r})"
    ids = _token_ids("tokenizer", call, tokenizer.encode(TEXTS[0]))
    text = tokenizer.decode(ids)
    if not isinstance(text, str):
        _fail("tokenizer", f"tokenizer.decode({call}) returned {type(text).__name__}, expected a str")


def check_causal_lm(s: _Subject) -> None:
    import torch

    a = s.adapter
    window = a.n_positions
    if not isinstance(window, int) or isinstance(window, bool) or window < 2:
        _fail("causal_lm", f"n_positions is {window!r}, expected an int >= 2 (the context window)")
    vocab = getattr(getattr(a.model, "config", None), "vocab_size", None)
    if not isinstance(vocab, int) or vocab < 2:
        _fail("causal_lm", f"model.config.vocab_size is {vocab!r}, expected an int >= 2")
    call = f"encode({TEXTS[0]!r})"
    ids = _token_ids("causal_lm", call, a.encode(TEXTS[0]))[:window]
    if max(ids) >= vocab or min(ids) < 0:
        _fail("causal_lm", f"{call} returned ids outside 0..{vocab - 1} (model.config.vocab_size {vocab})")
    device = next(iter(a.model.parameters())).device if callable(getattr(a.model, "parameters", None)) else "cpu"
    with torch.no_grad():
        logits = getattr(a.model(input_ids=torch.tensor([ids], device=device)), "logits", None)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (1, len(ids), vocab):
        _fail("causal_lm", f"model(input_ids of shape (1, {len(ids)})).logits is {tuple(getattr(logits, 'shape', ())) or type(logits).__name__}, expected (1, {len(ids)}, {vocab})")
    if not bool(torch.isfinite(logits).all()):
        _fail("causal_lm", f"model(input_ids of shape (1, {len(ids)})).logits holds non-finite values")
    if len(ids) >= 2:
        changed = list(ids[:-1]) + [(ids[-1] + 1) % vocab]
        with torch.no_grad():
            again = getattr(a.model(input_ids=torch.tensor([changed], device=device)), "logits", None)
        if isinstance(again, torch.Tensor) and again.shape == logits.shape and not torch.allclose(
                logits[0, :-1].float(), again[0, :-1].float(), rtol=1e-4, atol=1e-5):
            _fail("causal_lm", "changing the last input id changed the logits of earlier positions: the model reads ahead "
                               "(an encoder, e.g. BERT without is_decoder), not a causal LM")


def _probe(s: _Subject, adapter: Any, rule: str) -> Any:
    """The output the precision rule compares: images, per-token log-probs or generated text."""
    import torch

    caps = frozenset(getattr(adapter, "capabilities", ()))
    if SAMPLE in caps:
        call = f"sample({s.n}, seed={s.seed})"
        x = _images(rule, call, adapter.sample(s.n, s.seed), s.n)
        _in_range(rule, call, x.float())
        return x.float()
    if LOG_PROBS in caps:
        return torch.cat(_log_probs(rule, s, adapter, list(TEXTS))).float()
    if LOG_LIKELIHOOD in caps:
        return adapter.log_likelihood(torch.rand(s.n, *(adapter.info.image_shape or (1, 16, 16)), generator=torch.Generator().manual_seed(s.seed))).float()
    if GENERATE in caps:
        return adapter.generate(list(PROMPTS), max_new_tokens=8, seed=s.seed)
    if SAMPLE_TABLE in caps:
        return adapter.sample_table(s.n, s.seed)
    return None


def check_precision(s: _Subject) -> None:
    import torch

    from audit.precision import NOT_THE_NETWORKS, apply_precision, get_precision, networks_ran, outputs_identical

    variant = get_precision(s.precision)
    dtype = getattr(torch, str(getattr(variant, "dtype", "")), None)
    reference = _probe(s, s.adapter, "precision")
    cast = apply_precision(s.fresh(), s.precision, s.device)
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        for role, module in cast.modules().items():
            for pname, p in module.named_parameters():
                if p.is_floating_point() and p.dtype != dtype:
                    _fail("precision", f"after precision={s.precision}, modules()[{role!r}].{pname} is {p.dtype}, expected {dtype}")
    out = _probe(s, cast, "precision")
    if isinstance(out, torch.Tensor) and isinstance(reference, torch.Tensor):
        if out.shape != reference.shape:
            _fail("precision", f"output shape changed from {tuple(reference.shape)} to {tuple(out.shape)} under precision={s.precision}")
        if not bool(torch.isfinite(out).all()):
            _fail("precision", f"output is not finite under precision={s.precision}")
        if variant.name != REFERENCE_PRECISION and outputs_identical(reference, out):
            _fail("precision", f"output is bit-identical after precision={s.precision}: {NOT_THE_NETWORKS}, so precision variants would measure fp32")
    if variant.name != REFERENCE_PRECISION and cast.modules() and networks_ran(cast, lambda: _probe(s, cast, "precision")) is False:
        _fail("precision", f"none of the networks modules() returns ran while the model made its output under precision={s.precision}: "
                           f"{NOT_THE_NETWORKS}, so precision variants would measure fp32")


RULES: dict[str, tuple[Callable[[_Subject], None], Callable[[_Subject], bool]]] = {
    "info": (check_info, lambda s: True),
    "modules": (check_modules, lambda s: True),
    "capabilities": (check_capabilities, lambda s: True),
    "sample.shape": (check_sample_shape, lambda s: SAMPLE in s.caps()),
    "sample.range": (check_sample_range, lambda s: SAMPLE in s.caps()),
    "sample.determinism": (check_sample_determinism, lambda s: SAMPLE in s.caps()),
    "conditional": (check_conditional, lambda s: CONDITIONAL in s.caps() and SAMPLE in s.caps()),
    "log_likelihood": (check_log_likelihood, lambda s: LOG_LIKELIHOOD in s.caps()),
    "elbo": (check_elbo, lambda s: ELBO in s.caps()),
    "denoising_loss": (check_denoising_loss, lambda s: DENOISING_LOSS in s.caps()),
    "encode_decode": (check_encode_decode, lambda s: ENCODE_DECODE in s.caps()),
    "latent": (check_latent, lambda s: LATENT in s.caps()),
    "text_to_image": (check_text_to_image, lambda s: TEXT_TO_IMAGE in s.caps() and SAMPLE in s.caps()),
    "log_probs": (check_log_probs, lambda s: LOG_PROBS in s.caps()),
    "generate": (check_generate, lambda s: GENERATE in s.caps()),
    "sample_table": (check_sample_table, lambda s: SAMPLE_TABLE in s.caps()),
    "tokenizer": (check_tokenizer, lambda s: TOKENIZER in s.caps()),
    "causal_lm": (check_causal_lm, lambda s: CAUSAL_LM in s.caps()),
    "precision": (check_precision, lambda s: bool(s.caps())),
}


def adapter_checks(
    adapter: Any, *, n: int = 8, seed: int = 0, precision: str = "bf16", device: str = "cpu",
    fresh: Callable[[], Any] | None = None,
) -> list[AdapterCheck]:
    """The rules that apply to `adapter` (an adapter or a zero-argument factory), each a callable
    AdapterCheck whose str() is the rule id (use `ids=str` in `pytest.mark.parametrize`).
    `fresh` builds a new adapter for the precision rule (default: the factory, else a deep copy)."""
    subject = _Subject(adapter, n, seed, precision, device, fresh)
    return [AdapterCheck(rule, fn, subject) for rule, (fn, applies) in RULES.items() if _applies(applies, subject)]


def _applies(applies: Callable[[_Subject], bool], subject: _Subject) -> bool:
    try:
        return bool(applies(subject))
    except Exception:
        return True


def run_adapter_checks(adapter: Any, **settings: Any) -> list[Outcome]:
    """Every rule, run to the end: one Outcome per rule (the CLI's `check-model`)."""
    outcomes = []
    basics_ok = True
    for check in adapter_checks(adapter, **settings):
        if not basics_ok and check.rule not in ("info", "modules", "capabilities"):
            outcomes.append(Outcome(check.rule, False, "not run: info or capabilities are broken"))
            continue
        try:
            reason = check.run()
        except ContractError as exc:
            outcomes.append(Outcome(check.rule, False, str(exc)))
            if check.rule in ("info", "capabilities"):
                basics_ok = False
        else:
            outcomes.append(Outcome(check.rule, True, f"{check.rule}: not applicable: {reason}" if reason else "", skipped=reason is not None))
    return outcomes


def check_adapter(adapter: Any, **settings: Any) -> None:
    """Run every rule that applies; raise ContractError (an AssertionError) "<rule>: <message>"
    at the first broken one. `settings`: n (default 8), seed (0), precision ("bf16"), device ("cpu")."""
    for check in adapter_checks(adapter, **settings):
        check()


def parametrize_with_checks(adapters: Iterable[Any], **settings: Any) -> Any:
    """A `pytest.mark.parametrize("check", ...)` decorator over every rule of every adapter
    (ids "<adapter name>-<rule>"), like scikit-learn's `parametrize_with_checks`."""
    import pytest

    checks = [c for a in adapters for c in adapter_checks(a, **settings)]
    return pytest.mark.parametrize("check", checks, ids=[f"{c.subject.name}-{c.rule}" for c in checks])


def iter_rules() -> Iterator[str]:
    return iter(RULES)


__all__ = [
    "AdapterCheck",
    "ContractError",
    "Outcome",
    "RULES",
    "adapter_checks",
    "check_adapter",
    "parametrize_with_checks",
    "run_adapter_checks",
]
