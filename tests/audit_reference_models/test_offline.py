"""Nothing touches the network: every bundled model loads and generates with sockets failing."""

from __future__ import annotations

import socket

import pytest

from audit.adapters import GENERATE, SAMPLE, load_model
from audit.registry import models, register_bundled_models

register_bundled_models()
BUNDLED = [e.name for e in models if not e.metadata.get("plugin")]


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network use attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_every_family_is_bundled():
    families = {models.entry(n).metadata["family"] for n in BUNDLED}
    assert {"gan", "vae", "diffusion", "transformer"} <= families


@pytest.mark.parametrize("name", BUNDLED)
def test_loads_and_generates_offline(name: str, no_network: None):
    adapter = load_model(name)
    if SAMPLE in adapter.capabilities:
        images = adapter.sample(4, seed=0)
        assert images.shape[0] == 4
    if GENERATE in adapter.capabilities:
        texts = adapter.generate(["Once upon a time"], max_new_tokens=8, seed=0)
        assert len(texts) == 1 and isinstance(texts[0], str)
