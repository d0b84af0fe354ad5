"""`data=`, `text=` and `evaluator=`: the user's reference images, held-out text and image evaluator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from byo.builders import (
    build_digits_evaluator,
    build_oracle_generator,
    build_rgb_evaluator,
    build_tiny_generator,
    digits_arrays,
    write_npz,
    write_png_folder,
    write_text,
)
from tests.helpers import assert_one_line_error

ARGS = ("n=128", "bootstrap=50")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_oracle_generator(tmp_path_factory.mktemp("data") / "oracle.pt")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- data= -------------------------------------------------------------------------------------


def test_npz_reference_images(cli, oracle: Path, tmp_path: Path):
    x, y = digits_arrays(200)
    npz = write_npz(tmp_path / "mine.npz", x, y)
    result = cli("run", "suite=quality", f"model=torchscript:{oracle}", "check=quality.fid,quality.class_kl", f"data={npz}", *ARGS)
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    fid = next(r for r in result.results["records"] if r["check"] == "quality.fid")
    assert fid["status"] != "error" and fid["details"]["n_reference"] == 160  # 80% of 200
    files = result.results["fingerprint"]["files"]
    assert files["data:mine.npz"] == _sha(npz) and "data:digits-16x16" not in files
    assert result.results["config"]["data"] == str(npz)


def test_png_folder_matches_npz(tmp_path: Path):
    """A folder of PNGs in class subfolders loads the same images and labels as the .npz, and the
    split is the same deterministic one."""
    from audit.reference_data import load_reference_images

    x, y = digits_arrays(100)
    a = load_reference_images(write_npz(tmp_path / "d.npz", x, y)).at((1, 16, 16))
    b = load_reference_images(write_png_folder(tmp_path / "pngs", x, y)).at((1, 16, 16))
    again = load_reference_images(tmp_path / "pngs").at((1, 16, 16))
    assert a.train_x.shape == (80, 1, 16, 16) and a.test_x.shape == (20, 1, 16, 16)
    assert b.train_x.dtype == np.float32 and 0 <= b.train_x.min() and b.train_x.max() <= 1
    # folder order (class subfolder, file name) differs from array order: compare as multisets
    key = lambda r: sorted(map(bytes, np.round(np.concatenate([r.train_x, r.test_x]) * 255).astype(np.uint8)))  # noqa: E731
    assert key(a) == key(b)
    assert sorted(np.concatenate([a.train_y, a.test_y])) == sorted(np.concatenate([b.train_y, b.test_y]))
    assert np.array_equal(b.train_x, again.train_x) and np.array_equal(b.test_y, again.test_y)
    every = np.bincount(np.concatenate([b.train_y, b.test_y]), minlength=10)
    assert np.abs(np.bincount(b.test_y, minlength=10) - 0.2 * every).max() <= 1  # stratified by label


def test_rgb_folder_and_unlabelled(tmp_path: Path):
    from audit.reference_data import load_reference_images

    x, _ = digits_arrays(30)
    data = load_reference_images(write_png_folder(tmp_path / "rgb", x, rgb=True))
    ref = data.at((3, 16, 16))
    assert data.native_shape == (3, 16, 16) and ref.train_x.shape[1:] == (3, 16, 16) and ref.train_y is None


def test_own_images_with_own_evaluator(cli, tmp_path: Path):
    """RGB 8x8 images, an RGB generator and an RGB evaluator: nothing of the bundled digits."""
    rng = np.random.default_rng(0)
    images = (rng.random((60, 1, 8, 8)) * 255).astype(np.uint8)
    folder = write_png_folder(tmp_path / "rgb8", images, rgb=True)
    gen = build_tiny_generator(tmp_path / "rgb_gen.pt", latent=8, shape=(3, 8, 8), attributes=True)
    evaluator = build_rgb_evaluator(tmp_path / "rgb_eval.pt")
    result = cli(
        "run", "suite=quality", f"model=torchscript:{gen}", "check=quality.fid,quality.inception_score,quality.swd_pixel",
        f"data={folder}", f"evaluator={evaluator}", *ARGS,
    )
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    records = result.results["records"]
    assert all(r["status"] not in ("error", "skipped") for r in records), [(r["check"], r["reason"]) for r in records]
    files = result.results["fingerprint"]["files"]
    assert files["evaluator:rgb_eval"] == _sha(evaluator) and "data:rgb8" in files
    assert "evaluator:digits-cnn" not in files


@pytest.mark.parametrize("style", ["methods", "pair", "import"])
def test_user_evaluator_equals_bundled(cli, oracle: Path, tmp_path: Path, style: str):
    """The bundled digits CNN given back as evaluator= (scripted with features/head, scripted with
    forward -> (features, logits), or an import path) gives exactly the default's numbers."""
    checks = "check=quality.fid,quality.inception_score,quality.conditional_accuracy"
    default = cli("run", "suite=quality", f"model=torchscript:{oracle}", checks, *ARGS, f"out={tmp_path / 'a'}")
    if style == "import":
        word = "byo.adapters:digits_evaluator_module"
    else:
        word = str(build_digits_evaluator(tmp_path / f"cnn_{style}.pt", style))
    mine = cli("run", "suite=quality", f"model=torchscript:{oracle}", checks, f"evaluator={word}", *ARGS, f"out={tmp_path / 'b'}")
    assert mine.exit_code == default.exit_code, mine.stdout + mine.stderr
    values = lambda r: [(x["check"], x["value"], x["ci_low"], x["ci_high"]) for x in r.results["records"]]  # noqa: E731
    assert values(mine) == values(default)
    files = mine.results["fingerprint"]["files"]
    if style == "import":
        assert len(files[f"evaluator:{word}"]) == 64
    else:
        assert files[f"evaluator:cnn_{style}"] == _sha(Path(word))


def _savez(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _bad_run(cli, oracle: Path, *words: str) -> object:
    return cli("run", "suite=quality", f"model=torchscript:{oracle}", "check=quality.fid", "n=64", *words)


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda d: _savez(d / "noimg.npz", images=np.zeros((20, 1, 16, 16))), ["has no array 'x'", "found: images"]),
        (lambda d: write_npz(d / "nhwc.npz", np.zeros((20, 16, 16, 3), np.uint8)), ["16 channels", "looks like [N, H, W, C]"]),
        (lambda d: write_npz(d / "range.npz", np.full((20, 1, 16, 16), 2.0, np.float32)), ["values in [2, 2]", "expected [0, 1]"]),
        (lambda d: write_npz(d / "int.npz", np.zeros((20, 1, 16, 16), np.int32)), ["dtype int32", "uint8"]),
        (lambda d: write_npz(d / "y.npz", np.zeros((20, 1, 16, 16), np.uint8), np.zeros(5, np.int64)), ["y has shape (5,)", "expected [20]"]),
        (lambda d: write_npz(d / "few.npz", np.zeros((4, 1, 16, 16), np.uint8)), ["holds 4 images", "at least 10"]),
        (lambda d: write_npz(d / "nan.npz", np.full((20, 1, 16, 16), np.nan, np.float32)), ["non-finite"]),
        (lambda d: (d / "x.txt").write_text("hi") and d / "x.txt", ["must be a folder", "or an .npz"]),
        (lambda d: (d / "empty").mkdir() or d / "empty", ["holds no PNG/JPG/JPEG images"]),
        (lambda d: (d / "bad.npz").write_bytes(b"not a zip") and d / "bad.npz", ["cannot be read as .npz"]),
    ],
    ids=["no-x", "nhwc", "range", "int32", "y-length", "too-few", "nan", "not-npz", "empty-folder", "corrupt"],
)
def test_bad_data_is_one_line_exit_2(cli, oracle: Path, tmp_path: Path, make, fragments: list[str]):
    path = make(tmp_path)
    assert_one_line_error(_bad_run(cli, oracle, f"data={path}"), 2, *fragments)


def test_mixed_image_sizes_need_an_evaluator(cli, oracle: Path, tmp_path: Path):
    """Images of several sizes are resized to the generator's shape (audit.reference_images), which
    the bundled digits evaluator does not read as digits: evaluator= is asked for."""
    from PIL import Image

    x, _ = digits_arrays(12)
    folder = write_png_folder(tmp_path / "mixed", x)
    Image.new("L", (8, 8)).save(folder / "zz.png")
    assert_one_line_error(_bad_run(cli, oracle, f"data={folder}"), 2, "holds images of several sizes", "digits evaluator reads 1x16x16", "evaluator=")


def test_missing_data_path(cli, oracle: Path, tmp_path: Path):
    assert_one_line_error(_bad_run(cli, oracle, f"data={tmp_path / 'nope'}"), 2, "'data' names", "does not exist")


def test_rgb_data_needs_own_evaluator(cli, oracle: Path, tmp_path: Path):
    x, _ = digits_arrays(30)
    folder = write_png_folder(tmp_path / "rgb", x, rgb=True)
    assert_one_line_error(_bad_run(cli, oracle, f"data={folder}"), 2, "holds 3x16x16 images, but the bundled digits evaluator reads 1x16x16", "evaluator=")
    gen = build_tiny_generator(tmp_path / "rgb_gen.pt", latent=8, shape=(3, 16, 16), attributes=True)
    result = cli("run", "suite=quality", f"model=torchscript:{gen}", "check=quality.fid", f"data={folder}")
    assert_one_line_error(result, 2, "generates 3x16x16 images, but the bundled digits evaluator reads 1x16x16", "give evaluator=")
    result = cli("run", "suite=quality", f"model=torchscript:{gen}", "check=quality.fid")
    assert_one_line_error(result, 2, "generates 3x16x16 images, but the bundled digits evaluator reads 1x16x16", "and data=")


def test_evaluator_that_does_not_fit_the_data(cli, oracle: Path, tmp_path: Path):
    evaluator = build_rgb_evaluator(tmp_path / "rgb_eval.pt")
    assert_one_line_error(_bad_run(cli, oracle, f"evaluator={evaluator}"), 2, "Evaluator 'rgb_eval' fails on reference images of shape 1x16x16")


def test_evaluator_with_wrong_outputs(cli, oracle: Path, tmp_path: Path):
    import torch

    class LogitsOnly(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.flatten(1)[:, :10]

    path = tmp_path / "logits_only.pt"
    torch.jit.save(torch.jit.script(LogitsOnly()), str(path))
    assert_one_line_error(_bad_run(cli, oracle, f"evaluator={path}"), 2, "must return (features, logits)")
    not_ts = tmp_path / "state.pt"
    torch.save({"w": torch.zeros(1)}, not_ts)
    assert_one_line_error(_bad_run(cli, oracle, f"evaluator={not_ts}"), 2, "is not a TorchScript file")
    assert_one_line_error(_bad_run(cli, oracle, f"evaluator={tmp_path / 'missing.pt'}"), 2, "'evaluator' names", "does not exist")


# --- text= ------------------------------------------------------------------------------------------


def test_text_split_rules():
    from audit.reference_data import split_documents

    assert split_documents("one story\nwith two lines\n\n  \nsecond story\n") == ["one story\nwith two lines", "second story"]
    assert split_documents("first\r\nsecond\r\n\r\nthird") == ["first\nsecond", "third"]
    assert split_documents("line one\nline two\n\nline three") == ["line one\nline two", "line three"]
    assert split_documents("a\nb\n c \n") == ["a", "b", "c"]


def test_text_file_loading(tmp_path: Path):
    from audit.reference_data import load_text

    path = write_text(tmp_path / "t.txt", ["Uno.", "Dos, con acentos: é ñ.", "Drei."])
    text = load_text(path)
    assert text.documents == ("Uno.", "Dos, con acentos: é ñ.", "Drei.")
    assert text.sha256 == _sha(path) and text.name == "t.txt" and "3 blank-line-separated documents" in text.description
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffone\ntwo\n".encode("utf-8"))
    assert load_text(bom).documents == ("one", "two")


@pytest.mark.parametrize(
    "content, fragments",
    [(b"caf\xe9 au lait\n", ["is not UTF-8", "0xe9 at offset 3"]), (b"\n \n\n", ["holds no documents"])],
)
def test_bad_text_is_one_line_exit_2(cli, tmp_path: Path, content: bytes, fragments: list[str]):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    assert_one_line_error(cli("run", "suite=quality", "model=transformer", "check=quality.perplexity", f"text={path}"), 2, *fragments)


def test_text_is_used_by_perplexity(cli, tmp_path: Path):
    """The bundled transformer on its own held-out stories given as a text= file reproduces the
    default perplexity exactly; on a different text it differs."""
    from audit_reference_models.data.tinystories import load_tinystories_split

    stories = list(load_tinystories_split().heldout[:20])
    same = write_text(tmp_path / "same.txt", stories)
    words = ("run", "suite=quality", "model=transformer", "check=quality.perplexity", "n=20", "bootstrap=50")
    default = cli(*words, f"out={tmp_path / 'a'}").results["records"][0]
    mine = cli(*words, f"text={same}", f"out={tmp_path / 'b'}").results["records"][0]
    assert mine["value"] == pytest.approx(default["value"], rel=1e-9) and mine["n"] == 20
    assert "same.txt" in mine["details"]["reference"]
    other = write_text(tmp_path / "other.txt", ["Zebras quantify xylophones.", "Quarterly derivatives hedge exposure."])
    odd = cli(*words, f"text={other}", f"out={tmp_path / 'c'}").results["records"][0]
    assert odd["n"] == 2 and odd["value"] > 2 * default["value"]
