"""The efficiency checks judge what the timed calls return, not only how long they took (README,
"Fail closed"): a model that returns nothing fast is an error record (exit 4) naming the model and
the defect, never a throughput; efficiency.params counts the parameters of modules() instead of
believing ModelInfo.params. The bundled models still measure as before.

Fixture models: tests/fixtures/empty_output_models.py."""

from __future__ import annotations

FAST = ("bootstrap=20",)
TIMING = "check=efficiency.latency_p50,efficiency.throughput"


def _records(result, model: str) -> dict[str, dict]:
    return {r["check"]: r for r in result.results["records"] if r["model"] == model}


def _assert_errors(result, model: str, *reason: str) -> None:
    records = _records(result, model)
    assert set(records) == {"efficiency.latency_p50", "efficiency.throughput"}, records
    for r in records.values():
        assert r["status"] == "error" and r["value"] is None, r
        assert "\n" not in r["reason"] and r["reason"].startswith("ModelOutputError: "), r["reason"]
        for part in reason:
            assert part in r["reason"], r["reason"]


def test_models_that_return_nothing_are_errors_not_throughputs(cli):
    result = cli("run", "suite=efficiency", "model=empty_output_models:returns_none,empty_output_models:empty_generate,"
                 "empty_output_models:blank_generate", TIMING, *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    _assert_errors(result, "empty_output_models:returns_none", "model 'returns-none' sample() returned NoneType", "warm-up call")
    _assert_errors(result, "empty_output_models:empty_generate", "model 'empty-generate' generate() returned 0 items for 1 prompts")
    _assert_errors(result, "empty_output_models:blank_generate", "model 'blank-generate' generate() returned an empty")
    assert "PASS" not in result.stdout


def test_a_model_honest_only_on_its_warm_up_call_is_caught_by_the_last_timed_call(cli):
    result = cli("run", "suite=efficiency", "model=empty_output_models:honest_once", TIMING, *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    _assert_errors(result, "empty_output_models:honest_once", "model 'honest-once' sample() returned NoneType", "last timed call")


def test_the_memory_probe_checks_the_batch_it_ran(cli):
    result = cli("run", "suite=efficiency", "model=empty_output_models:returns_none", "check=efficiency.peak_memory_mib", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [record] = result.results["records"]
    assert record["status"] == "error" and record["reason"].startswith("ModelOutputError: model 'returns-none' sample() returned NoneType")
    assert "memory probe call" in record["reason"]


def test_quantization_speedup_checks_both_timed_workloads(cli):
    result = cli("run", "suite=quantization", "model=empty_output_models:honest_once", "precision=int8", "check=quantization.speedup", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [record] = result.results["records"]
    assert record["status"] == "error" and "model 'honest-once' sample() returned NoneType" in record["reason"]
    assert "last timed call" in record["reason"]


def test_tokens_are_counted_where_the_model_declares_a_tokenizer(cli):
    """generate() that makes one token per prompt whatever it is asked: throughput counts 8
    tokens per batch-8 call, not 8 x 32."""
    result = cli("run", "suite=efficiency", "model=empty_output_models:one_token_lm", "check=efficiency.throughput", *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    [record] = result.results["records"]
    details = record["details"]
    assert details["items_per_call"] == 8 and details["items_checked"] == [8, 8], details
    assert record["value"] > 0 and record["n"] == details["rounds"]


def test_params_are_counted_and_a_false_declaration_is_reported(cli):
    result = cli("run", "suite=efficiency", "model=gan,empty_output_models:params_liar", "check=efficiency.params", *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    gan = _records(result, "gan")["efficiency.params"]
    liar = _records(result, "empty_output_models:params_liar")["efficiency.params"]
    assert liar["value"] == gan["value"] > 300_000  # the GAN's generator, not the 1,000 it declares
    assert liar["details"]["declared_params"] == 1000
    assert "declares ModelInfo.params=1,000" in liar["details"]["note"] and "the value is the counted one" in liar["details"]["note"]
    assert "note" not in gan["details"] and gan["details"]["declared_params"] == gan["value"]


def test_the_bundled_models_still_measure(cli, tmp_path):
    suite = tmp_path / "efficiency_short.toml"  # the efficiency checks, in 2 rounds instead of 5-10
    suite.write_text('description = "short efficiency"\nn = 64\n\n[checks]\n'
                     '"efficiency.latency_p50" = {rounds = 2}\n"efficiency.throughput" = {rounds = 2}\n"efficiency.flops" = {}\n')
    result = cli("run", f"suite={suite}", "model=gan,transformer", *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    gan, lm = _records(result, "gan"), _records(result, "transformer")
    for records in (gan, lm):
        assert {r["status"] for r in records.values()} == {"measured"}, records
        assert all(r["value"] > 0 for r in records.values())
    assert gan["efficiency.throughput"]["details"]["items_per_call"] == 256
    assert gan["efficiency.throughput"]["details"]["items_checked"] == [256, 256]
    assert lm["efficiency.throughput"]["details"]["items_per_call"] == 8 * 32  # audit's decoder: every asked token, checked
    assert lm["efficiency.latency_p50"]["details"]["items_checked"] == [32, 32]
    assert lm["efficiency.flops"]["n"] == 32
