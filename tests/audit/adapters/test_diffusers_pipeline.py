"""`diffusers:<dir>`: a local diffusers pipeline folder audited as a model.

Pipelines are built here with random weights and saved with `save_pretrained` (nothing is
downloaded). The adapter's images are compared with what the diffusers pipeline itself produces
from the same generator, and its denoising loss with a hand computation of the noising formula.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from byo.diffusers_builders import build_text_to_image_pipeline, build_unet_pipeline
from tests.helpers import assert_one_line_error

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def pipes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "ddpm": build_unet_pipeline(root / "ddpm"),
        "conditional": build_unet_pipeline(root / "conditional", classes=4),
        "text": build_text_to_image_pipeline(root / "text"),
    }


def _load(word: str):
    from audit.adapters.loading import load_model

    return load_model(word)


def _unet_calls(adapter) -> list[int]:
    """Batch sizes of every UNet call, recorded by a forward hook."""
    calls: list[int] = []
    adapter.modules()["unet"].register_forward_hook(lambda module, args, output: calls.append(int(args[0].shape[0])))
    return calls


@pytest.mark.parametrize(
    "kind, options, declared",
    [
        ("ddpm", "?steps=1", {"sample", "latent", "denoising_loss"}),
        ("conditional", "?steps=1&scheduler=ddim", {"sample", "conditional", "latent"}),
        ("text", "?steps=1", {"sample", "latent", "text_to_image"}),
    ],
)
def test_conformance_kit_passes(pipes, kind: str, options: str, declared: set[str]):
    from audit.testing import run_adapter_checks

    word = f"diffusers:{pipes[kind]}{options}"
    adapter = _load(word)
    assert set(adapter.capabilities) == declared
    outcomes = run_adapter_checks(lambda: _load(word), n=2)
    assert [o.message for o in outcomes if not o.passed] == []
    verified = {o.rule for o in outcomes if o.passed and not o.skipped}
    assert declared - {"sample"} <= verified and {"sample.determinism", "precision"} <= verified
    info = adapter.info
    assert info.family == "diffusion" and info.image_shape == (3, 32, 32) and info.params == sum(
        p.numel() for m in adapter.modules().values() for p in m.parameters()
    )
    weights = sorted(pipes[kind].rglob("*.safetensors"))
    assert weights and all(info.weights[f"{kind}/{p.relative_to(pipes[kind]).as_posix()}"] for p in weights)
    import hashlib

    first = weights[0]
    assert info.weights[f"{kind}/{first.relative_to(pipes[kind]).as_posix()}"] == hashlib.sha256(first.read_bytes()).hexdigest()


@pytest.mark.parametrize("pipeline, scheduler", [("DDPMPipeline", "ddpm"), ("DDIMPipeline", "ddim")])
def test_images_equal_the_diffusers_pipeline(pipes, pipeline: str, scheduler: str):
    """Same generator seed and steps: the adapter's images are the pipeline's own output."""
    import diffusers

    adapter = _load(f"diffusers:{pipes['ddpm']}?scheduler={scheduler}&steps=3")
    ours = adapter.sample(3, seed=7)
    assert torch.equal(ours, adapter.sample(3, seed=7)) and not torch.equal(ours, adapter.sample(3, seed=8))
    saved = diffusers.DDPMPipeline.from_pretrained(pipes["ddpm"], local_files_only=True)
    cls = getattr(diffusers, f"{scheduler.upper()}Scheduler")
    pipe = getattr(diffusers, pipeline)(unet=saved.unet, scheduler=cls.from_config(saved.scheduler.config))
    pipe.set_progress_bar_config(disable=True)
    theirs = pipe(batch_size=3, generator=torch.Generator().manual_seed(7), num_inference_steps=3, output_type="pt").images
    assert ours.shape == theirs.shape == (3, 3, 32, 32)
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=0)


def test_text_to_image_equals_the_pipeline_and_follows_prompts(pipes):
    import diffusers

    adapter = _load(f"diffusers:{pipes['text']}?steps=2&guidance=3")
    prompts = ["a red cat", "dog"]
    ours = adapter.sample(2, seed=3, prompts=prompts)
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(pipes["text"], local_files_only=True, safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    theirs = pipe(prompt=prompts, num_inference_steps=2, guidance_scale=3.0, generator=torch.Generator().manual_seed(3), output_type="pt").images
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=0)
    swapped = adapter.sample(2, seed=3, prompts=prompts[::-1])
    assert not torch.equal(ours[0], swapped[0])
    with pytest.raises(ValueError, match="2 prompts for 3 images"):
        adapter.sample(3, seed=3, prompts=prompts)


def test_latent_is_the_initial_noise(pipes):
    """With a deterministic scheduler the images are a function of z alone (the seed no longer
    matters); another z gives other images; a z of the wrong shape is refused."""
    adapter = _load(f"diffusers:{pipes['conditional']}?scheduler=ddim&steps=2")
    z = torch.randn(2, *adapter.latent_shape, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([1, 3])
    a = adapter.sample(2, seed=0, labels=labels, z=z)
    assert torch.equal(a, adapter.sample(2, seed=123, labels=labels, z=z.clone()))
    assert not torch.equal(a, adapter.sample(2, seed=0, labels=labels, z=z + 0.5))
    assert not torch.equal(a, adapter.sample(2, seed=0, labels=torch.tensor([0, 2]), z=z))
    with pytest.raises(ValueError, match="z must have shape"):
        adapter.sample(2, seed=0, z=z[:, :1])


def test_denoising_loss_equals_hand_computation(pipes):
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps with abar from the linear beta schedule
    (numpy), then the mean squared error of the UNet's output against eps."""
    adapter = _load(f"diffusers:{pipes['ddpm']}")
    config = json.loads((pipes["ddpm"] / "scheduler" / "scheduler_config.json").read_text())
    betas = np.linspace(config["beta_start"], config["beta_end"], config["num_train_timesteps"], dtype=np.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 32, 32, generator=g)
    noise = torch.randn(3, 3, 32, 32, generator=g)
    for t in (25, 250):
        abar = float(np.prod(1 - betas[: t + 1]))
        x_t = (np.sqrt(abar) * (x * 2 - 1) + np.sqrt(1 - abar) * noise).float()
        with torch.no_grad():
            eps = adapter.modules()["unet"](x_t, torch.full((3,), t)).sample
        expected = (eps - noise).pow(2).flatten(1).mean(1)
        torch.testing.assert_close(adapter.denoising_loss(x, t, noise), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("scheduler, cls", [("ddim", "DDIMScheduler"), ("dpm", "DPMSolverMultistepScheduler"), ("euler", "EulerDiscreteScheduler")])
def test_scheduler_steps_and_batch_options_take_effect(pipes, scheduler: str, cls: str):
    adapter = _load(f"diffusers:{pipes['ddpm']}?scheduler={scheduler}&steps=3&batch=2")
    assert type(adapter.scheduler()).__name__ == cls and adapter.default_steps[scheduler] == 3
    calls = _unet_calls(adapter)
    images = adapter.sample(5, seed=0)
    assert images.shape == (5, 3, 32, 32)
    assert calls == [2] * 3 + [2] * 3 + [1] * 3  # 3 steps for each batch of at most 2
    calls.clear()
    adapter.sample(1, seed=0, steps=2)
    assert calls == [1, 1]  # sample(steps=) overrides the word's steps


def test_pipeline_default_scheduler_and_steps(pipes):
    adapter = _load(f"diffusers:{pipes['ddpm']}")
    assert adapter.sampler == "ddpm" and adapter.default_steps["ddpm"] == 1000 and adapter.default_steps["ddim"] == 50
    assert type(adapter.scheduler("ddim")).__name__ == "DDIMScheduler"


def test_conditional_labels_default_to_balanced(pipes):
    adapter = _load(f"diffusers:{pipes['conditional']}?scheduler=ddim&steps=1")
    assert adapter.num_classes == 4
    torch.testing.assert_close(adapter.sample(5, seed=1), adapter.sample(5, seed=1, labels=torch.arange(5) % 4))


def _write(folder: Path, index: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda tmp, pipes: "diffusers:/nope/pipe", ["folder '/nope/pipe' does not exist"]),
        (lambda tmp, pipes: f"diffusers:{(tmp / 'empty').mkdir() or tmp / 'empty'}", ["is not a diffusers pipeline folder (no model_index.json"]),
        (lambda tmp, pipes: f"diffusers:{_write(tmp / 'flux', {'_class_name': 'FluxPipeline'})}", ["pipeline class 'FluxPipeline' is not supported", "DDPMPipeline"]),
        (lambda tmp, pipes: f"diffusers:{pipes['ddpm']}?scheduler=ddmi", ["scheduler", "ddim"]),
        (lambda tmp, pipes: f"diffusers:{pipes['ddpm']}?steps=0", ["option steps=0 must be an integer in 1..10000"]),
        (lambda tmp, pipes: f"diffusers:{pipes['ddpm']}?guidance=7", ["guidance applies to text-to-image pipelines only"]),
        (lambda tmp, pipes: f"diffusers:{pipes['ddpm']}?sampler=ddim", ["sampler", "scheduler"]),
        (lambda tmp, pipes: f"diffusers:{pipes['text']}", ["generates images from text: give prompts=<file>"]),
    ],
    ids=["missing", "not-a-pipeline", "unsupported-class", "bad-scheduler", "bad-steps", "guidance-unconditional", "unknown-option", "text-without-prompts"],
)
def test_bad_words_fail_at_plan_time(cli, pipes, tmp_path: Path, make, fragments: list[str]):
    word = make(tmp_path, pipes)
    assert_one_line_error(cli("run", "suite=quality", f"model={word}"), 2, *fragments)


def test_missing_weights_fail_at_plan_time(cli, pipes, tmp_path: Path):
    import shutil

    broken = shutil.copytree(pipes["ddpm"], tmp_path / "broken")
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not safetensors")
    assert_one_line_error(cli("run", "suite=quality", f"model=diffusers:{broken}"), 2, "is not a readable safetensors file")


def test_quality_suite_end_to_end(cli, pipes, tmp_path: Path):
    """A random-weight DDPM pipeline, a folder of 32x32 RGB PNGs and a small RGB evaluator: the
    distribution checks are measured, nothing passes silently, fp16 on CPU is skipped."""
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "rgb32"
    folder.mkdir()
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), mode="RGB").save(folder / f"{i:03d}.png")
    checks = "quality.fid,quality.kid,quality.inception_score,quality.precision,quality.recall,quality.diversity,quality.swd_pixel,quality.conditional_accuracy"
    result = cli(
        "run", "suite=quality", f"model=diffusers:{pipes['ddpm']}?scheduler=ddim&steps=2", f"check={checks}", "n=24", "bootstrap=20",
        f"data={folder}", "evaluator=byo.diffusers_builders:rgb32_evaluator", "precision=fp32,fp16",
    )
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    records = result.results["records"]
    fp32 = {r["check"]: r for r in records if r["precision"] == "fp32"}
    fp16 = [r for r in records if r["precision"] == "fp16"]
    assert set(fp32) == set(checks.split(","))
    for check in ("quality.fid", "quality.kid", "quality.inception_score", "quality.precision", "quality.recall", "quality.diversity", "quality.swd_pixel"):
        assert fp32[check]["status"] not in ("error", "skipped"), (check, fp32[check].get("reason"))
        assert np.isfinite(fp32[check]["value"])
    assert fp32["quality.conditional_accuracy"]["status"] == "skipped" and fp32["quality.conditional_accuracy"]["reason"]
    assert fp16 and all(r["status"] == "skipped" and "CUDA" in r["reason"] for r in fp16)
    info = next(m["info"] for m in result.results["models"] if m["precision"] == "fp32")
    assert info["family"] == "diffusion" and any(k.endswith(".safetensors") for k in info["weights"])
