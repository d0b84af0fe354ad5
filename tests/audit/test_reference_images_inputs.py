"""Bad or unusual `data=` input: 16-bit grayscale images read at their full range (never clipped
to white), label folders and `.npz` labels that are not integers 0..MAX_LABEL refused with one
line (InputError, exit 2) at plan time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from audit.errors import InputError


def _digits(count: int = 20, size: int = 16) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, size, size), dtype=np.uint8)


def _write(folder: Path, images: np.ndarray, bits: int, labels: list[str] | None = None) -> None:
    for i, a in enumerate(images):
        sub = folder / labels[i % len(labels)] if labels else folder
        sub.mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(a.astype(np.uint16) * 257) if bits == 16 else Image.fromarray(a)
        img.save(sub / f"{i:03d}.png")


def test_16_bit_grayscale_reads_as_the_same_pixels_as_8_bit(tmp_path: Path):
    from audit.reference_images import load_reference_images

    images = _digits()
    _write(tmp_path / "d8", images, 8)
    _write(tmp_path / "d16", images, 16)
    with Image.open(next((tmp_path / "d16").glob("*.png"))) as img:
        assert img.mode == "I;16"  # what PIL gives for a 16-bit gray PNG
    eight, sixteen = load_reference_images(tmp_path / "d8"), load_reference_images(tmp_path / "d16")
    assert sixteen.native_shape == (1, 16, 16)
    for shape in ((1, 16, 16), (3, 16, 16), (1, 8, 8)):
        a, b = eight.at(shape), sixteen.at(shape)
        assert b.train_x.max() <= 1.0 and b.train_x.min() >= 0.0
        np.testing.assert_allclose(b.train_x, a.train_x, atol=1 / 255)
        np.testing.assert_allclose(b.test_x, a.test_x, atol=1 / 255)
    np.testing.assert_allclose(eight.at((1, 16, 16)).train_x, images[eight.train_index[: len(eight.train_index)]][:, None] / 255.0, atol=1e-6)


@pytest.mark.parametrize("name", ["²", "١", "99999999999999999999", "5000000000", "100000"])
def test_label_folders_must_be_ascii_integers_in_range(tmp_path: Path, name: str):
    from audit.reference_images import load_reference_images

    _write(tmp_path / "lab", _digits(), 8, ["0", name])
    with pytest.raises(InputError, match="label folder") as info:
        load_reference_images(tmp_path / "lab")
    assert "\n" not in str(info.value)


def test_ascii_label_folders_still_label(tmp_path: Path):
    from audit.reference_images import load_reference_images

    _write(tmp_path / "lab", _digits(), 8, ["0", "7", "99999"])
    data = load_reference_images(tmp_path / "lab")
    assert sorted(set(data.source.labels.tolist())) == [0, 7, 99999]


@pytest.mark.parametrize("y", [
    np.arange(20, dtype=np.uint64) + np.uint64(2**63),
    np.arange(20, dtype=np.int64) * 10**12,
    np.arange(20, dtype=np.int64) - 1,
    np.full(20, 100_000, dtype=np.int32),
])
def test_npz_labels_out_of_range_are_refused(tmp_path: Path, y: np.ndarray):
    from audit.reference_images import load_reference_images

    np.savez(tmp_path / "d.npz", x=_digits(), y=y)
    with pytest.raises(InputError, match=r"expected integer labels 0\.\.99,999"):
        load_reference_images(tmp_path / "d.npz")


def test_npz_labels_in_range_are_kept(tmp_path: Path):
    from audit.reference_images import load_reference_images

    y = (np.arange(20) % 4).astype(np.uint64)
    np.savez(tmp_path / "d.npz", x=_digits(), y=y)
    data = load_reference_images(tmp_path / "d.npz")
    assert data.source.labels.dtype == np.int64 and data.source.labels.tolist() == y.tolist()
