"""Everyday image processing (audit.deepfake.perturbations): identity at severity 0, distance that
grows with severity, real JPEG, determinism, and errors that name the valid choices."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from audit.deepfake.perturbations import JPEG_QUALITY, PERTURBATIONS, SEVERITIES, perturb
from audit.robustness.corruptions import gaussian_blur, gaussian_noise


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    from audit_reference_models.data.digits import load_digits_split

    return torch.tensor(load_digits_split().test_x)


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_severity_zero_returns_the_input_exactly(name: str, digits: torch.Tensor) -> None:
    out = perturb(digits, name, 0, seed=3)
    assert torch.equal(out, digits) and out is not digits


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_output_is_valid_and_deterministic_per_seed(name: str, digits: torch.Tensor) -> None:
    x = digits[:32]
    for s in SEVERITIES[1:]:
        out = perturb(x, name, s, seed=5)
        assert out.shape == x.shape and out.dtype == x.dtype
        assert 0 <= out.min() and out.max() <= 1
        assert torch.equal(out, perturb(x, name, s, seed=5))


def test_noise_depends_on_the_seed(digits: torch.Tensor) -> None:
    assert not torch.equal(perturb(digits, "noise", 1, seed=0), perturb(digits, "noise", 1, seed=1))


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_distance_to_clean_grows_with_severity(name: str, digits: torch.Tensor) -> None:
    distances = [float(((perturb(digits, name, s, seed=0) - digits) ** 2).mean()) for s in SEVERITIES]
    assert distances[0] == 0.0
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_jpeg_equals_an_independent_pillow_round_trip(digits: torch.Tensor) -> None:
    x = digits[:20]
    for severity, quality in JPEG_QUALITY.items():
        expected = []
        for image in x[:, 0].numpy():
            buffer = io.BytesIO()
            Image.fromarray(np.round(image * 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
            expected.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue()))))
        out = perturb(x, "jpeg", severity)
        assert torch.equal(out, torch.from_numpy(np.stack(expected)[:, None] / np.float32(255)))


def test_blur_and_noise_are_the_robustness_corruptions(digits: torch.Tensor) -> None:
    for s in SEVERITIES:
        assert torch.equal(perturb(digits, "blur", s), gaussian_blur(digits, s))
        assert torch.equal(perturb(digits, "noise", s, seed=4), gaussian_noise(digits, s, seed=4))


def test_resize_loses_detail_finer_than_the_small_size() -> None:
    checkerboard = torch.tensor((np.indices((16, 16)).sum(0) % 2).astype(np.float32))[None, None]
    contrast = [float(perturb(checkerboard, "resize", s).std()) for s in SEVERITIES[1:]]
    assert contrast[0] < 0.15 * float(checkerboard.std())  # the finest pattern does not fit in 14 px
    assert contrast[-1] < 0.01
    flat = torch.full((1, 1, 16, 16), 0.25)
    assert torch.allclose(perturb(flat, "resize", 5), flat)


def test_unknown_name_and_severity_fail_with_the_valid_ones(digits: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="unknown perturbation 'webp'; valid: jpeg, blur, noise, resize"):
        perturb(digits, "webp", 1)
    with pytest.raises(ValueError, match="valid: 0, 1, 2, 3, 4, 5"):
        perturb(digits, "jpeg", 6)
    with pytest.raises(ValueError, match="expected images"):
        perturb(digits[0], "blur", 1)
