"""Registry entries for the evaluators (trainable, not audited models; no torch import here)."""

from audit.registry import evaluators
from audit_reference_models.catalog import trainable
from audit_reference_models.manifest import PACKAGE_WEIGHTS

evaluators.register(
    "digits-cnn", "audit_reference_models.evaluators.classifier:load_classifier",
    "Digits CNN: 64-d features for FID-type metrics, logits for Inception Score and conditional accuracy",
    weights=("classifier",), weights_folder=PACKAGE_WEIGHTS,
)
trainable("classifier", "audit_reference_models.evaluators.classifier:train", minutes=0.5)
