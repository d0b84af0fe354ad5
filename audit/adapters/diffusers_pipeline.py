"""A local diffusers pipeline directory as a model: `diffusers:<dir>[?scheduler=ddim&steps=50&guidance=7.5&batch=8&name=...]`.

The folder is what `pipeline.save_pretrained(dir)` writes (a `model_index.json` and one
sub-folder per component). It is loaded with `DiffusionPipeline.from_pretrained(dir,
local_files_only=True, use_safetensors=True)` with the hub disabled (`HF_HUB_OFFLINE=1`): nothing
is downloaded, pickled `.bin` weights are refused, and a safety checker is never loaded (the audit
measures the model's own images, not a filter's). Supported pipelines:

- unconditional `DDPMPipeline` / `DDIMPipeline` (a `UNet2DModel` and a scheduler): SAMPLE, LATENT
  (the initial noise x_T) and DENOISING_LOSS (epsilon- or v-prediction UNets); with a class
  embedding (`num_class_embeds`) the UNet is class-conditional: CONDITIONAL with that many
  classes, and no DENOISING_LOSS (the contract's loss is unconditional, which such a UNet cannot
  compute); a UNet with `out_channels` twice its `in_channels` and a scheduler whose
  `variance_type` is learned/learned_range predicts a variance too: images have `in_channels`
  channels, the DDPM sampler reads the variance as DDPMPipeline does, the other samplers and the
  denoising loss take the epsilon half;
- text-to-image `StableDiffusionPipeline` (a `UNet2DConditionModel`, a VAE, a text encoder and its
  tokenizer): SAMPLE, TEXT_TO_IMAGE and LATENT (the initial latent), run by the pipeline itself
  with classifier-free guidance `guidance` (default 7.5). Its denoising loss lives in the VAE's
  latent space, not in image space, so it does not declare DENOISING_LOSS.

Sampling settings are options of the word: `scheduler` (ddim, ddpm, dpm, euler: the pipeline's
scheduler config loaded into that class with `from_config`; default the pipeline's own),
`steps` (default 50; 25 for dpm; the training step count for ddpm), `guidance` (text-to-image
only) and `batch` (images per pipeline call). `sample(..., steps=, sampler=)` overrides them per
call, so the sampling-steps curve works. Images are drawn in batches from one `torch.Generator`
seeded with `seed`: each batch's initial noise, then that batch's step noise, exactly as the
pipeline draws them, so a batch equals the diffusers pipeline called with the same generator.

This module imports neither torch nor diffusers at import time (`audit --help` stays light).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.adapters.base import (
    CONDITIONAL,
    DENOISING_LOSS,
    LATENT,
    SAMPLE,
    TEXT_TO_IMAGE,
    ModelAdapter,
    ModelInfo,
    count_params,
)
from audit.errors import InputError
from audit.messages import did_you_mean, one_line

if TYPE_CHECKING:
    import torch

DIFFUSERS_OPTIONS = {
    "scheduler": "sampler: ddim, ddpm, dpm or euler (default: the pipeline's own scheduler)",
    "steps": "sampling steps (default: 50; 25 for dpm; the training step count for ddpm)",
    "guidance": "classifier-free guidance scale of a text-to-image pipeline (default 7.5)",
    "batch": "images per pipeline call (default 64; 8 for text-to-image)",
    "name": "the model's name in reports (default: the folder name)",
}
SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "dpm": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
}
"""Sampler names of the `scheduler` option and of `sample(sampler=)` -> diffusers scheduler class."""
DEFAULT_STEPS = {"ddim": 50, "dpm": 25, "euler": 50}
"""Sampling steps when neither the word nor the call says; ddpm takes every training timestep."""
OTHER_SCHEDULER_STEPS = 50
"""Default steps of a pipeline's own scheduler when it is none of SCHEDULERS (e.g. PNDM)."""
LEARNED_VARIANCE = ("learned", "learned_range")
"""DDPMScheduler variance types read from the UNet's output: its second half of channels."""
UNET_PIPELINES = ("DDPMPipeline", "DDIMPipeline")
TEXT_TO_IMAGE_PIPELINES = ("StableDiffusionPipeline",)
SUPPORTED_PIPELINES = UNET_PIPELINES + TEXT_TO_IMAGE_PIPELINES
UNET_BATCH = 64
TEXT_TO_IMAGE_BATCH = 8
DEFAULT_GUIDANCE = 7.5
MAX_STEPS = 10_000
DENOISE_BATCH = 64
WEIGHT_SUFFIXES = (".safetensors", ".json", ".txt", ".model")
"""Files of a pipeline folder whose sha256 enters the run fingerprint: weights, configs, tokenizer."""
MODEL_INDEX = "model_index.json"
REQUIRED = {
    "DDPMPipeline": {"unet": "UNet2DModel", "scheduler": None},
    "DDIMPipeline": {"unet": "UNet2DModel", "scheduler": None},
    "StableDiffusionPipeline": {"unet": "UNet2DConditionModel", "vae": "AutoencoderKL", "text_encoder": None, "tokenizer": None, "scheduler": None},
}
"""Components each supported pipeline must have (name -> required class, None: any class)."""


@dataclass(frozen=True)
class PipelineFolder:
    """What plan time reads from a pipeline folder's config files (no weights are loaded)."""

    word: str
    path: Path
    pipeline_class: str
    image_shape: tuple[int, int, int]
    num_classes: int | None
    options: dict[str, str]
    capabilities: frozenset[str]

    @property
    def text_to_image(self) -> bool:
        return self.pipeline_class in TEXT_TO_IMAGE_PIPELINES


def _read_json(word: str, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"Model '{word}': '{path}' is missing (save the pipeline with pipeline.save_pretrained).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Model '{word}': {path} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise InputError(f"Model '{word}': {path} must hold a JSON object.")
    return data


def _positive_int(word: str, key: str, value: str, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= high:
        raise InputError(f"Model '{word}': option {key}={value} must be an integer in 1..{high}.")
    return number


def _check_options(word: str, options: dict[str, str], text_to_image: bool) -> None:
    scheduler = options.get("scheduler")
    if scheduler is not None and scheduler not in SCHEDULERS:
        raise InputError(f"Model '{word}': " + did_you_mean("scheduler", scheduler, list(SCHEDULERS)))
    if "steps" in options:
        _positive_int(word, "steps", options["steps"], MAX_STEPS)
    if "batch" in options:
        _positive_int(word, "batch", options["batch"], 16384)
    if "guidance" in options:
        if not text_to_image:
            raise InputError(f"Model '{word}': option guidance applies to text-to-image pipelines only.")
        try:
            guidance = float(options["guidance"])
        except ValueError:
            guidance = -1.0
        if not 0 <= guidance <= 100:
            raise InputError(f"Model '{word}': option guidance={options['guidance']} must be a number in 0..100.")


def _check_weights(word: str, folder: Path) -> None:
    """Every network component holds safetensors weights with a readable header."""
    from audit.weights import check_safetensors_folder

    check_safetensors_folder(word, folder, "pipeline")


def _size(value: Any) -> tuple[int, int]:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _image_channels(word: str, unet: dict[str, Any], scheduler: dict[str, Any]) -> int:
    """The channels of a DDPM/DDIM pipeline's images: the UNet's `in_channels` (the pipeline's
    initial noise has them). Its `out_channels` must be the same, or twice as many when the
    scheduler's `variance_type` is learned (DDPMScheduler.step splits the predicted variance off
    the second half); anything else has no reading diffusers gives it (InputError: exit 2)."""
    channels, predicted = int(unet.get("in_channels", 3)), int(unet.get("out_channels", 3))
    variance = scheduler.get("variance_type")
    if predicted != channels and not (predicted == 2 * channels and variance in LEARNED_VARIANCE):
        raise InputError(
            f"Model '{word}': the UNet denoises {channels}-channel images but predicts {predicted} channels; a UNet predicts as many "
            f"channels as it takes, or twice as many with a learned variance (the scheduler's variance_type "
            f"{' or '.join(repr(v) for v in LEARNED_VARIANCE)}; this scheduler's is {variance!r})."
        )
    return channels


def check_pipeline_folder(word: str, path: Path, options: dict[str, str]) -> PipelineFolder:
    """Read and check a pipeline folder's configs and options now (InputError: exit 2 on bad input)."""
    if not path.is_dir():
        raise InputError(f"Model '{word}': folder '{path}' does not exist.")
    if not (path / MODEL_INDEX).is_file():
        raise InputError(f"Model '{word}': '{path}' is not a diffusers pipeline folder (no {MODEL_INDEX}; save it with pipeline.save_pretrained).")
    index = _read_json(word, path / MODEL_INDEX)
    cls = index.get("_class_name")
    if cls not in SUPPORTED_PIPELINES:
        raise InputError(f"Model '{word}': pipeline class {cls!r} is not supported; supported: {', '.join(SUPPORTED_PIPELINES)}.")
    for component, required in REQUIRED[cls].items():
        entry = index.get(component)
        declared = entry[1] if isinstance(entry, list) and len(entry) == 2 else None
        if declared is None or (required is not None and declared != required):
            raise InputError(f"Model '{word}': {cls} component '{component}' is {declared!r} in {MODEL_INDEX}; expected {required or 'a class'}.")
        if not (path / component).is_dir():
            raise InputError(f"Model '{word}': component folder '{path / component}' is missing.")
    _check_options(word, options, cls in TEXT_TO_IMAGE_PIPELINES)
    scheduler = _read_json(word, path / "scheduler" / "scheduler_config.json")
    unet = _read_json(word, path / "unet" / "config.json")
    _check_weights(word, path / "unet")
    height, width = _size(unet.get("sample_size", 32))
    if cls in TEXT_TO_IMAGE_PIPELINES:
        vae = _read_json(word, path / "vae" / "config.json")
        _check_weights(word, path / "vae")
        _check_weights(word, path / "text_encoder")
        scale = 2 ** (len(vae.get("block_out_channels", [0])) - 1)
        shape = (int(vae.get("out_channels", 3)), height * scale, width * scale)
        return PipelineFolder(word, path, cls, shape, None, dict(options), frozenset({SAMPLE, TEXT_TO_IMAGE, LATENT}))
    classes = unet.get("num_class_embeds")
    if classes is None and unet.get("class_embed_type") is not None:
        raise InputError(f"Model '{word}': the UNet's class embedding '{unet['class_embed_type']}' has no class count (num_class_embeds); it is not supported.")
    if classes is not None and int(classes) < 2:
        raise InputError(f"Model '{word}': the UNet's num_class_embeds is {classes}; a class-conditional UNet needs at least 2.")
    channels = _image_channels(word, unet, scheduler)
    shape = (channels, height, width)
    if classes:
        caps = {SAMPLE, LATENT, CONDITIONAL}
    elif scheduler.get("prediction_type", "epsilon") in ("epsilon", "v_prediction"):
        caps = {SAMPLE, LATENT, DENOISING_LOSS}
    else:
        caps = {SAMPLE, LATENT}
    return PipelineFolder(word, path, cls, shape, int(classes) if classes else None, dict(options), frozenset(caps))


def _torch_dtype(precision: str) -> "torch.dtype | None":
    """The float dtype of a cast precision (bf16, fp16), to load weights in; None otherwise."""
    import torch

    from audit.precision import get_precision

    variant = get_precision(precision)
    dtype = getattr(torch, variant.dtype, None)
    return dtype if not variant.quantized and isinstance(dtype, torch.dtype) and dtype != torch.float32 else None


def _files_sha256(folder: Path) -> dict[str, str]:
    from audit.weights import sha256_file

    root = folder.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES and not any(s.startswith(".") for s in p.relative_to(root).parts))
    return {f"{root.name}/{p.relative_to(root).as_posix()}": sha256_file(p) for p in files}


def load_pipeline(word: str, path: Path, options: dict[str, str], precision: str = "fp32", device: str = "cpu") -> "DiffusersAdapter":
    """Load a checked pipeline folder, in the precision's float dtype where it is a cast (the
    caller applies the precision variant), onto `device`."""
    folder = check_pipeline_folder(word, path, options)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()  # one line per error on stderr: no bars, no advice
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"local_files_only": True, "use_safetensors": True}
    if folder.text_to_image:
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    dtype = _torch_dtype(precision) if str(device).startswith("cuda") else None
    if dtype is not None:
        kwargs["torch_dtype"] = dtype
    try:
        pipe = diffusers.DiffusionPipeline.from_pretrained(str(path), **kwargs)
    except Exception as exc:
        raise InputError(f"Model '{word}': cannot load the pipeline: {type(exc).__name__}: {one_line(exc)}") from None
    pipe.set_progress_bar_config(disable=True)
    cls = TextToImageAdapter if folder.text_to_image else UNetPipelineAdapter
    adapter = cls(pipe, folder, _files_sha256(path))
    return adapter.to(device=device) if device != "cpu" else adapter


def _sampler_name(scheduler: Any) -> str:
    """The SCHEDULERS name of a scheduler object, else its class name."""
    cls = type(scheduler).__name__
    return next((name for name, c in SCHEDULERS.items() if c == cls), cls)


class DiffusersAdapter(ModelAdapter):
    """What both pipeline kinds share: schedulers, step counts, batches, info and modules."""

    def __init__(self, pipe: Any, folder: PipelineFolder, weights: dict[str, str]) -> None:
        self.pipe = pipe
        self.scheduler_config = dict(pipe.scheduler.config)
        self.own_scheduler = type(pipe.scheduler)
        self.own_name = _sampler_name(pipe.scheduler)
        options = folder.options
        self.sampler = options.get("scheduler", self.own_name)
        self.batch = int(options.get("batch", TEXT_TO_IMAGE_BATCH if folder.text_to_image else UNET_BATCH))
        steps = {name: self._default_steps(name) for name in SCHEDULERS}
        if self.sampler not in steps:
            steps[self.sampler] = OTHER_SCHEDULER_STEPS
        if "steps" in options:
            steps[self.sampler] = int(options["steps"])
        self.default_steps = steps
        self.capabilities = folder.capabilities
        for module in self.modules().values():
            module.eval()
        name = options.get("name", folder.path.resolve().name)
        self.info = ModelInfo(
            name=name, family="diffusion", params=count_params(*self.modules().values()),
            description=f"diffusers {folder.pipeline_class} from {folder.path} (sampler {self.sampler}, {steps[self.sampler]} steps)",
            image_shape=folder.image_shape, num_classes=folder.num_classes, weights=weights,
        )

    def _default_steps(self, name: str) -> int:
        return int(self.scheduler_config.get("num_train_timesteps", 1000)) if name == "ddpm" else DEFAULT_STEPS[name]

    def modules(self) -> dict[str, "torch.nn.Module"]:
        import torch

        return {k: v for k, v in self.pipe.components.items() if isinstance(v, torch.nn.Module)}

    def steps_for(self, sampler: str | None = None, steps: int | None = None) -> int:
        """The step count of a call: `steps`, else the sampler's default."""
        count = self.default_steps.get(sampler or self.sampler, OTHER_SCHEDULER_STEPS) if steps is None else int(steps)
        if count < 1:
            raise ValueError(f"steps must be a positive integer, got {steps}")
        return count

    def scheduler(self, sampler: str | None = None) -> Any:
        """A fresh scheduler (they keep per-run state) of `sampler` (default: the configured one),
        built from the pipeline's scheduler config with `from_config`."""
        import diffusers

        name = sampler or self.sampler
        if name in SCHEDULERS:
            cls = getattr(diffusers, SCHEDULERS[name])
        elif name == self.own_name:
            cls = self.own_scheduler
        else:
            raise ValueError(f"sampler must be one of {', '.join(SCHEDULERS)} or the pipeline's own {self.own_name!r}, got {name!r}")
        return cls.from_config(self.scheduler_config)

    def _noise(self, n: int, z: "torch.Tensor | None", b: int, g: "torch.Generator") -> "torch.Tensor":
        """Batch `b`'s initial noise: rows of `z` when given, else drawn from `g` now (CPU)."""
        import torch

        size = min(self.batch, n - b)
        if z is None:
            return torch.randn(size, *self.latent_shape, generator=g)
        return z[b : b + size].float().cpu()

    def _check_z(self, n: int, z: "torch.Tensor | None") -> None:
        if z is not None and tuple(z.shape) != (n, *self.latent_shape):
            raise ValueError(f"z must have shape {(n, *self.latent_shape)}, got {tuple(z.shape)}")


class UNetPipelineAdapter(DiffusersAdapter):
    """A DDPM/DDIM pipeline's UNet2DModel run by its (or the chosen) scheduler: the pipeline's own
    denoising loop, with class labels passed to a class-conditional UNet (balanced labels
    0, 1, ..., K-1, 0, ... when none are given). The latent (LATENT) is the initial noise x_T: a
    deterministic scheduler (ddim, dpm, euler) maps it to the image; ddpm adds step noise drawn
    from `seed`, so there the images are a function of (z, seed)."""

    def __init__(self, pipe: Any, folder: PipelineFolder, weights: dict[str, str]) -> None:
        self.unet = pipe.unet
        super().__init__(pipe, folder, weights)
        self.latent_shape = folder.image_shape
        # The UNet's second half of channels is a learned variance (check_pipeline_folder allows
        # that only with the scheduler's variance_type learned/learned_range): DDPMScheduler reads
        # it; every other sampler, and the denoising loss, take the first half (epsilon or v).
        self.learned_variance = int(pipe.unet.config.out_channels) == 2 * folder.image_shape[0]

    def scheduler(self, sampler: str | None = None) -> Any:
        """As DiffusersAdapter.scheduler; with a learned variance, a sampler other than DDPM is
        built without `variance_type`: it gets the epsilon half only (DPM-Solver would otherwise
        keep channels [:3] of the UNet's output itself, which is the epsilon half for RGB only)."""
        import diffusers

        made = super().scheduler(sampler)
        if self.learned_variance and not isinstance(made, diffusers.DDPMScheduler) and made.config.get("variance_type") is not None:
            made = type(made).from_config({k: v for k, v in made.config.items() if k != "variance_type"})
        return made

    def _prediction(self, output: "torch.Tensor", scheduler: Any) -> "torch.Tensor":
        """The UNet output a scheduler's step takes: all of it for DDPMScheduler (which splits a
        learned variance off itself, as DDPMPipeline runs it), else the first image-channels."""
        import diffusers

        if self.learned_variance and not isinstance(scheduler, diffusers.DDPMScheduler):
            return output[:, : self.latent_shape[0]]
        return output

    def sample(
        self, n: int, seed: int, labels: "torch.Tensor | None" = None, steps: int | None = None, sampler: str | None = None,
        z: "torch.Tensor | None" = None,
    ) -> "torch.Tensor":
        """n images, float32 [n, C, H, W] in [0, 1] on CPU; the same for the same arguments."""
        import torch

        self._check_z(n, z)
        classes = self.info.num_classes
        if classes:
            labels = torch.arange(n) % classes if labels is None else labels.long().cpu()
        g = torch.Generator().manual_seed(int(seed))
        device, dtype = self.info.device, self.dtype
        out = []
        with torch.inference_mode():
            for b in range(0, n, self.batch):
                scheduler = self.scheduler(sampler)
                scheduler.set_timesteps(self.steps_for(sampler, steps), device=device)
                x = self._noise(n, z, b, g).to(device, dtype) * scheduler.init_noise_sigma
                batch_labels = labels[b : b + len(x)].to(device) if classes else None
                for t in scheduler.timesteps:
                    eps = self.unet(scheduler.scale_model_input(x, t), t, class_labels=batch_labels).sample
                    x = scheduler.step(self._prediction(eps, scheduler), t, x, generator=g).prev_sample
                out.append((x.float().cpu() / 2 + 0.5).clamp(0, 1))
        return torch.cat(out) if out else torch.empty(0, *self.latent_shape)

    def denoising_loss(self, x: "torch.Tensor", t: int, noise: "torch.Tensor") -> "torch.Tensor":
        """Per image, float32 [N] on CPU: the mean squared error of the epsilon prediction for
        images `x` in [0, 1] (scaled to [-1, 1]) noised to training timestep `t` with `noise` by
        the training schedule (`add_noise` of the pipeline's scheduler config); a v-prediction
        UNet's output is converted to epsilon."""
        import diffusers
        import torch

        schedule = diffusers.DDPMScheduler.from_config(self.scheduler_config)
        device, dtype = self.info.device, self.dtype
        a = schedule.alphas_cumprod[int(t)]
        out = []
        with torch.inference_mode():
            for i in range(0, len(x), DENOISE_BATCH):
                x0 = x[i : i + DENOISE_BATCH].float().cpu() * 2 - 1
                eps = noise[i : i + DENOISE_BATCH].float().cpu()
                tt = torch.full((len(x0),), int(t), dtype=torch.long)
                x_t = schedule.add_noise(x0, eps, tt)
                pred = self.unet(x_t.to(device, dtype), tt.to(device)).sample.float().cpu()[:, : x0.shape[1]]  # a learned variance's half dropped
                if schedule.config.prediction_type == "v_prediction":
                    pred = a.sqrt() * pred + (1 - a).sqrt() * x_t
                out.append((pred - eps).pow(2).flatten(1).mean(1))
        return torch.cat(out)


class TextToImageAdapter(DiffusersAdapter):
    """A Stable Diffusion pipeline, called as diffusers runs it (`pipe(prompt=..., latents=...,
    guidance_scale=..., output_type="pt")`), one batch of prompts at a time. Without `prompts` every
    image gets the empty prompt (unconditional generation). The latent (LATENT) is the initial
    latent noise [C, H/f, W/f] of the VAE's latent space."""

    def __init__(self, pipe: Any, folder: PipelineFolder, weights: dict[str, str]) -> None:
        super().__init__(pipe, folder, weights)
        self.guidance = float(folder.options.get("guidance", DEFAULT_GUIDANCE))
        _, height, width = folder.image_shape
        factor = int(pipe.vae_scale_factor)
        self.latent_shape = (int(pipe.unet.config.in_channels), height // factor, width // factor)

    def sample(
        self, n: int, seed: int, labels: "torch.Tensor | None" = None, prompts: list[str] | None = None,
        steps: int | None = None, sampler: str | None = None, z: "torch.Tensor | None" = None,
    ) -> "torch.Tensor":
        """n images, float32 [n, 3, H, W] in [0, 1] on CPU, image i for `prompts[i]`; the same for
        the same arguments."""
        import torch

        self._check_z(n, z)
        prompts = [""] * n if prompts is None else [str(p) for p in prompts]
        if len(prompts) != n:
            raise ValueError(f"got {len(prompts)} prompts for {n} images; give one prompt per image")
        g = torch.Generator().manual_seed(int(seed))
        _, height, width = self.info.image_shape or (0, 0, 0)
        out = []
        for b in range(0, n, self.batch):
            self.pipe.scheduler = self.scheduler(sampler)
            latents = self._noise(n, z, b, g).to(self.info.device, self.dtype)
            images = self.pipe(
                prompt=prompts[b : b + len(latents)], height=height, width=width, num_inference_steps=self.steps_for(sampler, steps),
                guidance_scale=self.guidance, latents=latents, generator=g, output_type="pt",
            ).images
            out.append(images.float().cpu().clamp(0, 1))
        return torch.cat(out) if out else torch.empty(0, *(self.info.image_shape or ()))
