"""`data=` read with bounded memory: images of any size and channel count brought to the
generator's shape, the deterministic split, the pixel cap and streamed evaluator batches."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rgb_world import real_images, write_pngs


def _pil_bicubic(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The documented filter computed here directly: PIL bicubic per channel, in float ("F" mode)."""
    return np.stack([np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BICUBIC)) for p in image])


def test_folder_of_any_size_is_resized_to_the_generator(tmp_path: Path):
    """RGB 40x40 and gray 32x32 files in one folder, read at 3x32x32 and 1x24x24: each image is
    converted by PIL (RGB, L) and resized with PIL bicubic, or kept as it is at its own size."""
    from audit.reference_images import load_reference_images

    rgb = real_images(12, size=40)
    gray = real_images(8, size=32)[:, :1]
    write_pngs(tmp_path / "mixed" / "a", rgb)
    write_pngs(tmp_path / "mixed" / "b", gray)
    data = load_reference_images(tmp_path / "mixed")
    assert data.native_shape is None and len(data.train_index) == 16 and len(data.test_index) == 4
    ref = data.at((3, 32, 32))
    files = sorted((tmp_path / "mixed").rglob("*.png"))
    for row, index in enumerate(data.train_index):
        pil = Image.open(files[index])
        expected = np.asarray(pil.convert("RGB"), np.float32).transpose(2, 0, 1) / 255.0
        if pil.size != (32, 32):
            expected = np.clip(_pil_bicubic(expected, 32, 32), 0, 1)
        np.testing.assert_allclose(ref.train_x[row], expected, atol=1e-6)
    small = data.at((1, 24, 24))
    first = Image.open(files[data.test_index[0]])
    expected = _pil_bicubic(np.asarray(first.convert("L"), np.float32)[None] / 255.0, 24, 24)
    np.testing.assert_allclose(small.test_x[0], np.clip(expected, 0, 1), atol=1e-6)
    assert data.at((3, 32, 32)) is ref  # built once per shape


def test_split_is_sklearns_and_labels_follow_the_features(tmp_path: Path):
    from sklearn.model_selection import train_test_split

    from audit.reference_images import load_reference_images

    x = real_images(60)
    y = np.arange(60) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    data = load_reference_images(tmp_path / "d.npz")
    train, test = train_test_split(np.arange(60), test_size=0.2, random_state=0, stratify=y)
    assert np.array_equal(data.train_index, train) and np.array_equal(data.test_index, test)
    ref = data.at((3, 32, 32))
    np.testing.assert_array_equal(ref.train_y, y[train])
    np.testing.assert_allclose(ref.test_x, x[test] / 255.0, atol=1e-7)
    streamed = np.concatenate(list(ref.batches("train", size=7)))
    np.testing.assert_allclose(streamed, x[train] / 255.0, atol=1e-7)


def test_npy_is_memory_mapped_and_float_range_checked(tmp_path: Path):
    from audit.errors import InputError
    from audit.reference_images import load_reference_images

    x = real_images(20)[:, :, :16, :16].astype(np.float32) / 255.0
    np.save(tmp_path / "x.npy", x)
    data = load_reference_images(tmp_path / "x.npy")
    assert isinstance(data.source.x, np.memmap)
    gray = data.at((1, 16, 16))
    luma = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), x[data.train_index].transpose(1, 0, 2, 3), axes=1)
    np.testing.assert_allclose(gray.train_x[:, 0], luma, atol=1e-6)
    np.save(tmp_path / "bad.npy", x * 3)
    with pytest.raises(InputError, match=r"float x has values in \[0.3\d*, 2.6\d*\]"):
        load_reference_images(tmp_path / "bad.npy")


def test_folder_is_streamed_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder whose decoded pixels (120 x 3x64x64 float32: 5.9 MB) exceed the pixel budget set
    here: the pixel subsets hold the cap, and embedding every image batch by batch peaks far below
    the decoded size (holding them would take all of it), while the features still cover every image."""
    import torch

    from audit import reference_images
    from audit.evaluators import ImageEvaluator
    from audit.sample_store import SampleStore
    from rgb_world import evaluator

    write_pngs(tmp_path / "big", real_images(120, size=64))
    decoded = 120 * 3 * 64 * 64 * 4
    monkeypatch.setattr(reference_images, "PIXEL_VALUES", 20 * 3 * 64 * 64)
    monkeypatch.setattr(reference_images, "BATCH_IMAGES", 8)
    data = reference_images.load_reference_images(tmp_path / "big")
    store = SampleStore(lambda: ImageEvaluator("colour", evaluator(), "0" * 64), lambda: data)
    ref = store.reference_at((3, 64, 64))
    assert len(ref.train_x) == 20 and len(ref.test_x) == 20  # the pixel subsets: the cap, not the 96 + 24 images
    tracemalloc.start()
    features = store.real_embedding("train", ref).features
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert features.shape == (96, 54)
    assert peak < decoded / 4, f"peak {peak} bytes while embedding a folder of {decoded} decoded bytes"
    with torch.no_grad():
        direct = evaluator()(torch.from_numpy(data.source.read(data.train_index[:5], (3, 64, 64))))[0].double().numpy()
    np.testing.assert_allclose(features[:5], direct, rtol=1e-6)


def test_pixel_cap_is_stated_by_shape():
    from audit.reference_images import MIN_IMAGES, PIXEL_VALUES, pixel_cap

    assert pixel_cap((1, 16, 16)) == PIXEL_VALUES // 256 == 131072
    assert pixel_cap((3, 32, 32)) == 10922 and pixel_cap((3, 256, 256)) == 170
    assert pixel_cap((3, 2048, 2048)) == MIN_IMAGES
