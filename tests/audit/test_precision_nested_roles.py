"""A sub-network listed by modules() under a second role (`{"generator": G, "head": G.fc2}`) is
one network: its weights are counted and quantized once (weights bytes, quantized share), and
int8static converts the outer network without taking away the attribute the second role reads."""

from __future__ import annotations

import pytest
import torch

from audit.adapters.loading import load_model
from audit.precision import apply_precision, distinct_roles, parameter_count, weights_bytes


def _pair(precision: str):
    from quantization_models import mlp, nested

    return apply_precision(mlp(), precision, "cpu"), apply_precision(nested(), precision, "cpu")


def test_distinct_roles_keep_the_outermost():
    from quantization_models import nested

    adapter = nested()
    assert list(distinct_roles(adapter)) == ["generator"]
    assert parameter_count(adapter.modules().values()) == parameter_count([adapter.net]) == 64 * 512 + 512 + 512 * 256 + 256


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_weights_bytes_count_each_weight_once(precision):
    plain, nested = _pair(precision)
    assert weights_bytes(nested) == weights_bytes(plain)


@pytest.mark.parametrize("precision", ["int8", "int8wo", "int4wo"])
def test_a_nested_role_is_quantized_and_counted_once(precision):
    plain, nested = _pair(precision)
    assert nested.quantization.quantized_share == plain.quantization.quantized_share == 1.0
    assert nested.quantization.quantized == ["generator.fc1", "generator.fc2"]
    assert weights_bytes(nested) == weights_bytes(plain)


def test_int8static_keeps_the_nested_role_reachable():
    """Before: the outer network was replaced whole and `modules()` raised
    "'MLPGen' object has no attribute 'fc2'"."""
    plain = load_model("quantization_models:mlp", "fp32")
    nested = load_model("quantization_models:nested", "int8static")
    roles = nested.modules()
    assert set(roles) == {"generator", "head"} and nested.quantization.quantized == ["generator.fc1", "generator.fc2"]
    assert nested.quantization.kept_float == {} and nested.quantization.quantized_share > 0.99
    images = nested.sample(8, 0, labels=torch.arange(8))
    reference = plain.sample(8, 0, labels=torch.arange(8))
    assert images.shape == reference.shape and 0 < float((images - reference).abs().mean()) < 0.05
    assert weights_bytes(nested) < 0.3 * weights_bytes(plain)


def test_efficiency_weights_mib_reads_the_same_count(cli):
    result = cli("run", "suite=efficiency", "model=quantization_models:nested,quantization_models:mlp", "n=16",
                 "check=efficiency.weights_mib")
    values = {r["model"]: r["value"] for r in result.results["records"]}
    assert values["quantization_models:nested"] == values["quantization_models:mlp"], values
