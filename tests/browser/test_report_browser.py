"""report.html in a real browser: headless Chromium renders it with no console error and no
network request, and leaves a screenshot.

Chromium is driven over the Chrome DevTools Protocol through `--remote-debugging-pipe` (JSON
messages separated by NUL bytes on file descriptors 3 and 4), so the test needs no Python
package and no driver download: only a `chromium` binary (Debian: apt-get install chromium;
.ci/run installs it). Where none is found the test skips and says why. AUDIT_CHROMIUM names
another binary.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    explicit = os.environ.get("AUDIT_CHROMIUM")
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


class Browser:
    """A minimal CDP client over Chromium's debugging pipe (what Puppeteer's `pipe: true` does)."""

    def __init__(self, binary: str, profile: Path, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._id = 0
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def arrange_fds() -> None:  # in the child: our pipe ends become its fds 3 (commands) and 4 (replies)
            commands, replies = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # belt and braces: nothing could resolve anyway
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank",
        ]
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile.parent / "chromium.log"  # a file, not a pipe: a chatty browser never blocks on it
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=arrange_fds, close_fds=False,
            )
        os.close(to_child_r)
        os.close(from_child_w)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer over the DevTools pipe in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the DevTools pipe: {self.stderr()}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._read(deadline)
            if predicate(message):
                return message
            self.events.append(message)

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late requests, console messages)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read(deadline))
        except TimeoutError:
            pass

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        reply = self.wait_for(lambda m, i=self._id: m.get("id") == i)
        if "error" in reply:
            raise RuntimeError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def stderr(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                os.write(self._to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass


def open_report(binary: str, html: Path, profile: Path, probes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load `html` in a fresh headless tab; return what the page did, its DOM facts, a PNG of the
    page as loaded, and the value of each JavaScript expression in `probes`, evaluated in order
    after the screenshot (a probe may act on the page, e.g. set the filter)."""
    browser = Browser(binary, profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        url = html.resolve().as_uri()
        navigation = browser.send("Page.navigate", {"url": url}, session=session)
        assert "errorText" not in navigation, navigation
        browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired")
        browser.drain(1.0)
        facts = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": """JSON.stringify({
            title: document.title, ready: document.readyState, text: document.body.innerText,
            tables: document.querySelectorAll('table').length, height: document.body.scrollHeight,
            images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth})),
            scripts: document.scripts.length})"""}, session=session)
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        answers = []
        for probe in probes:
            reply = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": probe}, session=session)
            assert "exceptionDetails" not in reply, reply
            answers.append(reply["result"].get("value"))
        browser.drain(0.5)
        return {"url": url, "events": browser.events, "facts": json.loads(facts["result"]["value"]),
                "png": base64.b64decode(shot["data"]), "probes": answers}
    finally:
        browser.close()


def assert_clean_and_offline(page: dict[str, Any]) -> None:
    """No console error, exception or CSP report, and no request but the document itself."""
    events = page["events"]
    console = [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"]
    exceptions = [e["params"]["exceptionDetails"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    log_errors = [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")]
    assert not exceptions, exceptions
    assert not [c for c in console if c["type"] in ("error", "warning", "assert")], console
    assert not log_errors, log_errors

    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert page["url"] in requests  # the network domain was listening: it saw the document itself
    outside = [u for u in requests if u != page["url"] and not u.startswith("data:")]
    assert not outside, f"the report requested {outside}"
    assert not [e for e in events if e.get("method") in ("Network.webSocketCreated", "Network.loadingFailed")]


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (tried $AUDIT_CHROMIUM, " + ", ".join(CANDIDATES) + "); install it: apt-get install chromium")
    return binary


def test_report_renders_offline_without_console_errors(chromium: str, cli, tmp_path: Path, record_property) -> None:
    policy = tmp_path / "policy.toml"  # a failing, a waived and a passing gate: every status style on the page
    policy.write_text(
        '[[gate]]\ncheck = "quality.conditional_accuracy"\nmin = 0.9\n\n'
        '[[gate]]\ncheck = "quality.fid"\nmax = 0.001\n\n'
        '[[waiver]]\ncheck = "quality.fid"\nmodel = "gan"\nowner = "release-team"\nreason = "FID floor at n=64"\nexpires = 2999-12-31\n'
    )
    run = cli("run", "suite=smoke", "model=gan,gan-collapsed", "n=64", "bootstrap=20", f"policy={policy}")
    assert run.exit_code == 1, run.stdout + run.stderr
    html = run.run_dir / "report.html"

    page = open_report(chromium, html, tmp_path / "profile")
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(page["png"])
    record_property("screenshot", str(screenshot))
    print(f"screenshot of {html}: {screenshot}")

    assert_clean_and_offline(page)
    facts = page["facts"]
    assert facts["ready"] == "complete" and "audit" in facts["title"]
    assert facts["tables"] >= 2 and facts["height"] > 900
    assert "FAIL" in facts["text"] and "gan-collapsed" in facts["text"] and "waived" in facts["text"]
    assert len(facts["images"]) == 2 and all(i["complete"] and i["width"] > 0 for i in facts["images"]), facts["images"]
    assert page["png"][:8] == b"\x89PNG\r\n\x1a\n" and len(page["png"]) > 10_000


VISIBLE_RECORDS = "[...document.querySelectorAll('tr.record')].filter(r => r.offsetParent !== null).map(r => r.dataset.model + ' ' + r.dataset.statuses)"


def set_filter(status: str = "", model: str = "", area: str = "") -> str:
    """A probe that sets the filter form as a user would and returns what is then visible."""
    return f"""(() => {{
        const form = document.getElementById('filter');
        form.elements.status.value = {json.dumps(status)}; form.elements.model.value = {json.dumps(model)};
        form.elements.area.value = {json.dumps(area)};
        form.dispatchEvent(new Event('change'));
        const visible = el => el.offsetParent !== null;
        return {{records: {VISIBLE_RECORDS},
                 scorecard: [...document.querySelectorAll('#scorecard tbody tr')].filter(visible).map(tr => tr.dataset.model),
                 columns: [...document.querySelectorAll('table.side-by-side thead th[data-model]')].filter(visible).map(th => th.dataset.model),
                 count: document.getElementById('filter-count').textContent}};
    }})()"""


SCORECARD = """[...document.querySelectorAll('#scorecard tbody tr')].map(tr => ({
    row: tr.querySelector('th').innerText, word: tr.querySelector('td a.status').innerText,
    text: tr.querySelector('td').innerText, border: getComputedStyle(tr.querySelector('td')).borderLeftColor,
    target: document.getElementById(tr.querySelector('td a.status').getAttribute('href').slice(1)).dataset.statuses}))"""


def test_scorecard_and_filter_of_a_run_with_a_failing_model(chromium: str, tmp_path: Path, record_property) -> None:
    from audit.report import write_reports
    from audit.verdicts import STATUS_COLOURS
    from tests.helpers import synthetic_quality_run

    results = synthetic_quality_run(tmp_path / "run")  # gan-collapsed fails two gates, vae is inconclusive
    html = write_reports(results, tmp_path / "run")["html"]
    page = open_report(chromium, html, tmp_path / "profile", probes=(
        SCORECARD, "document.getElementById('filter').hidden", set_filter(status="fail"),
        set_filter(status="inconclusive"), set_filter(model="vae (fp32)"), set_filter(status="not-passing", area="quality"),
        set_filter(),
    ))
    screenshot = tmp_path / "report-scorecard.png"
    screenshot.write_bytes(page["png"])
    record_property("screenshot", str(screenshot))
    print(f"screenshot of {html}: {screenshot}")
    assert_clean_and_offline(page)

    card, filter_hidden, failing, inconclusive, vae, not_passing, everything = page["probes"]
    assert [(c["row"], c["word"]) for c in card] == [
        ("transformer (fp32)", "ERROR"), ("gan-collapsed (fp32)", "FAIL"), ("vae (fp32)", "INCONCLUSIVE"), ("gan (fp32)", "PASS")]
    hex_of = {s: "rgb({}, {}, {})".format(*(int(c[i:i + 2], 16) for i in (1, 3, 5))) for s, c in STATUS_COLOURS.items()}
    assert [c["border"] for c in card] == [hex_of["error"], hex_of["fail"], hex_of["inconclusive"], hex_of["pass"]]
    assert "quality.recall" in card[1]["text"] and "quality.class_coverage" in card[1]["text"] and "2 fail" in card[1]["text"]
    assert [c["target"] for c in card] == ["error", "fail", "inconclusive", "pass"]  # each cell links to its worst record

    assert filter_hidden is False  # the script showed the form
    assert failing["records"] == ["gan-collapsed (fp32) fail"] * 2 and failing["scorecard"] == ["gan-collapsed (fp32)"]
    assert failing["count"] == f"showing 2 of {len(results['records'])} records"
    assert inconclusive["records"] == ["vae (fp32) inconclusive"]
    assert set(vae["records"]) <= {"vae (fp32) pass", "vae (fp32) measured", "vae (fp32) inconclusive"}
    assert len(vae["records"]) == sum(r["model"] == "vae" for r in results["records"]) and vae["columns"] == ["vae (fp32)"]
    assert sorted(not_passing["records"]) == sorted(["transformer (fp32) error", "gan-collapsed (fp32) fail",
                                                    "gan-collapsed (fp32) fail", "vae (fp32) inconclusive"])
    assert len(everything["records"]) == len(results["records"]) and len(everything["scorecard"]) == 4
