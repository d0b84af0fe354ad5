"""`model=torchscript:<file>[?latent=..&classes=..]`: an image generator saved with TorchScript."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from byo.builders import build_oracle_generator, build_tiny_generator
from tests.helpers import assert_one_line_error

QUALITY_CHECKS = "quality.fid,quality.inception_score,quality.conditional_accuracy,quality.class_coverage"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_oracle_generator(tmp_path_factory.mktemp("ts") / "oracle.pt")


def test_quality_suite_on_torchscript_generator(cli, oracle: Path):
    """A scripted generator that returns held-out real digits of the asked class: latent size and
    class count are read from the file, labels reach it (conditional accuracy = the evaluator's
    held-out accuracy), and its FID sits near the real-data floor."""
    result = cli("run", "suite=quality", f"model=torchscript:{oracle}", f"check={QUALITY_CHECKS}", "n=128", "bootstrap=50")
    # at n=128 the FID gate (<= 100) may be inconclusive (exit 3): its CI is wide at small n
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    data = result.results
    records = {r["check"]: r for r in data["records"]}
    assert all(r["status"] in ("measured", "pass", "inconclusive") for r in records.values()), records
    assert records["quality.conditional_accuracy"]["value"] > 0.9
    assert records["quality.class_coverage"]["value"] == 1.0
    assert records["quality.inception_score"]["value"] > 8
    assert records["quality.fid"]["value"] < 100
    info = data["models"][0]["info"]
    assert info["name"] == "oracle" and info["family"] == "gan" and info["num_classes"] == 10 and info["image_shape"] == [1, 16, 16]
    assert len(data["fingerprint"]["files"]["oracle.pt"]) == 64


def test_torchscript_beats_noise_generator(cli, oracle: Path, tmp_path: Path):
    """The same check on a random-weights scripted generator: much worse FID than the oracle."""
    noise = build_tiny_generator(tmp_path / "noise.pt", latent=16, classes=10, attributes=True)
    result = cli("run", "suite=quality", f"model=torchscript:{oracle},torchscript:{noise}", "check=quality.fid", "n=128", "bootstrap=50")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    fid = {r["model"].rsplit("/", 1)[-1]: r["value"] for r in result.results["records"]}
    assert fid["noise.pt"] > 5 * fid["oracle.pt"]


def test_fairness_suite_on_torchscript_generator(cli, oracle: Path):
    from audit.suite import suite_names

    if "fairness" not in suite_names():
        pytest.skip("suites/fairness.toml does not exist yet")
    result = cli("run", "suite=fairness", f"model=torchscript:{oracle}", "n=128", "bootstrap=50")
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    records = result.results["records"]
    assert records and all(r["status"] != "error" for r in records), [(r["check"], r["reason"]) for r in records]
    assert any(r["status"] == "measured" for r in records)


def test_metadata_from_extra_file_and_options(tmp_path: Path):
    from audit.adapters.loading import load_model

    extra = build_tiny_generator(tmp_path / "extra.pt", latent=12, classes=3, metadata={"latent_dim": 12, "num_classes": 3, "name": "from-json"})
    a = load_model(f"torchscript:{extra}")
    assert (a.latent_shape, a.info.num_classes, a.info.name) == ((12,), 3, "from-json")
    bare = build_tiny_generator(tmp_path / "bare.pt", latent=20, classes=0)
    b = load_model(f"torchscript:{bare}?latent=20&name=mine&family=vae")
    assert (b.latent_shape, b.info.num_classes, b.info.name, b.info.family) == ((20,), None, "mine", "vae")
    assert "conditional" not in b.capabilities
    rgb = build_tiny_generator(tmp_path / "rgb.pt", latent=8, shape=(3, 8, 8))
    c = load_model(f"torchscript:{rgb}?latent=8")
    assert tuple(c.sample(5, 0).shape) == (5, 3, 8, 8) and c.info.image_shape == (3, 8, 8)


def test_sampling_is_seeded_and_batch_independent(oracle: Path):
    import torch

    from audit.adapters.loading import load_model

    a = load_model(f"torchscript:{oracle}")
    labels = torch.arange(300) % 10
    x = a.sample(300, 5, labels=labels)
    assert torch.equal(x, a.sample(300, 5, labels=labels))
    assert torch.equal(x[:7], a.sample(7, 5, labels=labels[:7]))
    assert not torch.equal(x, a.sample(300, 6, labels=labels))


def test_bf16_precision(cli, oracle: Path):
    result = cli("run", "suite=quality", f"model=torchscript:{oracle}", "check=quality.conditional_accuracy", "precision=fp32,bf16", "n=64", "bootstrap=50")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [r["precision"] for r in result.results["records"]] == ["fp32", "bf16"]
    assert all(r["status"] == "pass" for r in result.results["records"])


def test_check_model_passes_torchscript(cli, oracle: Path):
    result = cli("check-model", f"model=torchscript:{oracle}")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS  conditional" in result.stdout


def _bad(cli, word: str, *fragments: str) -> None:
    assert_one_line_error(cli("run", "suite=quality", f"model={word}", "check=quality.fid", "n=64"), 2, *fragments)


def test_missing_latent_size(cli, tmp_path: Path):
    bare = build_tiny_generator(tmp_path / "bare.pt", latent=16)
    _bad(cli, f"torchscript:{bare}", "latent size unknown", "?latent=64")


def test_option_disagrees_with_file(cli, tmp_path: Path):
    path = build_tiny_generator(tmp_path / "g.pt", latent=16, metadata={"latent_dim": 16})
    _bad(cli, f"torchscript:{path}?latent=32", "latent=32 disagrees", "16")


def test_unknown_option(cli, tmp_path: Path):
    path = build_tiny_generator(tmp_path / "g.pt", latent=16, attributes=True)
    _bad(cli, f"torchscript:{path}?latnet=16", "Unknown torchscript option 'latnet'", "Did you mean: latent")


def test_not_a_torchscript_file(cli, tmp_path: Path):
    import torch

    pickle_file = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, pickle_file)
    _bad(cli, f"torchscript:{pickle_file}", "not a TorchScript archive")
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    _bad(cli, f"torchscript:{text}", "not a TorchScript archive")
    _bad(cli, f"torchscript:{tmp_path / 'missing.pt'}", "does not exist")


def test_labels_needed_but_no_classes(cli, tmp_path: Path):
    import torch

    class NeedsLabels(torch.nn.Module):
        def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(z[:, :4].view(-1, 1, 2, 2) + labels.view(-1, 1, 1, 1).float())

    path = tmp_path / "needs.pt"
    torch.jit.save(torch.jit.script(NeedsLabels()), str(path))
    _bad(cli, f"torchscript:{path}?latent=4", "forward() needs labels", "?classes=K")


def test_generator_out_of_range_is_bad_input(cli, tmp_path: Path):
    import torch

    class Tanh(torch.nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return torch.tanh(z.view(-1, 1, 4, 4) * 3)

    path = tmp_path / "tanh.pt"
    torch.jit.save(torch.jit.script(Tanh()), str(path), _extra_files={"audit.json": json.dumps({"latent_dim": 16})})
    _bad(cli, f"torchscript:{path}", "expected [0, 1]")


def test_generator_shape_must_match_reference(cli, tmp_path: Path):
    rgb = build_tiny_generator(tmp_path / "rgb.pt", latent=8, shape=(3, 8, 8), attributes=True)
    _bad(cli, f"torchscript:{rgb}", "generates 3x8x8 images", "digits evaluator reads 1x16x16", "evaluator= that reads them (inception", "data=")


def test_generator_that_crashes_is_bad_input(cli, tmp_path: Path):
    import torch

    class Crashes(torch.nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return z.view(-1, 1, 5, 5)  # 16 latent values do not make 5x5 images

    path = tmp_path / "crash.pt"
    torch.jit.save(torch.jit.script(Crashes()), str(path))
    _bad(cli, f"torchscript:{path}?latent=16", "generating 2 probe images raised RuntimeError", "shape '[-1, 1, 5, 5]'")
