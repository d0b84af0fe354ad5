"""What a model family means, in one place.

A family is a label (`ModelInfo.family`) that says which checks a model is audited by and how
the harness sizes its work; what a check can actually do with a model is decided by the
capabilities the model declares (audit.adapters.base). Everything the harness knows about a
family lives in its `Family` entry below: the kind of data it generates (`modality`), the
efficiency workload sizes, and what its `log_likelihood` costs.

Adding a family is one entry in `FAMILIES`: checks name the families they apply to (most by
modality, e.g. `IMAGE_FAMILIES`), and every other module reads the entry. `other` is the family
of a model that fits none: no check names it, so it is audited by its capabilities alone.

This module imports nothing heavy: `audit --help` and `audit list` read it.
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGE = "image"
TEXT = "text"
TABLE = "table"
ANY = "any"
"""The modality of `other`: whatever the model's capabilities say."""
OTHER = "other"

SAMPLER_BATCHES = (1, 16, 64, 256)
"""Batch sizes of the efficiency batch curve for a sampler whose call is one network pass."""


@dataclass(frozen=True)
class Family:
    """One family: its name, what it generates, and the sizes the harness uses for it."""

    name: str
    modality: str
    description: str
    timing_batches: tuple[int, ...] = SAMPLER_BATCHES
    """Batch sizes of the efficiency batch curve when the model samples images."""
    workload_batch: int = 64
    """Batch of the default image workload (peak-memory probe, quantization speedup)."""
    timing_rounds: int = 5
    """Interleaved timing rounds of the efficiency suite by default."""
    speed_rounds: int = 10
    """Interleaved rounds of the quantization speedup comparison by default."""
    sampling_steps: bool = False
    """Sampling is an iterative process of steps: the efficiency suite adds a steps curve where
    `sample` takes `steps=`."""
    likelihood_bound: str | None = None
    """What `log_likelihood` computes when it is a costly Monte Carlo bound (the estimator that
    quality.nll_bpd records); None when it is cheap enough to score every image."""
    bound_images: int = 100
    """Images per side a costly likelihood bound is scored on by default (likelihood and privacy
    checks): ~43 network calls per image for the bundled diffusion model."""
    baseline_imports: tuple[str, ...] = ()
    """Modules the peak-memory probe imports before measuring, so their first-use memory is in
    the baseline, not in the model."""

    @property
    def named(self) -> bool:
        """Whether checks choose this family by its name; `other` is judged by capabilities."""
        return self.modality != ANY


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("gan", IMAGE, "image generator without a likelihood (one network pass per sample)", timing_rounds=10),
        Family("vae", IMAGE, "image generator with an encoder, a decoder and a likelihood bound", timing_rounds=10),
        Family(
            "diffusion", IMAGE, "image generator that denoises over many steps",
            timing_batches=(1, 4, 16), workload_batch=8, timing_rounds=4, speed_rounds=6, sampling_steps=True,
            likelihood_bound=("variational bound (negative ELBO of the diffusion process, a Monte Carlo estimate "
                              "with the adapter's fixed seed): an upper bound on the true NLL, not the NLL itself"),
        ),
        Family("transformer", TEXT, "language model", speed_rounds=8,
               baseline_imports=("transformers.models.gpt2.modeling_gpt2",)),
        Family("tabular", TABLE, "generator of table rows"),
        Family(OTHER, ANY, "any other model: audited by the capabilities it declares"),
    )
}
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)


def get_family(name: str | None) -> Family:
    """The family called `name`; an unknown or missing name is treated as `other`."""
    return FAMILIES.get(name or OTHER, FAMILIES[OTHER])


def families_of(*modalities: str) -> tuple[str, ...]:
    """Names of the families of these modalities, in registry order."""
    return tuple(f.name for f in FAMILIES.values() if f.modality in modalities)


IMAGE_FAMILIES = families_of(IMAGE)
"""Families that sample images: the default of a check's `families`."""
GENERATOR_FAMILIES = families_of(IMAGE, TEXT)
"""Families that sample images or text: efficiency, quantization speed and membership inference."""
NAMED_FAMILIES = tuple(f.name for f in FAMILIES.values() if f.named)
"""Families whose checks are chosen by the tag; `other` models are judged by capability."""

__all__ = [
    "ANY",
    "FAMILIES",
    "FAMILY_NAMES",
    "GENERATOR_FAMILIES",
    "IMAGE",
    "IMAGE_FAMILIES",
    "NAMED_FAMILIES",
    "OTHER",
    "TABLE",
    "TEXT",
    "Family",
    "families_of",
    "get_family",
]
