"""Fail closed in the run's outputs: every output can be rebuilt from results.jsonl alone, no
output is ever left truncated, reports embed only the run's own images, summary.md carries no
raw HTML, a malformed results.json is one line and exit 2, and an interrupted run never looks
green."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from audit.policy import Gate
from audit.rebuild import rebuild_results
from audit.report import render_html, render_junit, render_markdown, write_reports
from audit.results import (
    ResultsStream,
    load_results,
    read_stream,
    rewrite_stream,
    stream_header,
    write_json_atomic,
)
from tests.helpers import assert_one_line_error

HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
FID_GATE = Gate(check="quality.fid", max=100.0).to_dict()


def make_record(**fields: Any) -> dict[str, Any]:
    record = {
        "check": "quality.fid", "model": "gan", "precision": "fp32", "device": "cpu", "status": "measured", "seed": 0,
        "value": 50.0, "ci_low": 40.0, "ci_high": 60.0, "n": 128, "unit": "", "higher_is_better": False,
        "params": {"n": 128, "bootstrap": 50}, "family": "gan", "gates": [], "verdict": None, "reason": None,
        "duration_s": 0.1, "by_group": None, "details": {}, "artifacts": {},
    }
    return {**record, **fields}


def make_results(**fields: Any) -> dict[str, Any]:
    results = {
        "schema_version": 1, "run_id": "abc12345", "suite": "quality", "suite_description": "a test run",
        "started": "2026-01-01T00:00:00Z", "config": {"n": 128, "seed": 0, "fail_on": "error", "bootstrap": 50},
        "gates": [FID_GATE], "fingerprint": {"packages": {"audit": "0.1.0"}, "files": {}}, "duration_s": 1.5,
        "interrupted": False, "interrupted_by": None,
        "models": [{"model": "gan", "precision": "fp32", "info": {"family": "gan", "device": "cpu", "params": 1000}}],
        "records": [make_record(status="pass", verdict="pass: <= 100 (error, judged on ci)")],
        "summary": {"counts": {"pass": 1}, "exit_code": 0},
    }
    return {**results, **fields}


def png_bytes(color: int = 128) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (4, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def write_run(folder: Path, results: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(results))
    return path


def write_stream(folder: Path, results: dict[str, Any]) -> Path:
    """results.jsonl as a run killed hard leaves it: the header line and the records so far."""
    folder.mkdir(parents=True, exist_ok=True)
    stream = ResultsStream(folder, stream_header(results))
    for record in results["records"]:
        stream.append(record)
    stream.close()
    return folder / "results.jsonl"


def litter(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- 1. results.jsonl alone


def test_stream_starts_with_the_run_header(tmp_path: Path):
    results = make_results()
    path = write_stream(tmp_path, results)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert set(lines[0]) == {"run"}
    assert lines[0]["run"] == {k: results[k] for k in ("schema_version", "run_id", "suite", "suite_description", "started",
                                                      "config", "gates", "fingerprint")}
    assert lines[1:] == results["records"]


def test_stream_without_a_header_is_as_before(tmp_path: Path):
    stream = ResultsStream(tmp_path)
    stream.append(make_record())
    stream.close()
    assert [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()] == [make_record()]


def test_rewrite_stream_keeps_the_header_first(tmp_path: Path):
    results = make_results()
    write_stream(tmp_path, results)
    final = [make_record(status="fail", verdict="fail: changed at the end")]
    rewrite_stream(tmp_path, results, final)
    header, records = read_stream(tmp_path / "results.jsonl")
    assert header is not None and header["run_id"] == "abc12345" and records == final
    assert litter(tmp_path) == []


def test_rebuild_results_judges_the_stream_and_marks_it_interrupted(tmp_path: Path):
    failing = make_record(model="gan-collapsed", value=150.0, ci_low=120.0, ci_high=180.0)
    path = write_stream(tmp_path, make_results(records=[make_record(), failing]))
    rebuilt = rebuild_results(path)
    assert rebuilt["interrupted"] is True and rebuilt["models"] == [] and rebuilt["run_id"] == "abc12345"
    assert [r["status"] for r in rebuilt["records"]] == ["pass", "fail"]
    assert rebuilt["summary"]["exit_code"] == 4 and rebuilt["summary"]["counts"] == {"fail": 1, "pass": 1}
    assert rebuild_results(path, interrupted=False)["summary"]["exit_code"] == 1


def test_report_rebuilds_every_output_from_results_jsonl(cli, tmp_path: Path):
    path = write_stream(tmp_path / "run", make_results())
    result = cli("report", str(path))
    assert result.exit_code == 4, result.stdout + result.stderr  # the run's code: rebuilt interrupted
    assert "interrupted: incomplete" in result.stdout
    data = load_results(tmp_path / "run" / "results.json", for_report=True)
    assert data["interrupted"] is True and data["records"][0]["status"] == "pass" and data["summary"]["exit_code"] == 4
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (tmp_path / "run" / name).is_file(), name
    assert ET.parse(tmp_path / "run" / "junit.xml").getroot().get("errors") == "1"
    assert litter(tmp_path / "run") == []


def test_report_on_a_run_folder_prefers_results_json(cli, tmp_path: Path):
    folder = tmp_path / "run"
    write_stream(folder, make_results())
    assert cli("report", str(folder)).exit_code == 4  # only the stream: rebuilt, interrupted
    assert json.loads((folder / "results.json").read_text())["interrupted"] is True
    write_run(folder, make_results(run_id="finished"))
    assert cli("report", str(folder)).exit_code == 0  # results.json now: read as it is
    assert "finished" in (folder / "summary.md").read_text()


def test_report_does_not_rebuild_over_a_complete_results_json(cli, tmp_path: Path):
    folder = tmp_path / "run"
    stream = write_stream(folder, make_results())
    write_run(folder, make_results(run_id="finished"))
    assert_one_line_error(cli("report", str(stream)), 2, "already exists")
    assert json.loads((folder / "results.json").read_text())["run_id"] == "finished"


def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path: Path):
    path = write_stream(tmp_path, make_results(records=[make_record(), make_record(model="gan2")]))
    whole = path.read_text()
    path.write_text(whole + json.dumps(make_record(model="gan3"))[:40])
    assert [r["model"] for r in rebuild_results(path)["records"]] == ["gan", "gan2"]


def test_a_stream_without_a_header_cannot_be_rebuilt(cli, tmp_path: Path):
    stream = ResultsStream(tmp_path)
    stream.append(make_record())
    stream.close()
    assert_one_line_error(cli("report", str(tmp_path / "results.jsonl")), 2, "has no run header")


def test_a_bad_line_in_the_middle_is_one_line_naming_it(cli, tmp_path: Path):
    path = write_stream(tmp_path, make_results(records=[make_record(), make_record(model="gan2")]))
    lines = path.read_text().splitlines()
    lines[1] = json.dumps(make_record(value="high"))
    path.write_text("\n".join(lines) + "\n")
    assert_one_line_error(cli("report", str(path)), 2, "line 2", "value must be a number")


def test_a_run_killed_hard_is_rebuilt_by_audit_report(cli, tmp_path: Path):
    """SIGKILL to the whole run (parent and child, as a CI runner kills a job's process group)
    while the second model hangs: results.jsonl is all that is left, and enough."""
    out = tmp_path / "reports"
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit.cli", "run", "suite=smoke", "model=gan,hostile_models:hangs", "n=64", "bootstrap=20", f"out={out}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            streams = list(out.glob("*/results.jsonl"))
            if streams and streams[0].read_text().count('"model": "gan"') >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run streamed no records of gan in time")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    run_dir = streams[0].parent
    assert not (run_dir / "results.json").exists()
    result = cli("report", str(run_dir))
    assert result.exit_code == 4, result.stdout + result.stderr  # the run's code: rebuilt interrupted
    data = json.loads((run_dir / "results.json").read_text())
    assert data["interrupted"] is True and data["summary"]["exit_code"] == 4 and data["suite"] == "smoke"
    assert sum(r["model"] == "gan" for r in data["records"]) >= 2
    assert "INTERRUPTED" in (run_dir / "summary.md").read_text().splitlines()[0]


# ---------------------------------------------------------------- 2. no truncated outputs


FULL_DISK = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) as on a full disk
    folder, limit, what = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    results = json.loads((folder / "new.json").read_text())
    from audit.report import write_reports
    from audit.results import ResultsStream, write_json_atomic
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        if what == "reports":
            write_reports(results, folder)
        elif what == "json":
            write_json_atomic(folder / "results.json", results)
        else:
            stream = ResultsStream(folder)
            stream.append(results["records"][0])
    except OSError as exc:
        print("OSError", exc.errno)
    """
)


def fill_disk(folder: Path, limit: int, what: str, results: dict[str, Any]) -> str:
    """Run a write in a child process whose files may not grow past `limit` bytes."""
    (folder / "new.json").write_text(json.dumps(results))
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(folder), str(limit), what], capture_output=True, text=True, timeout=120)
    (folder / "new.json").unlink()
    assert done.returncode == 0, done.stderr
    return done.stdout


needs_rlimit = pytest.mark.skipif(not hasattr(signal, "SIGXFSZ") or sys.platform == "win32", reason="needs RLIMIT_FSIZE")


def big_results() -> dict[str, Any]:
    return make_results(records=[make_record(model=f"model-{i}", reason="x" * 200) for i in range(40)])


@needs_rlimit
def test_a_full_disk_leaves_the_previous_reports(tmp_path: Path):
    previous = {"report.html": "<html>previous report</html>", "junit.xml": "<testsuite/>", "summary.md": "previous summary"}
    for name, text in previous.items():
        (tmp_path / name).write_text(text)
    assert "OSError" in fill_disk(tmp_path, 4000, "reports", big_results())
    assert {name: (tmp_path / name).read_text() for name in previous} == previous
    assert litter(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == sorted(previous)


@needs_rlimit
def test_a_full_disk_leaves_the_previous_results_json(tmp_path: Path):
    (tmp_path / "results.json").write_text('{"previous": true}')
    assert "OSError" in fill_disk(tmp_path, 4000, "json", big_results())
    assert (tmp_path / "results.json").read_text() == '{"previous": true}'
    assert litter(tmp_path) == []


@needs_rlimit
def test_a_full_disk_leaves_no_half_line_in_the_stream(tmp_path: Path):
    write_stream(tmp_path, make_results())
    before = (tmp_path / "results.jsonl").read_text()
    huge = make_results(records=[make_record(reason="x" * 20000)])
    assert "OSError" in fill_disk(tmp_path, len(before.encode()) + 100, "stream", huge)
    assert (tmp_path / "results.jsonl").read_text() == before


def test_a_renderer_that_fails_leaves_every_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import audit.report.markdown

    previous = {"report.html": "previous report", "junit.xml": "previous junit", "summary.md": "previous summary"}
    for name, text in previous.items():
        (tmp_path / name).write_text(text)

    def broken(results: dict[str, Any]) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit.report.markdown, "render_markdown", broken)
    with pytest.raises(OSError):
        write_reports(make_results(), tmp_path)
    assert {name: (tmp_path / name).read_text() for name in previous} == previous
    assert litter(tmp_path) == []


def test_a_write_that_fails_midway_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "results.json").write_text("previous")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.fh.close()

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError):
        write_json_atomic(tmp_path / "results.json", make_results())
    assert (tmp_path / "results.json").read_text() == "previous" and litter(tmp_path) == []


def test_atomic_outputs_keep_the_usual_file_mode(tmp_path: Path):
    """A temporary file made by mkstemp is 0600; the reports must stay readable as before."""
    write_reports(make_results(), tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert {oct((tmp_path / n).stat().st_mode & 0o777) for n in ("report.html", "junit.xml", "summary.md")} == {oct(0o666 & ~mask)}


# ---------------------------------------------------------------- 3. only the run's own images


def test_report_embeds_only_images_inside_the_run_folder(cli, tmp_path: Path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(7) + b"SECRET-KEY-MATERIAL")
    folder = tmp_path / "run"
    (folder / "artifacts").mkdir(parents=True)
    (folder / "artifacts" / "link.png").symlink_to(secret)
    (folder / "artifacts" / "notes.png").write_text("not an image at all")
    (folder / "artifacts" / "ok.png").write_bytes(png_bytes(200))
    artifacts = {"escape": "../secret.png", "absolute": str(secret), "symlink": "artifacts/link.png",
                 "text": "artifacts/notes.png", "good": "artifacts/ok.png"}
    results = make_results(records=[make_record(status="pass", artifacts=artifacts)])
    results["models"][0]["sample_grid"] = "../../../../../../../.." + str(secret)
    assert cli("report", str(write_run(folder, results))).exit_code == 0
    html = (folder / "report.html").read_text()
    for data in (secret.read_bytes(), (folder / "artifacts" / "notes.png").read_bytes()):
        assert base64.b64encode(data).decode() not in html
    assert html.count("data:image/") == 1 and base64.b64encode(png_bytes(200)).decode() in html
    assert html.count("is outside the run folder") == 4  # ../, absolute, symlink, sample grid
    assert "artifacts/notes.png&#39; is not an image" in html


def test_model_info_without_params_still_renders(tmp_path: Path):
    results = make_results(models=[{"model": "gan", "precision": "fp32", "info": {"error": f"ValueError: {HOSTILE}"}}])
    html = render_html(results, tmp_path)
    assert "model info unavailable" in html and ESCAPED in html and HOSTILE not in html


# ---------------------------------------------------------------- 4. summary.md has no raw HTML


def test_summary_md_escapes_html_from_results():
    waiver = {"check": "quality.fid", "model": HOSTILE, "precision": "*", "owner": HOSTILE, "reason": HOSTILE, "expires": "2020-01-01"}
    failing = make_record(model=f"{HOSTILE}|pipe", precision=HOSTILE, check=f"quality.{HOSTILE}", status="fail", value=150.0,
                          ci_low=120.0, ci_high=180.0, verdict=f"fail: {HOSTILE}",
                          gates=[{**FID_GATE, "status": "fail", "outcome": HOSTILE, "note": HOSTILE}])
    error = make_record(status="error", value=None, ci_low=None, ci_high=None, reason=f"RuntimeError: {HOSTILE}")
    waived = make_record(status="waived", gates=[{**FID_GATE, "status": "waived", "waiver": waiver}])
    results = make_results(suite=HOSTILE, run_id=f"`{HOSTILE}", interrupted=True, interrupted_by=HOSTILE,
                           config={"n": HOSTILE, "seed": 0, "policy": HOSTILE}, records=[failing, error, waived],
                           summary={"counts": {"fail": 1, "error": 1, "waived": 1}, "exit_code": 4, "expired_waivers": [waiver]})
    markdown = render_markdown(results)
    assert "<img" not in markdown and ESCAPED in markdown
    assert f"{ESCAPED}\\|pipe" in markdown  # table pipes still escaped
    assert "``" not in markdown  # a backtick from data cannot close a code span


# ---------------------------------------------------------------- 5. malformed results.json


def _without(field: str) -> Any:
    def drop(data: dict[str, Any]) -> None:
        del data["records"][0][field]

    return drop


MALFORMED = [
    (lambda d: d.update(records={"a": 1}), "records must be a list"),
    (lambda d: d["records"].append("not a record"), "records[1] must be an object"),
    (_without("check"), "records[0].check is missing"),
    (_without("status"), "records[0].status is missing"),
    (lambda d: d["records"][0].update(status="great"), "records[0].status is 'great'"),
    (lambda d: d["records"][0].update(value="high"), "records[0].value must be a number"),
    (lambda d: d["records"][0].update(ci_low=[1, 2]), "records[0].ci_low must be a number"),
    (lambda d: d["records"][0].update(n=True), "records[0].n must be an integer"),
    (lambda d: d["records"][0].update(gates="none"), "records[0].gates must be a list"),
    (lambda d: d["records"][0].update(artifacts={"grid": 3}), "records[0].artifacts['grid'] must be a string"),
    (lambda d: d["records"][0].update(details={"matrices": [{"title": "m"}]}), "records[0].details.matrices[0].column is missing"),
    (lambda d: d["records"][0].update(params={"bootstrap": "many"}), "records[0].params.bootstrap must be an integer"),
    (lambda d: d.update(summary=[]), "summary must be an object"),
    (lambda d: d["summary"].update(exit_code="0"), "summary.exit_code must be an integer"),
    (lambda d: d.update(schema_version="1"), "schema_version must be an integer"),
    (lambda d: d.update(fingerprint={"files": {"evaluator:x": 1}}), "fingerprint.files['evaluator:x'] must be a string"),
    (lambda d: d.update(fingerprint=None), "fingerprint must be an object"),
    (lambda d: d.update(models=[{"model": "gan"}]), "models[0].precision is missing"),
    (lambda d: d.update(gates=[{"max": 1}]), "gates[0].check is missing"),
]


@pytest.mark.parametrize("breaks, fragment", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_results_are_one_line_and_exit_2(cli, tmp_path: Path, breaks: Any, fragment: str):
    good = write_run(tmp_path / "good", make_results())
    data = make_results()
    breaks(data)
    bad = write_run(tmp_path / "bad", data)
    assert_one_line_error(cli("report", str(bad)), 2, fragment, str(bad))
    assert_one_line_error(cli("compare", str(good), str(bad)), 2, fragment, str(bad))


def test_a_report_needs_a_summary_a_baseline_does_not(cli, tmp_path: Path):
    data = make_results()
    del data["summary"]
    path = write_run(tmp_path, data)
    assert_one_line_error(cli("report", str(path)), 2, "summary is missing")
    assert load_results(path)["records"] == data["records"]


# ---------------------------------------------------------------- 6. interrupted is never green


def interrupted_results() -> dict[str, Any]:
    return make_results(interrupted=True, interrupted_by="SIGTERM", summary={"counts": {"pass": 1}, "exit_code": 4})


def test_junit_counts_an_interrupted_run_as_an_error():
    root = ET.fromstring(render_junit(interrupted_results()))
    assert root.get("errors") == "1" and root.get("tests") == "2" and root.get("failures") == "0"
    case = next(c for c in root.findall("testcase") if c.get("classname") == "audit.run")
    error = case.find("error")
    assert case.get("name") == "run interrupted" and error is not None and "incomplete" in error.get("message")
    finished = ET.fromstring(render_junit(make_results()))
    assert finished.get("errors") == "0" and not [c for c in finished.findall("testcase") if c.get("classname") == "audit.run"]


def test_html_and_summary_say_interrupted(tmp_path: Path):
    results = interrupted_results()
    html = render_html(results, tmp_path)
    assert "INTERRUPTED: incomplete" in html and "<title>audit quality — INTERRUPTED</title>" in html
    headline = render_markdown(copy.deepcopy(results)).splitlines()[0]
    assert "**INTERRUPTED**" in headline and "incomplete" in headline
    assert "INTERRUPTED" not in render_html(make_results(), tmp_path)
