"""Train every bundled detector into one weights file: `audit train model=detector seed=S`.

Real images: the digits' training split. Fake images: samples of the clean bundled generators
(`gan`, `vae`, `diffusion`, fp32) drawn with seed `FAKE_SEED_BASE + S`; audit runs sample with
small seeds derived from the run seed, so no image a detector trained on is ever scored by a
suite. Conditional generators get class-balanced labels. Fakes are rounded to 8 bits like the
real digits (as if saved as PNG), so a detector cannot key on the quantization grid.

Every detector sees as many fakes as real images. 20% of both (the real part stratified by
digit) is held out for validation: early stopping on its loss, the equal-error-rate threshold,
and the metrics recorded in the manifest. Real and fake are augmented alike (random shifts of
up to one pixel), so position is no cue.

Reproducibility: sampling and training run on one torch thread with deterministic algorithms
and seeded generators, so a retraining on the same CPU is bit-identical whatever
OMP_NUM_THREADS or the machine's load (measured). Another CPU's kernels (AVX2 instead of
AVX-512) change the last float bits; that is invisible in every detector that learns, but the
quick-mode CNNs stay at chance (validation loss ~ln 2 and oscillating), so their best epoch, and
the rates at it, can move (tests/audit_reference_models/test_detectors.py compares only their loss).
"""

from __future__ import annotations

import copy
import functools
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

from audit.deepfake.metrics import detection_metrics, equal_error_rate
from audit.weights import save_weights
from audit_reference_models.data.digits import DigitsSplit, load_digits_split
from audit_reference_models.detectors import DETECTORS, HELD_OUT_FAMILIES, KINDS, WEIGHTS_NAME, family_detectors
from audit_reference_models.detectors.model import SPECTRUM_EPS, SpectrumDetector, build
from audit_reference_models.manifest import PACKAGE_WEIGHTS
from audit_reference_models.training import minibatches, random_shift, seed_everything, single_threaded

FAKE_SEED_BASE = 1_000_000
VAL_FRACTION = 0.2
BATCH = 64
LR = {"cnn": 1e-3, "spectrum": 1e-2}
WEIGHT_DECAY = {"cnn": 0.0, "spectrum": 1e-4}


@dataclass(frozen=True)
class Schedule:
    """How much data and how many epochs: `images` real images and as many fakes per family."""

    images: int
    epochs: dict[str, int]


FULL = Schedule(images=1437, epochs={"cnn": 40, "spectrum": 60})
QUICK = Schedule(images=200, epochs={"cnn": 10, "spectrum": 10})


@dataclass(frozen=True)
class Split:
    """Images used for fitting and the held-out validation part."""

    fit: torch.Tensor
    val: torch.Tensor


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round images in [0, 1] to 8 bits."""
    return torch.round(x.clamp(0, 1) * 255) / 255


def real_split(data: DigitsSplit, n: int, seed: int) -> Split:
    """`n` training digits (all of them, or a class-stratified subset), split stratified by digit."""
    from sklearn.model_selection import train_test_split

    x, y = data.train_x, data.train_y
    if n < len(x):
        x, _, y, _ = train_test_split(x, y, train_size=n, stratify=y, random_state=seed)
    fit, val = train_test_split(x, test_size=VAL_FRACTION, stratify=y, random_state=seed)
    return Split(torch.tensor(fit), torch.tensor(val))


def sample_fakes(family: str, n: int, seed: int, n_val: int) -> tuple[Split, dict[str, str]]:
    """`n` 8-bit samples of the clean generator `family` (the last `n_val` for validation) and
    the generator's weights {file: sha256}."""
    from audit.adapters import load_model

    adapter = load_model(family)
    classes = adapter.info.num_classes
    labels = torch.arange(n) % classes if classes else None
    images = quantize(adapter.sample(n, seed=FAKE_SEED_BASE + seed, labels=labels))
    return Split(images[:-n_val], images[-n_val:]), dict(adapter.info.weights)


def mixed(splits: list[Split]) -> Split:
    """An equal share of each family's fakes, interleaved so the total stays one family's size
    (and, with labels cycling through 10 classes, each share stays class-balanced)."""
    k = len(splits)
    return Split(torch.cat([s.fit[i::k] for i, s in enumerate(splits)]), torch.cat([s.val[i::k] for i, s in enumerate(splits)]))


@torch.no_grad()
def probabilities(module: nn.Module, x: torch.Tensor) -> np.ndarray:
    return torch.sigmoid(module(x)).double().numpy()


def fit(kind: str, real: Split, fake: Split, epochs: int, seed: int) -> tuple[nn.Module, dict[str, Any]]:
    """Train a `kind` detector on real (label 0) versus fake (label 1); keep the epoch with the
    lowest validation loss; calibrate the threshold at the validation equal error rate."""
    g = seed_everything(seed)
    module = build(kind)
    x = torch.cat([real.fit, fake.fit])
    y = torch.cat([torch.zeros(len(real.fit)), torch.ones(len(fake.fit))])
    val_x = torch.cat([real.val, fake.val])
    val_y = torch.cat([torch.zeros(len(real.val)), torch.ones(len(fake.val))])
    if isinstance(module, SpectrumDetector):
        module.standardize_on(x)
    opt = torch.optim.Adam(module.parameters(), lr=LR[kind], weight_decay=WEIGHT_DECAY[kind])
    loss_fn = nn.BCEWithLogitsLoss()
    batches = minibatches(len(x), BATCH, g)
    best_loss, best_state, best_epoch = float("inf"), copy.deepcopy(module.state_dict()), 0
    for epoch in range(1, epochs + 1):
        module.train()
        for _ in range(len(x) // BATCH):
            idx = next(batches)
            loss = loss_fn(module(random_shift(x[idx], g)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        module.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(module(val_x), val_y))
        if val_loss < best_loss:
            best_loss, best_state, best_epoch = val_loss, copy.deepcopy(module.state_dict()), epoch
    module.load_state_dict(best_state)
    module.eval()
    real_p, fake_p = probabilities(module, real.val), probabilities(module, fake.val)
    _, threshold = equal_error_rate(real_p, fake_p)
    metrics = {f"val_{k}": v for k, v in detection_metrics(real_p, fake_p, threshold).items()}
    metrics.update(val_loss=best_loss, best_epoch=best_epoch, threshold=threshold)
    return module, metrics


@contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Run with torch's deterministic algorithms, then restore the caller's setting: an op without
    a deterministic implementation raises instead of varying silently from run to run (on CPU the
    training was already deterministic: the flag changes no bit of the result)."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def deterministic(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: run `fn` inside `deterministic_algorithms()`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with deterministic_algorithms():
            return fn(*args, **kwargs)

    return wrapper


def plan() -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, kind, families trained on) of every bundled detector."""
    together = [(name, kind, HELD_OUT_FAMILIES) for name, kind in zip(DETECTORS, KINDS)]
    alone = [(name, kind, (family,)) for kind in KINDS for family, name in family_detectors(kind).items()]
    return together + alone


@single_threaded
@deterministic
def train(seed: int = 0, out_dir: Path = PACKAGE_WEIGHTS, quick: bool = False, log: Any = print) -> dict[str, Any]:
    """Train every detector from `seed`; write `detector.safetensors` (tensors prefixed by the
    detector's name) and its manifest to `out_dir`; return {detector: validation metrics}."""
    started = time.perf_counter()
    schedule = QUICK if quick else FULL
    data = load_digits_split()
    real = real_split(data, schedule.images, seed)
    fakes: dict[str, Split] = {}
    generators: dict[str, str] = {}
    sampling_seconds: dict[str, float] = {}
    for family in HELD_OUT_FAMILIES:
        t = time.perf_counter()
        fakes[family], weights = sample_fakes(family, schedule.images, seed, len(real.val))
        generators.update(weights)
        sampling_seconds[family] = round(time.perf_counter() - t, 1)
        log(f"sampled {schedule.images} {family} images in {sampling_seconds[family]}s")
    state: dict[str, torch.Tensor] = {}
    specs: dict[str, dict[str, Any]] = {}
    metrics: dict[str, Any] = {}
    for name, kind, families in plan():
        module, metrics[name] = fit(kind, real, mixed([fakes[f] for f in families]), schedule.epochs[kind], seed)
        state.update({f"{name}.{k}": v for k, v in module.state_dict().items()})
        specs[name] = {"kind": kind, "trained_on": list(families), "threshold": metrics[name]["threshold"]}
        log(f"{name}: val AUC {metrics[name]['val_auc']:.4f}, EER {metrics[name]['val_eer']:.4f}, best epoch {metrics[name]['best_epoch']}")
    save_weights(
        WEIGHTS_NAME,
        state,
        out_dir,
        description="Deepfake detectors for 16x16 digits: CNN and log-spectrum logistic baseline, on all and on single generator families",
        config={
            "detectors": specs,
            "real_images": {"fit": len(real.fit), "val": len(real.val)},
            "fakes_per_family": schedule.images,
            "fake_seed": FAKE_SEED_BASE + seed,
            "fake_quantization": "8-bit (round(x*255)/255)",
            "generators": generators,
            "val_fraction": VAL_FRACTION,
            "epochs": schedule.epochs,
            "batch_size": BATCH,
            "lr": LR,
            "weight_decay": WEIGHT_DECAY,
            "optimizer": "adam",
            "early_stopping": "lowest validation BCE",
            "threshold": "equal-error-rate threshold on validation probabilities",
            "augment": "shift<=1px, real and fake alike",
            "spectrum_eps": SPECTRUM_EPS,
            "sampling_seconds": sampling_seconds,
        },
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_command=f"audit train model={WEIGHTS_NAME} seed={seed}",
    )
    return metrics
