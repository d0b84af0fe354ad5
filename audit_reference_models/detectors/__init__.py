"""Deepfake detectors for 16x16 digits: a small CNN and a frequency-spectrum baseline.

`DETECTORS` were trained on real digits versus samples of all three bundled generator families;
`family_detectors(kind)` names the leave-one-generator-out set (each trained on one family only),
for the generalisation matrix. All share one weights file, `detector.safetensors`, rebuilt by
`audit train model=detector`. This module imports no torch: `load_detector` and `Detector`
load `audit_reference_models.detectors.detector` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.errors import UnknownNameError
from audit.messages import did_you_mean

if TYPE_CHECKING:
    from audit_reference_models.detectors.detector import Detector

DETECTORS: tuple[str, ...] = ("detector-cnn", "detector-spectrum")
HELD_OUT_FAMILIES: tuple[str, ...] = ("gan", "vae", "diffusion")
KINDS: tuple[str, ...] = ("cnn", "spectrum")
WEIGHTS_NAME = "detector"

__all__ = ["DETECTORS", "HELD_OUT_FAMILIES", "KINDS", "Detector", "all_detectors", "family_detectors", "load_detector"]


def family_detectors(kind: str) -> dict[str, str]:
    """{family: name of the `kind` detector trained on real digits versus that family only}."""
    if kind not in KINDS:
        raise UnknownNameError(did_you_mean("detector kind", kind, list(KINDS)))
    return {family: f"detector-{kind}-{family}" for family in HELD_OUT_FAMILIES}


def all_detectors() -> tuple[str, ...]:
    """Every bundled detector: the all-family ones first, then the per-family ones by kind."""
    return DETECTORS + tuple(name for kind in KINDS for name in family_detectors(kind).values())


def load_detector(name: str) -> "Detector":
    """The bundled detector `name` in eval mode, from sha256-verified weights."""
    from audit_reference_models.detectors.detector import load

    return load(name)


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from audit_reference_models.detectors.detector import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
