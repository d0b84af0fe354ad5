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
