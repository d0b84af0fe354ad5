"""The ModelAdapter contract every audited model honours, bundled or brought by a user.

An adapter says what it is (`info`), what it can do (`capabilities`) and exposes its
`torch.nn.Module`s so precision variants and efficiency probes can work on them. A check
declares the capabilities it needs; a model without them gets `skipped`, never a silent gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

SAMPLE = "sample"
"""`sample(n, seed, labels=None) -> float tensor [N, C, H, W] in [0, 1]`.

A model with a step-wise sampler (diffusion) may take the optional keywords `steps=` (its number
of sampling steps) and `sampler=` (e.g. "ddim"), passed only where `sample` declares them (see
`accepts`), and say its own default step count in `default_steps` (an int, or a {sampler: steps}
dict): the sampling-steps curve reports its value at that step count."""
CONDITIONAL = "conditional"
"""`sample` honours `labels` (a LongTensor [N] below `num_classes`)."""
LOG_LIKELIHOOD = "log_likelihood"
"""`log_likelihood(x) -> tensor [N]` in nats per image (a bound where exact is intractable)."""
ENCODE_DECODE = "encode_decode"
"""`encode(x) -> latent` and `decode(z) -> images`."""
LOG_PROBS = "log_probs"
"""`log_probs(texts) -> list of per-token log-probability tensors` (language models): one 1-d
tensor per text, one value (nats, <= 0) per token of the text. Token counts are the lengths of
these tensors (a text's first k tokens are its first k values), so checks that count tokens
(fairness, membership inference) need no `encode` or tokenizer."""
GENERATE = "generate"
"""`generate(prompts, max_new_tokens, seed, **sampling) -> list[str]` (language models).
Optional keywords (`temperature`, `top_p`, `greedy`, `logits_processor`, ...) are passed only
where the method declares them (see `accepts`)."""
TOKENIZER = "tokenizer"
"""`tokenizer`: the model's own tokenization, an object with `encode(text)` (token ids: a list of
ints, or an object with `.ids`) and `decode(ids) -> str` (language models). Verbatim extraction
cuts prompts and continuations in these tokens; the green-list watermark counts them."""
CAUSAL_LM = "causal_lm"
"""The language model's full next-token distributions: `model` (a torch causal LM,
`model(input_ids=LongTensor [B, L]).logits -> [B, L, V]`, with `model.config.vocab_size` V),
`encode(text) -> list[int]` (the ids the model sees, start token first) and `n_positions` (its
context window, an int). The quantization comparison, zero-shot machine-text detection, the
green-list watermark and prefill/KV-cache timing use them (timing falls back to `generate`)."""
SAMPLE_TABLE = "sample_table"
"""`sample_table(n, seed) -> pandas.DataFrame with the training columns` (tabular generators):
n rows, the training data's column names, numeric columns as numbers, categorical columns as
values of the training categories; the same seed gives the same rows."""
ELBO = "elbo"
"""`elbo(x, k=...) -> tensor [N]`: the evidence lower bound on log p(x) in nats per image (VAEs;
`k` posterior draws where the method takes it), seeded so the same call gives the same numbers.
quality.elbo_bpd reports it; the membership-inference attack thresholds it."""
DENOISING_LOSS = "denoising_loss"
"""`denoising_loss(x, t, noise) -> tensor [N]` (diffusion models): per image, the mean squared
error of the model's noise (epsilon) prediction, unconditional, for images `x` [N, C, H, W] in
[0, 1] noised to integer timestep `t` of its training schedule with the standard normal `noise`
(x's shape). The membership-inference attack averages it over timesteps 25, 100 and 250 of a
1,000-step schedule, with noise it draws from a fixed seed."""
LATENT = "latent"
"""A latent space `sample` decodes: `latent_shape` (a tuple of positive ints, one latent's shape)
and `sample(n, seed, labels=None, z=None)`, where `z` (float [n, *latent_shape]) replaces the
latents the seed would draw, so the images are a deterministic function of `z` (and `labels`).
Latent stability perturbs `z` (a GAN's generator input; a DDIM sampler's initial noise x_T)."""

TEXT_TO_IMAGE = "text_to_image"
"""`sample(n, seed, labels=None, prompts=list[str] of length n) -> float tensor [N, C, H, W] in
[0, 1]`: image i is generated for `prompts[i]`. The run's samples get the `prompts=` file's
lines, cycled (sample i gets line i mod P), and a text-to-image model audited without `prompts=`
is an input error. A check that draws its own images without prompts (timing, robustness) calls
`sample` with `prompts=None`: the model then generates for the empty prompt "" (unconditional).
quality.clip_score measures how well each image matches its prompt."""

CAPABILITIES = (
    SAMPLE, CONDITIONAL, LOG_LIKELIHOOD, ENCODE_DECODE, LOG_PROBS, GENERATE, SAMPLE_TABLE,
    TOKENIZER, CAUSAL_LM, ELBO, DENOISING_LOSS, LATENT, TEXT_TO_IMAGE,
)


@dataclass
class ModelInfo:
    """What a result record says about the model that produced it."""

    name: str
    family: str
    """A label from audit.families.FAMILY_NAMES: which checks the model is audited by."""
    params: int
    description: str = ""
    precision: str = "fp32"
    device: str = "cpu"
    image_shape: tuple[int, int, int] | None = None
    num_classes: int | None = None
    weights: dict[str, str] = field(default_factory=dict)
    """Weights file name -> sha256, for the run fingerprint."""
    card: str | None = None
    """Model card (markdown) shown in reports."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["image_shape"] = list(self.image_shape) if self.image_shape else None
        return d


class ModelAdapter:
    """Base class for adapters; subclasses set `info`, `capabilities` and implement the methods.

    Each declared capability promises what its constant documents, and checks use nothing else
    (the conformance kit, audit.testing, verifies each one):

    - SAMPLE: `sample(n, seed, labels=None)`; CONDITIONAL: `sample` honours `labels`
    - LOG_LIKELIHOOD: `log_likelihood(x)`; ELBO: `elbo(x, k=...)`
    - ENCODE_DECODE: `encode(x)`, `decode(z)`; DENOISING_LOSS: `denoising_loss(x, t, noise)`
    - LOG_PROBS: `log_probs(texts)`; GENERATE: `generate(prompts, max_new_tokens, seed, ...)`
    - TOKENIZER: `tokenizer.encode(text)`, `tokenizer.decode(ids)`
    - CAUSAL_LM: `model(input_ids=...).logits`, `encode(text)`, `n_positions`
    - SAMPLE_TABLE: `sample_table(n, seed)`
    - LATENT: `latent_shape`, `sample(n, seed, labels=None, z=None)`
    - TEXT_TO_IMAGE: `sample(n, seed, labels=None, prompts=[...])`, image i for prompts[i]

    Optional, declared by the signature rather than a capability: `sample(..., steps=, sampler=)`
    with the default step count in `default_steps`.

    Users may also pass any object with the same attributes (duck typing is enough).
    """

    info: ModelInfo
    capabilities: frozenset[str] = frozenset()
    default_steps: int | dict[str, int] | None = None
    """The default of `sample`'s optional `steps=` (an int, or a {sampler: steps} dict); None: not said."""

    def modules(self) -> dict[str, "torch.nn.Module"]:
        """The networks behind the model, by role (e.g. {"generator": G}): precision variants
        cast or quantize these. Empty for a model without torch networks, which is then audited
        in fp32 only (other precisions are `skipped`)."""
        return {}

    @property
    def num_classes(self) -> int | None:
        return self.info.num_classes

    @property
    def dtype(self) -> "torch.dtype":
        import torch

        for module in self.modules().values():
            for p in module.parameters():
                return p.dtype
        return torch.float32

    def to(self, device: str | None = None, dtype: "torch.dtype | None" = None) -> "ModelAdapter":
        """Move (and cast) every module; adapters cast their inputs to `self.dtype`."""
        for module in self.modules().values():
            module.to(device=device, dtype=dtype)
        if device is not None:
            self.info.device = str(device)
        return self

    def sample(self, n: int, seed: int, labels: "torch.Tensor | None" = None) -> "torch.Tensor":
        raise NotImplementedError(f"{type(self).__name__} does not implement sample()")


def accepts(fn: Any, name: str) -> bool:
    """Whether `fn` takes keyword `name` (or **kwargs): optional adapter parameters such as
    `steps=`, `greedy=` or `temperature=` are passed only to adapters that declare them."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def has_capability(adapter: Any, capability: str) -> bool:
    return capability in getattr(adapter, "capabilities", ())


def count_params(*modules: "torch.nn.Module") -> int:
    return sum(p.numel() for m in modules for p in m.parameters())
