"""Helpers tests import (`from tests.helpers import ...`): the CLI result type, an in-process CLI
run, the one-line-error contract, the fixture-models folder and a suite's checks per family. Fixtures live in conftest.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
"""Fixture models and plugins (tests/fixtures), put on the import path by tests/conftest.py."""


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def run_dir(self) -> Path:
        line = next(l for l in self.stdout.splitlines() if l.startswith("Report: "))
        return Path(line.removeprefix("Report: ")).parent

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "results.json").read_text())


def run_cli(*words: str) -> CliResult:
    """`audit <words>` in-process (typer's CliRunner): what the `cli` fixture calls, and the
    runs that module- or session-scoped fixtures make once for many tests."""
    from typer.testing import CliRunner

    from audit.cli import app

    result = CliRunner().invoke(app, list(words))
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


def assert_one_line_error(result: CliResult, code: int, *fragments: str) -> None:
    """The contract for bad input: the documented exit code, one stderr line, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception


def suite_checks_for(suite: str, family: str) -> set[str]:
    """The suite's checks that apply to `family`, read from the suite file (not restated in tests)."""
    from audit.checks import check_spec, load_check_modules
    from audit.suite import load_suite

    load_check_modules()
    return {c for c in load_suite(suite).checks if check_spec(c).applies_to(family)}


CLIP_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def write_tiny_clip(folder: Path, image_size: int = 32, shortest_edge: int = 32, vision_only: bool = False) -> Path:
    """A random-weight CLIP (hidden 32, 2 layers, patch 8) saved with its image processor and a
    letter-level CLIP tokenizer (vocab written here: a-z, their word-final forms, start/end tokens)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer, CLIPVisionConfig, CLIPVisionModelWithProjection

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["<|startoftext|>", "<|endoftext|>", *CLIP_LETTERS, *(c + "</w>" for c in CLIP_LETTERS)]
    torch.manual_seed(0)
    vision = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2, image_size=image_size, patch_size=8)
    if vision_only:
        CLIPVisionModelWithProjection(CLIPVisionConfig(**vision, projection_dim=16)).save_pretrained(folder)
    else:
        text = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2, vocab_size=len(vocab),
                    max_position_embeddings=24, bos_token_id=0, eos_token_id=1, pad_token_id=1)
        CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(folder)
        CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=[]).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": shortest_edge}, crop_size={"height": image_size, "width": image_size}).save_pretrained(folder)
    return folder


def write_tiny_dinov2(folder: Path, image_size: int = 56, shortest_edge: int = 64) -> Path:
    """A random-weight DINOv2 (hidden 32, 2 layers, patch 14) saved with a BitImageProcessor that
    resizes the short side to `shortest_edge` and center-crops `image_size` (DINOv2's protocol, small)."""
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, image_size=image_size, patch_size=14)
    Dinov2Model(config).save_pretrained(folder)
    BitImageProcessor(
        size={"shortest_edge": shortest_edge}, crop_size={"height": image_size, "width": image_size},
        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
    ).save_pretrained(folder)
    return folder


SYNTHETIC_IMAGE_CHECKS = (
    # check, unit, higher_is_better, clean value, half-width of its CI, real-data floor or None
    ("quality.fid", "", False, 40.0, 6.0, 14.4), ("quality.kid", "MMD^2", False, 900.0, 300.0, -70.0),
    ("quality.swd_pixel", "pixel intensity", False, 0.02, 0.002, 0.013), ("quality.swd_feature", "feature units", False, 0.5, 0.05, 0.33),
    ("quality.inception_score", "", True, 9.0, 0.1, None), ("quality.precision", "share of samples", True, 0.93, 0.02, 0.95),
    ("quality.recall", "share of real images", True, 0.8, 0.03, 0.97), ("quality.density", "real balls per sample / k", True, 0.9, 0.04, 0.93),
    ("quality.coverage", "share of real images", True, 0.8, 0.03, 0.64), ("quality.c2st", "accuracy", False, 0.6, 0.02, 0.47),
    ("quality.diversity", "feature distance", True, 76.0, 0.6, None), ("quality.near_duplicate_rate", "share of samples", False, 0.002, 0.002, None),
    ("quality.class_coverage", "share of classes", True, 1.0, 0.0, None), ("quality.class_entropy", "normalized entropy", True, 0.999, 0.001, None),
    ("quality.conditional_accuracy", "", True, 0.97, 0.01, None),
)
"""The image checks of a synthetic quality run: 15 of the quality suite's, with realistic values."""
SYNTHETIC_TEXT_CHECKS = (
    ("quality.perplexity", "perplexity", False, 32.0, 1.0), ("quality.bleu", "BLEU (0-1)", True, 0.04, 0.01),
    ("quality.rouge1", "F-measure", True, 0.21, 0.01), ("quality.rouge2", "F-measure", True, 0.04, 0.01),
    ("quality.rougeL", "F-measure", True, 0.18, 0.01), ("quality.distinct_1", "ratio", True, 0.21, 0.01),
    ("quality.distinct_2", "ratio", True, 0.65, 0.02), ("quality.self_bleu", "BLEU (0-1)", False, 0.2, 0.02),
    ("quality.repetition_rate", "share", False, 0.001, 0.001),
)
SYNTHETIC_FAILURES = {
    ("gan-collapsed", "quality.class_coverage"): (0.3, 0.2, 0.4), ("gan-collapsed", "quality.recall"): (0.07, 0.05, 0.09),
    ("vae", "quality.fid"): (98.0, 90.0, 106.0),
}
"""(model, check) -> (value, ci_low, ci_high) that the quality suite's gates fail (gan-collapsed)
or cannot decide (vae's FID CI straddles 100)."""


def synthetic_quality_run(folder: Path, image_models: tuple[str, ...] = ("gan", "gan-collapsed", "vae"),
                          grid_pixels: int = 160) -> dict[str, Any]:
    """A judged results.json of the quality suite on `image_models` and a transformer, written to
    `folder` with a sample grid per model (random pixels, as large as a real grid's PNG), judged
    by the suite's own default gates (audit.gates.finalize), so every record has the shape a
    real run gives. gan-collapsed fails two gates, vae's FID is inconclusive and the transformer
    has one error record (its reason holds markup that must stay escaped)."""
    import numpy as np
    from PIL import Image

    from audit.gates import finalize
    from audit.policy import parse_gate
    from audit.suite import load_suite

    suite = load_suite("quality")
    gates = [parse_gate(g, "quality suite") for g in suite.gates]

    def record(model: str, family: str, check: str, unit: str, hib: bool, value: float, half: float, **extra: Any) -> dict[str, Any]:
        value, low, high = SYNTHETIC_FAILURES.get((model, check), (value, value - half, value + half))
        return {"check": check, "model": model, "precision": "fp32", "device": "cpu", "status": "measured", "seed": 0,
                "value": value, "ci_low": low, "ci_high": high, "n": 1000, "unit": unit, "higher_is_better": hib,
                "params": {"n": 1000, "bootstrap": 500}, "family": family, "gates": [], "verdict": None, "reason": None,
                "duration_s": 0.5, "by_group": None, "details": extra, "artifacts": {}}

    records, models = [], []
    rng = np.random.default_rng(0)
    (folder / "artifacts").mkdir(parents=True, exist_ok=True)
    for i, model in enumerate((*image_models, "transformer")):
        family = "transformer" if model == "transformer" else model.split("-")[0]
        grid = f"artifacts/{model}-fp32-samples.png"
        Image.fromarray(rng.integers(0, 256, (grid_pixels, grid_pixels), dtype=np.uint8)).save(folder / grid)
        models.append({"model": model, "precision": "fp32", "sample_grid": grid, "sample_grid_by_class": True,
                       "info": {"name": model, "family": family, "device": "cpu", "params": 1000 + i}})
        if family == "transformer":
            records += [record(model, family, c, u, h, v, w) for c, u, h, v, w in SYNTHETIC_TEXT_CHECKS]
            records.append({**record(model, family, "quality.mauve", "", True, 0.0, 0.0), "status": "error", "value": None,
                            "ci_low": None, "ci_high": None, "reason": "RuntimeError: <script>alert(1)</script> broke"})
            continue
        for c, u, h, v, w, floor in SYNTHETIC_IMAGE_CHECKS:
            extra = {"real_data_floor": floor} if floor is not None else {}
            records.append(record(model, family, c, u, h, v + i * w, w, **extra))
    results = {
        "schema_version": 1, "run_id": "synth001", "suite": "quality", "suite_description": suite.description,
        "started": "2026-01-01T00:00:00Z", "config": {"n": 1000, "seed": 0, "fail_on": "error", "bootstrap": 500},
        "gates": [{**g.to_dict(), "label": g.label()} for g in gates], "fingerprint": {"packages": {"audit": "0.1.0"}, "files": {}},
        "duration_s": 60.0, "interrupted": False, "interrupted_by": None, "models": models, "records": records,
    }
    finalize(results, gates)
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))
