"""Image evaluators read from a local Hugging Face (transformers) model directory: the feature
spaces recent papers report, `evaluator=clip:<dir>` (CLIP-FID) and `evaluator=dinov2:<dir>`
(FD-DINOv2).

- `clip:<dir>`: a `CLIPModel` or `CLIPVisionModelWithProjection`; the feature is the projected
  image embedding (`image_embeds`, not normalised), the vector clean-fid's CLIP mode compares.
  A full `CLIPModel` with its tokenizer also embeds text, for `quality.clip_score`.
- `dinov2:<dir>`: a `Dinov2Model`; the feature is the last layer's CLS token after the final
  layer norm (`pooler_output`), the vector FD-DINOv2 (dgm-eval) compares.

Nothing is downloaded: the directory is read with `local_files_only=True`. Images are prepared
exactly as the directory's image processor config says (resize, center crop, rescale,
normalise), on tensors in batches: the resize is torch's antialiased filter, which computes the
same filter as Pillow (the processor's backend) without rounding each pixel to 8 bits.
Grayscale images are repeated to three channels, as the processor's RGB conversion does.

These spaces have no classes: the logits are [N, 0], the harness's convention for a
feature-only network, so a check that reads classes (Inception Score, class histograms,
conditional accuracy, class-based fairness) is recorded `skipped` with the reason
(`CheckContext.require_classes`); class-free metrics (FID, KID, precision/recall,
density/coverage, ...) work unchanged. The evaluator's sha256 covers the directory's weight, config and tokenizer
files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audit.errors import InputError, NotApplicable
from audit.evaluators.base import Embedding, ImageEvaluator

if TYPE_CHECKING:
    import torch

HF_VISION_KINDS: dict[str, tuple[str, ...]] = {"clip": ("clip", "clip_vision_model"), "dinov2": ("dinov2",)}
"""`evaluator=` prefix -> the `model_type`s (config.json) a directory of that kind may hold."""
HASHED_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")
"""Files of the directory that enter the evaluator's sha256: weights, configs, tokenizer files."""
WEIGHT_SUFFIXES = (".safetensors", ".bin")
HF_BATCH = 64
"""Images per forward pass: a ViT's attention maps grow with batch x tokens², so batches stay small."""
TORCH_RESAMPLE = {0: "nearest-exact", 2: "bilinear", 3: "bicubic"}
"""Pillow resampling codes (the processor's `resample`) -> the torch mode computing the same filter."""
DEFAULT_RESAMPLE = 2
"""Pillow's bilinear: what transformers resizes with when the config names no filter."""


def resample_code(processor: Any) -> int:
    """The Pillow filter code the processor resizes with."""
    resample = getattr(processor, "resample", None)
    return DEFAULT_RESAMPLE if resample is None else int(resample)


def split_hf_vision_word(word: str) -> tuple[str, Path] | None:
    """(kind, directory) of a `clip:<dir>` / `dinov2:<dir>` word; None for any other word."""
    kind, sep, rest = word.partition(":")
    if sep and kind in HF_VISION_KINDS:
        return kind, Path(rest).expanduser()
    return None


def check_hf_vision_dir(kind: str, directory: Path) -> str:
    """The directory's `model_type` after checking, without torch, that it holds a `kind` model:
    a config.json of that type, a weights file and a preprocessor_config.json (InputError: one line)."""
    word = f"{kind}:{directory}"
    if not directory.is_dir():
        raise InputError(f"'evaluator' names '{word}', but '{directory}' is not a folder (give a local Hugging Face model folder).")
    config = directory / "config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"'evaluator' names '{word}', but '{config}' cannot be read as a model config ({type(exc).__name__}).") from None
    if model_type not in HF_VISION_KINDS[kind]:
        raise InputError(
            f"'evaluator' names '{word}', but '{directory}' holds a model of type {model_type!r}, not {' or '.join(map(repr, HF_VISION_KINDS[kind]))}."
        )
    if not any(p.suffix in WEIGHT_SUFFIXES for p in directory.iterdir()):
        raise InputError(f"'evaluator' names '{word}', but '{directory}' holds no weights file (*.safetensors or *.bin).")
    if not (directory / "preprocessor_config.json").is_file():
        raise InputError(f"'evaluator' names '{word}', but '{directory}' has no preprocessor_config.json (how images are resized and normalised).")
    return str(model_type)


def directory_sha256(directory: Path) -> str:
    """sha256 over the directory's weight, config and tokenizer files (names, sizes, bytes), in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in HASHED_SUFFIXES):
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Preprocess:
    """The image processor's steps as settings, applied to a batch of float images in [0, 1]."""

    processor: Any
    """The directory's transformers image processor: its settings are the protocol."""

    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) the processor resizes an image of this size to."""
        from transformers.image_transforms import get_resize_output_image_size, get_size_with_aspect_ratio
        from transformers.image_utils import get_image_size_for_max_height_width

        size = self.processor.size
        if size.shortest_edge and size.longest_edge:
            return tuple(get_size_with_aspect_ratio((height, width), size.shortest_edge, size.longest_edge))
        if size.shortest_edge:
            probe = np.empty((1, height, width), dtype=np.uint8)
            return tuple(get_resize_output_image_size(probe, size.shortest_edge, default_to_square=False, input_data_format="channels_first"))
        if size.max_height and size.max_width:
            return tuple(get_image_size_for_max_height_width((height, width), size.max_height, size.max_width))
        if size.height and size.width:
            return int(size.height), int(size.width)
        raise ValueError(f"image processor size {size} is not one audit can follow")

    def __call__(self, x: "torch.Tensor") -> "torch.Tensor":
        """`pixel_values` for images x [N, C, H, W] in [0, 1] (C = 1 or 3), float32."""
        import torch
        import torch.nn.functional as F

        p = self.processor
        x = x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if p.do_resize:
            mode = TORCH_RESAMPLE[resample_code(p)]
            size = self.resized_size(int(x.shape[2]), int(x.shape[3]))
            if tuple(x.shape[2:]) != size:
                antialias = {"antialias": True} if mode in ("bilinear", "bicubic") else {}
                x = F.interpolate(x, size=size, mode=mode, **antialias).clamp(0.0, 1.0)  # Pillow clamps to the pixel range
        if p.do_center_crop:
            x = _center_crop(x, int(p.crop_size.height), int(p.crop_size.width))
        x = x * (255.0 * float(p.rescale_factor)) if p.do_rescale else x * 255.0
        if p.do_normalize:
            mean = torch.tensor(_per_channel(p.image_mean), dtype=torch.float32).view(1, -1, 1, 1)
            std = torch.tensor(_per_channel(p.image_std), dtype=torch.float32).view(1, -1, 1, 1)
            x = (x - mean) / std
        return x.contiguous()


def _per_channel(value: Any) -> list[float]:
    values = [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)]
    return values * 3 if len(values) == 1 else values


def _center_crop(x: "torch.Tensor", height: int, width: int) -> "torch.Tensor":
    """transformers' center crop on a batch: offsets (H - h) // 2; an image smaller than the crop
    is first centred on zeros (offsets rounded up), as transformers pads it."""
    import torch.nn.functional as F

    h, w = int(x.shape[2]), int(x.shape[3])
    top, left = (h - height) // 2, (w - width) // 2
    if top < 0 or left < 0:
        new_h, new_w = max(height, h), max(width, w)
        top_pad, left_pad = -(-(new_h - h) // 2), -(-(new_w - w) // 2)
        x = F.pad(x, (left_pad, new_w - w - left_pad, top_pad, new_h - h - top_pad))
        top, left = top + top_pad, left + left_pad
        h, w = new_h, new_w
    return x[:, :, max(0, top) : min(h, top + height), max(0, left) : min(w, left + width)]


class HFVisionEvaluator(ImageEvaluator):
    """A transformers vision model as an evaluator of features only (see the module docstring)."""

    def __init__(self, name: str, model: Any, preprocess: Preprocess, sha256: str, kind: str, tokenizer: Any = None) -> None:
        self.name = name
        self.network = model.eval()
        self.sha256 = sha256
        self.kind = kind
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self._split = False
        self.classes = 0

    def features(self, x: "torch.Tensor") -> "torch.Tensor":
        """Features [N, D] of one batch of images [N, C, H, W] in [0, 1] (no gradient tracking decided here)."""
        pixel_values = self.preprocess(x.cpu())
        if self.kind == "dinov2":
            return self.network(pixel_values=pixel_values).pooler_output
        if hasattr(self.network, "get_image_features"):
            return _tensor(self.network.get_image_features(pixel_values=pixel_values))
        return self.network(pixel_values=pixel_values).image_embeds

    def features_and_logits(self, x: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """(features [N, D], logits [N, 0]): no classes, the harness's convention for a feature-only network."""
        f = self.features(x)
        return f, f.new_zeros((f.shape[0], 0))

    def embed(self, images: "torch.Tensor") -> Embedding:
        import torch

        with torch.no_grad():
            feats = [self.features(images[i : i + HF_BATCH].float()).double().numpy() for i in range(0, len(images), HF_BATCH)]
        features = np.concatenate(feats) if feats else np.zeros((0, 0))
        return Embedding(features, np.zeros((len(features), 0)))

    @property
    def embeds_text(self) -> bool:
        """Whether this evaluator can embed prompts (a full CLIPModel with a tokenizer)."""
        return self.kind == "clip" and self.tokenizer is not None and hasattr(self.network, "get_text_features")

    def text_features(self, texts: list[str]) -> "torch.Tensor":
        """Projected text embeddings [N, D] of `texts`; prompts longer than the text model's
        context are cut by the tokenizer, keeping the end token the embedding is read at."""
        import torch

        if not self.embeds_text:
            raise NotApplicable(f"evaluator {self.name} embeds no text: give a full CLIPModel folder with its tokenizer")
        limit = int(self.network.config.text_config.max_position_embeddings)
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), HF_BATCH):
                tokens = self.tokenizer(list(texts[i : i + HF_BATCH]), padding=True, truncation=True, max_length=limit, return_tensors="pt")
                out.append(_tensor(self.network.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])))
        return torch.cat(out)


def _tensor(output: Any) -> "torch.Tensor":
    """The embedding tensor of `get_*_features`: transformers 5 returns an output whose
    `pooler_output` is the projection, earlier versions the tensor itself."""
    return output if hasattr(output, "shape") else output.pooler_output


def clip_scores(evaluator: HFVisionEvaluator, images: "torch.Tensor", prompts: list[str]) -> np.ndarray:
    """CLIP score of each image against its prompt: 100 * max(cos(image embedding, text embedding), 0)
    (torchmetrics CLIPScore's definition, per pair), float64 [N]."""
    import torch

    if len(images) != len(prompts):
        raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
    with torch.no_grad():
        image = torch.cat([evaluator.features(images[i : i + HF_BATCH].float()) for i in range(0, len(images), HF_BATCH)]).double()
    text = evaluator.text_features(list(prompts)).double()
    cos = torch.nn.functional.cosine_similarity(image, text, dim=-1, eps=0.0)
    return (100.0 * cos.clamp(min=0.0)).numpy()


def hf_vision_evaluator(word: str) -> HFVisionEvaluator:
    """The evaluator of `clip:<dir>` / `dinov2:<dir>`, read from the local folder only
    (InputError: one line, when the folder holds no such model or transformers cannot read it)."""
    parsed = split_hf_vision_word(word)
    if parsed is None:
        raise InputError(f"Evaluator '{word}' is not a {' or '.join(k + ':<dir>' for k in HF_VISION_KINDS)} word.")
    kind, directory = parsed
    model_type = check_hf_vision_dir(kind, directory)
    from audit.messages import one_line

    try:
        model, processor, tokenizer = _load(kind, model_type, directory)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"Evaluator '{word}': transformers cannot load '{directory}' ({type(exc).__name__}: {one_line(exc, 200)}).") from None
    if processor.do_resize and resample_code(processor) not in TORCH_RESAMPLE:
        raise InputError(f"Evaluator '{word}': the image processor resamples with Pillow filter {processor.resample}; audit follows nearest (0), bilinear (2) and bicubic (3).")
    return HFVisionEvaluator(f"{kind}:{directory}", model.float(), Preprocess(processor), directory_sha256(directory), kind, tokenizer)


def _load(kind: str, model_type: str, directory: Path) -> tuple[Any, Any, Any]:
    """(model, image processor, tokenizer or None) from `directory`, never from the hub."""
    import transformers
    from transformers.utils import logging as hf_logging

    local = {"local_files_only": True}
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # its notes (e.g. the Pillow image-processor backend) are not the run's output
    hf_logging.disable_progress_bar()
    try:
        processor = transformers.AutoImageProcessor.from_pretrained(str(directory), **local)
        if kind == "dinov2":
            return transformers.Dinov2Model.from_pretrained(str(directory), **local), processor, None
        if model_type == "clip_vision_model":
            return transformers.CLIPVisionModelWithProjection.from_pretrained(str(directory), **local), processor, None
        tokenizer = None
        if any((directory / name).is_file() for name in ("tokenizer.json", "vocab.json")):
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory), **local)
        return transformers.CLIPModel.from_pretrained(str(directory), **local), processor, tokenizer
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


__all__ = [
    "HF_VISION_KINDS", "HFVisionEvaluator", "Preprocess", "check_hf_vision_dir", "clip_scores",
    "directory_sha256", "hf_vision_evaluator", "split_hf_vision_word",
]
