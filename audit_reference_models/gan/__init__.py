"""Class-conditional DCGAN on 16x16 digits, and its known-defect variants."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_reference_models.gan.adapter import GANAdapter


def gan() -> "GANAdapter":
    from audit_reference_models.gan.adapter import load_gan

    return load_gan("gan")


def gan_collapsed() -> "GANAdapter":
    from audit_reference_models.gan.adapter import load_gan

    return load_gan("gan-collapsed")


def gan_imbalanced() -> "GANAdapter":
    from audit_reference_models.gan.adapter import load_gan

    return load_gan("gan-imbalanced")
