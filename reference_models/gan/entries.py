"""Registry entries for the GAN family (no torch import here)."""

from reference_models.catalog import bundled_model, trainable

bundled_model(
    "gan", "reference_models.gan:gan", "Class-conditional DCGAN on 16x16 digits (spectral-norm projection D, EMA G)",
    family="gan", weights=("gan",),
)
trainable("gan", "reference_models.gan.train:train", minutes=4, name="gan")
