"""`audit run suite=efficiency`: latency percentiles, throughput, FLOPs, size, memory, energy and
scaling curves per model and precision; the scaled transformer is registered but opt-in."""

from __future__ import annotations

from pathlib import Path


def _by(records, check, precision="fp32"):
    return next(r for r in records if r["check"] == check and r["precision"] == precision)


def test_efficiency_suite_on_the_gan(cli):
    result = cli("run", "suite=efficiency", "model=gan", "precision=fp32,int8", "bootstrap=100")
    assert result.exit_code == 0, result.stdout + result.stderr
    records = result.results["records"]
    assert {r["status"] for r in records} == {"measured"}
    assert not any(r["check"] == "efficiency.decode_bandwidth" for r in records)  # language models only
    p50, p95, p99 = (_by(records, f"efficiency.latency_p{q}") for q in (50, 95, 99))
    assert 0 < p50["value"] <= p95["value"] <= p99["value"]
    assert p50["ci_low"] <= p50["value"] <= p50["ci_high"] and p50["details"]["calls_timed"] >= 20
    first, overhead = p50["details"]["first_call_s"], p50["details"]["warm_up_overhead_s"]
    assert first > 0 and overhead == max(0.0, first - p50["details"]["median_s"])  # the warm-up, reported apart
    throughput = _by(records, "efficiency.throughput")
    assert throughput["value"] > 0 and throughput["details"]["unit_detail"] == "images/s"
    scaling = _by(records, "efficiency.scaling")
    chart = scaling["details"]["charts"][0]
    assert [p["x"] for p in chart["series"]["gan/fp32"]] == [1.0, 16.0, 64.0, 256.0]
    flops = _by(records, "efficiency.flops")
    assert flops["value"] > 1e6
    assert _by(records, "efficiency.flops", "int8")["value"] == flops["value"]  # counted on the fp32 graph
    params = _by(records, "efficiency.params")
    weights = _by(records, "efficiency.weights_mib")
    assert weights["value"] * 2**20 == weights["details"]["bytes"]
    assert params["value"] * 4 <= weights["details"]["bytes"] < params["value"] * 4 * 1.05  # float32 + BatchNorm statistics
    assert _by(records, "efficiency.weights_mib", "int8")["value"] < weights["value"]
    memory = _by(records, "efficiency.peak_memory_mib")
    assert weights["value"] < memory["value"] < 200
    energy = _by(records, "efficiency.energy_per_1k")
    assert energy["value"] > 0 and energy["details"]["source"] in ("RAPL", "estimate")
    assert energy["details"]["source"] in energy["details"]["method"] or energy["details"]["source"] == "RAPL"
    html = (result.run_dir / "report.html").read_text()
    assert "images/s vs batch size" in html


def test_transformer_curves_and_bandwidth(tmp_path: Path):
    """Sequence-length and batch curves and the decode bandwidth, on the small GPT-2 with 2 rounds."""
    from audit.adapters.loading import load_model
    from audit.checks import efficiency as eff
    from audit.context import CheckContext
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.sample_store import SampleStore

    store = SampleStore(digits_evaluator, digits_reference)
    ctx = CheckContext(adapter=load_model("transformer", "fp32"), model="transformer", precision="fp32", seed=0, n=8,
                       bootstrap=50, store=store, artifact_dir=tmp_path)
    scaling = eff.scaling(ctx, rounds=2)
    charts = {c["x_label"].split(" (")[0]: c for c in scaling.details["charts"]}
    assert set(charts) == {"batch size", "sequence length"}
    assert [p["x"] for p in charts["sequence length"]["series"]["transformer/fp32"]] == [32.0, 64.0, 128.0, 256.0]
    bandwidth = eff.decode_bandwidth(ctx, rounds=2, copy_mib=64)
    assert bandwidth.value > 0 and bandwidth.details["bytes_read_per_token"] < eff.weights_mib(ctx).details["bytes"]
    assert store.memo_calls["efficiency.session"] == 1  # one timing session shared by both checks
    latency = eff.latency_p50(ctx, rounds=2)
    assert latency.details["items_per_call"] == eff.LM_NEW_TOKENS


def test_scaled_transformer_is_registered_opt_in_and_deterministic():
    import torch

    from audit.checks import check_spec
    from audit.registry import models, register_bundled_models
    from audit.plan import default_models
    from audit_reference_models.transformer.scaled import build_scaled

    register_bundled_models()
    entry = models.entry("transformer-scaled")
    assert entry.metadata["family"] == "transformer" and entry.metadata["opt_in"]
    assert "transformer-scaled" not in default_models([check_spec("efficiency.throughput")])
    state = torch.random.get_rng_state()
    a, b = build_scaled(n_layer=1), build_scaled(n_layer=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert a.config.n_embd == 768 and a.config.n_positions == 1024
