"""Convolutional VAE on 16x16 digits (discrete ELBO/IWAE likelihoods), and its memorized and fragile variants."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_reference_models.vae.adapter import VAEAdapter


def vae() -> "VAEAdapter":
    from audit_reference_models.vae.adapter import load_vae

    return load_vae("vae")


def vae_memorized() -> "VAEAdapter":
    from audit_reference_models.vae.adapter import load_vae

    return load_vae("vae-memorized")


def vae_fragile() -> "VAEAdapter":
    from audit_reference_models.vae.adapter import load_vae

    return load_vae("vae-fragile")
