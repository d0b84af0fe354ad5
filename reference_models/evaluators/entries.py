"""Registry entries for the evaluators (trainable, not audited models)."""

from reference_models.catalog import trainable

trainable("classifier", "reference_models.evaluators.classifier:train", minutes=0.5)
