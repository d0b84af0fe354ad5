"""Class-conditional DDPM on 16x16 digits (DDIM/DDPM samplers, variational bound), and its
known-defect variant."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_reference_models.diffusion.adapter import DiffusionAdapter


def diffusion() -> "DiffusionAdapter":
    from audit_reference_models.diffusion.adapter import load_diffusion

    return load_diffusion("diffusion")


def diffusion_swapped_labels() -> "DiffusionAdapter":
    from audit_reference_models.diffusion.adapter import load_diffusion

    return load_diffusion("diffusion-swapped-labels")
