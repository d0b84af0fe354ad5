"""Every bundled weights file: verified, small, documented, and reproducible from its manifest."""

from __future__ import annotations

import pytest

from audit.registry import models, register_bundled_models, trainers
from audit.weights import sha256_file
from audit_reference_models.manifest import read_manifest, weights_dir

register_bundled_models()
MAX_BYTES = 10 * 1024 * 1024


@pytest.mark.parametrize("name", trainers.names())
def test_manifest_is_complete_and_matches_its_file(name: str):
    manifest = read_manifest(name)
    path = weights_dir() / manifest["file"]
    assert sha256_file(path) == manifest["sha256"]
    assert path.stat().st_size == manifest["bytes"] <= MAX_BYTES
    for key in ("config", "seed", "data_sha256", "metrics", "train_seconds", "train_command"):
        assert key in manifest, key
    assert manifest["quick"] is False
    assert manifest["train_command"].startswith(f"audit train model={name}")
    quick = manifest["quick_reference"]
    assert quick["seed"] == manifest["seed"] and isinstance(quick["metrics"], dict) and quick["metrics"]


@pytest.mark.parametrize("name", [e.name for e in models if not e.metadata.get("plugin")])
def test_every_bundled_model_is_trainable_and_has_a_card(name: str):
    from audit.adapters import load_model

    entry = models.entry(name)
    for weights in entry.metadata["weights"]:
        assert weights in trainers, f"{weights} has no `audit train` recipe"
    adapter = load_model(name)
    card = (adapter.info.card or "").lower()
    for section in ("architecture", "intended use", "limitations", "known biases"):
        assert section in card, f"model card of {name} lacks '{section}'"
    if not entry.metadata["weights"]:  # e.g. transformer-scaled: random weights from a seed, nothing stored
        assert entry.metadata.get("opt_in") and adapter.info.params > 0
        return
    # the manifest counts every floating tensor saved (BatchNorm statistics too)
    assert 0 < adapter.info.params <= read_manifest(entry.metadata["weights"][0])["params"]
