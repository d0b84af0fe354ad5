"""`data=`: the user's real reference images, read with bounded memory at the generator's shape.

**Sources.** A folder of PNG/JPEG images (every `*.png`, `*.jpg`, `*.jpeg` below it, any depth,
sorted by relative path; any sizes, grayscale or RGB; when every image sits in a first-level
subfolder named by a number in ASCII digits (`0/`, `1/`, ...), that number is its class label: a
name of other digits or above MAX_LABEL is bad input), an
`.npy` array x [N, C, H, W] or [N, H, W] (memory-mapped: `np.load(mmap_mode="r")`, never read
whole), or an `.npz` with `x` (same shapes) and optional integer labels `y` [N] in 0..MAX_LABEL (an .npz member
cannot be memory-mapped, so it is held in memory: at most MAX_NPZ_PIXELS). Arrays are uint8
(0..255) or float in [0, 1]; 16-bit grayscale images (PIL's "I;16") are read at their full range
(0..65535 to [0, 1]). At least MIN_IMAGES images.

**Plan time.** Every file is hashed and decoded once, one at a time (a corrupt image or a
decompression bomb is bad input, exit 2), and nothing is kept but its path, size and mode. The
images are split once, deterministically (seed 0, stratified by label when every class has two
images or more), into 80% reference (`train`: what FID & co. compare against) and 20% held out
(`test`: the real-data floors).

**Shape.** Each image is brought to the shape of the generator under audit (`UserReference.at`):
channels converted (RGB to gray with PIL's "L" weights, gray to RGB by repetition), then resized
to the generator's H x W with PIL's antialiased bicubic filter, channel by channel in float (the
filter clean-fid uses); an image already at that size is not resampled. The evaluator's own
protocol (e.g. Inception's resize to 299) then runs inside the evaluator, on generated and real
images alike.

**Bounded memory.** Evaluator features are computed over every image of a split, streamed in
batches (`ShapedReference.batches`: features are held, pixels are not). Pixel-space checks
(near-duplicates, DCR, membership, robustness, detectors) read `train_x` / `test_x`: the first
images of each split's seeded order, at most PIXEL_VALUES / (C*H*W) images per split (at least
MIN_IMAGES): e.g. 131,072 digits of 1x16x16, 10,922 images of 3x32x32, 170 of 3x256x256. Their
labels are the first `len(train_x)` of `train_y`; `train_y`/`test_y` label every image of the
split, in the order of the streamed features.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from audit.errors import InputError
from audit.evaluators import ReferenceImages

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npy", ".npz")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
WIDE_GRAY_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")
"""Gray modes of 16 bits (PIL's mode for a 16-bit grayscale PNG is "I;16"; "I" holds 32-bit ints):
read as 0..65535 and scaled by 1/65535, never through convert("L"), which clips them at 255. PIL
itself reads 16-bit RGB(A) and gray+alpha PNGs as 8-bit "RGB"/"RGBA" (their high bytes)."""
MIN_IMAGES = 10
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0
MAX_IMAGE_PIXELS = 100_000_000
"""Most pixels one image of a `data=` folder may declare (a decompression-bomb guard on top of Pillow's)."""
MAX_NPZ_PIXELS = 100_000_000
"""Most pixels (images x height x width) an .npz may hold: its `x` is read into memory (use a folder or an .npy for more)."""
PIXEL_VALUES = 2**25
"""Most float32 values (images x C x H x W) of each split held as pixels at the generator's shape
(128 MiB; pixel-space checks copy them once into float64 rows)."""
BATCH_VALUES = 2**24
"""Most float32 values of one streamed batch (64 MiB), capped at BATCH_IMAGES images."""
BATCH_IMAGES = 256
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
"""RGB to gray weights (ITU-R 601-2: PIL's "L" conversion), for arrays."""
VALIDATE_CHUNK = 1024
MAX_LABEL = 99_999
"""Largest class label of `data=` (a label folder's name, an .npz's `y`): labels are 0..MAX_LABEL."""


def shape_text(shape: Any) -> str:
    return "x".join(str(int(d)) for d in shape)


def fit_image(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """One float image [C, H, W] in [0, 1] converted to `shape`'s channels and resized to its
    H x W (PIL bicubic, antialiased, per channel in float); unchanged when it already fits."""
    from PIL import Image

    channels, height, width = shape
    if image.shape[0] != channels:
        image = np.repeat(image, channels, axis=0) if image.shape[0] == 1 else np.tensordot(LUMA, image, axes=1)[None]
    if image.shape[1:] == (height, width):
        return np.ascontiguousarray(image, dtype=np.float32)
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(p, np.float32), mode="F").resize((width, height), Image.Resampling.BICUBIC)) for p in image]
    return np.clip(np.stack(planes), 0.0, 1.0).astype(np.float32)


# --- sources: what data= names, read on demand -------------------------------------------------


@dataclass
class FolderSource:
    """Image files below a folder: only paths, sizes and modes are kept."""

    name: str
    files: list[Path]
    sizes: list[tuple[int, int]]
    gray: bool
    sha256: str
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def native_shape(self) -> tuple[int, int, int] | None:
        """(C, H, W) when every image has one size, else None."""
        sizes = set(self.sizes)
        if len(sizes) != 1:
            return None
        width, height = sizes.pop()
        return (1 if self.gray else 3, height, width)

    def read(self, indices: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        out = np.empty((len(indices), *shape), np.float32)
        for row, i in enumerate(indices):
            with _open_image(self.files[int(i)]) as img:
                a = _image_array(img, shape[0])
            out[row] = fit_image(a[None] if a.ndim == 2 else a.transpose(2, 0, 1), shape)
        return out


@dataclass
class ArraySource:
    """Images of an array [N, C, H, W] (memory-mapped for .npy), uint8 or float in [0, 1]."""

    name: str
    x: np.ndarray
    sha256: str
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.x)

    @property
    def native_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x.shape[1:])  # type: ignore[return-value]

    def read(self, indices: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        order = np.argsort(indices, kind="stable")  # ascending reads of a memory map
        raw = np.asarray(self.x[np.asarray(indices)[order]])
        scaled = raw.astype(np.float32) / 255.0 if raw.dtype == np.uint8 else raw.astype(np.float32)
        out = np.empty((len(indices), *shape), np.float32)
        if len(scaled):
            out[order] = np.stack([fit_image(a, shape) for a in scaled])
        return out


def _image_array(img: Any, channels: int) -> np.ndarray:
    """One PIL image as float32 in [0, 1]: [H, W] (gray) or [H, W, 3]; 16-bit gray at its full range."""
    if img.mode in WIDE_GRAY_MODES:
        return np.asarray(img, dtype=np.float32) / 65535.0  # range checked at plan time (_check_wide)
    return np.asarray(img.convert("L" if channels == 1 else "RGB"), dtype=np.float32) / 255.0


def _check_wide(f: Path, img: Any) -> None:
    """A 16-bit gray image must hold 0..65535 (a 32-bit "I" image may hold anything); else exit 2."""
    if img.mode not in WIDE_GRAY_MODES:
        return
    low, high = img.getextrema()
    if low < 0 or high > 65535:
        raise InputError(f"Data image '{f}' (mode {img.mode}) has values in [{low}, {high}]; expected 8-bit or 16-bit (0..65535) pixels.")


def _open_image(f: Path) -> Any:
    """Open one image (header only); a decompression bomb or unreadable file is bad input (exit 2)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(f)
            if img.size[0] * img.size[1] > MAX_IMAGE_PIXELS:
                img.close()
                raise InputError(f"Data image '{f}' is {img.size[0]}x{img.size[1]}: more than the {MAX_IMAGE_PIXELS:,} pixels one image may hold.")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"Data image '{f}' is refused as a decompression bomb ({' '.join(str(exc).split())}).") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"Data image '{f}' cannot be read ({type(exc).__name__}: {exc}).") from None
    return img


def _decodes(f: Path, img: Any) -> None:
    """Decode the image once (then drop the pixels), so a truncated file fails the plan."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"Data image '{f}' is refused as a decompression bomb ({' '.join(str(exc).split())}).") from None
    except OSError as exc:
        raise InputError(f"Data image '{f}' cannot be read ({type(exc).__name__}: {exc}).") from None


def folder_source(folder: Path) -> FolderSource:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"Data folder '{folder}' holds no {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images.")
    digest = hashlib.sha256()
    sizes, gray, wide = [], True, False
    for f in files:
        rel = f.relative_to(folder).as_posix()
        with open(f, "rb") as fh:
            size = f.stat().st_size
            digest.update(f"{rel}\0{size}\0".encode())
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        with _open_image(f) as img:
            _decodes(f, img)
            _check_wide(f, img)
            sizes.append(img.size)
            gray = gray and img.mode in GRAYSCALE_MODES
            wide = wide or img.mode in WIDE_GRAY_MODES
    if wide:  # 16-bit images were once clipped to white: a new sha256, so no cached features or run of that reader matches
        digest.update(b"\0reader:16-bit-full-range")
    parents = [f.relative_to(folder).parts for f in files]
    labels = None
    if all(len(p) == 2 and p[0].isdigit() for p in parents):  # every image in a folder named like a number
        for name in sorted({p[0] for p in parents}):
            if not (name.isascii() and name.isdecimal()) or int(name) > MAX_LABEL:
                raise InputError(
                    f"Data folder '{folder}': label folder '{name}' is not a class label; label folders are named by ASCII digits 0..{MAX_LABEL:,} (0/, 1/, ...)."
                )
        labels = np.array([int(p[0]) for p in parents], dtype=np.int64)
    return FolderSource(folder.name, files, sizes, gray, digest.hexdigest(), labels)


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


def _check_array(path: Path, x: np.ndarray) -> np.ndarray:
    """x as [N, C, H, W] after checking shape, dtype and range (in chunks: x may be a memory map)."""
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise InputError(f"Data file '{path}': x has shape {x.shape}; expected [N, C, H, W] or [N, H, W].")
    if x.shape[1] not in (1, 3):
        hint = " (it looks like [N, H, W, C]: transpose to [N, C, H, W])" if x.shape[-1] in (1, 3) else ""
        raise InputError(f"Data file '{path}': x has {x.shape[1]} channels in shape {x.shape}; expected 1 or 3{hint}.")
    if np.issubdtype(x.dtype, np.floating):
        bad, low, high = 0, np.inf, -np.inf
        for i in range(0, len(x), VALIDATE_CHUNK):
            chunk = np.asarray(x[i : i + VALIDATE_CHUNK])
            finite = np.isfinite(chunk)
            bad += int((~finite).sum())
            if finite.any():
                low, high = min(low, float(chunk[finite].min())), max(high, float(chunk[finite].max()))
        if bad:
            raise InputError(f"Data file '{path}': x holds {bad} non-finite values.")
        if low < 0 or high > 1:
            raise InputError(f"Data file '{path}': float x has values in [{low:.3g}, {high:.3g}]; expected [0, 1] (or give uint8 0..255).")
    elif x.dtype != np.uint8:
        raise InputError(f"Data file '{path}': x has dtype {x.dtype}; expected uint8 (0..255) or float in [0, 1].")
    return x


def _check_labels(path: Path, y: np.ndarray | None, count: int) -> np.ndarray | None:
    if y is None:
        return None
    if y.ndim != 1 or len(y) != count:
        raise InputError(f"Data file '{path}': y has shape {y.shape}; expected [{count}] (one label per image).")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"Data file '{path}': y must hold integer labels 0..{MAX_LABEL:,} (dtype {y.dtype}).")
    if len(y) and (int(y.min()) < 0 or int(y.max()) > MAX_LABEL):
        raise InputError(f"Data file '{path}': y holds labels in [{int(y.min())}, {int(y.max())}]; expected integer labels 0..{MAX_LABEL:,}.")
    return y.astype(np.int64)


def npz_source(path: Path) -> ArraySource:
    from audit.weights import sha256_file

    pixels = _npz_declared_pixels(path)
    if pixels is not None and pixels > MAX_NPZ_PIXELS:
        raise InputError(
            f"Data file '{path}' (x) holds {pixels:,} pixels or more; an .npz may hold at most {MAX_NPZ_PIXELS:,} (it is read into memory): "
            "save x as an .npy (memory-mapped) or a folder of images."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            arrays = {k: npz[k] for k in ("x", "y") if k in names}
    except Exception as exc:  # not a zip, object arrays (pickle refused), truncated file
        raise InputError(f"Data file '{path}' cannot be read as .npz ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}).") from None
    if "x" not in arrays:
        raise InputError(f"Data file '{path}' has no array 'x' (found: {', '.join(sorted(names)) or 'none'}); save images as x=[N, C, H, W].")
    x = _check_array(path, arrays["x"])
    return ArraySource(path.name, x, sha256_file(path), _check_labels(path, arrays.get("y"), len(x)))


def npy_source(path: Path) -> ArraySource:
    from audit.weights import sha256_file

    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise InputError(f"Data file '{path}' cannot be read as .npy ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}).") from None
    return ArraySource(path.name, _check_array(path, x), sha256_file(path), None)


# --- the split, and views at a generator's shape -------------------------------------------------


def split_indices(count: int, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """80% reference / 20% held out, fixed seed, stratified when every class has two images."""
    from sklearn.model_selection import train_test_split

    stratify = labels if labels is not None and np.unique(labels, return_counts=True)[1].min() >= 2 else None
    if stratify is not None and len(np.unique(labels)) > round(count * HELDOUT_FRACTION):
        stratify = None  # too few held-out images to hold every class
    train, test = train_test_split(np.arange(count), test_size=HELDOUT_FRACTION, random_state=SPLIT_SEED, stratify=stratify)
    return np.asarray(train), np.asarray(test)


def pixel_cap(shape: tuple[int, ...]) -> int:
    """Most images of one split held as pixels at `shape` (see PIXEL_VALUES)."""
    return max(MIN_IMAGES, PIXEL_VALUES // int(np.prod(shape)))


def batch_size(shape: tuple[int, ...]) -> int:
    return max(1, min(BATCH_IMAGES, BATCH_VALUES // int(np.prod(shape))))


@dataclass
class ShapedReference(ReferenceImages):
    """The user's reference at one generator shape: bounded pixel subsets (`train_x`, `test_x`)
    and every image of a split streamed in batches (`batches`) for evaluator features."""

    source: Any = None
    shape: tuple[int, int, int] = (1, 16, 16)
    indices: dict[str, np.ndarray] = field(default_factory=dict)

    def count(self, split: str) -> int:
        return len(self.indices[split])

    def batches(self, split: str, size: int | None = None) -> Iterator[np.ndarray]:
        """Every image of `split` at this shape, in split order, `size` images at a time."""
        size = size or batch_size(self.shape)
        order = self.indices[split]
        for i in range(0, len(order), size):
            yield self.source.read(order[i : i + size], self.shape)


@dataclass
class UserReference:
    """What `data=` names, checked and split at plan time; pixels are read only through `at`."""

    source: FolderSource | ArraySource
    train_index: np.ndarray
    test_index: np.ndarray
    _views: dict[tuple[int, int, int], ShapedReference] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def sha256(self) -> str:
        return self.source.sha256

    @property
    def native_shape(self) -> tuple[int, int, int] | None:
        return self.source.native_shape

    def labels(self, split: str) -> np.ndarray | None:
        labels = self.source.labels
        return None if labels is None else labels[self.train_index if split == "train" else self.test_index]

    def probe_images(self, shape: tuple[int, int, int], count: int = 2) -> np.ndarray:
        """The first `count` reference images at `shape` (plan-time probes)."""
        return self.source.read(self.train_index[:count], shape)

    def at(self, shape: tuple[int, ...]) -> ShapedReference:
        """The reference at a generator's (C, H, W), built once per shape."""
        shape = tuple(int(d) for d in shape)  # type: ignore[assignment]
        if len(shape) != 3 or shape[0] not in (1, 3):
            raise InputError(f"data '{self.name}' can be compared with 1- or 3-channel images [C, H, W], not {shape_text(shape)}.")
        if shape not in self._views:
            cap = pixel_cap(shape)
            train_x = self.source.read(self.train_index[:cap], shape)
            test_x = self.source.read(self.test_index[:cap], shape)
            for a in (train_x, test_x):
                a.setflags(write=False)
            self._views[shape] = ShapedReference(  # type: ignore[index]
                f"{self.name}@{shape_text(shape)}", train_x, self.labels("train"), test_x, self.labels("test"), self.sha256,
                source=self.source, shape=shape, indices={"train": self.train_index, "test": self.test_index},  # type: ignore[arg-type]
            )
        return self._views[shape]  # type: ignore[index]


def load_reference_images(path: Path) -> UserReference:
    """Check `data=` (a folder, .npy or .npz) at plan time and split it; InputError (exit 2) on bad input."""
    if path.is_dir():
        source: FolderSource | ArraySource = folder_source(path)
    elif path.is_file():
        suffix = path.suffix.lower()
        if suffix not in ARRAY_SUFFIXES:
            raise InputError(f"Data '{path}' must be a folder of {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images, an .npy or an .npz file.")
        source = npz_source(path) if suffix == ".npz" else npy_source(path)
    else:
        raise InputError(f"Data '{path}' does not exist.")
    if len(source) < MIN_IMAGES:
        raise InputError(f"Data '{path}' holds {len(source)} images; at least {MIN_IMAGES} are needed (hundreds for stable metrics).")
    train, test = split_indices(len(source), source.labels)
    return UserReference(source, train, test)


__all__ = [
    "ArraySource", "FolderSource", "ShapedReference", "UserReference", "batch_size", "fit_image", "load_reference_images",
    "pixel_cap", "shape_text", "split_indices",
]
