"""The rollout report: sections, numbers that match the library, self-contained HTML, PDF, failures, safety."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from blastradius import load_inventory
from blastradius import report as R
from blastradius.scores import score_plugins
from blastradius.simulate import dominant_assumption, estimate, sensitivity, simulate_failures, summarize

from conftest import ACME, ACME_GOVERNED, REPORT_AS_OF, REPORT_SEED, REPORT_TRIALS, ROOT, chromium_or_fail

TRIALS, SEED, AS_OF = REPORT_TRIALS, REPORT_SEED, dt.date.fromisoformat(REPORT_AS_OF)
SECTIONS = (
    "The decision",
    "Executive summary",
    "Blast radius by plugin",
    "Failure outlook per quarter",
    "The comparison explained",
    "What the figures depend on",
    "Recommended controls",
    "Governance findings",
    "Kill-switch readiness",
    "Glossary",
    "Appendix: every assumption",
)
XSS = "<script>alert(1)</script>"


def html_of(path: Path) -> str:
    """A report's HTML as the reader's text is built from it: its ``<wbr>`` break opportunities are invisible."""
    return re.sub(r"<wbr\s*/?>", "", path.read_text())


@pytest.fixture(scope="module")
def xss_inventory(tmp_path_factory) -> Path:
    copy = shutil.copytree(ACME, tmp_path_factory.mktemp("xss") / "evil")
    path = copy / "teams.yaml"  # a team's name: the report names the owner team of controls and risks
    path.write_text(path.read_text().replace("name: Accounts Payable", f'name: "{XSS}"', 1))
    assert load_inventory(copy).team_by_id["finance-ap"].name == XSS
    (copy / "README.md").write_text(f"# Evil {XSS}</style> Corp — an inventory\n")  # the organisation's name
    return copy


@pytest.fixture(scope="module")
def xss_report(xss_inventory: Path, tmp_path_factory) -> Path:
    """The report of the inventory with a script in a plugin's name, without a cost model."""
    return R.render_report(xss_inventory, out=tmp_path_factory.mktemp("xss-report"), trials=100, seed=1, as_of=AS_OF)


def test_report_has_every_section_and_no_code(acme_report: Path) -> None:
    html = html_of(acme_report)
    assert acme_report.name == "acme-rollout-report.html"
    positions = [html.index(f">{title}") for title in SECTIONS]
    assert positions == sorted(positions)  # in this order: the decision first
    assert "report_data(" not in html and "import " not in html  # no code cells
    assert "jp-InputArea" not in html and "In&nbsp;[" not in html


def test_report_is_self_contained(acme_report: Path) -> None:
    html = html_of(acme_report)
    assert "<script" not in html.lower()
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert not re.findall(r"url\((?:https?:)?//", html, re.I)
    charts = re.findall(r'<figure class="chart"><div class="scroll"><svg [^>]*aria-label="([^"]+)"', html)
    assert len(charts) >= 5  # ranking, outlook, tornado, controls, findings: inline, their text as text
    assert "<text" in html and "<img" not in html


def test_report_numbers_are_the_librarys(acme_report: Path) -> None:
    html = html_of(acme_report)
    inv = load_inventory(ACME)
    scores = score_plugins(inv)
    top = scores.iloc[0]
    assert f"<td>{top.plugin}</td>" in html and f'<td class="num">{top.blast_radius:.1f}</td>' in html
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


def decision_of(html: str) -> str:
    return html[html.index(">The decision") : html.index(">Executive summary")]


def test_the_summary_says_what_the_figures_are_and_what_moves_them(acme_report: Path) -> None:
    summary = summary_of(html_of(acme_report))
    top = dominant_assumption(sensitivity(load_inventory(ACME), trials=TRIALS, seed=SEED))
    assert top is not None
    assert "<b>What these figures are:</b> an estimate under stated assumptions" in summary
    assert f"the one that moves them most is <b>{top.key}</b>" in summary


def test_the_sensitivity_section_is_the_librarys(acme_report: Path) -> None:
    html = html_of(acme_report)
    section = html[html.index(">What the figures depend on") : html.index(">Recommended controls")]
    df = sensitivity(load_inventory(ACME), trials=TRIALS, seed=SEED)  # the report's seed and trials
    top = df.iloc[0]
    assert f"The figures depend most on <b>{top.key}</b>" in section
    assert f"would expose {R._about(top.records_p95_at_low)} records" in section
    assert f"at the high end ({R._setting(top.range_high)}) {R._about(top.records_p95_at_high)}" in section
    assert section.count('aria-label="Tornado chart') == 1
    assert all(f"<td>{key}</td>" in section for key in df.key.head(12))  # the 12 that move it most
    if len(df) > 12:
        assert f"{len(df) - 12} more assumptions — see the CSV <b>sensitivity.csv</b>" in section
    assert f"Each run simulates {TRIALS:,} quarters" in section


def test_the_appendix_prints_every_assumption_with_its_range_and_source(acme_report: Path) -> None:
    html = html_of(acme_report)
    appendix = html[html.index("<h3>Simulation assumptions</h3>") :]
    assert str(ROOT) not in html and "site-packages" not in html  # no machine's paths anywhere
    assert not re.search(r"""[\s(>"']/(?:home|work|usr|tmp|opt|root|var)/""", html)
    assert "Every one is the default of blastradius/data/assumptions.yaml." in appendix
    for header in ("assumption", "meaning", "value", "plausible range", "source"):
        assert f"<th>{header}</th>" in appendix
    assert "<td>0.5 to 0.95</td>" in appendix  # controls.approval_gate_catch_rate's range
    assert "tau-bench (Yao et al. 2024" in appendix  # a source
    assert "<td>failure_rates.data_leakage</td>" in appendix and "<td>gate_miss_rate</td>" in appendix
    assert "<h3>Cost model</h3>" in appendix and "IBM/Ponemon Cost of a Data Breach Report 2024" in appendix


def test_same_seed_same_report(acme_report: Path, tmp_path: Path) -> None:
    again = R.render_report(
        ACME, out=tmp_path, compare_to=ACME_GOVERNED, costs=True, trials=TRIALS, seed=SEED, as_of=AS_OF
    )
    assert again.read_text() == acme_report.read_text()
    assert (tmp_path / "acme-rollout-report-tables" / "controls.csv").read_text() == (
        acme_report.parent / "acme-rollout-report-tables" / "controls.csv"
    ).read_text()


# --- the decision ---------------------------------------------------------------------------------------------------


def _text(html: str) -> str:
    """The words of a piece of the page: tags dropped, entities read."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_decision_states_the_package_its_owners_dates_and_combined_effect(acme_report: Path) -> None:
    from blastradius.analysis import Analysis
    from blastradius.decision import apply_package, control_options, control_package, evaluate_controls
    from blastradius.simulate import compare

    decision = decision_of(html_of(acme_report))
    words = _text(decision)
    a = Analysis(load_inventory(ACME))
    results, _ = evaluate_controls(a)
    package = control_package(control_options(a, results=results, as_of=AS_OF))
    assert f"We ask leadership to approve a package of {len(package)} controls" in words
    assert (package.uses_lost == 0).all()  # nothing a team uses is taken away
    assert f"owned by {package.owner.nunique()} owners and due between {min(package.due)} and {max(package.due)}" in (
        " ".join(words.split())
    )
    # the combined effect: the package applied to the inventory, simulated with compare on common random numbers
    packaged, _ = apply_package(a, package, results=results)
    effect = compare(a, packaged, trials=TRIALS, seed=SEED, by=("enterprise",))
    rec = effect[effect.metric == "records"].iloc[0]
    assert (
        f"records affected fall from {R._about(rec.baseline_p95)} to {R._about(rec.controlled_p95)}, "
        f"{R._share(rec.baseline_p95, rec.controlled_p95)} of the records of a bad quarter today" in words
    )
    assert "The top 5 risks" in words and "Residual risk" in words and "Trade-offs to decide" in words
    assert "Money, bad quarter:" in words and "US$" in words  # priced: the report was given the cost model


def test_every_percentage_on_page_one_names_its_base(acme_report: Path) -> None:
    decision = decision_of(html_of(acme_report))
    prose = _text(re.sub(r"<table.*?</table>", " ", decision, flags=re.S))
    percentages = list(re.finditer(r"\d+(?:\.\d+)?%", prose))
    assert len(percentages) >= 5
    for m in percentages:
        assert prose[m.end() : m.end() + 4] == " of ", prose[max(0, m.start() - 80) : m.end() + 40]
    for head in re.findall(r"<th[^>]*>([^<]*)</th>", decision):  # a column of percentages names its base
        assert "%" not in head or "% of" in head, head


def test_the_comparison_explained_is_the_diff_by_kind_of_control(acme_report: Path) -> None:
    from blastradius.diff import diff_inventories

    html = html_of(acme_report)
    section = html[html.index(">The comparison explained") : html.index(">What the figures depend on")]
    diff = diff_inventories(load_inventory(ACME), load_inventory(ACME_GOVERNED))
    widened = len(diff.widened())
    words = " ".join(_text(section).split())
    assert f"differs from acme by {len(diff.changes):,} changes" in words
    assert f"{widened:,} widen it" in words and widened > 0
    flagged = re.findall(r"class=.widen.>⚠", section)
    assert len(flagged) >= min(widened, R.TOP)  # every widening shown flagged, in vermillion
    for kind in ("approval gates", "connector scopes", "audit log and alerts"):
        assert f"<td>{kind}</td>" in section
    changes = pd.read_csv(acme_report.parent / "acme-rollout-report-tables" / "changes.csv")
    assert len(changes) == len(diff.changes) and int(changes.widens.sum()) == widened


def test_long_tables_show_the_top_rows_and_name_the_csv(tmp_path: Path) -> None:
    d = R.report_data(ACME, trials=100, seed=1, as_of=AS_OF, top=5)
    ranking = R.section_ranking(d)
    assert ranking.count("<tr>") == 1 + 5
    assert f"{len(d.scores) - 5} more plugins — see the CSV <b>plugins.csv</b> beside this report" in ranking
    assert f"{len(d.runbook) - 5} more plugins — see the CSV <b>kill-switch.csv</b>" in R.section_runbook(d)
    assert "more controls — see the CSV <b>controls.csv</b>" in R.section_controls(d)
    findings = R.section_findings(d)
    assert findings.count("<tr>") == 1 + d.findings.rule.nunique()  # one row per rule, not per finding
    tables = R.write_tables(d, tmp_path / "tables")
    assert len(pd.read_csv(tables / "plugins.csv")) == len(d.scores)
    assert len(pd.read_csv(tables / "findings.csv")) == len(d.findings)
    assert len(pd.read_csv(tables / "controls.csv")) == len(d.options)


def test_the_title_is_the_organisations_name(acme_report: Path) -> None:
    html = html_of(acme_report)
    assert "<h1>Acme Corp: AI-agent rollout, blast radius report</h1>" in html
    assert "<title>Acme Corp: AI-agent rollout, blast radius report</title>" in html
    assert R.organisation_name(ACME_GOVERNED) == "Acme Corp"
    d = R.report_data(ACME, trials=50, seed=1, as_of=AS_OF, title="Initech")
    assert d.title.startswith("Initech:") and "Initech" in R.footer_text(d)


def test_owners_and_due_dates_say_where_they_come_from() -> None:
    from blastradius.decision import DUE_DAYS, due_date, owner_of, pareto_front

    inv = load_inventory(ACME)
    assert owner_of(inv, "gate", "ap-autopilot").name == "Accounts Payable"
    assert owner_of(inv, "row-limit", "crm").source == "approver of connector 'crm' in the governance config"
    shared = owner_of(inv, "row-limit", "shared-drive")
    assert shared.name == inv.connector_by_id["shared-drive"].approved_by
    assert [due_date(f, AS_OF) - AS_OF for f in ("autonomy", "reach", "capability")] == [
        dt.timedelta(days=DUE_DAYS[f]) for f in ("autonomy", "reach", "capability")
    ]
    front = pareto_front(pd.DataFrame({"risk_removed": [5.0, 9.0, 9.0, 2.0], "uses_lost": [0, 4, 7, 0]}))
    assert front.tolist() == [True, True, False, False]


def test_money_has_sourced_prices_and_ranges_and_is_optional(tmp_path: Path) -> None:
    from blastradius.costs import cost_summary, default_costs, load_costs
    from blastradius.errors import ConfigError

    costs = default_costs()
    for path, note in costs.provenance.items():
        assert note.source or path == "currency", path  # every price says where it comes from
        assert note.range or path == "currency", path  # and how far it could plausibly be off
    own = tmp_path / "costs.yaml"
    own.write_text("currency: EUR\nper_wrong_payment: 5000\n")
    mine = load_costs(own)
    assert mine.currency == "EUR" and mine.per_wrong_payment == 5000 and mine.set_by == "default, then costs.yaml"
    assert mine.at("high").per_wrong_payment == 5000  # a value given without a range keeps it at both ends
    own.write_text("per_wrong_paymnet: 5000\n")
    with pytest.raises(ConfigError, match=r"costs.yaml.*per_wrong_paymnet.*did you mean 'per_wrong_payment'"):
        load_costs(own)
    summary = cost_summary(simulate_failures(load_inventory(ACME), trials=200, seed=1), load_inventory(ACME), costs)
    total = summary[summary.component == "total"].iloc[0]
    assert total.p95_low <= total.p95 <= total.p95_high and total.p50 <= total.p95


def test_without_a_cost_model_the_report_says_so(xss_report: Path) -> None:
    html = html_of(xss_report)
    assert "No cost model was used: the figures are records and people, not money." in html
    assert "US$" not in html


def test_inventory_text_is_escaped(xss_report: Path) -> None:
    html = html_of(xss_report)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS not in html and "</style> Corp" not in html


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


def _pdf_pages(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def _check_pages(pages: list[str], *, at_most: int, report_id: str) -> None:
    """Within the page target; every page with its footer (id, date, classification, page N of M), none near empty."""
    assert 4 <= len(pages) <= at_most, len(pages)
    for n, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert f"Page {n} of {len(pages)}" in flat, (n, flat[-200:])
        assert report_id in flat and "2026-11-21" in flat and "Confidential: internal use only" in flat, n
        body = flat.replace(f"Page {n} of {len(pages)}", "")
        assert len(body) > 400, (n, flat)  # no orphan page: every page carries content


def test_the_acme_pdf_is_within_its_page_target_with_a_footer_on_every_page(acme_report: Path) -> None:
    chromium_or_fail()
    pdf = acme_report.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _pdf_pages(pdf)
    report_id = re.search(r"report (BR-[0-9A-F]{8})", html_of(acme_report)).group(1)
    _check_pages(pages, at_most=22, report_id=report_id)
    # page one is the decision: the ask, what the package does, the top five risks and what remains
    assert all(part in pages[0] for part in ("The decision", "The top 5 risks", "Residual risk")), pages[0][-300:]


def test_the_pdf_of_a_2000_plugin_enterprise_is_at_most_25_pages(synthetic_report_pdf: Path) -> None:
    pages = _pdf_pages(synthetic_report_pdf)
    html = html_of(synthetic_report_pdf.with_suffix(".html"))
    report_id = re.search(r"report (BR-[0-9A-F]{8})", html).group(1)
    _check_pages(pages, at_most=25, report_id=report_id)
    assert "The decision" in pages[0] and "Residual risk" in pages[0]
    words = " ".join(_text(html).split())
    assert "1,980 more plugins — see the CSV plugins.csv beside this report" in words
    assert "Blast radius by plugin: the 20 of 2,000 plugins, widest first" in html  # the chart says its subset
    assert "Controls were tried on the 25 plugins of widest blast radius" not in words  # the given number is said
    assert "Controls were tried on the 3 plugins of widest blast radius" in words


def test_report_cli(tmp_path: Path) -> None:
    from test_cli import run

    args = ("report", "inventories/acme", "--out", str(tmp_path), "--trials", "100", "--as-of", "2026-11-21")
    result = run(*args, "--stages")  # stages are printed on a terminal; --stages prints them when piped too
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and (tmp_path / "acme-rollout-report.html").exists()
    assert "WARNING" not in result.stderr
    stages = result.stderr.splitlines()  # progress, stage by stage, each with its time so far
    for stage in ("checking the inputs", "simulating 100 quarters", "trying every candidate control", "exporting"):
        assert any(stage in line for line in stages), (stage, stages)
    assert all(re.match(r"\[ *\d+\.\d s\] ", line) for line in stages)
    assert (tmp_path / "acme-rollout-report-tables" / "plugins.csv").exists()
    inside = run("report", "inventories/acme", "--out", "inventories/acme/out")
    assert inside.returncode == 1 and "refusing to write" in inside.stderr


def test_report_cli_with_an_overlay_reports_the_overlaid_inventory(tmp_path: Path) -> None:
    from test_cli import run

    overlay = tmp_path / "gate-sends.yaml"
    overlay.write_text(
        "overlay: 2\ndescription: gate sends\nplugins:\n  renewal-campaigns:\n    requires_approval: {add: [send]}\n"
    )
    out = tmp_path / "out"
    args = ("report", "inventories/acme", "--overlay", str(overlay), "--out", str(out), "--trials", "100")
    result = run(*args, "--as-of", "2026-11-21")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # piped: no stages
    written = out / "acme+gate-sends"
    assert f"the overlaid inventory it reports on: {written}" in result.stdout
    from blastradius import load_inventory

    assert "send" in load_inventory(written).plugin_by_id["renewal-campaigns"].requires_approval
    assert list(out.glob("*rollout-report.html"))
    again = run(*args)
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr


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
