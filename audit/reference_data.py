"""The data a run compares models with: real reference images (`data=`), held-out text (`text=`)
and the image evaluator (`evaluator=`), the bundled ones unless the user brings their own.

**data=** a folder of PNG/JPEG images, or an `.npz` file.

- Folder: every `*.png`, `*.jpg`, `*.jpeg` below it (any depth, sorted by relative path). All
  must have the same width and height (no resizing: resampling changes the statistics FID
  measures). Grayscale when every image is grayscale (C=1), else all are converted to RGB (C=3;
  alpha dropped). Pixel values /255. When every image sits in a first-level subfolder named by a
  non-negative integer (`0/`, `1/`, ...), that number is its class label.
- `.npz`: array `x` [N, C, H, W] or [N, H, W] (C=1), uint8 (0..255) or float in [0, 1]; optional
  `y` [N] integer labels >= 0. Loaded with `allow_pickle=False`.

At least 10 images and at most 100,000,000 pixels in all (MAX_DATA_PIXELS: they are held in
memory); an image whose header declares more pixels than Pillow's decompression-bomb limit is
refused before it is decoded. They are split once, deterministically (seed 0, stratified by
label when every class has two images or more), into 80% reference (`train`: what FID & co. compare
against) and 20% held out (`test`: the real-data floors). Their shape must be the generator's
and the evaluator's input shape; the bundled digits evaluator reads [1, 16, 16].

**text=** a UTF-8 file of held-out documents for language-model metrics: documents are
separated by blank lines; a file without blank lines has one document per line. A file with a NUL
byte is binary, not text. At least TEXT_MIN_DOCUMENTS documents (more for some checks, see
`text_min_documents`).

Every source is read and checked when the run is planned, so bad input fails with one line and
exit code 2 before anything is measured. The sha256 of each file enters the run fingerprint
(`data:<name>`, `evaluator:<name>`).
"""

from __future__ import annotations

import hashlib
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.errors import InputError
from audit.evaluators import ImageEvaluator, ReferenceImages
from audit.heldout_text import HeldoutText, tinystories_heldout

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")
MIN_IMAGES = 10
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0
DIGITS_SHAPE = (1, 16, 16)
EVALUATOR_PROBE = 2
MAX_DATA_PIXELS = 100_000_000
"""Most pixels (images x height x width) `data=` may hold: loaded as float32 and copied into the
reference/held-out splits and float64 pixel rows, 10**8 RGB pixels take a few GiB, which a 24 GB
machine holds beside the run (e.g. 24,000 RGB images of 64x64, or 1,500 of 256x256)."""
TEXT_MIN_DOCUMENTS = 2
"""Fewest held-out documents the language-model checks can use: perplexity's bootstrap CI over
documents, the BLEU/ROUGE continuation task (audit/checks/text.py) and
robustness.text_perturbation each need at least two."""
TEXT_CHECK_MIN_DOCUMENTS = {"deepfake.machine_text": 4}
"""Checks that need more held-out documents: machine-text detection needs at least 4 word-matched
pairs (audit/checks/deepfake.py)."""


# --- held-out text -------------------------------------------------------------------------------


def split_documents(text: str) -> list[str]:
    """Blank-line-separated paragraphs, or one document per line when there is no blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"\n[ \t]*\n", text.strip()):
        parts = re.split(r"\n[ \t]*\n", text)
    else:
        parts = text.split("\n")
    return [p.strip() for p in parts if p.strip()]


def load_text(path: Path) -> HeldoutText:
    if not path.is_file():
        raise InputError(f"Text file '{path}' does not exist.")
    raw = path.read_bytes()
    nul = raw.find(b"\0")
    if nul >= 0:
        raise InputError(f"Text file '{path}' is binary, not UTF-8 text: NUL byte at offset {nul}.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"Text file '{path}' is not UTF-8: invalid byte 0x{raw[exc.start]:02x} at offset {exc.start}.") from None
    documents = split_documents(text)
    if not documents:
        raise InputError(f"Text file '{path}' holds no documents (it is empty or only whitespace).")
    rule = "blank-line-separated documents" if re.search(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()) else "one document per line"
    return HeldoutText(path.name, tuple(documents), hashlib.sha256(raw).hexdigest(), f"{path.name} ({len(documents)} {rule}; first n)")


def text_min_documents(checks: list[str] | tuple[str, ...]) -> tuple[int, str]:
    """The fewest held-out documents a run of `checks` needs, and who needs them (for messages)."""
    needs = [(TEXT_CHECK_MIN_DOCUMENTS[c], f"{c} needs") for c in checks if c in TEXT_CHECK_MIN_DOCUMENTS]
    return max(needs, default=(TEXT_MIN_DOCUMENTS, "the language-model checks need"))


def check_text_count(text: HeldoutText, path: Path, checks: list[str]) -> None:
    """Too few documents for the planned checks is bad input (exit 2), not an error mid-run."""
    minimum, who = text_min_documents(checks)
    count = len(text.documents)
    if count < minimum:
        raise InputError(
            f"Text file '{path}' holds {count} document{'s' if count != 1 else ''}; {who} at least {minimum} "
            "(separate documents by blank lines, or put one per line)."
        )


# --- reference images ----------------------------------------------------------------------------


def _open_image(f: Path) -> Any:
    """Open and decode one image; a decompression bomb or unreadable file is bad input (exit 2)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(f)
            if img.size[0] * img.size[1] > MAX_DATA_PIXELS:
                img.close()
                raise InputError(f"Data image '{f}' is {img.size[0]}x{img.size[1]}: more than the {MAX_DATA_PIXELS:,} pixels data= may hold.")
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"Data image '{f}' is refused as a decompression bomb ({' '.join(str(exc).split())}).") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"Data image '{f}' cannot be read ({type(exc).__name__}: {exc}).") from None
    return img


def _too_many_pixels(where: str, pixels: int) -> InputError:
    return InputError(
        f"{where} holds {pixels:,} pixels or more; data= may hold at most {MAX_DATA_PIXELS:,} (all images are kept in memory): "
        "use fewer or smaller images."
    )


def _folder_images(folder: Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"Data folder '{folder}' holds no {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images.")
    digest = hashlib.sha256()
    opened = []
    total = 0
    for f in files:
        rel = f.relative_to(folder).as_posix()
        data = f.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
        img = _open_image(f)
        total += img.size[0] * img.size[1]
        if total > MAX_DATA_PIXELS:
            raise _too_many_pixels(f"Data folder '{folder}'", total)
        opened.append((rel, img))
    gray = all(img.mode in GRAYSCALE_MODES for _, img in opened)
    size = opened[0][1].size
    arrays = []
    for rel, img in opened:
        if img.size != size:
            raise InputError(
                f"Data image '{folder / rel}' is {img.size[0]}x{img.size[1]}, but '{folder / opened[0][0]}' is "
                f"{size[0]}x{size[1]}: all images must have the same size (audit does not resize)."
            )
        a = np.asarray(img.convert("L" if gray else "RGB"), dtype=np.float32) / 255.0
        arrays.append(a[None] if gray else a.transpose(2, 0, 1))
    x = np.stack(arrays)
    parents = [Path(rel).parts for rel, _ in opened]
    labels = None
    if all(len(p) == 2 and p[0].isdigit() for p in parents):
        labels = np.array([int(p[0]) for p in parents], dtype=np.int64)
    return x, labels, digest.hexdigest()


def _npz_declared_pixels(path: Path) -> int | None:
    """Pixels of the `x` array as its .npy header declares them (images x height x width), read
    without decompressing the array; None when the header cannot be read (np.load reports why)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("x.npy") as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape = read(fh)[0]
    except Exception:
        return None
    channels = shape[1] if len(shape) == 4 and shape[1] > 0 else 1
    return int(np.prod(shape, dtype=object)) // int(channels)


def _npz_images(path: Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    from audit.weights import sha256_file

    pixels = _npz_declared_pixels(path)
    if pixels is not None and pixels > MAX_DATA_PIXELS:
        raise _too_many_pixels(f"Data file '{path}' (x)", pixels)
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            arrays = {k: npz[k] for k in ("x", "y") if k in names}
    except Exception as exc:  # not a zip, object arrays (pickle refused), truncated file
        raise InputError(f"Data file '{path}' cannot be read as .npz ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}).") from None
    if "x" not in arrays:
        raise InputError(f"Data file '{path}' has no array 'x' (found: {', '.join(sorted(names)) or 'none'}); save images as x=[N, C, H, W].")
    x, y = arrays["x"], arrays.get("y")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise InputError(f"Data file '{path}': x has shape {x.shape}; expected [N, C, H, W] or [N, H, W].")
    if x.shape[1] not in (1, 3):
        hint = " (it looks like [N, H, W, C]: transpose to [N, C, H, W])" if x.shape[-1] in (1, 3) else ""
        raise InputError(f"Data file '{path}': x has {x.shape[1]} channels in shape {x.shape}; expected 1 or 3{hint}.")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise InputError(f"Data file '{path}': x holds {int((~np.isfinite(x)).sum())} non-finite values.")
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > 1:
            raise InputError(f"Data file '{path}': float x has values in [{low:.3g}, {high:.3g}]; expected [0, 1] (or give uint8 0..255).")
    else:
        raise InputError(f"Data file '{path}': x has dtype {x.dtype}; expected uint8 (0..255) or float in [0, 1].")
    if y is not None:
        if y.ndim != 1 or len(y) != len(x):
            raise InputError(f"Data file '{path}': y has shape {y.shape}; expected [{len(x)}] (one label per image).")
        if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
            raise InputError(f"Data file '{path}': y must hold integer labels >= 0 (dtype {y.dtype}).")
        y = y.astype(np.int64)
    return x, y, sha256_file(path)


def split_images(name: str, x: np.ndarray, y: np.ndarray | None, sha256: str) -> ReferenceImages:
    """80% reference / 20% held out, fixed seed, stratified when every class has two images."""
    from sklearn.model_selection import train_test_split

    stratify = y if y is not None and np.unique(y, return_counts=True)[1].min() >= 2 else None
    if stratify is not None and len(np.unique(y)) > round(len(x) * HELDOUT_FRACTION):
        stratify = None  # too few held-out images to hold every class
    train, test = train_test_split(np.arange(len(x)), test_size=HELDOUT_FRACTION, random_state=SPLIT_SEED, stratify=stratify)
    parts = [x[train], None if y is None else y[train], x[test], None if y is None else y[test]]
    for a in parts:
        if a is not None:
            a.setflags(write=False)
    return ReferenceImages(name, parts[0], parts[1], parts[2], parts[3], sha256)


def load_reference_images(path: Path) -> ReferenceImages:
    if path.is_dir():
        x, y, digest = _folder_images(path)
    elif path.is_file():
        if path.suffix.lower() != ".npz":
            raise InputError(f"Data '{path}' must be a folder of {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images or an .npz file.")
        x, y, digest = _npz_images(path)
    else:
        raise InputError(f"Data '{path}' does not exist.")
    if len(x) < MIN_IMAGES:
        raise InputError(f"Data '{path}' holds {len(x)} images; at least {MIN_IMAGES} are needed (hundreds for stable metrics).")
    return split_images(path.name, x, y, digest)


# --- everything a run reads, resolved at plan time ----------------------------------------------


@dataclass
class Sources:
    """The run's reference images, held-out text and evaluator: the user's (loaded and checked at
    plan time) or None for the bundled default (loaded on first use)."""

    reference: ReferenceImages | None = None
    text: HeldoutText | None = None
    evaluator: ImageEvaluator | None = None

    def reference_factory(self) -> ReferenceImages:
        from audit.evaluators import digits_reference

        return self.reference if self.reference is not None else digits_reference()

    def evaluator_factory(self) -> ImageEvaluator:
        from audit.evaluators import digits_evaluator

        return self.evaluator if self.evaluator is not None else digits_evaluator()

    def text_factory(self) -> HeldoutText:
        return self.text if self.text is not None else tinystories_heldout()


def _shape(shape: Any) -> str:
    return "x".join(str(int(d)) for d in shape)


def probe_evaluator(evaluator: ImageEvaluator, images: np.ndarray, what: str) -> None:
    """Run the evaluator on a couple of images now, so a mismatch fails the plan (exit 2)."""
    import torch

    x = torch.tensor(np.asarray(images[:EVALUATOR_PROBE], dtype=np.float32))
    try:
        with torch.no_grad():
            f, logits = evaluator.features_and_logits(x)
    except Exception as exc:
        from audit.messages import one_line

        raise InputError(
            f"Evaluator '{evaluator.name}' fails on {what} images of shape {_shape(x.shape[1:])}: {type(exc).__name__}: {one_line(exc, 200)}"
        ) from None
    if not (torch.isfinite(f).all() and torch.isfinite(logits).all()):
        raise InputError(f"Evaluator '{evaluator.name}' returns non-finite features or logits on {what} images.")
    if logits.shape[1] < 2:
        raise InputError(f"Evaluator '{evaluator.name}' returns {logits.shape[1]} logit(s) per image; class-based metrics need at least 2.")


def resolve_sources(config: Any, model_shapes: dict[str, tuple[int, ...] | None], image_checks: bool, checks: list[str]) -> Sources:
    """Read and check `data=`, `text=` and `evaluator=` against each other, the generators whose
    image shape is known at plan time, and the run's `checks`; InputError (exit 2) on any mismatch."""
    from audit.evaluators import resolve_evaluator

    data, text, evaluator_word = getattr(config, "data", None), getattr(config, "text", None), getattr(config, "evaluator", None)
    sources = Sources(
        reference=load_reference_images(Path(data)) if data else None,
        text=load_text(Path(text)) if text else None,
        evaluator=resolve_evaluator(str(evaluator_word)) if evaluator_word else None,
    )
    if sources.text is not None:
        check_text_count(sources.text, Path(text), checks)
    if not (image_checks or data or evaluator_word):
        return sources
    ref_shape = tuple(sources.reference.train_x.shape[1:]) if sources.reference else DIGITS_SHAPE
    ref_name = f"data '{data}'" if data else "the bundled digits data"
    for word, shape in model_shapes.items():
        if image_checks and shape is not None and tuple(shape) != ref_shape:
            advice = "" if data else ": give your own reference images with data=<folder or .npz> (and evaluator=...)"
            raise InputError(f"Model '{word}' generates {_shape(shape)} images but {ref_name} holds {_shape(ref_shape)} images{advice}.")
    if sources.evaluator is not None:
        probe_evaluator(sources.evaluator, sources.reference_factory().train_x, "reference")
    elif sources.reference is not None and ref_shape != DIGITS_SHAPE:
        raise InputError(
            f"{ref_name[0].upper()}{ref_name[1:]} holds {_shape(ref_shape)} images, but the bundled digits evaluator reads "
            f"{_shape(DIGITS_SHAPE)}: give evaluator=<TorchScript file or package.module:factory> for these images."
        )
    return sources
