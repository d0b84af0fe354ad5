"""Fail closed: out-of-range numbers, unusable data, broken weights, impossible gates, missing
devices and unwritable destinations are one line and exit 2 at plan time, never a traceback,
a hang or an error after minutes of work."""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from byo.builders import digits_arrays, write_npz, write_png_folder, write_text
from tests.helpers import assert_one_line_error

SEED_RANGE = "0..2147483647"
BIG = str(2**64)  # one past the largest 64-bit seed


# --- 1. seeds: one range for run, train and check-model ---------------------------------------


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the trainer: a test must never train, and must see what train would have done."""
    import audit.training as training

    calls: list[dict] = []

    def fake(train_fn, name, seed, out_dir, quick, **kwargs):
        calls.append({"name": name, "seed": seed, "out_dir": Path(out_dir), "quick": quick})
        return {"fake": True}

    monkeypatch.setattr(training, "train_with_quick_reference", fake)
    return calls


@pytest.mark.parametrize("seed", ["abc", BIG, "-1", "2147483648"])
def test_train_seed_out_of_range(cli, no_training: list[dict], seed: str):
    assert_one_line_error(cli("train", "model=classifier", "quick=true", f"seed={seed}"), 2, "'seed' must be an integer", SEED_RANGE)
    assert not no_training


def test_run_seed_beyond_64_bits(cli):
    result = cli("run", "suite=quality", "model=gan", "check=quality.fid", "n=16", "bootstrap=0", f"seed={BIG}")
    assert_one_line_error(result, 2, "'seed' must be an integer", SEED_RANGE)


def test_check_model_seed_out_of_range(cli):
    assert_one_line_error(cli("check-model", "model=gan", "seed=2147483648"), 2, "'seed'", SEED_RANGE)


def test_largest_seed_keeps_every_derived_seed_valid():
    """MAX_SEED plus audit's largest offsets (the detectors' fake-sample base, a prompt index < n)
    is still a seed numpy's legacy seeding, scikit-learn and torch accept."""
    import torch

    from audit.config import MAX_N, MAX_SEED, parse_run_words
    from audit_reference_models.detectors.train import FAKE_SEED_BASE

    assert parse_run_words(["suite=quality", f"seed={MAX_SEED}"]).seed == MAX_SEED
    derived = MAX_SEED + FAKE_SEED_BASE + MAX_N
    np.random.RandomState(derived)
    torch.Generator().manual_seed(derived)
    assert derived < 2**32


# --- 2. n and bootstrap: bounded at parse time -------------------------------------------------


@pytest.mark.parametrize("word, fragment", [("n=10000000000", "'n' must be an integer in 2..16384"),
                                            ("bootstrap=1000000000000", "'bootstrap' must be an integer in 0..10000")])
def test_n_and_bootstrap_bounded_when_parsed(word: str, fragment: str):
    from audit.config import parse_run_words
    from audit.errors import InputError

    with pytest.raises(InputError, match=fragment.replace(".", r"\.")):
        parse_run_words(["suite=quality", word])


@pytest.mark.parametrize("word, fragment", [("n=10000000000", "2..16384"), ("bootstrap=1000000000000", "0..10000")])
def test_run_n_and_bootstrap_out_of_range(cli, word: str, fragment: str):
    assert_one_line_error(cli("run", "suite=quality", "model=gan", word), 2, fragment)


def test_ranges_are_in_the_run_help():
    from audit.config import RUN_KEYS

    assert "2..16384" in RUN_KEYS["n"] and "20..10000" in RUN_KEYS["bootstrap"] and SEED_RANGE in RUN_KEYS["seed"]


# --- 3. text=: enough documents, and text at all ------------------------------------------------


def _perplexity_run(cli, path: Path, check: str = "quality.perplexity"):
    return cli("run", "suite=quality", "model=transformer", f"check={check}", "bootstrap=0", f"text={path}")


def test_one_document_text(cli, tmp_path: Path):
    path = write_text(tmp_path / "one.txt", ["A single story about a fox that found a red ball in the park."])
    assert_one_line_error(_perplexity_run(cli, path), 2, "holds 1 document;", "need at least 2")


def test_machine_text_needs_four_documents(cli, tmp_path: Path):
    story = " ".join(["The little fox ran to the park and played with a red ball all day long."] * 6)
    path = write_text(tmp_path / "three.txt", [story] * 3)
    result = cli("run", "suite=deepfake", "model=transformer", "check=deepfake.machine_text", "bootstrap=0", f"text={path}")
    assert_one_line_error(result, 2, "holds 3 documents;", "deepfake.machine_text needs at least 4")


@pytest.mark.parametrize(
    "content, fragments",
    [(b"", ["holds no documents"]), (b"\x00\x01\x02\x03" * 64, ["is binary", "NUL byte at offset 0"]),
     (b"caf\xe9\n" * 8, ["is not UTF-8"])],
    ids=["empty", "binary", "latin-1"],
)
def test_unusable_text_files(cli, tmp_path: Path, content: bytes, fragments: list[str]):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    assert_one_line_error(_perplexity_run(cli, path), 2, *fragments)


# --- 4. data=: decompression bombs and memory ----------------------------------------------------


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares width x height pixels (8-bit grayscale) and holds no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def _image_run(cli, data: Path):
    return cli("run", "suite=quality", "model=gan", "check=quality.fid", "n=16", "bootstrap=0", f"data={data}")


@pytest.mark.parametrize("size", [100_000, 10_000], ids=["bomb-error", "bomb-warning"])
def test_decompression_bomb_image(cli, tmp_path: Path, size: int):
    x, _ = digits_arrays(12)
    folder = write_png_folder(tmp_path / "imgs", x)
    _png_header_only(folder / "zz_bomb.png", size, size)
    assert_one_line_error(_image_run(cli, folder), 2, "zz_bomb.png' is refused as a decompression bomb")


def test_too_many_pixels_in_one_image(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder is streamed (no cap on its total), but one image's declared size is capped."""
    import audit.reference_images as reference_images

    monkeypatch.setattr(reference_images, "MAX_IMAGE_PIXELS", 16 * 16 - 1)
    folder = write_png_folder(tmp_path / "imgs", digits_arrays(12)[0])
    assert_one_line_error(_image_run(cli, folder), 2, "is 16x16: more than the 255 pixels one image may hold")


def test_too_many_pixels_in_an_npz(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import audit.reference_images as reference_images

    monkeypatch.setattr(reference_images, "MAX_NPZ_PIXELS", 16 * 16 * 10)
    npz = write_npz(tmp_path / "x.npz", *digits_arrays(20))
    assert_one_line_error(_image_run(cli, npz), 2, "x.npz' (x) holds 5,120 pixels", "at most 2,560", "save x as an .npy")


# --- 5. hf: folders with broken weights or config -----------------------------------------------


def _hf_folder(tmp_path: Path, weights: bytes | None, config: str = '{"model_type": "gpt2"}') -> Path:
    folder = tmp_path / "lm"
    folder.mkdir()
    (folder / "config.json").write_text(config)
    (folder / "tokenizer.json").write_text("{}")
    if weights is not None:
        (folder / "model.safetensors").write_bytes(weights)
    return folder


def _valid_safetensors() -> bytes:
    import torch
    from safetensors.torch import save

    return save({"w": torch.zeros(64, 64)})


@pytest.mark.parametrize(
    "weights, fragment",
    [(os.urandom(4096), "is not a readable safetensors file"), (b"", "is not a readable safetensors file"),
     (None, "is not a readable safetensors file")],
    ids=["random-bytes", "empty", "truncated"],
)
def test_hf_garbage_weights(cli, tmp_path: Path, weights: bytes | None, fragment: str):
    if weights is None:
        valid = _valid_safetensors()
        weights = valid[: len(valid) // 2]
    folder = _hf_folder(tmp_path, weights)
    result = cli("run", "suite=quality", f"model=hf:{folder}", "check=quality.perplexity")
    assert_one_line_error(result, 2, "model.safetensors'", fragment)
    assert_one_line_error(cli("check-model", f"model=hf:{folder}"), 2, fragment)


def test_hf_config_not_json(cli, tmp_path: Path):
    folder = _hf_folder(tmp_path, _valid_safetensors(), config="{model_type: gpt2")
    assert_one_line_error(cli("run", "suite=quality", f"model=hf:{folder}", "check=quality.perplexity"), 2, "config.json is not valid JSON")


# --- 6. check-model device=cuda without CUDA ----------------------------------------------------


def test_check_model_cuda_unavailable(cli, monkeypatch: pytest.MonkeyPatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = cli("check-model", "model=gan", "device=cuda")
    assert_one_line_error(result, 2, "device=cuda", "no CUDA device is available")
    assert "breaks the adapter contract" not in result.stderr


# --- 7. policies whose gates can never pass ----------------------------------------------------


@pytest.mark.parametrize(
    "body, fragments",
    [
        ("min = 5\nmax = 3", ["gate 1", "'quality.fid'", "min = 5 > max = 3"]),
        ("max = nan", ["gate 1", "max = nan", "finite"]),
        ("max = inf", ["max = inf", "finite"]),
        ("min = -inf", ["min = -inf", "finite"]),
        ("relative_to = 'fp32'\nmin_ratio = 2.0\nmax_ratio = 1.5", ["min_ratio = 2 > max_ratio = 1.5"]),
        ("relative_to = 'fp32'\nmin_delta = 1.0\nmax_delta = -1.0", ["min_delta = 1 > max_delta = -1"]),
        ("relative_to = 'fp32'\nmargin = -0.1", ["margin = -0.1", ">= 0"]),
        ("relative_to = 'fp32'\nmargin = nan", ["margin = nan", "finite"]),
    ],
    ids=["min-above-max", "nan", "inf", "minus-inf", "ratios", "deltas", "negative-margin", "nan-margin"],
)
def test_validate_rejects_impossible_gates(cli, tmp_path: Path, body: str, fragments: list[str]):
    policy = tmp_path / "audit.toml"
    policy.write_text(f"[[gate]]\ncheck = 'quality.fid'\n{body}\n")
    assert_one_line_error(cli("validate", str(policy)), 2, *fragments)


def test_validate_accepts_equal_bounds(cli, tmp_path: Path):
    policy = tmp_path / "audit.toml"
    policy.write_text("[[gate]]\ncheck = 'quality.fid'\nmin = 3\nmax = 3\n")
    result = cli("validate", str(policy))
    assert result.exit_code == 0, result.stderr


# --- 8. train: the destination is checked first, and is never the package by default ------------


def _unwritable(kind: str, tmp_path: Path) -> Path:
    file = tmp_path / "a-file"
    file.write_text("x")
    if kind == "file":
        return file
    if kind == "under-file":
        return file / "weights"
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.parametrize(
    "kind",
    ["file", "under-file",
     pytest.param("read-only", marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders"))],
)
def test_train_unwritable_out_fails_before_training(cli, no_training: list[dict], tmp_path: Path, kind: str):
    out = _unwritable(kind, tmp_path)
    assert_one_line_error(cli("train", "model=classifier", "quick=true", f"out={out}"), 2, f"'out' names '{out}'", "not a writable folder")
    assert not no_training


def test_train_default_out_is_local(cli, no_training: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from audit_reference_models.manifest import PACKAGE_WEIGHTS

    monkeypatch.chdir(tmp_path)
    result = cli("train", "model=classifier", "quick=true")
    assert result.exit_code == 0, result.stderr
    (call,) = no_training
    assert call["out_dir"].resolve() == (tmp_path / "weights").resolve() != PACKAGE_WEIGHTS.resolve()
    assert (tmp_path / "weights").is_dir()
    assert f"AUDIT_WEIGHTS_DIR={(tmp_path / 'weights').resolve()}" in result.stdout


def test_train_quick_must_be_a_flag(cli, no_training: list[dict]):
    assert_one_line_error(cli("train", "model=classifier", "quick=maybe"), 2, "'quick' must be true or false")
    assert not no_training


def test_rebuild_advice_names_the_folder_loading_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from audit.errors import WeightsError
    from audit_reference_models.manifest import verified_weights

    monkeypatch.setenv("AUDIT_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / "gan.json").write_text(json.dumps({"file": "gan.safetensors", "sha256": "0" * 64}))
    with pytest.raises(WeightsError, match=re.escape(f"`audit train model=gan out={tmp_path}`")):
        verified_weights("gan")


def test_run_timeout_beyond_the_interval_timer(cli):
    result = cli("run", "suite=quality", "model=gan", "check=quality.fid", "n=16", "bootstrap=0", "timeout=10000000000")
    assert_one_line_error(result, 2, "'timeout' must be an integer in 0..2592000")


def test_train_help_names_the_default_folder_and_ranges(cli):
    result = cli("train", "--help")
    assert result.exit_code == 0 and "./weights" in result.stdout and SEED_RANGE in result.stdout
