"""The rollout report: figures computed once into plain data, rendered by a parameterized notebook.

The pipeline, each step a small function:

1. :func:`report_data` computes everything the report shows (scores,
   simulation, comparison, recommendations, findings, runbook) into a
   :class:`ReportData` of plain tables: the report is built from this data,
   never from the model objects, so every number in it is one the library
   returns for the same inputs and seed.
2. The notebook ``templates/rollout_report.ipynb`` (a cell tagged
   ``parameters``) is executed by papermill; its cells call the ``section_*``
   functions here, which return HTML with every inventory text escaped.
3. nbconvert exports it without code, into one self-contained HTML page
   (images embedded, no external links); Chromium prints that page to PDF.

A failing execution keeps the executed notebook beside the output for
debugging and names the failing cell; nothing half-written is left as if it
were a report.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from blastradius.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from blastradius.errors import ReportError, import_extra
from blastradius.loader import inventory_files, load_inventory

__all__ = [
    "ReportData",
    "ReportError",
    "export_html",
    "figure_html",
    "fingerprint",
    "print_pdf",
    "render_report",
    "report_data",
]

#: Debian's Chromium, used to print the HTML report to PDF.
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


# ---------------------------------------------------------------------------
# 1. The data
# ---------------------------------------------------------------------------


def fingerprint(path: str | Path) -> str:
    """SHA-256 over the inventory's files (names and bytes, sorted): which inventory a report describes.

    The files are those the loader reads (:func:`blastradius.loader.inventory_files`): a JSON Schema
    or a README beside them does not change the fingerprint.
    """
    root = Path(path)
    files = inventory_files(root)
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(root) if root.is_dir() else f.name).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything the report shows, as plain tables and values."""

    inventory: str
    name: str
    compare_to: str | None
    summary: dict[str, int]
    scores: pd.DataFrame
    outlook: pd.DataFrame  # per failure class: every figure with its 95% Monte Carlo interval
    enterprise: pd.DataFrame  # enterprise row of summarize, with the intervals
    curves: pd.DataFrame  # exceedance curves of records, per failure class
    comparison: pd.DataFrame | None  # baseline vs compare_to, per plugin and enterprise
    recommendations: pd.DataFrame
    findings: pd.DataFrame
    runbook: pd.DataFrame
    sensitivity: pd.DataFrame  # each ranged assumption at both ends of its range (blastradius.simulate.sensitivity)
    assumptions: pd.DataFrame
    weights: pd.DataFrame  # every scoring weight with its range and source
    period: str
    trials: int
    seed: int
    as_of: dt.date
    fingerprint: str
    compare_fingerprint: str | None
    version: str
    extra: dict[str, Any] = field(default_factory=dict)


#: Most trials per run of the report's sensitivity: it runs the simulation twice per assumption.
SENSITIVITY_REPORT_TRIALS = DEFAULT_TRIALS


def _weights_table(weights: Any) -> pd.DataFrame:
    """Every scoring weight (``Weights``), one row per number: key, value, plausible range and source."""
    notes = weights.provenance

    def leaves(value: Any, path: str) -> list[tuple[str, Any]]:
        if isinstance(value, dict):
            return [leaf for k, v in value.items() for leaf in leaves(v, f"{path}.{k}")]
        return [(path, value)]

    rows = []
    for key, value in (leaf for name, v in weights.model_dump(mode="json").items() for leaf in leaves(v, name)):
        note = notes.get(key)
        span = note.range if note is not None else None
        rows.append(
            {
                "key": key,
                "value": value,
                "range_low": span[0] if span else None,
                "range_high": span[1] if span else None,
                "source": (note.source if note is not None else None) or "",
            }
        )
    return pd.DataFrame(rows, columns=["key", "value", "range_low", "range_high", "source"])


def report_data(
    inventory: str | Path,
    *,
    compare_to: str | Path | None = None,
    assumptions: str | Path | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    as_of: dt.date | None = None,
) -> ReportData:
    """Compute every figure of the rollout report for ``inventory`` (and ``compare_to``, if given)."""
    from blastradius import __version__
    from blastradius.analysis import Analysis
    from blastradius.findings import findings_frame
    from blastradius.levers import recommend
    from blastradius.rules import lint
    from blastradius.runbook import runbook, runbook_frame
    from blastradius.scores import score_plugins
    from blastradius.simulate import (
        assumptions_table,
        compare,
        exceedance_by_class,
        sensitivity,
        simulate_failures,
        summarize,
    )

    as_of = as_of or dt.date.today()
    inv = load_inventory(inventory)
    # one context: the simulation, scores, levers, rules and runbook share each plugin's reach
    analysis = Analysis(inv, assumptions=assumptions)
    a, weights = analysis.assumptions, analysis.weights
    result = simulate_failures(analysis, trials=trials, seed=seed)
    outlook = summarize(result, "enterprise", by_class=True, intervals=True)
    # on the report's seed and trials (at most SENSITIVITY_REPORT_TRIALS): its baseline is the report's own figures
    tornado = sensitivity(analysis, trials=min(trials, SENSITIVITY_REPORT_TRIALS), seed=seed)
    other = load_inventory(compare_to) if compare_to else None
    comparison = compare(analysis, other, a, trials=trials, seed=seed) if other is not None else None
    return ReportData(
        inventory=str(inventory),
        name=Path(inventory).name,
        compare_to=str(compare_to) if compare_to else None,
        summary=inv.summary(),
        scores=score_plugins(analysis),
        outlook=outlook,
        enterprise=summarize(result, "enterprise", intervals=True),
        curves=exceedance_by_class(result, "records"),
        comparison=comparison,
        recommendations=recommend(analysis).head(12),
        findings=findings_frame(lint(analysis, as_of=as_of)),
        runbook=runbook_frame(runbook(analysis)),
        sensitivity=tornado,
        assumptions=assumptions_table(a),
        weights=_weights_table(weights),
        period=result.period,
        trials=trials,
        seed=seed,
        as_of=as_of,
        fingerprint=fingerprint(inventory),
        compare_fingerprint=fingerprint(compare_to) if compare_to else None,
        version=__version__,
    )


# ---------------------------------------------------------------------------
# 2. Sections: HTML with every inventory text escaped
# ---------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text for HTML: inventory names and descriptions are data, never markup."""
    return html.escape(str(value), quote=True)


def table(df: pd.DataFrame, *, formats: dict[str, str] | None = None, classes: str = "data") -> str:
    """A DataFrame as an HTML table, every cell escaped."""
    formats = formats or {}
    shown = df.copy()
    for col, fmt in formats.items():
        if col in shown:
            shown[col] = shown[col].map(lambda v, f=fmt: "" if pd.isna(v) else format(v, f))
    return shown.to_html(index=False, escape=True, classes=classes, border=0, na_rep="")


def _n(value: float) -> str:
    value = float(value)
    if value >= 1e9:
        return f"{value / 1e9:.1f} billion"
    if value >= 1e6:
        return f"{value / 1e6:.1f} million"
    return f"{value:,.0f}"


_CLASS_WORDS = {
    "wrong_action": "wrong actions",
    "data_leakage": "data leakage",
    "wrong_output": "wrong output",
    "systematic": "systematic faults at scale",
}


def _estimate(row: Any, name: str) -> str:
    """``row[name]`` written to what its 95% Monte Carlo interval supports, the interval beside it."""
    from blastradius.simulate import estimate

    return estimate(float(row[name]), float(row[f"{name}_low"]), float(row[f"{name}_high"]))


def _about(value: float) -> str:
    """A figure to three significant figures, in words: 13.5 million, 842 thousand, 9,410."""
    value = float(value)
    for word, scale, above in (("billion", 1e9, 1e9), ("million", 1e6, 1e6), ("thousand", 1e3, 1e5)):
        if abs(value) >= above:
            return f"{value / scale:.3g} {word}"
    return f"{value:,.0f}"


def _dominant(d: ReportData) -> Any:
    from blastradius.simulate import dominant_assumption

    return dominant_assumption(d.sensitivity) if not d.sensitivity.empty else None


def _damage_items(d: ReportData) -> list[str]:
    """The simulated figures in plain words: a typical and a bad period, the mean beside them, and what they are."""
    ent = d.enterprise.iloc[0]
    period = esc(d.period)
    top = _dominant(d)
    moves = (
        f"the one that moves them most is <b>{esc(top.key)}</b> (“What the figures depend on” shows how far): "
        f"{esc(top.meaning[:1].lower() + top.meaning[1:])}"
        if top is not None
        else f"none of them, within its plausible range, moves the bad {period}."
    )
    return [
        f"<li><b>Typical {period} (median):</b> {esc(_estimate(ent, 'records_p50'))} records and "
        f"{esc(_estimate(ent, 'people_p50'))} people affected.</li>",
        f"<li><b>Bad {period} (1 in 20):</b> {esc(_estimate(ent, 'records_p95'))} records and "
        f"{esc(_estimate(ent, 'people_p95'))} people.</li>",
        f"<li><b>Mean {period}:</b> {esc(_estimate(ent, 'records_mean'))} records and "
        f"{esc(_estimate(ent, 'people_mean'))} people: the average of every simulated {period}, above the median "
        f"because a few {period}s are far worse than most.</li>",
        f"<li><b>What these figures are:</b> an estimate under stated assumptions (every one is listed, with its "
        f"source, in the appendix), simulated over {d.trials:,} {period}s; the range in brackets is how far another "
        f"run of the simulation could move each figure (95%), not the uncertainty of the assumptions. Of the "
        f"assumptions, {moves}</li>",
    ]


def section_summary(d: ReportData) -> str:
    """The executive summary in plain words, with the headline numbers."""
    s, scores = d.summary, d.scores
    top = scores.head(3)
    # the widest of them: "at least" when nothing bounds some table it reaches
    widest = top.sort_values("reach_records", ascending=False, kind="mergesort").iloc[0] if len(top) else None
    ungated = int((scores.ungated_high_impact > 0).sum())
    crit = int(((d.findings.severity == "critical") & ~d.findings.accepted).sum()) if not d.findings.empty else 0
    high = int(((d.findings.severity == "high") & ~d.findings.accepted).sum()) if not d.findings.empty else 0
    slow = d.runbook[~d.runbook.fast].plugin.tolist()
    best = d.recommendations.head(3)
    items = [
        f"<p class='lead'><b>{esc(d.name)}</b>: {s['people']:,} people in {s['teams']} teams use "
        f"{s['plugins']} AI-agent plugins wired to {s['connectors']} connectors, which reach "
        f"{_n(s['records'])} records and {_n(s['people_reachable'])} people in {s['systems']} systems"
        + (
            f" (and {s['records_unknown']} dataset{'s' if s['records_unknown'] != 1 else ''} whose size the "
            "inventory does not give)"
            if s["records_unknown"]
            else ""
        )
        + ".</p>",
        "<ul class='headline'>",
        f"<li><b>Widest reach:</b> {', '.join(esc(p) for p in top.plugin)} — if one of their runs goes wrong, "
        f"it can touch {'at least' if widest is not None and widest.unbounded_datasets else 'up to'} "
        f"{_n(widest.reach_records if widest is not None else 0)} "
        f"records and {_n(top.reach_people.max())} people. "
        f"{ungated} plugin{'s' if ungated != 1 else ''} can take a high-impact action (send, delete, pay, sign) "
        "with no human approval.</li>",
        *_damage_items(d),
    ]
    if d.comparison is not None:
        assert d.compare_to is not None  # a comparison is only made with the inventory compared to
        e = d.comparison[d.comparison.group == "enterprise"]
        rec = e[e.metric == "records"].iloc[0] if (e.metric == "records").any() else None
        if rec is not None:
            items.append(
                f"<li><b>With the controls of {esc(Path(d.compare_to).name)}:</b> a bad {esc(d.period)} falls from "
                f"{_about(rec.baseline_p95)} to {_about(rec.controlled_p95)} records "
                f"({_pct(rec.baseline_p95, rec.controlled_p95)}).</li>"
            )
    if not best.empty:
        items.append(
            "<li><b>Cheapest controls that cut the most:</b> "
            + "; ".join(f"{esc(r.lever)} (−{r.reduction_pct:.0f}%)" for r in best.itertuples())
            + ".</li>"
        )
    items.append(
        f"<li><b>Governance:</b> {crit} critical and {high} high findings open. "
        + (
            f"{len(slow)} plugin{'s' if len(slow) != 1 else ''} cannot be halted within minutes: "
            + ", ".join(esc(p) for p in slow[:6])
            + "."
            if slow
            else "Every plugin can be halted within minutes."
        )
        + "</li>"
    )
    items.append("</ul>")
    return "\n".join(items)


def _pct(before: float, after: float) -> str:
    if not before:
        return "no change"
    share = (before - after) / before
    return f"−{share:.1%}" if 0.99 < share < 1 else f"−{share:.0%}"


def section_ranking(d: ReportData) -> str:
    cols = [
        "plugin",
        "name",
        "department",
        "capability",
        "reach_records",
        "reach_people",
        "autonomy",
        "blast_radius",
        "wrong_action",
        "data_leakage",
        "wrong_output",
        "ungated_high_impact",
    ]
    return table(
        d.scores[cols],
        formats={
            "capability": ".1f",
            "reach_records": ",.0f",
            "reach_people": ",.0f",
            "autonomy": ".2f",
            "blast_radius": ".1f",
            "wrong_action": ".1f",
            "data_leakage": ".1f",
            "wrong_output": ".1f",
        },
    )


def section_outlook(d: ReportData) -> str:
    """Per failure class and in total: a typical and a bad period, and the mean, each with its Monte Carlo interval."""
    rows = pd.concat([d.enterprise.assign(failure_class="all failure classes"), d.outlook], ignore_index=True)
    period = d.period
    shown = pd.DataFrame(
        {
            "failure class": rows.failure_class.map(lambda c: _CLASS_WORDS.get(c, c)),
            f"records, typical {period} (median)": [_estimate(r, "records_p50") for _, r in rows.iterrows()],
            f"records, bad {period} (1 in 20)": [_estimate(r, "records_p95") for _, r in rows.iterrows()],
            "records, mean": [_estimate(r, "records_mean") for _, r in rows.iterrows()],
            f"people, typical {period} (median)": [_estimate(r, "people_p50") for _, r in rows.iterrows()],
            f"people, bad {period} (1 in 20)": [_estimate(r, "people_p95") for _, r in rows.iterrows()],
            f"permanent records, bad {period}": [_estimate(r, "records_permanent_p95") for _, r in rows.iterrows()],
            "incidents, mean": [_estimate(r, "incidents_mean") for _, r in rows.iterrows()],
        }
    )
    return table(shown) + (
        "<p>In brackets, the 95% Monte Carlo interval of each figure. The first row is the enterprise in total: "
        "a percentile of the total is not the sum of the classes' percentiles.</p>"
    )


def section_sensitivity(d: ReportData) -> str:
    """The assumption the figures depend on most, in one sentence, and the tornado's table."""
    df = d.sensitivity
    if df.empty:
        return "<p>No assumption in use has a plausible range: there is nothing to vary.</p>"
    period = esc(d.period)
    trials = int(df.attrs.get("trials", 0))
    base = float(df.records_p95_baseline.iloc[0])
    top = _dominant(d)
    if top is None:
        lead = f"<p>No assumption, within its plausible range, moves the bad {period} (1 in 20).</p>"
    else:
        lead = (
            f"<p class='lead'>The figures depend most on <b>{esc(top.key)}</b> ({esc(top.value)} as assumed): "
            f"at the low end of its range ({_setting(top.range_low)}) a bad {period} (1 in 20) would expose "
            f"{_about(top.records_p95_at_low)} records, at the high end ({_setting(top.range_high)}) "
            f"{_about(top.records_p95_at_high)}, against {_about(base)} as assumed.</p>"
        )

    def ends(name: str) -> list[str]:
        return [
            f"{_about(lo)} → {_about(hi)}" for lo, hi in zip(df[f"{name}_at_low"], df[f"{name}_at_high"], strict=True)
        ]

    shown = pd.DataFrame(
        {
            "assumption": df.key,
            "as assumed": df.value,
            "range tried": [_span(lo, hi) for lo, hi in zip(df.range_low, df.range_high, strict=True)],
            f"records, bad {d.period} (1 in 20): low end → high end": ends("records_p95"),
            f"records, typical {d.period} (median)": ends("records_p50"),
            f"people, bad {d.period} (1 in 20)": ends("people_p95"),
        }
    )
    note = (
        f"<p>Each run simulates {trials:,} {period}s on the report's seed; as assumed, the bad {period} is "
        f"{_about(base)} records and the typical one {_about(df.records_p50_baseline.iloc[0])}. Sorted by how far "
        f"the bad {period} moves. One assumption at a time: two pessimistic assumptions together can move the "
        "figures further than either alone (docs/sensitivity.md).</p>"
    )
    return lead + table(shown) + note


def _setting(value: float) -> str:
    """A setting as a settings file writes it: 0.0005, 2.5, 100,000."""
    value = float(value)
    return f"{value:,.0f}" if value >= 1_000 and value.is_integer() else f"{value:g}"


def section_comparison(d: ReportData) -> str:
    if d.comparison is None:
        return "<p>No comparison inventory was given.</p>"
    df = d.comparison
    keep = [
        c
        for c in (
            "group",
            "metric",
            "baseline_p50",
            "controlled_p50",
            "reduction_p50",
            "baseline_p95",
            "controlled_p95",
            "reduction_p95",
        )
        if c in df
    ]
    return table(df[keep], formats={c: ",.0f" for c in keep if c not in ("group", "metric")})


def section_recommendations(d: ReportData) -> str:
    df = d.recommendations[["lever", "factor", "before", "after", "reduction_pct", "cost"]]
    return table(df, formats={"before": ".1f", "after": ".1f", "reduction_pct": ".0f"})


def section_findings(d: ReportData) -> str:
    df = d.findings
    if df.empty:
        return "<p>No findings.</p>"
    counts = df[~df.accepted].groupby("severity").size()
    order = [s for s in ("critical", "high", "medium", "low", "info") if s in counts]
    head = (
        "<p>Open findings: "
        + ", ".join(f"{int(counts[s])} {s}" for s in order)
        + f"; {int(df.accepted.sum())} accepted.</p>"
    )
    top = df[~df.accepted & df.severity.isin(["critical", "high"])][["rule", "severity", "subject", "message", "fix"]]
    return head + table(top)


def section_runbook(d: ReportData) -> str:
    df = d.runbook.copy()
    df["time to halt"] = df.time_to_halt_seconds.map(lambda s: "cannot be halted" if pd.isna(s) else f"{s:,.0f} s")
    cols = ["plugin", "can_pause", "time to halt", "fast", "users", "collateral_plugins", "issues"]
    return table(df[cols])


def section_appendix(d: ReportData) -> str:
    meta = pd.DataFrame(
        [
            ("inventory", d.inventory),
            ("inventory fingerprint (SHA-256)", d.fingerprint),
            ("compared with", d.compare_to or "—"),
            ("its fingerprint", d.compare_fingerprint or "—"),
            ("trials", f"{d.trials:,}"),
            ("trials per run of the sensitivity", f"{int(d.sensitivity.attrs.get('trials', 0)):,}"),
            ("seed", d.seed),
            ("period", d.period),
            ("as of", d.as_of.isoformat()),
            ("blastradius version", d.version),
        ],
        columns=["what", "value"],
    )
    return (
        "<h3>Run</h3>"
        + table(meta)
        + "<h3>Simulation assumptions</h3>"
        + "<p>Every number the simulation draws from, with its plausible range (what “What the figures depend "
        "on” tries) and the public source or reasoning behind it. An interval is a 90% interval, drawn in every "
        "trial.</p>"
        + table(_assumption_rows(d.assumptions))
        + "<h3>Scoring weights</h3>"
        + table(_weight_rows(d.weights))
    )


def _span(low: Any, high: Any) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{_setting(low)} to {_setting(high)}"


def _assumption_rows(assumptions: pd.DataFrame) -> pd.DataFrame:
    """The assumptions table as the appendix prints it: no machine's paths beyond the ``file`` column as given."""
    spans = zip(assumptions.range_low, assumptions.range_high, strict=True)
    return pd.DataFrame(
        {
            "assumption": assumptions.key,
            "meaning": assumptions.meaning,
            "value": assumptions.value,
            "plausible range": [_span(lo, hi) for lo, hi in spans],
            "source": assumptions.source,
            "set by": [
                f"{who} ({file})" if isinstance(file, str) and file else who
                for who, file in zip(assumptions.set_by, assumptions.file, strict=True)
            ],
        }
    )


def _weight_rows(weights: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "weight": weights.key,
            "value": weights.value.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v)),
            "plausible range": [_span(lo, hi) for lo, hi in zip(weights.range_low, weights.range_high, strict=True)],
            "source": weights.source,
        }
    )


# ---------------------------------------------------------------------------
# 3. Running the notebook and exporting it
# ---------------------------------------------------------------------------

_TEMPLATE = "rollout_report.ipynb"

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>{css}</style></head>
<body><main>{body}</main></body></html>
"""

_CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1c2833; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; border-bottom: 2px solid #d5d8dc; padding-bottom: 4px;
margin-top: 32px; } h3 { font-size: 15px; }
p.lead { font-size: 16px; } ul.headline li { margin: 6px 0; }
table.data { border-collapse: collapse; font-size: 12px; margin: 8px 0 16px; width: 100%; }
table.data th { background: #eaecee; text-align: left; padding: 4px 6px; }
table.data td { border-top: 1px solid #eaecee; padding: 3px 6px; vertical-align: top; }
img { max-width: 100%; height: auto; }
.jp-OutputArea-output pre, pre { white-space: pre-wrap; }
@page { size: A4; margin: 14mm; }
@media print { main { max-width: none; padding: 0; } h2 { break-before: page; } h2.first { break-before: auto; }
table.data { font-size: 9px; } tr, img { break-inside: avoid; } h2, h3 { break-after: avoid; }
img { max-height: 135mm; width: auto; max-width: 100%; } }
"""


def template_path() -> Path:
    """The report notebook shipped with the package."""
    return Path(str(resources.files("blastradius.templates").joinpath(_TEMPLATE)))


def execute_report_notebook(parameters: dict[str, Any], *, workdir: Path, keep_at: Path) -> Any:
    """Execute the report notebook with ``parameters``; on failure keep it at ``keep_at`` and name the cell."""
    papermill = import_extra("papermill", extra="report", purpose="the report")
    from jupyter_client.manager import KernelManager
    from papermill.exceptions import PapermillExecutionError

    class _LocalKernelManager(KernelManager):
        """A kernel on local IPC sockets: nothing listens on the network."""

        def __init__(self, **kwargs: Any):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

    out = workdir / "executed.ipynb"
    try:
        nb = papermill.execute_notebook(
            str(template_path()),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(Path.cwd()),
            log_output=False,
            kernel_manager_class=_LocalKernelManager,
        )
    except PapermillExecutionError as exc:
        keep_at.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, keep_at)
        raise ReportError(
            f"the report notebook failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue}); "
            f"the executed notebook is kept at {keep_at} for debugging"
        ) from None
    except Exception as exc:
        raise ReportError(f"could not run the report notebook: {type(exc).__name__}: {exc}") from None
    return nb


def export_html(nb: Any, *, title: str) -> str:
    """The executed notebook as one self-contained page: no code, images embedded, no external links."""
    HTMLExporter = import_extra("nbconvert", extra="report", purpose="the report").HTMLExporter
    for i, cell in enumerate(nb.cells):  # stable ids: the same inputs give the same page
        cell["id"] = f"cell-{i}"
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    return _PAGE.format(title=esc(title), css=_CSS, body=body)


def find_chromium() -> str:
    """Path of a Chromium to print with, or an error naming the package to install."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ReportError(
        "PDF export needs Chromium: install Debian's package (sudo apt-get install chromium), "
        "or export HTML with --format html"
    )


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 120) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, paginated by the page's print CSS)."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise ReportError(f"Chromium could not print the report to PDF: {proc.stderr.strip()[-500:]}")
    return pdf_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def render_report(
    inventory: str | Path,
    *,
    out: str | Path = "reports",
    compare_to: str | Path | None = None,
    assumptions: str | Path | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    fmt: str = "html",
    as_of: dt.date | None = None,
) -> Path:
    """Produce the rollout report of ``inventory`` under ``out``; return the report's path.

    The report is ``OUT/<inventory name>-rollout-report.html`` (and ``.pdf``
    with ``fmt='pdf'``). Files are written whole or not at all.
    """
    if fmt not in ("html", "pdf"):
        raise ReportError(f"unknown report format '{fmt}': use html or pdf")
    if fmt == "pdf":
        find_chromium()  # fail before the long part
    inventory = Path(inventory)
    # bad inputs fail here, with their own errors, not inside the kernel
    from blastradius.simulate import load_assumptions

    inv = load_inventory(inventory)
    load_assumptions(assumptions, inventory=inv)
    if compare_to:
        load_inventory(compare_to)
    if trials < 1:
        raise ReportError(f"trials must be at least 1, got {trials}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{inventory.name}-rollout-report"
    params = {
        "inventory": str(inventory),
        "compare_to": str(compare_to) if compare_to else None,
        "assumptions": str(assumptions) if assumptions else None,
        "trials": int(trials),
        "seed": int(seed),
        "as_of": (as_of or dt.date.today()).isoformat(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        nb = execute_report_notebook(params, workdir=Path(tmp), keep_at=out / f"{stem}.failed.ipynb")
        page = export_html(nb, title=f"Rollout report: {inventory.name}")
        html_path = out / f"{stem}.html"
        _atomic_write(html_path, page.encode("utf-8"))
        stale = out / f"{stem}.failed.ipynb"
        if stale.exists():
            stale.unlink()
        if fmt == "html":
            return html_path
        pdf_tmp = Path(tmp) / "report.pdf"
        print_pdf(html_path, pdf_tmp)
        pdf_path = out / f"{stem}.pdf"
        _atomic_write(pdf_path, pdf_tmp.read_bytes())
        return pdf_path


def figure_html(fig: Any, *, alt: str) -> str:
    """A matplotlib figure as an embedded PNG ``<img>`` with alternative text (closes the figure)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
