"""`audit run suite=deepfake` on the bundled transformer: the green-list watermark is found on its
watermarked generations and on nothing else, its survival curves start at the clean rate, and the
zero-shot detector's AUC sits on the side measured for the decoding used.

Measured (seed 0): 60 watermarked 128-token continuations all detected (mean z ~8.6); no human
continuation or unwatermarked generation detected; zero-shot AUC (log-rank) 0.26-0.32 at
temperature 1.0 (pure sampling from a 4M-parameter model gives text *less* likely than human
text) and > 0.95 at temperature 0.7 (see audit/deepfake/machine_text.py).
"""

from __future__ import annotations

import numpy as np

from audit.adapters import load_model
from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore


def test_text_watermark_and_machine_text_records(cli):
    result = cli("run", "suite=deepfake", "model=transformer", "n=60", "bootstrap=200")
    assert result.exit_code == 0, result.stdout + result.stderr
    by = {r["check"]: r for r in result.results["records"]}
    assert set(by) == {"deepfake.machine_text", "deepfake.text_watermark"}
    wm = by["deepfake.text_watermark"]
    assert wm["status"] == "pass" and wm["n"] >= 50 and wm["value"] >= 0.9
    d = wm["details"]
    assert d["false_positives_human"]["count"] == 0 and d["false_positives_unwatermarked"]["count"] == 0
    assert d["z_mean"]["watermarked"] > 6 > 1 > abs(d["z_mean"]["human"]) and abs(d["z_mean"]["unwatermarked"]) < 1
    (chart,) = d["charts"]
    assert set(chart["series"]) == {"typos", "casing", "whitespace", "word_order", "code_switch"}
    for pts in chart["series"].values():
        assert len(pts) == 6 and pts[0]["value"] == wm["value"]  # severity 0 is the clean rate
        assert pts[-1]["value"] <= pts[0]["value"]
    assert np.mean([pts[-1]["value"] for pts in chart["series"].values()]) < wm["value"]
    mt = by["deepfake.machine_text"]
    assert mt["status"] == "measured" and mt["ci_high"] < 0.5, mt["value"]  # temperature 1: reversed (documented)
    assert abs(mt["details"]["reversed_auc"] - (1 - mt["value"])) < 1e-12
    roc = mt["details"]["charts"][0]["series"]
    assert set(roc) == {"log_likelihood", "log_rank", "chance"}
    assert "text_watermark" in (result.run_dir / "report.html").read_text()


def test_machine_text_at_low_temperature_is_detected(tmp_path):
    load_check_modules()
    ctx = CheckContext(load_model("transformer", "fp32", "cpu"), "transformer", "fp32", 0, 60, 200,
                       SampleStore(digits_evaluator, digits_reference), tmp_path)
    m = check_spec("deepfake.machine_text").fn(ctx, temperature=0.5)
    assert m.ci_low > 0.9, m.value
    assert m.details["temperature"] == 0.5 and m.n == 2 * m.details["pairs"]
