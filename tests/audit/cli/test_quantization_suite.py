"""`audit run suite=quantization`: paired deltas against fp32 with CIs, for a language model and
an image model, fp32 samples generated once, unsupported combinations skipped with a reason."""

from __future__ import annotations

from pathlib import Path

LM_CHECKS = "quantization.delta_perplexity_pct,quantization.kl_divergence,quantization.top1_agreement,quantization.size_ratio,quantization.speedup"


def _by(records, check, precision):
    return next(r for r in records if r["check"] == check and r["precision"] == precision)


def _covers(r):
    return r["ci_low"] <= r["value"] <= r["ci_high"]


def test_transformer_fp32_vs_int8(cli):
    """Ten stories (each costs ~0.7 s of CPU in the comparison). Measured at n=10: delta
    perplexity 0.15% [0.02, 0.29] against the gate's 2.0 (~25 standard errors below it), KL
    0.00055 against 0.05, top-1 agreement 0.984 [0.980, 0.988] against 0.9 (at n=40: 0.09%
    [0.03, 0.15], 0.00057, 0.983)."""
    result = cli("run", "suite=quantization", "model=transformer", "precision=fp32,int8", "n=10", "bootstrap=100", f"check={LM_CHECKS}")
    assert result.exit_code == 0, result.stdout + result.stderr
    records = result.results["records"]
    baseline = [r for r in records if r["precision"] == "fp32"]
    assert len(baseline) == 5 and all(r["status"] == "skipped" and r["reason"].startswith("baseline") for r in baseline)
    ppl = _by(records, "quantization.delta_perplexity_pct", "int8")
    assert ppl["status"] == "pass" and _covers(ppl) and ppl["n"] == 10
    assert ppl["gates"][0]["max"] == 2.0  # the suite's non-inferiority gate, judged on the CI's upper end
    assert abs(ppl["value"]) < 2.0
    table = ppl["details"]["tables"][0]
    assert table["columns"][:3] == ["metric", "fp32", "int8"] and table["rows"][0][0] == "perplexity"
    kl = _by(records, "quantization.kl_divergence", "int8")
    assert 0 < kl["ci_low"] <= kl["value"] <= kl["ci_high"] < 0.05
    top1 = _by(records, "quantization.top1_agreement", "int8")
    assert 0.9 < top1["value"] < 1.0 and _covers(top1)
    size = _by(records, "quantization.size_ratio", "int8")
    assert size["value"] < 0.5 and 0.24 < size["details"]["quantized_layers_ratio"] < 0.28
    speed = _by(records, "quantization.speedup", "int8")
    assert speed["value"] > 0 and _covers(speed)
    assert speed["details"]["first_call_s_variant"] > 0 and speed["details"]["first_call_s_fp32"] > 0  # warm-up timed apart
    chart = speed["details"]["charts"][0]
    assert set(chart["series"]) == {"fp32", "int8"} and chart["series"]["int8"][0]["value"] == ppl["value"]
    for line in ("quantization.delta_perplexity_pct", "transformer/int8"):
        assert line in result.stdout
    printed = [l for l in result.stdout.splitlines() if "delta_perplexity_pct" in l and "/int8" in l][-1]
    assert "[" in printed and "PASS" in printed  # value, CI and verdict on the line printed once the run is judged
    html = (result.run_dir / "report.html").read_text()
    assert "transformer: fp32 vs int8 (paired)" in html and "quality vs speed" in html


def test_lm_comparison_reads_the_runs_text(cli, tmp_path: Path):
    """The language-model comparison reads the run's held-out text: the default text's own first
    documents given as text= reproduce the default run exactly; a different text= file is what
    the record measures (its n, its values, its name in `reference`)."""
    from audit.reference_data import Sources
    from byo.builders import write_text

    same = write_text(tmp_path / "same.txt", list(Sources().text_factory().documents[:4]))
    other = write_text(tmp_path / "other.txt", ["Zebras quantify xylophones at noon.", "Quarterly derivatives hedge the exposure.",
                                                 "The committee adjourned without a quorum."])
    words = ("run", "suite=quantization", "model=transformer", "precision=fp32,int8", "n=4", "bootstrap=0",
             "check=quantization.kl_divergence,quantization.top1_agreement")

    def run(*extra: str) -> dict[str, dict]:
        result = cli(*words, *extra)
        assert result.exit_code == 0, result.stdout + result.stderr
        return {r["check"]: r for r in result.results["records"] if r["precision"] == "int8"}

    default = run(f"out={tmp_path / 'a'}")
    mine = run(f"text={same}", f"out={tmp_path / 'b'}")
    odd = run(f"text={other}", f"out={tmp_path / 'c'}")
    for check, record in default.items():
        assert record["n"] == mine[check]["n"] == 4 and record["value"] == mine[check]["value"]
        assert record["details"]["reference"].startswith("TinyStories held-out split")
        assert "same.txt" in mine[check]["details"]["reference"]
        assert odd[check]["n"] == 3 and "other.txt" in odd[check]["details"]["reference"]
        assert odd[check]["details"]["tokens"] != record["details"]["tokens"] and odd[check]["value"] != record["value"]


def test_image_variants_share_the_fp32_samples(tmp_path: Path):
    from audit.config import parse_run_words
    from audit.context import FP32_ADAPTER_MEMO
    from audit.plan import make_plan
    from audit.runner import execute

    words = ["suite=quantization", "model=gan", "precision=fp32,int8wo,bf16", "n=128", "bootstrap=100", f"out={tmp_path}",
             "check=quantization.psnr,quantization.ssim,quantization.delta_fid,quantization.memory_ratio,quantization.speedup"]
    outcome = execute(make_plan(parse_run_words(words)))
    records = outcome.results["records"]
    assert outcome.exit_code == 0
    assert outcome.store.generate_calls == 3  # fp32 once for both variants, then each variant
    assert outcome.store.memo_calls[FP32_ADAPTER_MEMO] == 1
    assert outcome.store.memo_calls["efficiency.peak_memory"] == 3
    for precision in ("int8wo", "bf16"):
        psnr = _by(records, "quantization.psnr", precision)
        assert psnr["status"] == "measured" and _covers(psnr) and 35 < psnr["value"] < 100
        ssim = _by(records, "quantization.ssim", precision)
        assert 0.99 < ssim["value"] <= 1.0
        fid = _by(records, "quantization.delta_fid", precision)
        assert fid["status"] == "pass" and _covers(fid)
        details = fid["details"]
        assert abs(details["fid_variant"] - details["fid_fp32"] - fid["value"]) < 1e-9
        memory = _by(records, "quantization.memory_ratio", precision)
        assert 0 < memory["value"] < 2
    chart = _by(records, "quantization.speedup", "bf16")["details"]["charts"][0]
    assert list(chart["series"]) == ["fp32", "int8wo", "bf16"]


def test_unsupported_variants_are_skipped_with_the_reason(cli):
    result = cli("run", "suite=quantization", "model=gan,transformer", "precision=fp16,int8static", "n=16", "check=quantization.size_ratio")
    assert result.exit_code == 5, "the transformer got no variant it could be judged in: not a pass"
    records = {(r["model"], r["precision"]): r for r in result.results["records"]}
    assert records[("gan", "fp16")]["status"] == "skipped" and "CUDA" in records[("gan", "fp16")]["reason"]
    assert records[("transformer", "int8static")]["status"] == "skipped" and "image models" in records[("transformer", "int8static")]["reason"]
    static = records[("gan", "int8static")]
    assert static["status"] == "measured" and static["value"] < 1.0
    assert "PT2E" in static["details"]["quantization"]["backend"]


def test_non_inferiority_gate_fails_a_variant(cli, tmp_path: Path):
    """Measured at n=10: int4wo changes perplexity by 0.05% [-0.19, 0.28], its CI's lower end
    0.8 (~7 standard errors) above the policy's bound of -1.0."""
    policy = tmp_path / "strict.toml"
    policy.write_text('[[gate]]\ncheck = "quantization.delta_perplexity_pct"\nmax = -1.0\n')
    result = cli("run", "suite=quantization", "model=transformer", "precision=fp32,int4wo", "n=10", "bootstrap=50",
                 "check=quantization.delta_perplexity_pct", f"policy={policy}")
    assert result.exit_code == 1, result.stdout
    record = _by(result.results["records"], "quantization.delta_perplexity_pct", "int4wo")
    assert record["status"] == "fail" and record["ci_low"] > -1.0
