"""The workshop dashboard in a real browser (Debian's Chromium): it shows what the library computes, offline.

One server for the module (the example inventory, 3,000 final trials so that it stays cheap); each test opens
its own browser context, which is its own session.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

from blastradius import load_inventory
from blastradius.cli import main
from blastradius.defaults import DEFAULT_SEED
from blastradius.levers import with_approval_gate
from blastradius.scores import score_plugins
from blastradius.simulate import load_assumptions, simulate_failures, summarize
from blastradius.workshop.state import Move, Session, Workshop, change_sentence

from conftest import chromium_or_fail

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "inventories" / "acme"
ARTIFACTS = ROOT / "tests" / "artifacts"
TRIALS = 3_000
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GATE = ("oncall-assistant", "chat.post_message")  # the first plugin of the first department, and one of its tools


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Served:
    """``blastradius workshop`` in a process of its own, as a user runs it (Solara patches ipywidgets and
    IPython process-wide: in the test process that would leak into other tests). Its standard error goes to a
    file; :meth:`stacks` has it print where each of its threads is (faulthandler on SIGUSR1)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.errors = out.parent / f"{out.name}-stderr.txt"
        port = _free_port()
        launch = (
            "import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
            "from blastradius.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        args = ["workshop", str(ACME), "--port", str(port), "--out", str(out), "--trials", str(TRIALS)]
        with self.errors.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", launch, *args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        assert f"at http://127.0.0.1:{port}/" in line, f"the workshop did not start: {line}{self.errors.read_text()}"
        self.url = f"http://127.0.0.1:{port}/"

    def stacks(self) -> str:
        if self.proc.poll() is not None:
            return f"the workshop process ended ({self.proc.returncode}):\n{self.errors.read_text()[-20_000:]}"
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(1)
        return self.errors.read_text()[-20_000:]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


_SERVED: list[_Served] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = _Served(tmp_path_factory.mktemp("workshop") / "out")
    _SERVED.append(srv)
    yield srv
    _SERVED.remove(srv)
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_or_fail()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=ARGS)
        yield b
        b.close()


def _open(browser, server):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url)
    _wait(page, "[data-state=final]")
    return context, page, requests


def _wait(page, selector: str, timeout: float = 120_000) -> None:
    """Wait for ``selector``; if it never comes, fail with what the page shows instead (and a screenshot)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, timeout=timeout)
    except PlaywrightTimeout:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "workshop-timeout.png"))
        status = page.eval_on_selector_all("[data-state]", "es => es.map(e => [e.dataset.state, e.dataset.key])")
        sentence = page.eval_on_selector_all(".br-sentence", "es => es.map(e => e.innerText)")
        stacks = "\n".join(srv.stacks() for srv in _SERVED)  # where each thread of the server is, and its log
        pytest.fail(
            f"waited {timeout / 1000:.0f} s for {selector}; the page shows status {status}, {sentence}\n{stacks}"
        )


def _final(page, *parts: str) -> None:
    _wait(page, "[data-state=final]" + "".join(f"[data-key*={json.dumps(p)}]" for p in parts))


def _outlook(page) -> dict[tuple[str, str], float]:
    cells = page.eval_on_selector_all(
        ".br-outlook td.br-fig",
        "cells => cells.map(c => [c.parentElement.dataset.class, c.dataset.column, c.dataset.value])",
    )
    return {(cls, col): float(v) for cls, col, v in cells}


def _radius(page) -> dict[str, float]:
    rows = page.eval_on_selector_all(
        ".br-ranking tr[data-plugin]",
        "rows => rows.map(r => [r.dataset.plugin, r.querySelector('.br-radius').dataset.value])",
    )
    return {p: float(v) for p, v in rows}


def _library_outlook(inv, assumptions=None) -> dict[tuple[str, str], float]:
    result = simulate_failures(inv, assumptions, trials=TRIALS, seed=DEFAULT_SEED)
    by_class = summarize(result, "enterprise", by_class=True, intervals=True)
    whole = summarize(result, "enterprise", intervals=True).iloc[0]
    out = {}
    for col in ("records_p50", "records_p95", "people_p50", "people_p95"):
        for _, r in by_class.iterrows():
            out[(r.failure_class, col)] = float(r[col])
        out[("enterprise", col)] = float(whole[col])
    return out


def _scenario(page) -> None:
    """Gate a tool of the plugin shown, then move the gates' catch rate one step down (80% to 75%)."""
    page.get_by_text(f"gate {GATE[1]} (send)").click()
    _final(page, GATE[1])
    thumb = page.locator(".v-slider__thumb-container").last
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    _final(page, GATE[1], "catch_rate")


@pytest.fixture(scope="module")
def room(browser, server):
    """One browser that opened the dashboard, checked the starting figures, then made the scenario of _scenario."""
    context, page, requests = _open(browser, server)
    start = _outlook(page)
    _scenario(page)
    yield page, requests, start
    context.close()


def test_dashboard_shows_exactly_what_the_library_computes_offline(room):
    page, requests, start = room
    inv = load_inventory(ACME)
    assert start == _library_outlook(inv)
    changed = with_approval_gate(inv, *GATE)
    a = load_assumptions({"controls": {"approval_gate_catch_rate": 0.75}}, inventory=changed)
    assert _outlook(page) == _library_outlook(changed, a)
    expected = score_plugins(changed).set_index("plugin").blast_radius
    shown = _radius(page)
    assert shown and shown == {p: float(expected[p]) for p in shown}
    assert GATE[0] in shown  # a plugin whose blast radius changed is always listed
    total = float(page.get_attribute(".br-total", "data-value"))
    assert total == float(expected.sum())
    sentence = page.inner_text(".br-sentence")
    assert sentence.startswith(f"Gating {GATE[1]} on {GATE[0]} and a gate catch rate of 75%")
    assert "P95 records" in sentence
    size = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
    assert size == [1080, 1920]  # nothing to scroll on a 1920×1080 projector
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workshop.png"))
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, f"requests left localhost: {hosts}"


def test_two_browsers_keep_separate_scenarios(browser, server):
    first, page1, _ = _open(browser, server)
    second, page2, _ = _open(browser, server)
    page1.get_by_text(f"gate {GATE[1]} (send)").click()
    _final(page1, GATE[1])
    page2.get_by_text("chat read-only").click()
    _final(page2, "read_only")
    key1 = page1.get_attribute("[data-state]", "data-key") or ""
    key2 = page2.get_attribute("[data-state]", "data-key") or ""
    assert GATE[1] in key1 and "read_only" not in key1
    assert "read_only" in key2 and GATE[1] not in key2
    first.close()
    second.close()


def test_quick_changes_settle_on_the_last_scenario(browser, server):
    """Clicks in a row, each superseding the scenario before it: the page ends on the figures of the last."""
    from blastradius.levers import with_read_only

    context, page, _ = _open(browser, server)
    gate, read_only = page.get_by_text(f"gate {GATE[1]} (send)"), page.get_by_text("chat read-only")
    for box in (gate, read_only, gate):  # gated; gated and read-only; read-only alone
        box.click()
    _wait(page, f"[data-state=final][data-key*=read_only]:not([data-key*={json.dumps(GATE[1])}])")
    assert _outlook(page) == _library_outlook(with_read_only(load_inventory(ACME), "chat"))
    context.close()


def test_saved_overlay_is_valid_and_reproduces_the_numbers_shown(room, server, capsys):
    page = room[0]
    shown = _outlook(page)
    radius = _radius(page)
    page.get_by_label("scenario name").fill("gate-chat")
    page.get_by_text("Save as overlay").click()
    page.wait_for_selector(".br-saved", timeout=30_000)
    saved = page.inner_text(".br-saved")
    assert saved.startswith("saved ")
    path = Path(saved.removeprefix("saved ").strip())
    assert path.parent == server.out and path.is_file()
    assert main(["validate", str(ACME), "--overlay", str(path)]) == 0
    capsys.readouterr()
    assert main(["simulate", str(ACME), "--overlay", str(path), "--trials", str(TRIALS), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for row in data["by_class"]:
        for col in ("records_p50", "records_p95", "people_p50", "people_p95"):
            assert row[col] == pytest.approx(shown[(row["failure_class"], col)], rel=1e-9)  # JSON keeps 10 decimals
    assert main(["score", str(ACME), "--overlay", str(path), "--format", "json"]) == 0
    scores = {r["plugin"]: r["blast_radius"] for r in json.loads(capsys.readouterr().out)}
    assert {p: scores[p] for p in radius} == pytest.approx(radius, rel=1e-9)
    # a second save under the same name is refused unless the room ticks "overwrite"
    page.get_by_text("Save as overlay").click()
    page.wait_for_selector(".br-saved >> text=not saved", timeout=30_000)
    assert "refusing to overwrite" in page.inner_text(".br-saved")


def test_kept_scenarios_sit_side_by_side_and_come_back(room):
    page, _, start = room
    shown = _outlook(page)
    page.get_by_text("Keep this scenario").click()
    page.wait_for_selector(".br-kept >> text=Scenario 1", timeout=30_000)
    row = page.inner_text(".br-kept tr:nth-child(2)")
    assert f"{shown[('enterprise', 'records_p95')]:,.0f}" in row
    page.get_by_text("Start over").click()
    _wait(page, "[data-state=final][data-key='()']")
    assert _outlook(page) == start
    page.get_by_role("button", name="Scenario 1").click()
    _final(page, GATE[1], "catch_rate")
    assert _outlook(page) == shown


def test_the_room_exports_the_rollout_report_of_the_scenario_it_shows(room, server):
    page = room[0]
    _final(page, GATE[1], "catch_rate")
    page.get_by_label("scenario name").fill("room-report")
    page.get_by_text("Export rollout report").click()
    _wait(page, ".br-report >> text=report written")
    written = Path(page.inner_text(".br-report").removeprefix("report written:").strip())
    assert written == server.out / "acme+room-report-rollout-report.html" and written.is_file()
    assert (
        "gating chat.post_message on oncall-assistant"
        in (server.out / "acme+room-report" / "inventory.yaml").read_text()
    )


class _SlowSession:
    """A session whose stages wait for the test to let them through, so that a test decides what overtakes what."""

    def __init__(self, fail: str = "") -> None:
        self.workshop = type("W", (), {"quick_trials": 10, "trials": 100})()
        self.gates: dict[tuple[str, int], threading.Event] = {}
        self.fail = fail
        self.computed: list[tuple[str, int]] = []

    def gate(self, name: str, trials: int) -> threading.Event:
        return self.gates.setdefault((name, trials), threading.Event())

    def _stage(self, moves, trials: int):
        name = moves[0] if moves else "start"
        assert self.gate(name, trials).wait(20), f"stage {name}/{trials} never let through"
        self.computed.append((name, trials))
        if name == self.fail and trials == 100:
            raise ValueError(f"cannot compute {name}")
        return f"{name}/{trials}"

    def scores(self, moves):
        return self._stage(moves, 0)

    def figures(self, moves, *, trials):
        return self._stage(moves, trials)


def _stages(session):
    from blastradius.workshop.state import Stages

    seen: list = []
    changed = threading.Condition()

    def publish(progress) -> None:
        with changed:
            seen.append(progress)
            changed.notify_all()

    def until(test) -> None:
        with changed:
            assert changed.wait_for(lambda: seen and test(seen[-1]), 20), f"last published: {vars(seen[-1])}"

    return Stages(session, publish, draw=lambda fig: f"chart of {fig}"), seen, until


def test_a_room_sees_each_stage_of_its_scenario_in_order_each_as_a_new_state():
    session = _SlowSession()
    stages, seen, until = _stages(session)
    stages.ask("A", ["A"])
    for trials in (0, 10, 100):
        session.gate("A", trials).set()
    until(lambda p: p.figures is not None and p.figures[2] == "A/100")
    assert [p.scores for p in seen] == [("A", "A/0")] * 3
    assert [p.figures and p.figures[2:] for p in seen] == [
        None,
        ("A/10", "chart of A/10"),
        ("A/100", "chart of A/100"),
    ]
    assert len({id(p) for p in seen}) == len(seen)  # a new object each time: the page is drawn again at each
    stages.close(5)
    assert not stages._thread.is_alive()


def test_a_newer_scenario_supersedes_the_stages_left_of_an_older_one_and_the_older_can_come_back():
    session = _SlowSession()
    stages, seen, until = _stages(session)
    stages.ask("A", ["A"])
    session.gate("A", 0).set()
    until(lambda p: p.scores is not None)
    stages.ask("B", ["B"])  # while A's quick figures are under way
    session.gate("A", 10).set()
    for trials in (0, 10, 100):
        session.gate("B", trials).set()
    until(lambda p: p.figures is not None and p.figures[2] == "B/100")
    assert ("A", 100) not in session.computed  # A's final stage was skipped
    assert seen[-1].scores == ("B", "B/0")
    stages.ask("A", ["A"])  # back to A: its stages run to the end
    session.gate("A", 100).set()
    until(lambda p: p.figures is not None and p.figures[2] == "A/100")
    stages.close(5)


def test_a_stage_that_fails_is_shown_for_its_scenario_and_the_room_can_go_on():
    session = _SlowSession(fail="A")
    stages, seen, until = _stages(session)
    for trials in (0, 10, 100):
        session.gate("A", trials).set()
        session.gate("start", trials).set()
    stages.ask("A", ["A"])
    until(lambda p: p.error is not None)
    assert seen[-1].error[0] == "A" and "cannot compute A" in str(seen[-1].error[1])
    assert seen[-1].figures[2] == "A/10"  # the figures before the failure stay
    stages.ask((), [])
    until(lambda p: p.figures is not None and p.figures[0] == ())
    stages.close(5)


def test_session_sentence_names_its_base():
    w = Workshop(ACME, trials=500)
    s = Session(w)
    moves = [Move(kind="gate", target="renewal-campaigns", selector="send")]
    fig = s.figures(moves)
    text = change_sentence(moves, fig, inv=w.base)
    assert text.startswith(
        "Gating send on renewal-campaigns cuts the bad quarter of renewal-campaigns (P95 records) by"
    )
    assert "; enterprise-wide it" in text
    row = fig.effect_of(level="plugin", group="renewal-campaigns")
    assert f"{float(row.baseline_p95):,.0f} → {float(row.controlled_p95):,.0f} records" in text


def test_a_room_exports_the_rollout_report_of_its_scenario_and_leaves_the_inventory_alone(tmp_path):
    import hashlib

    def digest() -> dict[str, str]:
        return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(ACME.rglob("*")) if f.is_file()}

    before = digest()
    w = Workshop(ACME, trials=500, out=tmp_path)
    s = Session(w)
    s.set(Move(kind="gate", target=GATE[0], selector=GATE[1]))
    path = s.export_report("gate chat")
    assert path.parent == tmp_path and path.suffix == ".html" and path.is_file()
    written = tmp_path / "acme+gate-chat" / "inventory.yaml"
    assert written.is_file() and "gating chat.post_message on oncall-assistant" in written.read_text().splitlines()[0]
    page = path.read_text()
    assert "Acme Corp" in page and "500 simulated quarters" in page
    # the scenario's report reads the scenario: the gated tool is gated in the inventory it reports on
    gated = load_inventory(written.parent)
    assert score_plugins(gated).set_index("plugin").blast_radius[GATE[0]] == pytest.approx(
        float(s.scores().set_index("plugin").blast_radius[GATE[0]])
    )
    with pytest.raises(Exception, match="refusing to overwrite"):
        s.export_report("gate chat")
    assert digest() == before


def test_workshop_command_prints_the_url_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = _free_port()
    exe = Path(sys.executable).with_name("blastradius")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(exe), "workshop", str(ACME), "--port", str(port), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"at http://127.0.0.1:{port}/" in line
        with urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "workshop stopped" in out
    assert "Traceback" not in err


def test_workshop_command_refuses_bad_input(tmp_path, capsys):
    assert main(["workshop", str(tmp_path / "nope")]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["workshop", str(ACME), "--out", str(ACME / "out")]) == 1
    assert "inside the inventory" in capsys.readouterr().err
