"""FGSM and PGD (L-infinity) against an image classifier, as pure torch functions.

`logits_fn(x) -> [N, K]` is any differentiable classifier on images in [0, 1]. At epsilon 0
both attacks return the input unchanged, exactly. PGD starts at the clean image (no random
start, so it is deterministic), takes `steps` signed-gradient steps of size `2.5 * eps / steps`
and projects back onto the epsilon ball and [0, 1] after each (Madry et al. 2018).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch

EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
PGD_STEPS = 10


def _loss_grad(logits_fn: Callable[["torch.Tensor"], "torch.Tensor"], x: "torch.Tensor", y: "torch.Tensor") -> "torch.Tensor":
    import torch
    import torch.nn.functional as F

    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        loss = F.cross_entropy(logits_fn(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(logits_fn: Callable[["torch.Tensor"], "torch.Tensor"], x: "torch.Tensor", y: "torch.Tensor", eps: float) -> "torch.Tensor":
    """x + eps * sign(grad_x CE(f(x), y)), clamped to [0, 1]; eps = 0 returns x unchanged."""
    if eps < 0:
        raise ValueError(f"epsilon must be >= 0, got {eps}")
    if eps == 0:
        return x.detach().clone()
    return (x + eps * _loss_grad(logits_fn, x, y).sign()).clamp(0, 1).detach()


def pgd(
    logits_fn: Callable[["torch.Tensor"], "torch.Tensor"], x: "torch.Tensor", y: "torch.Tensor", eps: float,
    steps: int = PGD_STEPS, step_size: float | None = None,
) -> "torch.Tensor":
    """Projected gradient descent in the L-inf ball of radius eps; eps = 0 returns x unchanged."""
    import torch

    if eps < 0:
        raise ValueError(f"epsilon must be >= 0, got {eps}")
    if eps == 0:
        return x.detach().clone()
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    adv = x.detach().clone()
    for _ in range(steps):
        adv = adv + alpha * _loss_grad(logits_fn, adv, y).sign()
        adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1).detach()
    return adv
