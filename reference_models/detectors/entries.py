"""Registry entry for the deepfake detectors (trainable, not audited models; no torch import)."""

from reference_models.catalog import trainable

trainable("detector", "reference_models.detectors.train:train", minutes=4)
