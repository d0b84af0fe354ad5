"""The deepfake detectors a plugin registers (`audit.registry.detectors`), found by name, by
kind, and by the generator families they were trained on.

A detector entry's loader takes the detector's name (one loader may serve a weights file that
holds several detectors); its metadata gives `kind` (e.g. "cnn") and `trained_on` (families).
"""

from __future__ import annotations

from typing import Any

from audit.errors import UnknownNameError
from audit.messages import did_you_mean

__all__ = ["family_detectors", "general_detectors", "load_detector"]


def load_detector(name: str) -> Any:
    """The registered detector `name`, ready to score images."""
    from audit.registry import detectors

    return detectors.load(name)(name)


def general_detectors() -> tuple[str, ...]:
    """Detectors trained on several generator families (the all-generator detectors)."""
    from audit.registry import detectors

    return tuple(e.name for e in detectors if len(e.metadata["trained_on"]) > 1)


def family_detectors(kind: str) -> dict[str, str]:
    """The leave-one-generator-out set of `kind`: {family: detector of that kind trained on that
    family alone}, in the order of the families the general `kind` detector was trained on."""
    from audit.registry import detectors

    entries = [e for e in detectors if e.metadata["kind"] == kind]
    if not entries:
        raise UnknownNameError(did_you_mean("detector kind", kind, sorted({e.metadata["kind"] for e in detectors})))
    alone = {e.metadata["trained_on"][0]: e.name for e in entries if len(e.metadata["trained_on"]) == 1}
    families = next((e.metadata["trained_on"] for e in entries if len(e.metadata["trained_on"]) > 1), tuple(alone))
    return {family: alone[family] for family in families if family in alone}
