"""Train the class-conditional DDPM (epsilon prediction, L_simple, EMA of the weights).

`audit train model=diffusion` runs this; `label_swap` makes the known-defect variant whose
training labels of some classes are exchanged (see MODEL_CARD.md).
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from audit.weights import save_weights
from audit_reference_models.data.digits import NUM_CLASSES, load_digits_split
from audit_reference_models.diffusion.adapter import DiffusionAdapter
from audit_reference_models.diffusion.likelihood import bits_per_dim
from audit_reference_models.diffusion.scheduler import NoiseScheduler
from audit_reference_models.diffusion.unet import UNet
from audit_reference_models.evaluators.classifier import load_classifier
from audit_reference_models.manifest import PACKAGE_WEIGHTS
from audit_reference_models.training import minibatches, seed_everything

CHANNELS = (32, 64, 64)
EMB_DIM = 128
SCHEDULE: dict[str, Any] = {
    "num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear",
    "clip_sample": True, "variance_type": "fixed_small",
}
STEPS = 1200
QUICK_STEPS = 40
BATCH = 128
LR = 2e-3
WARMUP = 100
EMA_DECAY = 0.995
P_UNCOND = 0.1
"""Share of training labels replaced by the null token, so the net also models p(x)."""
EVAL_SEED = 12345


@torch.no_grad()
def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1 - decay)


def lr_factor(step: int, steps: int) -> float:
    """Linear warm-up over WARMUP steps times a cosine decay to 0 at `steps`."""
    return min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * step / steps))


def swap_labels(y: torch.Tensor, label_swap: Sequence[Sequence[int]]) -> torch.Tensor:
    """Exchange each pair (a, b) of class labels in y."""
    out = y.clone()
    for a, b in label_swap:
        out[y == a], out[y == b] = b, a
    return out


def bound_bpd(adapter: DiffusionAdapter, images: np.ndarray, strata: int | None) -> float:
    """Mean variational bound in bits/dim over `images` (8-bit, [N, 1, 16, 16] in [0, 1])."""
    x = torch.tensor(images)
    return float(bits_per_dim(adapter.log_likelihood(x, strata=strata), int(np.prod(x.shape[1:]))).mean())


@torch.no_grad()
def evaluate(
    adapter: DiffusionAdapter, n: int = 1000, steps: int = 50, bound_images: int = 360, strata: int | None = 50
) -> tuple[dict[str, Any], dict[str, float]]:
    """Metrics and timings of a trained model. Metrics: FID vs the training split and (per-class)
    conditional accuracy of `n` DDIM samples (bundled evaluator), and the variational bound in
    bits/dim on the first `bound_images` held-out and training images. Timings: sampling speed
    and the held-out bound's wall time (kept apart: they are not reproducible numbers)."""
    from audit.metrics import fid_from_features

    classifier, _ = load_classifier()
    data = load_digits_split()
    labels = torch.arange(n) % NUM_CLASSES
    started = time.perf_counter()
    images = adapter.sample(n, EVAL_SEED, labels=labels, steps=steps, sampler="ddim")
    sample_seconds = time.perf_counter() - started
    features = classifier.features(images)
    real = classifier.features(torch.tensor(data.train_x)).double().numpy()
    correct = (classifier.head(features).argmax(1) == labels).float()
    started = time.perf_counter()
    heldout = bound_bpd(adapter, data.test_x[:bound_images], strata)
    bound_seconds = time.perf_counter() - started
    metrics = {
        f"fid_vs_train_n{n}": fid_from_features(features.double().numpy(), real),
        "conditional_accuracy": float(correct.mean()),
        "per_class_accuracy": [round(float(correct[labels == c].mean()), 4) for c in range(NUM_CLASSES)],
        "heldout_nll_bpd": heldout,
        "train_nll_bpd": bound_bpd(adapter, data.train_x[:bound_images], strata),
        "ddim_steps": steps,
        "bound_images": bound_images,
        "bound_strata": strata,
    }
    timings = {f"ddim{steps}_images_per_s": round(n / sample_seconds, 1), f"heldout_bound_seconds_n{bound_images}": round(bound_seconds, 1)}
    return metrics, timings


def train(
    seed: int = 0,
    out_dir: Path = PACKAGE_WEIGHTS,
    quick: bool = False,
    log: Any = print,
    name: str = "diffusion",
    steps: int = STEPS,
    label_swap: Sequence[Sequence[int]] = (),
    description: str = "Class-conditional DDPM (UNet 32/64/64) on 16x16 digits; DDIM/DDPM sampling, variational bound",
) -> dict[str, Any]:
    """Train from `seed`, evaluate the EMA weights and save them with their manifest to `out_dir`."""
    started = time.perf_counter()
    g = seed_everything(seed)
    data = load_digits_split()
    x = torch.tensor(data.train_x) * 2 - 1
    y = swap_labels(torch.tensor(data.train_y), label_swap)
    steps = QUICK_STEPS if quick else steps
    scheduler = NoiseScheduler(**SCHEDULE)
    T = scheduler.num_train_timesteps
    unet = UNet(NUM_CLASSES, CHANNELS, EMB_DIM)
    ema = copy.deepcopy(unet).eval()
    opt = torch.optim.AdamW(unet.parameters(), lr=LR, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, steps))
    batches = minibatches(len(x), BATCH, g)
    for step in range(1, steps + 1):
        idx = next(batches)
        x0, labels = x[idx], y[idx]
        labels = torch.where(torch.rand(BATCH, generator=g) < P_UNCOND, unet.null_label, labels)
        t = torch.randint(0, T, (BATCH,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        loss = F.mse_loss(unet(scheduler.add_noise(x0, noise, t), t, labels), noise)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        sched.step()
        _ema_update(ema, unet, min(EMA_DECAY, step / (step + 10)))
        if step % 200 == 0 or step == steps:
            log(f"step {step}/{steps} loss {loss.item():.4f} ({time.perf_counter() - started:.0f}s)")
    train_seconds = time.perf_counter() - started
    adapter = DiffusionAdapter(ema, SCHEDULE, name, description, {}, None)
    _, evaluator_digest = load_classifier()
    metrics, timings = evaluate(adapter, n=100, steps=10, bound_images=40, strata=10) if quick else evaluate(adapter)
    log(f"final: {metrics} {timings}")
    save_weights(
        name,
        ema.state_dict(),
        out_dir,
        description=description,
        config={
            "channels": list(CHANNELS), "emb_dim": EMB_DIM, "num_classes": NUM_CLASSES, "schedule": SCHEDULE,
            "prediction": "epsilon", "loss": "L_simple (MSE on epsilon, uniform t)", "steps": steps, "batch_size": BATCH,
            "optimizer": "AdamW", "lr": LR, "lr_schedule": f"linear warmup {WARMUP} steps, cosine to 0",
            "grad_clip": 1.0, "ema_decay": EMA_DECAY, "p_uncond": P_UNCOND,
            "label_swap": [list(p) for p in label_swap] or None, "train_images": int(len(x)),
        },
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        timings=timings,
        evaluator_sha256=evaluator_digest,
        threads=torch.get_num_threads(),
        train_seconds=round(train_seconds, 1),
        train_command=f"audit train model={name} seed={seed}",
    )
    return metrics
