"""The rollout report: sections, numbers that match the library, self-contained HTML, PDF, failures, safety."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from blastradius import load_inventory
from blastradius import report as R
from blastradius.scores import score_plugins
from blastradius.simulate import dominant_assumption, estimate, sensitivity, simulate_failures, summarize

from conftest import ACME, ACME_GOVERNED, ROOT

TRIALS, SEED, AS_OF = 400, 7, dt.date(2026, 11, 21)
SECTIONS = (
    "Executive summary",
    "Blast radius by plugin",
    "Failure outlook per quarter",
    "What the figures depend on",
    "Recommended controls",
    "Governance findings",
    "Kill-switch readiness",
    "Appendix: every assumption",
)
XSS = "<script>alert(1)</script>"


def chromium_or_fail() -> str:
    """Chromium is required under CI=true (the test command installs it); elsewhere its tests may skip."""
    path = next((shutil.which(n) for n in R.CHROMIUM_CANDIDATES if shutil.which(n)), None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI=true: scripts/test installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def acme_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return R.render_report(ACME, out=out, compare_to=ACME_GOVERNED, trials=TRIALS, seed=SEED, as_of=AS_OF)


@pytest.fixture(scope="module")
def xss_inventory(tmp_path_factory) -> Path:
    copy = shutil.copytree(ACME, tmp_path_factory.mktemp("xss") / "evil")
    path = copy / "plugins" / "finance.yaml"
    path.write_text(path.read_text().replace("name: Forecast roll-up", f'name: "{XSS}"', 1))
    assert load_inventory(copy).plugin_by_id["forecast-rollup"].name == XSS
    return copy


def test_report_has_every_section_and_no_code(acme_report: Path) -> None:
    html = acme_report.read_text()
    assert acme_report.name == "acme-rollout-report.html"
    for title in SECTIONS:
        assert f">{title}" in html, title
    assert "report_data(" not in html and "import " not in html  # no code cells
    assert "jp-InputArea" not in html and "In&nbsp;[" not in html


def test_report_is_self_contained(acme_report: Path) -> None:
    html = acme_report.read_text()
    assert "<script" not in html.lower()
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert not re.findall(r"url\((?:https?:)?//", html, re.I)
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) >= 5 and all(src.startswith("data:image/png;base64,") for src in images)


def test_report_numbers_are_the_librarys(acme_report: Path) -> None:
    html = acme_report.read_text()
    inv = load_inventory(ACME)
    scores = score_plugins(inv)
    top = scores.iloc[0]
    assert f"<td>{top.plugin}</td>" in html and f"<td>{top.blast_radius:.1f}</td>" in html
    ent = summarize(simulate_failures(inv, trials=TRIALS, seed=SEED), "enterprise", intervals=True).iloc[0]

    def written(name: str) -> str:  # rounded to what its 95% Monte Carlo interval supports, the interval beside it
        return estimate(ent[name], ent[f"{name}_low"], ent[f"{name}_high"])

    assert (
        f"<b>Typical quarter (median):</b> {written('records_p50')} records and {written('people_p50')} people" in html
    )
    assert f"<b>Bad quarter (1 in 20):</b> {written('records_p95')} records and {written('people_p95')} people" in html
    assert f"<b>Mean quarter:</b> {written('records_mean')} records" in html  # the mean beside them
    assert "Expected damage" not in html and "expected" not in summary_of(html).lower()  # the median is not expected
    assert R.fingerprint(ACME) in html and f"<td>{SEED}</td>" in html


def summary_of(html: str) -> str:
    return html[html.index(">Executive summary") : html.index(">Blast radius by plugin")]


def test_the_summary_says_what_the_figures_are_and_what_moves_them(acme_report: Path) -> None:
    summary = summary_of(acme_report.read_text())
    top = dominant_assumption(sensitivity(load_inventory(ACME), trials=TRIALS, seed=SEED))
    assert top is not None
    assert "<b>What these figures are:</b> an estimate under stated assumptions" in summary
    assert f"the one that moves them most is <b>{top.key}</b>" in summary


def test_the_sensitivity_section_is_the_librarys(acme_report: Path) -> None:
    html = acme_report.read_text()
    section = html[html.index(">What the figures depend on") : html.index(">Recommended controls")]
    df = sensitivity(load_inventory(ACME), trials=TRIALS, seed=SEED)  # the report's seed and trials
    top = df.iloc[0]
    assert f"The figures depend most on <b>{top.key}</b>" in section
    assert f"would expose {R._about(top.records_p95_at_low)} records" in section
    assert f"at the high end ({R._setting(top.range_high)}) {R._about(top.records_p95_at_high)}" in section
    assert section.count('<img alt="Tornado chart') == 1
    assert all(f"<td>{key}</td>" in section for key in df.key)  # the table: every assumption varied
    assert f"Each run simulates {TRIALS:,} quarters" in section


def test_the_appendix_prints_every_assumption_with_its_range_and_source(acme_report: Path) -> None:
    html = acme_report.read_text()
    appendix = html[html.index("<h3>Simulation assumptions</h3>") :]
    assert str(ROOT) not in appendix and "site-packages" not in appendix  # no machine's paths
    assert not re.search(r"""[\s(>"']/(?:home|work|usr|tmp|opt|root|var)/""", appendix)
    assert "default (blastradius/data/assumptions.yaml)" in appendix
    for header in ("assumption", "value", "plausible range", "source", "set by"):
        assert f"<th>{header}</th>" in appendix
    assert "<td>0.5 to 0.95</td>" in appendix  # controls.approval_gate_catch_rate's range
    assert "tau-bench (Yao et al. 2024" in appendix  # a source
    assert "<td>failure_rates.data_leakage</td>" in appendix and "<td>gate_miss_rate</td>" in appendix


def test_same_seed_same_report(acme_report: Path, tmp_path: Path) -> None:
    again = R.render_report(ACME, out=tmp_path, compare_to=ACME_GOVERNED, trials=TRIALS, seed=SEED, as_of=AS_OF)
    strip = lambda t: re.sub(r'data:image/png;base64,[^"]+', "", t)  # noqa: E731 - PNG bytes carry render metadata
    assert strip(again.read_text()) == strip(acme_report.read_text())


def test_inventory_text_is_escaped(xss_inventory: Path, tmp_path: Path) -> None:
    html = R.render_report(xss_inventory, out=tmp_path, trials=100, seed=1, as_of=AS_OF).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS not in html


def test_a_failing_execution_names_the_cell_and_keeps_the_notebook(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "broken.ipynb"
    nb = nbformat.read(R.template_path(), as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('boom in the ranking')"))
    nbformat.write(nb, broken)
    monkeypatch.setattr(R, "template_path", lambda: broken)
    out = tmp_path / "out"
    with pytest.raises(R.ReportError, match=r"failed in cell \d+ \(RuntimeError: boom in the ranking\).*kept at"):
        R.render_report(ACME, out=out, trials=50, seed=1, as_of=AS_OF)
    assert (out / "acme-rollout-report.failed.ipynb").exists()
    assert not (out / "acme-rollout-report.html").exists()  # nothing half-written posing as a report


def test_bad_inputs_fail_before_the_kernel(tmp_path: Path) -> None:
    from blastradius import BlastRadiusError

    with pytest.raises(BlastRadiusError, match="no such file or directory"):
        R.render_report(tmp_path / "nope", out=tmp_path)
    with pytest.raises(R.ReportError, match="trials must be at least 1"):
        R.render_report(ACME, out=tmp_path, trials=0)
    with pytest.raises(R.ReportError, match="unknown report format 'docx'"):
        R.render_report(ACME, out=tmp_path, fmt="docx")


def test_pdf_needs_chromium_and_says_which_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(R.shutil, "which", lambda name: None)
    with pytest.raises(R.ReportError, match=r"install Debian's package \(sudo apt-get install chromium\)"):
        R.render_report(ACME, out=tmp_path, fmt="pdf")


def test_pdf_is_printed_and_paginated(tmp_path: Path) -> None:
    chromium_or_fail()
    pdf = R.render_report(ACME, out=tmp_path, trials=200, seed=1, fmt="pdf", as_of=AS_OF)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and pdf.name == "acme-rollout-report.pdf"
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 4


def test_report_cli(tmp_path: Path) -> None:
    from test_cli import run

    result = run("report", "inventories/acme", "--out", str(tmp_path), "--trials", "100", "--as-of", "2026-11-21")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and (tmp_path / "acme-rollout-report.html").exists()
    assert "WARNING" not in result.stderr
    inside = run("report", "inventories/acme", "--out", "inventories/acme/out")
    assert inside.returncode == 1 and "refusing to write" in inside.stderr


# --- in a real browser --------------------------------------------------------------------------


def _open_in_chromium(html: Path, screenshot: Path) -> dict:
    from playwright.sync_api import sync_playwright

    problems: dict = {"console": [], "pageerror": [], "dialogs": [], "requests": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_or_fail(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("console", lambda m: m.type == "error" and problems["console"].append(m.text))
        page.on("pageerror", lambda e: problems["pageerror"].append(str(e)))
        page.on("dialog", lambda d: (problems["dialogs"].append(d.message), d.dismiss()))
        page.on("request", lambda r: not r.url.startswith(("file:", "data:")) and problems["requests"].append(r.url))
        page.goto(html.resolve().as_uri())
        page.wait_for_load_state("load")
        problems["broken_images"] = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length"
        )
        problems["images"] = page.evaluate("document.images.length")
        problems["h2"] = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    return problems


def test_report_opens_in_chromium_without_errors(acme_report: Path, tmp_path: Path) -> None:
    seen = _open_in_chromium(acme_report, tmp_path / "report.png")
    assert not seen["console"] and not seen["pageerror"] and not seen["requests"], seen
    assert seen["images"] >= 5 and seen["broken_images"] == 0
    assert seen["h2"][0] == "Executive summary"
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_xss_inventory_runs_no_script_in_the_browser(xss_inventory: Path, tmp_path: Path) -> None:
    html = R.render_report(xss_inventory, out=tmp_path, trials=100, seed=1, as_of=AS_OF)
    seen = _open_in_chromium(html, tmp_path / "xss.png")
    assert not seen["dialogs"] and not seen["pageerror"], seen


def test_a_missing_extra_is_named(monkeypatch) -> None:
    import importlib

    from blastradius.errors import MissingExtraError, import_extra

    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name.startswith("papermill"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(
        MissingExtraError,
        match=r"the report needs papermill: install the report extra, "
        r"pip install 'blastradius\[report\]'",
    ):
        import_extra("papermill", extra="report", purpose="the report")
