"""`model=hf:<folder>`: a local Hugging Face causal LM directory, audited offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from byo.builders import build_tiny_hf, export_bundled_transformer, write_text
from tests.helpers import assert_one_line_error


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_hf(tmp_path_factory.mktemp("hf") / "tiny-gpt2")


def test_quality_suite_on_hf_model(cli, tiny_hf: Path):
    """The text checks of the quality suite run on an hf: model; a randomly initialised LM is
    close to uniform, so its perplexity is close to its vocabulary size."""
    from transformers import AutoConfig

    result = cli("run", "suite=quality", f"model=hf:{tiny_hf}", "check=quality.perplexity,quality.distinct_1", "n=64", "bootstrap=50")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = result.results
    records = {r["check"]: r for r in data["records"]}
    assert {r["status"] for r in records.values()} == {"measured"}, records
    ppl = records["quality.perplexity"]
    vocab = AutoConfig.from_pretrained(tiny_hf, local_files_only=True).vocab_size
    assert 0.5 * vocab < ppl["value"] < 2 * vocab
    assert ppl["ci_low"] <= ppl["value"] <= ppl["ci_high"] and ppl["n"] == 64
    assert ppl["family"] == "transformer"
    files = data["fingerprint"]["files"]
    assert files["tiny-gpt2/model.safetensors"] and files["tiny-gpt2/tokenizer.json"]
    assert "data:tinystories-heldout" in files
    assert data["models"][0]["info"]["name"] == "tiny-gpt2"


def test_hf_adapter_scores_like_the_bundled_transformer(tmp_path: Path):
    """The bundled GPT-2 re-saved as a Hugging Face folder gives the same log-probabilities and
    the same seeded generations through hf: as through its own adapter."""
    from audit.adapters.loading import load_model
    from audit_reference_models.data.tinystories import load_tinystories_split

    folder = export_bundled_transformer(tmp_path / "bundled")
    hf = load_model(f"hf:{folder}")
    bundled = load_model("transformer")
    texts = list(load_tinystories_split().heldout[:6])
    for a, b in zip(hf.log_probs(texts), bundled.log_probs(texts)):
        assert a.shape == b.shape
        assert float((a - b).abs().max()) < 1e-5
    prompts = ["Once upon a time", "Tom had a red ball."]
    assert hf.generate(prompts, 12, seed=3) == bundled.generate(prompts, 12, seed=3)


def test_hf_loads_in_the_requested_precision(tiny_hf: Path):
    import torch

    from audit.adapters.loading import build_model, load_model

    assert build_model(f"hf:{tiny_hf}", "bf16").model.dtype == torch.bfloat16  # loaded in bf16, not cast after
    adapter = load_model(f"hf:{tiny_hf}", "bf16")
    assert adapter.info.precision == "bf16"
    assert all(torch.isfinite(t).all() for t in adapter.log_probs(["A cat sat."]))


def test_text_file_replaces_tinystories(cli, tiny_hf: Path, tmp_path: Path):
    docs = [f"Document number {i} talks about a small red fox and its friend." for i in range(7)]
    text = write_text(tmp_path / "heldout.txt", docs)
    result = cli("run", "suite=quality", f"model=hf:{tiny_hf}", "check=quality.perplexity", "n=64", "bootstrap=50", f"text={text}")
    assert result.exit_code == 0, result.stdout + result.stderr
    record = result.results["records"][0]
    assert record["n"] == 7 and "heldout.txt" in record["details"]["reference"]
    files = result.results["fingerprint"]["files"]
    assert "data:heldout.txt" in files and "data:tinystories-heldout" not in files
    assert result.results["config"]["text"] == str(text)


def test_fairness_suite_on_hf_model(cli, tiny_hf: Path):
    from audit.suite import suite_names

    if "fairness" not in suite_names():
        pytest.skip("suites/fairness.toml does not exist yet")
    result = cli("run", "suite=fairness", f"model=hf:{tiny_hf}", "n=64", "bootstrap=50")
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    records = result.results["records"]
    assert records and all(r["status"] != "error" for r in records), [(r["check"], r["reason"]) for r in records]


def test_check_model_passes_hf(cli, tiny_hf: Path):
    result = cli("check-model", f"model=hf:{tiny_hf}", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS  log_probs" in result.stdout and "PASS  generate" in result.stdout and "PASS  precision" in result.stdout
    assert "PASS  tokenizer" in result.stdout and "PASS  causal_lm" in result.stdout


@pytest.mark.parametrize(
    "remove, fragment",
    [
        ("config.json", "has no config.json"),
        ("model.safetensors", "has no *.safetensors weights"),
        ("tokenizer", "has no tokenizer"),
    ],
)
def test_incomplete_hf_folder_is_bad_input(cli, tiny_hf: Path, tmp_path: Path, remove: str, fragment: str):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(tiny_hf, folder)
    for p in folder.iterdir():
        if p.name == remove or (remove == "tokenizer" and p.name.startswith("tokenizer")):
            p.unlink()
    assert_one_line_error(cli("run", "suite=quality", f"model=hf:{folder}", "check=quality.perplexity"), 2, fragment)


def test_missing_hf_folder_is_bad_input(cli, tmp_path: Path):
    assert_one_line_error(cli("run", "suite=quality", f"model=hf:{tmp_path / 'nope'}"), 2, "does not exist")


def test_unknown_hf_option(cli, tiny_hf: Path):
    assert_one_line_error(cli("run", "suite=quality", f"model=hf:{tiny_hf}?nmae=x"), 2, "Unknown hf option 'nmae'", "name")
