"""`diffusers:<dir>` with a learned-variance UNet: `out_channels` = 2 x `in_channels` and a
DDPMScheduler whose `variance_type` is "learned_range" (improved-DDPM style). Its images have
`in_channels` channels (DDPMScheduler.step splits the variance half off); the adapter used to
read the channel count from `out_channels` and refused a 1-channel model as 2-channel images.

The pipelines are built here with random weights and a tiny config (nothing is downloaded).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import assert_one_line_error

pytest.importorskip("diffusers")

SIZE = 16


def _build(path: Path, out_channels: int, variance_type: str) -> Path:
    import diffusers

    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(
        sample_size=SIZE, in_channels=1, out_channels=out_channels, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4,
    )
    scheduler = diffusers.DDPMScheduler(num_train_timesteps=50, variance_type=variance_type)
    diffusers.DDPMPipeline(unet=unet, scheduler=scheduler).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("learned") / "outch2", out_channels=2, variance_type="learned_range")


def _load(word: str):
    from audit.adapters.loading import load_model

    return load_model(word)


def test_diffusers_pipeline_itself_returns_in_channels_images(learned: Path):
    """The premise: diffusers' own DDPMPipeline runs this UNet and returns 1-channel images."""
    import diffusers

    pipe = diffusers.DDPMPipeline.from_pretrained(learned, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    assert (pipe.unet.config.in_channels, pipe.unet.config.out_channels) == (1, 2)
    images = pipe(batch_size=2, generator=torch.Generator().manual_seed(0), num_inference_steps=3, output_type="pt").images
    assert tuple(images.shape) == (2, 1, SIZE, SIZE)


def test_images_have_in_channels_and_equal_the_pipeline(learned: Path):
    import diffusers

    adapter = _load(f"diffusers:{learned}?steps=3")
    assert adapter.info.image_shape == (1, SIZE, SIZE) and adapter.latent_shape == (1, SIZE, SIZE)
    ours = adapter.sample(3, seed=7)
    pipe = diffusers.DDPMPipeline.from_pretrained(learned, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    theirs = pipe(batch_size=3, generator=torch.Generator().manual_seed(7), num_inference_steps=3, output_type="pt").images
    assert ours.shape == theirs.shape == (3, 1, SIZE, SIZE)
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("scheduler", ["ddim", "dpm", "euler"])
def test_other_samplers_give_in_channels_images(learned: Path, scheduler: str):
    """Samplers that do not model a variance get the epsilon half: 1-channel images in [0, 1]
    (given all 2 channels, DDIM would broadcast them into 2-channel images)."""
    adapter = _load(f"diffusers:{learned}?scheduler={scheduler}&steps=2")
    images = adapter.sample(2, seed=0)
    assert tuple(images.shape) == (2, 1, SIZE, SIZE)
    assert torch.isfinite(images).all() and 0 <= images.min() and images.max() <= 1


def test_denoising_loss_uses_the_epsilon_half(learned: Path):
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (abar from the linear beta schedule, numpy);
    the loss is the mean squared error of the UNet's first channel (its epsilon) against eps."""
    adapter = _load(f"diffusers:{learned}")
    assert "denoising_loss" in adapter.capabilities
    config = json.loads((learned / "scheduler" / "scheduler_config.json").read_text())
    betas = np.linspace(config["beta_start"], config["beta_end"], config["num_train_timesteps"], dtype=np.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, SIZE, SIZE, generator=g)
    noise = torch.randn(3, 1, SIZE, SIZE, generator=g)
    t = 20
    abar = float(np.prod(1 - betas[: t + 1]))
    x_t = (np.sqrt(abar) * (x * 2 - 1) + np.sqrt(1 - abar) * noise).float()
    with torch.no_grad():
        out = adapter.modules()["unet"](x_t, torch.full((3,), t)).sample
    assert out.shape[1] == 2
    expected = (out[:, :1] - noise).pow(2).flatten(1).mean(1)
    torch.testing.assert_close(adapter.denoising_loss(x, t, noise), expected, atol=1e-5, rtol=1e-4)


def test_smoke_fid_runs_on_learned_variance_pipeline(cli, learned: Path):
    """The outsider's command: the 1x16x16 images fit the bundled digits evaluator."""
    result = cli("run", "suite=smoke", f"model=diffusers:{learned}?steps=2", "check=quality.fid", "n=32")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    (record,) = result.results["records"]
    assert record["status"] in ("measured", "pass", "fail") and np.isfinite(record["value"]), record


def test_extra_channels_without_learned_variance_fail_at_plan_time(cli, tmp_path: Path):
    """Twice the channels with a fixed variance: nothing in diffusers reads the second half."""
    folder = _build(tmp_path / "fixed", out_channels=2, variance_type="fixed_small")
    assert_one_line_error(
        cli("run", "suite=smoke", f"model=diffusers:{folder}?steps=2", "check=quality.fid", "n=32"), 2,
        "the UNet denoises 1-channel images but predicts 2 channels", "this scheduler's is 'fixed_small'",
    )
