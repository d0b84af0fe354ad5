"""Tabular generators on UCI Adult: a CTGAN-style GAN, a TVAE-style VAE, and a label-biased GAN."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_reference_models.tabular.adapter import TabularAdapter


def tabular_gan() -> "TabularAdapter":
    from audit_reference_models.tabular.adapter import load_tabular

    return load_tabular("tabular-gan")


def tabular_vae() -> "TabularAdapter":
    from audit_reference_models.tabular.adapter import load_tabular

    return load_tabular("tabular-vae")


def tabular_gan_biased() -> "TabularAdapter":
    from audit_reference_models.tabular.adapter import load_tabular

    return load_tabular("tabular-gan-biased")
