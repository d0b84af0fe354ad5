"""`audit run` with the sample cache (`cache=on|off`), `audit cache info|clear`, and several suites
in one run (`suite=a,b`) sharing one sample store while each check keeps its suite's n and gates."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_one_line_error

GAN = ("model=gan", "seed=0", "bootstrap=20")


def without_provenance(records: list[dict]) -> list[dict]:
    out = []
    for record in records:
        record = {k: v for k, v in record.items() if k != "duration_s"}
        record["details"] = {k: v for k, v in (record.get("details") or {}).items() if k != "cache"}
        out.append(record)
    return out


def test_a_warm_run_gives_the_records_of_the_cold_run(cli, sample_cache_dir: Path, tmp_path: Path):
    words = ("run", "suite=quality", *GAN, "n=48", "check=quality.fid,quality.conditional_accuracy")
    cold = cli(*words, f"out={tmp_path / 'cold'}")
    warm = cli(*words, f"out={tmp_path / 'warm'}")
    assert cold.exit_code == warm.exit_code, cold.stderr
    cold_records, warm_records = cold.results["records"], warm.results["records"]
    assert without_provenance(cold_records) == without_provenance(warm_records)
    fid_cold, fid_warm = (next(r for r in rs if r["check"] == "quality.fid") for rs in (cold_records, warm_records))
    assert {k: v["status"] for k, v in fid_cold["details"]["cache"].items()} == {
        "samples": "miss", "features": "miss", "reference_features:train": "miss", "reference_features:test": "miss"}
    assert {v["status"] for v in fid_warm["details"]["cache"].values()} == {"hit"}
    assert fid_warm["details"]["cache"]["samples"]["key"] == fid_cold["details"]["cache"]["samples"]["key"]

    info = cli("cache", "info")
    entries = len(list(sample_cache_dir.glob("*.npz")))
    assert info.exit_code == 0 and str(sample_cache_dir) in info.stdout and f"entries  {entries}" in info.stdout and entries == 4
    cleared = cli("cache", "clear")
    assert cleared.exit_code == 0 and "Removed 4 entries" in cleared.stdout
    assert not list(sample_cache_dir.glob("*.npz"))


def test_cache_off_reads_and_writes_nothing(cli, sample_cache_dir: Path):
    result = cli("run", "suite=quality", *GAN, "n=32", "check=quality.fid", "cache=off")
    assert result.exit_code in (0, 1, 3), result.stderr
    assert not list(sample_cache_dir.iterdir())
    assert all("cache" not in (r.get("details") or {}) for r in result.results["records"])
    assert result.results["config"]["cache"] is False


def test_bad_cache_words_are_one_line(cli, monkeypatch):
    assert_one_line_error(cli("run", "suite=quality", "model=gan", "cache=maybe"), 2, "'cache' must be on or off")
    assert_one_line_error(cli("cache", "wipe"), 2, "cache action")
    monkeypatch.setenv("AUDIT_CACHE_MAX_BYTES", "lots")
    assert_one_line_error(cli("run", "suite=quality", "model=gan", "check=quality.fid", "n=8"), 2, "AUDIT_CACHE_MAX_BYTES")


def test_several_suites_in_one_run_keep_each_suites_n_and_gates(cli, tmp_path: Path):
    together = cli("run", "suite=quality,fairness", *GAN, "check=quality.fid,fairness.quality_parity_accuracy", f"out={tmp_path / 't'}")
    alone = cli("run", "suite=fairness", *GAN, "check=fairness.quality_parity_accuracy", "cache=off", f"out={tmp_path / 'a'}")
    assert together.exit_code == 0 and alone.exit_code == 0, together.stderr + alone.stderr
    data = together.results
    assert data["suite"] == "quality+fairness" and together.run_dir.name.startswith("quality+fairness-")
    by_check = {r["check"]: r for r in data["records"]}
    assert by_check["quality.fid"]["params"]["n"] == 1000 and by_check["quality.fid"]["n"] == 1000
    assert by_check["fairness.quality_parity_accuracy"]["params"]["n"] == 256
    assert {g["check"] for g in data["gates"]} >= {"quality.fid", "fairness.quality_parity_accuracy"}
    assert without_provenance([by_check["fairness.quality_parity_accuracy"]]) == without_provenance(alone.results["records"])


def test_a_check_in_two_suites_with_different_settings_is_refused(cli, tmp_path: Path):
    (tmp_path / "a.toml").write_text('n = 64\n[checks]\n"quality.fid" = {}\n')
    (tmp_path / "b.toml").write_text('n = 128\n[checks]\n"quality.fid" = {}\n')
    result = cli("run", f"suite={tmp_path / 'a.toml'},{tmp_path / 'b.toml'}", "model=gan")
    assert_one_line_error(result, 2, "quality.fid", "'a'", "'b'")


def test_a_warm_run_reads_text_generations_from_the_cache(cli, tmp_path: Path, monkeypatch):
    from audit_reference_models.transformer.adapter import TransformerAdapter

    calls: list[int] = []
    original = TransformerAdapter.generate

    def counted(self, prompts, *args, **kwargs):
        calls.append(len(prompts))
        return original(self, prompts, *args, **kwargs)

    monkeypatch.setattr(TransformerAdapter, "generate", counted)
    words = ("run", "suite=quality", "model=transformer", "seed=0", "bootstrap=20", "n=8", "check=quality.distinct_1,quality.distinct_2")
    cold = cli(*words, f"out={tmp_path / 'cold'}")
    warm = cli(*words, f"out={tmp_path / 'warm'}")
    assert cold.exit_code == warm.exit_code == 0, cold.stderr + warm.stderr
    assert calls == [8, 4]  # one call for both checks cold; the warm run asked only for the first 4 prompts, to verify the hit
    assert without_provenance(cold.results["records"]) == without_provenance(warm.results["records"])
    key = cold.results["records"][0]["details"]["cache"]["generations"]["key"]
    for cold_record, warm_record in zip(cold.results["records"], warm.results["records"]):  # distinct-2 reuses distinct-1's texts
        assert cold_record["details"]["cache"]["generations"] == {"status": "miss", "key": key}
        assert warm_record["details"]["cache"]["generations"] == {"status": "hit", "key": key}


def test_a_model_whose_weights_changed_under_the_same_declared_sha256_is_not_read_from_the_cache(
    cli, sample_cache_dir: Path, tmp_path: Path, monkeypatch,
):
    """The key holds a digest of what `modules()` hold, computed by the harness, beside the
    sha256 the model declares: new weights are new samples, not the old ones from the cache."""
    words = ("run", "suite=quality", "model=misread_outputs:same_declared_weights", "seed=0", "bootstrap=20", "n=48", "check=quality.fid")
    first = cli(*words, f"out={tmp_path / 'first'}")
    monkeypatch.setenv("AUDIT_TEST_PERTURB", "1")
    changed = cli(*words, f"out={tmp_path / 'changed'}")
    [a], [b] = first.results["records"], changed.results["records"]
    assert a["details"]["cache"]["samples"]["status"] == "miss" and b["details"]["cache"]["samples"]["status"] == "miss"
    assert a["value"] != b["value"]
    again = cli(*words, f"out={tmp_path / 'again'}")
    [c] = again.results["records"]
    assert c["details"]["cache"]["samples"]["status"] == "hit" and c["value"] == b["value"]
