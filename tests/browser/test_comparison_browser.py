"""The comparison page of many runs in a real browser: headless Chromium renders it with no
console error and no network request, shows the leaderboard cells and a "not comparable" mark,
the filter hides what does not match, and a screenshot is left as an artifact.

Reuses the DevTools-pipe client of test_report_browser.py (no Python package, no driver)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.browser.test_report_browser import chromium, open_report  # noqa: F401  (chromium: the fixture that skips without a browser)

FACTS = """JSON.stringify({
  title: document.title, ready: document.readyState, text: document.body.innerText,
  filterShown: !document.getElementById('filter').hidden,
  fid: [...document.querySelectorAll('#check-quality\\\\.fid tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim())),
  marks: [...document.querySelectorAll('.nc')].map(e => e.innerText),
  strips: document.querySelectorAll('svg.strip').length, trends: document.querySelectorAll('svg.trend').length})"""
FILTER = """(() => { const input = document.querySelector('#filter input'); input.value = 'collapsed';
  input.dispatchEvent(new Event('input'));
  const rows = [...document.querySelectorAll('#check-quality\\\\.fid tbody tr')];
  return JSON.stringify({visible: rows.filter(r => !r.hidden).map(r => r.dataset.model),
                         hiddenSections: [...document.querySelectorAll('section.check')].filter(s => s.hidden).length}); })()"""


def open_page(binary: str, html: Path, profile: Path) -> dict[str, Any]:
    """Load `html` in a fresh headless tab (test_report_browser's open_report); return its events,
    DOM facts, the filter's effect and a PNG."""
    page = open_report(binary, html, profile, probes=(FACTS, FILTER))
    facts, filtered = page["probes"]
    return {**page, "facts": json.loads(facts), "filtered": json.loads(filtered)}


def copy_run(results: dict[str, Any], folder: Path, started: str, evaluator: str | None = None) -> Path:
    data = json.loads(json.dumps(results))
    data["started"] = started
    if evaluator:
        data["fingerprint"]["files"]["evaluator:digits-cnn"] = evaluator
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(data))
    return folder


def test_comparison_page_renders_offline_with_marks_and_filter(chromium: str, cli, tmp_path: Path, record_property) -> None:  # noqa: F811
    run = cli("run", "suite=smoke", "model=gan,gan-collapsed", "n=64", "bootstrap=20")
    assert run.exit_code == 0, run.stdout + run.stderr
    series = tmp_path / "series"
    copy_run(run.results, series / "night0", "2020-01-01T00:00:00Z", evaluator="c" * 64)  # oldest, another evaluator
    shutil.copytree(run.run_dir, series / "night1")
    copy_run(run.results, series / "night2", "2999-01-01T00:00:00Z")  # newest: the reference
    made = cli("report", str(series), f"out={tmp_path / 'cmp'}")
    assert made.exit_code == 0, made.stdout + made.stderr
    html = tmp_path / "cmp" / "comparison.html"

    page = open_page(chromium, html, tmp_path / "profile")
    screenshot = tmp_path / "comparison.png"
    screenshot.write_bytes(page["png"])
    record_property("screenshot", str(screenshot))
    print(f"screenshot of {html}: {screenshot}")

    events = page["events"]
    assert not [e for e in events if e.get("method") == "Runtime.exceptionThrown"]
    assert not [e for e in events if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning", "assert")]
    assert not [e for e in events if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")]
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert page["url"] in requests  # the network domain was listening: it saw the document itself
    assert not [u for u in requests if u != page["url"] and not u.startswith("data:")], requests
    assert not [e for e in events if e.get("method") in ("Network.webSocketCreated", "Network.loadingFailed")]

    facts = page["facts"]
    assert facts["ready"] == "complete" and "comparison" in facts["title"] and facts["filterShown"]
    fid = facts["fid"]  # rank, run, model, precision, value, CI, strip, n, seed, status, note
    ranked, unranked = [row for row in fid if row[0] != "—"], [row for row in fid if row[0] == "—"]
    assert [(row[0], row[2]) for row in ranked] == [("1", "gan"), ("1", "gan"), ("3", "gan-collapsed"), ("3", "gan-collapsed")]
    assert {row[1] for row in ranked} == {"#2", "#3"}  # a collapsed GAN has the worse FID; equal values share a rank
    gan_fid = next(r for r in run.results["records"] if r["check"] == "quality.fid" and r["model"] == "gan")
    assert ranked[0][4] == f"{gan_fid['value']:.4g}" and ranked[0][5] == f"[{gan_fid['ci_low']:.4g}, {gan_fid['ci_high']:.4g}]"
    assert [row[1] for row in unranked] == ["#1", "#1"]
    assert all(row[10].startswith("not comparable: evaluator:digits-cnn sha256") for row in unranked), unranked
    assert facts["strips"] == len(fid) + 6 and facts["trends"] == 2  # conditional accuracy's rows too; a trend per check
    assert page["filtered"] == {"visible": ["gan-collapsed"] * 3, "hiddenSections": 0}
    assert page["png"][:8] == b"\x89PNG\r\n\x1a\n" and len(page["png"]) > 10_000
