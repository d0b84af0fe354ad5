"""Registry entries for the deepfake detectors (trainable, not audited models; no torch import)."""

from audit.registry import detectors
from audit_reference_models.catalog import trainable
from audit_reference_models.detectors import DETECTORS, HELD_OUT_FAMILIES, KINDS, WEIGHTS_NAME, family_detectors
from audit_reference_models.manifest import PACKAGE_WEIGHTS

LOADER = "audit_reference_models.detectors:load_detector"

for name, kind in zip(DETECTORS, KINDS):
    detectors.register(
        name, LOADER, f"{kind} detector trained on real digits versus {', '.join(HELD_OUT_FAMILIES)} samples",
        kind=kind, trained_on=HELD_OUT_FAMILIES, weights=(WEIGHTS_NAME,), weights_folder=PACKAGE_WEIGHTS,
    )
for kind in KINDS:
    for family, name in family_detectors(kind).items():
        detectors.register(
            name, LOADER, f"{kind} detector trained on real digits versus {family} samples only",
            kind=kind, trained_on=(family,), weights=(WEIGHTS_NAME,), weights_folder=PACKAGE_WEIGHTS,
        )
trainable("detector", "audit_reference_models.detectors.train:train", minutes=4)
