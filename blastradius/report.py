"""The rollout report: figures computed once into plain data, rendered by a parameterized notebook.

The pipeline, each step a small function:

1. :func:`report_data` computes everything the report shows (scores, the simulation, the
   controls and the package of them simulated together, the comparison and the changes behind
   it, findings, runbook, money when a cost model is given) into a :class:`ReportData` of plain
   tables: the report is built from this data, never from the model objects, so every number
   in it is one the library returns for the same inputs and seed. It reports each stage to a
   ``progress`` callback as it starts.
2. The notebook ``templates/rollout_report.ipynb`` (a cell tagged ``parameters``) is executed by
   papermill; its cells call the ``section_*`` functions here, which return HTML with every
   inventory text escaped, and :func:`write_tables`, which writes the full tables as CSV.
3. nbconvert exports it without code, into one self-contained HTML page (charts inline as SVG
   whose text stays text, no external links); Chromium prints that page to PDF, with a footer
   on every page (organisation, report id, date, classification, page N of M).

A report stays readable at thousands of plugins: every table shows its first :data:`TOP` rows
and says how many more there are and in which CSV beside the report; findings are grouped by
rule; every chart's title says what subset it shows.

A failing execution keeps the executed notebook beside the output for debugging and names the
failing cell; nothing half-written is left as if it were a report.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import numpy as np
import pandas as pd

from blastradius.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from blastradius.errors import ReportError, import_extra
from blastradius.loader import inventory_files, load_inventory

__all__ = [
    "CLASSIFICATION",
    "CONTROL_PLUGINS",
    "TOP",
    "ReportData",
    "ReportError",
    "export_html",
    "figure_html",
    "fingerprint",
    "organisation_name",
    "print_pdf",
    "render_report",
    "report_id",
    "report_data",
    "write_tables",
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

#: Rows of each long table the report shows; the rest are in the CSV beside it.
TOP = 20
#: Above this many plugins, controls are tried on the plugins of widest blast radius only (and their connectors):
#: each try rescores a changed inventory (:func:`blastradius.decision.evaluate_controls`).
CONTROL_PLUGINS = 25
#: The classification printed in every page's footer unless another is given.
CLASSIFICATION = "Confidential: internal use only"

#: Stages of a report, in order, as :func:`render_report` reports them.
Progress = Callable[[str], Any]


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


def organisation_name(path: str | Path) -> str:
    """The organisation an inventory describes, for the report's title.

    The inventory model holds no organisation name, so it is read from the inventory's
    ``README.md``: its first heading, up to a dash or colon (``# Acme Corp — first inventory``
    gives ``Acme Corp``). Without one, the directory's name in words (``acme-governed`` gives
    ``Acme governed``). ``blastradius report --title`` overrides it.

    Examples
    --------
    >>> organisation_name("inventories/acme")
    'Acme Corp'
    >>> organisation_name("/tmp/northwind_traders")
    'Northwind traders'
    """
    root = Path(path)
    readme = root / "README.md" if root.is_dir() else None
    if readme is not None and readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:20]:
            m = re.match(r"#\s+(.+)", line.strip())
            if m:
                name = re.split(r"\s+[—–-]\s+|:\s", m.group(1), maxsplit=1)[0].strip()
                if name:
                    return name[:80]
    words = re.sub(r"[-_]+", " ", root.name).strip() or "Inventory"
    return words[:1].upper() + words[1:]


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything the report shows, as plain tables and values."""

    inventory: str
    name: str
    organisation: str
    draft: str | None  # written by blastradius import: its DRAFT line with the count of stand-ins (draft_banner)
    idle: tuple[str, ...]  # plugins nobody runs (blastradius.domain.idle_plugins)
    title: str
    classification: str
    report_id: str
    compare_to: str | None
    compare_name: str | None
    summary: dict[str, int]
    scores: pd.DataFrame
    plugin_outlook: pd.DataFrame  # per plugin: a typical and a bad period, the mean
    outlook: pd.DataFrame  # per failure class: every figure with its 95% Monte Carlo interval
    enterprise: pd.DataFrame  # enterprise row of summarize, with the intervals
    curves: pd.DataFrame  # exceedance curves of records, per failure class
    comparison: pd.DataFrame | None  # baseline vs compare_to, per plugin and enterprise
    changes: pd.DataFrame | None  # every change between the two inventories, grouped by kind of control
    change_groups: pd.DataFrame | None
    options: pd.DataFrame  # every control tried: risk removed, collateral, owner, due date, front
    controls_tried: int
    controls_candidates: int
    package: pd.DataFrame  # the no-regret controls to approve
    package_skipped: tuple[str, ...]
    package_effect: pd.DataFrame  # baseline vs the package, simulated together (compare_results)
    package_enterprise: pd.DataFrame  # the enterprise with the package, with intervals
    package_plugin_outlook: pd.DataFrame
    score_total: float
    score_package: float
    top_risks: pd.DataFrame
    findings: pd.DataFrame
    runbook: pd.DataFrame
    sensitivity: pd.DataFrame  # each ranged assumption at both ends of its range (blastradius.simulate.sensitivity)
    assumptions: pd.DataFrame
    weights: pd.DataFrame  # every scoring weight with its range and source
    costs: Any  # blastradius.costs.CostModel, or None when no cost model is used
    money: pd.DataFrame | None  # cost_summary of today, of the package, and of the compared inventory
    money_package: pd.DataFrame | None
    money_compared: pd.DataFrame | None
    cost_table: pd.DataFrame | None
    period: str
    trials: int
    seed: int
    as_of: dt.date
    fingerprint: str
    compare_fingerprint: str | None
    version: str
    top: int = TOP
    control_plugins: int | None = CONTROL_PLUGINS
    #: the table of ``blastradius calibrate --table`` for the appendix on calibration, or None
    calibration: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: Most trials per run of the report's sensitivity (the sensitivity's own default): it runs the simulation twice per
#: assumption, sixty-odd runs, and ranks assumptions by how far each moves the bad period, which common random
#: numbers measure well on this many.
SENSITIVITY_REPORT_TRIALS = 2_000
#: Trials × plugins per run of the report's sensitivity, at most: at thousands of plugins its runs would otherwise
#: take most of the report's time.
SENSITIVITY_BUDGET = 2_000_000
#: Fewest trials per run: a bad period (P95) needs 50 trials beyond it (``TAIL_TRIALS``) to be read at all.
SENSITIVITY_FLOOR = 1_000


def sensitivity_trials(trials: int, plugins: int) -> int:
    """Trials per run of the report's sensitivity: 2,000 (fewer if the report has fewer), 1,000 on thousands of plugins.

    Examples
    --------
    >>> sensitivity_trials(10_000, 18), sensitivity_trials(10_000, 500), sensitivity_trials(10_000, 2_000)
    (2000, 2000, 1000)
    >>> sensitivity_trials(500, 18)
    500
    """
    return min(trials, SENSITIVITY_REPORT_TRIALS, max(SENSITIVITY_FLOOR, SENSITIVITY_BUDGET // max(plugins, 1)))


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


def _file_key(path: Any) -> str:
    """What a settings file given to a report is, by its bytes: 'none', 'default', or a hash of the file."""
    if path is None or path is False or path == "":
        return "none"
    if path is True:
        return "default"
    file = Path(str(path))
    return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else str(path)


def report_id(
    inventory: str | Path,
    *,
    compare_to: str | Path | None = None,
    assumptions: Any = None,
    costs: Any = None,
    calibration: Any = None,
    trials: int,
    seed: int,
    as_of: dt.date,
) -> str:
    """A short id of what a report is of: its inventories' and settings' bytes, trials, seed, date and version.

    The same inputs give the same id; it is printed in the footer of every page, so a printed page can be
    traced to the run that made it.
    """
    from blastradius import __version__

    parts = (
        fingerprint(inventory),
        fingerprint(compare_to) if compare_to else "none",
        _file_key(assumptions),
        _file_key(costs),
        *((_file_key(calibration),) if calibration else ()),  # reports without one keep their ids
        trials,
        seed,
        as_of.isoformat(),
        __version__,
    )
    h = hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()
    return f"BR-{h[:8].upper()}"


_VERB = {
    "write": "a wrong change",
    "delete": "a wrong deletion",
    "send": "a message to the wrong people",
    "share": "a wrong share",
    "pay": "a wrong payment",
    "sign": "a wrong signature",
    "execute": "a wrong command",
    "unknown": "an unclassified action gone wrong",
}


def _what_could_happen(paths: pd.DataFrame, plugin: str, failure_class: str) -> str:
    """The worst path of one plugin's failure class, in words: what could happen, through what, with which control."""
    rows = paths[(paths.plugin == plugin) & (paths.failure_class == failure_class)]
    if failure_class == "systematic" or rows.empty:
        return "the same fault repeated over many runs before anyone halts it"
    worst = rows.assign(_size=rows.expected_records.fillna(0) + rows.expected_people.fillna(0)).sort_values(
        "_size", ascending=False, kind="mergesort"
    )
    row = worst.iloc[0]
    gate = {"ungated": "with no approval", "gated": "behind an approval"}.get(str(row.status), "")
    if failure_class == "wrong_output":
        return f"a wrong answer forwarded to the people who read its output ({row.status})"
    tools = ", ".join(str(row.tools).split(", ")[:2]) + (", …" if len(str(row.tools).split(", ")) > 2 else "")
    if failure_class == "data_leakage":
        return f"a leak of what it reads through {row.connector} ({tools})"
    return f"{_VERB.get(str(row.action), 'a wrong action')} through {row.connector} ({tools}) {gate}".strip()


def _worst_class(result: Any, plugin: str) -> str:
    """The failure class of ``plugin`` with the most records and people in a bad period (P95), off the result."""
    i = result.plugins.index(plugin)
    best, worst = -1.0, "wrong_action"
    for c, cls in enumerate(result.classes):
        size = 0.0
        for metric in ("records", "people"):
            column = int(result.columns[metric][i, c])
            if column >= 0:
                size += float(np.quantile(result.values[metric][:, column], 0.95))
        if size > best:
            best, worst = size, str(cls)
    return worst


def _top_risks(
    result: Any,
    by_plugin: pd.DataFrame,
    paths: pd.DataFrame,
    options: pd.DataFrame,
    results: list[Any],
    money: pd.Series | None,
    inv: Any,
    n: int = 5,
) -> pd.DataFrame:
    """The plugins with the most damage in a bad period, each with what could happen, its best control and owner."""
    df = by_plugin.copy()
    df["size"] = df.records_p95 + df.people_p95
    if money is not None:
        df["money_p95"] = df.group.map(money)
        df = df.sort_values(["money_p95", "size"], ascending=False, kind="mergesort")
    else:
        df = df.sort_values(["size", "group"], ascending=[False, True], kind="mergesort")
    removed: dict[str, list[tuple[float, int]]] = {}
    for position, option in enumerate(options.option.tolist()):
        tried = results[int(option)]
        for pid in tried.before:
            removed.setdefault(pid, []).append((tried.before[pid] - tried.after[pid], position))
    rows = []
    for r in df.head(n).to_dict("records"):
        pid = str(r["group"])
        worst_class = _worst_class(result, pid)
        ranked = sorted(removed.get(pid, []), key=lambda x: (-x[0], x[1]))
        no_regret = [i for cut, i in ranked if options.no_regret.iloc[i] and cut > 0]
        pick = no_regret[0] if no_regret else (ranked[0][1] if ranked and ranked[0][0] > 0 else None)
        plugin = inv.plugin_by_id.get(pid)
        team = inv.team_by_id.get(plugin.owner) if plugin is not None else None
        rows.append(
            {
                "plugin": pid,
                "owner team": (team.name or team.id) if team is not None else (plugin.owner if plugin else ""),
                "failure_class": worst_class,
                "what could happen": _what_could_happen(paths, pid, worst_class),
                "records_p95": float(r["records_p95"]),
                "people_p95": float(r["people_p95"]),
                "money_p95": float(r.get("money_p95", np.nan)) if money is not None else np.nan,
                "control": options.control.iloc[pick] if pick is not None else "",
                "in package": bool(options.no_regret.iloc[pick]) if pick is not None else False,
                "control owner": options.owner.iloc[pick] if pick is not None else "",
                "due": options.due.iloc[pick] if pick is not None else None,
            }
        )
    return pd.DataFrame(rows)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _collector_off(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` run with Python's cyclic garbage collector off, as it was before afterwards: what the report computes
    lives until it is drawn, and each collection would walk all of it again (a twelfth of the report's processor
    time at 500 plugins, for the same peak memory)."""

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        from blastradius.loader import _collector_paused

        with _collector_paused():
            return func(*args, **kwargs)

    return run


@_collector_off
def report_data(
    inventory: str | Path,
    *,
    compare_to: str | Path | None = None,
    assumptions: str | Path | None = None,
    costs: str | Path | bool | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    as_of: dt.date | None = None,
    title: str | None = None,
    classification: str = CLASSIFICATION,
    top: int = TOP,
    control_plugins: int | None = CONTROL_PLUGINS,
    calibration: str | Path | None = None,
    progress: Progress | None = None,
) -> ReportData:
    """Compute every figure of the rollout report for ``inventory`` (and ``compare_to``, if given).

    Parameters
    ----------
    costs : path, True or None
        A cost model file over the defaults (``blastradius/data/costs.yaml``), True for the defaults
        alone, None for no money: the report then stays in records and people and says so.
    title : str, optional
        The organisation's name in the title (default: :func:`organisation_name`).
    control_plugins : int, optional
        Above this many plugins, controls are tried on that many plugins of widest blast radius and
        their connectors (:func:`blastradius.decision.evaluate_controls`); None tries every control.
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    from blastradius import __version__
    from blastradius.analysis import Analysis
    from blastradius.decision import (
        apply_package,
        comparison_controls,
        control_options,
        control_package,
        evaluate_controls,
    )
    from blastradius.diff import diff_inventories
    from blastradius.domain import idle_plugins
    from blastradius.findings import findings_frame
    from blastradius.importers import draft_banner
    from blastradius.rules import lint
    from blastradius.runbook import runbook, runbook_frame
    from blastradius.scores import score_plugins
    from blastradius.simulate import (
        assumptions_table,
        compare_results,
        exceedance_by_class,
        failure_paths,
        summarize,
    )
    from blastradius.simulate.engine import _draw, _root
    from blastradius.simulate.sensitivity import _sensitivity

    say = progress or (lambda stage: None)
    as_of = as_of or dt.date.today()
    say("loading the inventory")
    inv = load_inventory(inventory)
    # one context: the simulation, scores, levers, rules and runbook share each plugin's reach
    analysis = Analysis(inv, assumptions=assumptions)
    a, weights = analysis.assumptions, analysis.weights
    say(f"simulating {trials:,} {a.period.name}s of {len(inv.plugins):,} plugins")
    # kept with its plan: the sensitivity's runs and the package draw again only the plugins they change
    drawn = _draw(analysis, trials=trials, root=_root(seed))
    result = drawn.result
    scores = score_plugins(analysis)
    by_plugin = summarize(result, "plugin")
    paths = failure_paths(analysis)
    runs = sensitivity_trials(trials, len(inv.plugins))
    say(f"varying each assumption across its range ({runs:,} {a.period.name}s a run)")
    # on the report's seed: its baseline is the first trials of the report's own simulation (a simulation of fewer
    # trials draws them alike), read rather than drawn again
    tornado = _sensitivity(analysis, trials=runs, seed=seed, baseline=drawn)

    say("trying every candidate control on the inventory")
    results, candidates = evaluate_controls(analysis, plugins=control_plugins)
    options = control_options(analysis, results=results, as_of=as_of)
    package = control_package(options)
    say(f"simulating the package of {len(package):,} controls together, on the same random numbers")
    packaged, skipped = apply_package(analysis, package, results=results)
    # the baseline's weights and assumptions on both sides: only the controls differ
    package_analysis = Analysis(packaged, weights=weights, assumptions=a)
    # the plugins the package leaves alone draw what they drew in the baseline (common random numbers): copied
    package_result = _draw(package_analysis, trials=trials, root=_root(seed), like=drawn).result
    package_effect = compare_results(result, package_result, by=("plugin", "enterprise"))
    package_enterprise = summarize(package_result, "enterprise", intervals=True)
    package_plugin_outlook = summarize(package_result, "plugin")
    score_package = float(score_plugins(package_analysis).blast_radius.sum())

    cost_model = money = money_package = money_compared = cost_table = plugin_money = None
    if costs is not None and costs is not False:
        from blastradius.costs import cost_summary, costs_table, load_costs, period_costs

        say("pricing the simulated periods with the cost model")
        cost_model = load_costs(None if costs is True else costs)
        money = cost_summary(result, analysis, cost_model)
        money_package = cost_summary(package_result, package_analysis, cost_model)
        per_plugin = period_costs(result, analysis, cost_model, by="plugin")["total"]
        plugin_money = pd.Series(np.quantile(per_plugin, 0.95, axis=0), index=list(result.plugins))
        cost_table = costs_table(cost_model)
    del package_result  # every figure of it is read: two simulations at most are held at once

    comparison = changes = change_groups = None
    other = load_inventory(compare_to) if compare_to else None
    if other is not None:
        say(f"simulating {Path(str(compare_to)).name} on the same random numbers")
        # the baseline's assumptions and weights apply to both sides: only the controls differ
        other_analysis = Analysis(other, weights=weights, assumptions=a)
        other_result = _draw(other_analysis, trials=trials, root=_root(seed), like=drawn).result
        comparison = compare_results(result, other_result, by=("plugin", "enterprise"))
        if cost_model is not None:
            from blastradius.costs import cost_summary

            money_compared = cost_summary(other_result, other_analysis, cost_model)
        del other_result
        say(f"comparing {Path(str(inventory)).name} with {Path(str(compare_to)).name} change by change")
        diff = diff_inventories(analysis, other_analysis)
        change_groups, changes = comparison_controls(diff.changes)

    say("checking the governance rules")
    findings = findings_frame(lint(analysis, as_of=as_of))
    say("writing the kill-switch runbook")
    book = runbook_frame(runbook(analysis))
    say("reading the figures off the simulations")
    top_risks = _top_risks(result, by_plugin, paths, options, results, plugin_money, inv)
    fp = fingerprint(inventory)
    cfp = fingerprint(compare_to) if compare_to else None
    return ReportData(
        inventory=str(inventory),
        draft=draft_banner(inventory, inv),
        idle=idle_plugins(inv),
        name=Path(inventory).name,
        organisation=title or organisation_name(inventory),
        title=f"{title or organisation_name(inventory)}: AI-agent rollout, blast radius report",
        classification=classification,
        report_id=report_id(
            inventory,
            compare_to=compare_to,
            assumptions=assumptions,
            costs=costs,
            calibration=calibration,
            trials=trials,
            seed=seed,
            as_of=as_of,
        ),
        compare_to=str(compare_to) if compare_to else None,
        compare_name=Path(str(compare_to)).name if compare_to else None,
        summary=inv.summary(),
        scores=scores,
        plugin_outlook=by_plugin,
        outlook=summarize(result, "enterprise", by_class=True, intervals=True),
        enterprise=summarize(result, "enterprise", intervals=True),
        curves=exceedance_by_class(result, "records"),
        comparison=comparison,
        changes=changes,
        change_groups=change_groups,
        options=options,
        controls_tried=len(results),
        controls_candidates=candidates,
        package=package,
        package_skipped=tuple(skipped),
        package_effect=package_effect,
        package_enterprise=package_enterprise,
        package_plugin_outlook=package_plugin_outlook,
        score_total=float(scores.blast_radius.sum()),
        score_package=score_package,
        top_risks=top_risks,
        findings=findings,
        runbook=book,
        sensitivity=tornado,
        assumptions=assumptions_table(a),
        weights=_weights_table(weights),
        costs=cost_model,
        money=money,
        money_package=money_package,
        money_compared=money_compared,
        cost_table=cost_table,
        period=result.period,
        trials=trials,
        seed=seed,
        as_of=as_of,
        fingerprint=fp,
        compare_fingerprint=cfp,
        version=__version__,
        top=top,
        control_plugins=control_plugins,
        calibration=_calibration_table(calibration),
    )


def _calibration_table(path: str | Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    from blastradius.calibrate import read_table

    return read_table(path)


# ---------------------------------------------------------------------------
# 2. Words and numbers a reader takes in
# ---------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text for HTML: inventory names and descriptions are data, never markup."""
    return html.escape(str(value), quote=True)


#: A run of this many characters with no space gets break opportunities (:func:`_breakable`).
_LONG_WORD = 24


def _breakable(text: str) -> str:
    """``text`` escaped for HTML, with a ``<wbr>`` after each ``. _ / - : , =`` inside a long word, and every 16
    characters where a word has none, so that an id or a path wraps inside its table cell instead of widening the
    table (and, in print, shrinking every page). The text read, copied or searched is unchanged; breaks are placed
    in the text before it is escaped, so none falls inside an entity.

    Examples
    --------
    >>> _breakable("crm.opportunities_and_contacts_export")
    'crm.<wbr>opportunities_<wbr>and_<wbr>contacts_<wbr>export'
    >>> _breakable("short words & <tags> stay as they are")
    'short words &amp; &lt;tags&gt; stay as they are'
    >>> _breakable("AAAAAAAAAAAAAAA&BBBBBBBBBBBBBBBB")
    'AAAAAAAAAAAAAAA&amp;<wbr>BBBBBBBBBBBBBBBB'
    """

    def pieces(word: str) -> list[str]:
        if len(word) < _LONG_WORD:
            return [word]
        if any(c in word for c in "._/-:,="):
            return [p for p in re.split(r"(?<=[._/\-:,=])(?=\S)", word) if p]
        return [word[i : i + 16] for i in range(0, len(word), 16)]

    return "".join(
        "<wbr>".join(esc(p) for p in pieces(part)) if part.strip() else esc(part) for part in re.split(r"(\s+)", text)
    )


def _cell(value: Any) -> str:
    """One table cell as a reader reads it: no Python values (True, None, nan, lists, dates as objects)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return f"{x:,.0f}" if abs(x) >= 100 or x.is_integer() else f"{x:,.2g}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value)


def table(
    df: pd.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    classes: str = "data",
    numeric: Iterable[str] = (),
    raw: Iterable[str] = (),
) -> str:
    """A DataFrame as an HTML table in its own scroll box, every cell escaped and written for a reader.

    ``formats`` gives a format spec per column; ``numeric`` columns are right-aligned; ``raw`` columns hold
    HTML already built from escaped text.
    """
    formats = formats or {}
    keep_raw = set(raw)
    right = set(numeric) | set(formats)
    num = ' class="num"'
    head = "".join(f"<th{num if c in right else ''}>{esc(c)}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            if col in formats and value is not None and not (isinstance(value, float) and np.isnan(value)):
                text = esc(format(value, formats[col]))
            elif col in keep_raw:
                text = str(value)
            else:
                text = esc(_cell(value)) if col in right else _breakable(_cell(value))
            kind = num if col in right else ' class="date"' if isinstance(value, dt.date) else ""
            cells.append(f"<td{kind}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table class="{esc(classes)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _more(shown: int, total: int, what: str, csv: str) -> str:
    """'1,980 more plugins — see plugins.csv beside this report', or nothing when every row is shown."""
    if total <= shown:
        return ""
    return f"<p class='more'>{total - shown:,} more {esc(what)} — see the CSV <b>{esc(csv)}</b> beside this report.</p>"


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
    value = float(f"{float(value):.3g}") if abs(float(value)) >= 1e5 else float(value)  # 999,700 is 1 million
    for word, scale, above in (("billion", 1e9, 1e9), ("million", 1e6, 1e6), ("thousand", 1e3, 1e5)):
        if abs(value) >= above:
            return f"{value / scale:.3g} {word}"
    return f"{value:,.0f}"


def _share(before: float, after: float) -> str:
    """The fall from ``before`` to ``after`` as a percentage of ``before``: '64%', '99.9%', '0%', 'rises 7%'."""
    if not before or after == before:
        return "0%"
    s = (before - after) / before
    if s < 0:
        return f"rises {-s:.0%}"
    return f"{s:.1%}" if 0.99 < s < 1 else f"{s:.0%}"


def _pct(value: float) -> str:
    return f"{value:.1f}%" if abs(value) < 10 else f"{value:.0f}%"


def _duration(seconds: Any) -> str:
    """A time for a reader: 'cannot be halted', '45 seconds', '15 minutes', '2.5 hours', '3 days'."""
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return "cannot be halted"
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} seconds"
    if s < 5400:
        return f"{s / 60:.0f} minutes"
    if s < 2 * 86400:
        h = s / 3600
        return f"{h:.0f} hours" if h >= 10 else f"{h:.1f} hours".replace(".0 ", " ")
    return f"{s / 86400:.0f} days"


def _money(value: float, d: ReportData) -> str:
    from blastradius.costs import money

    return money(value, d.costs.currency)


def _money_range(row: Any, stat: str, d: ReportData) -> str:
    """'US$112 million (US$14 million to US$834 million with every price at the low or high end of its range)'."""
    return f"{_money(row[stat], d)} ({_money(row[f'{stat}_low'], d)} to {_money(row[f'{stat}_high'], d)})"


def _total(frame: pd.DataFrame | None) -> Any:
    return None if frame is None else frame[frame.component == "total"].iloc[0]


def _dominant(d: ReportData) -> Any:
    from blastradius.simulate import dominant_assumption

    return dominant_assumption(d.sensitivity) if not d.sensitivity.empty else None


def _enterprise_effect(frame: pd.DataFrame, metric: str) -> Any:
    e = frame[(frame.level == "enterprise") & (frame.metric == metric)]
    return e.iloc[0] if len(e) else None


# ---------------------------------------------------------------------------
# 3. Sections: HTML with every inventory text escaped
# ---------------------------------------------------------------------------


def section_header(d: ReportData) -> str:
    """The title and what the report is of."""
    return (
        f"<h1>{esc(d.title)}</h1>"
        f"<p class='meta'>As of {d.as_of.isoformat()} · report {esc(d.report_id)} · {esc(d.classification)} · "
        f"{d.trials:,} simulated {esc(d.period)}s"
        + (f" · compared with {esc(d.compare_name)}" if d.compare_name else "")
        + "</p>"
    )


def _package_by_kind(d: ReportData) -> str:
    """'14 approval gates on 12 plugins (owners: 10 teams), due 2026-12-05; 6 row limits ...'."""
    parts = []
    for kind, g in d.package.groupby("kind_words", sort=False):
        kind_words = str(kind)
        owners = g.owner.nunique()
        due = min(g.due)
        n = len(g)
        noun = kind_words if n == 1 else {"masked columns": "masked-column controls"}.get(kind_words, kind_words + "s")
        parts.append(
            f"<li><b>{n:,} {esc(noun)}</b> ({_pct(g.risk_removed_pct.sum())} of the enterprise blast-radius score "
            f"removed on their own), owned by {owners} owner{'s' if owners != 1 else ''}, due by {due.isoformat()}</li>"
        )
    return "<ul>" + "".join(parts) + "</ul>"


def _caveats(d: ReportData) -> str:
    """What would make the figures read as an all-clear when they are not: a draft, plugins nobody runs."""
    notes = []
    if d.draft:
        notes.append(f"<b class='draft-banner'>{esc(d.draft)}</b>")
        notes.append(
            "<b>This inventory is an import draft.</b> It was written by <code>blastradius import</code> from "
            "configuration files: who uses each plugin, how often, and the sizes of tables and groups are "
            "placeholders until someone fills them in (its TODO file lists them). Read its figures as a "
            "starting point, not as an assessment."
        )
    if d.idle:
        names = ", ".join(esc(p) for p in d.idle[:5]) + (f" and {len(d.idle) - 5:,} more" if len(d.idle) > 5 else "")
        notes.append(
            f"<b>{len(d.idle):,} of {len(d.scores):,} plugins have no users in the inventory</b> ({names}): nobody "
            "runs them, so every simulated figure of theirs is 0. That is not a finding that they are safe: their "
            "blast radius (what one bad run could reach) still applies as soon as anyone uses them; give each "
            "its users and runs per day."
        )
    if not notes:
        return ""
    return "<div class='caveat' role='note'>" + "".join(f"<p>{n}</p>" for n in notes) + "</div>"


def section_decision(d: ReportData) -> str:
    """Page one: what we ask leadership to approve, the top five risks, the package's effect and what remains."""
    period = esc(d.period)
    rec = _enterprise_effect(d.package_effect, "records")
    ppl = _enterprise_effect(d.package_effect, "people")
    n = len(d.package)
    owners = d.package.owner.nunique() if n else 0
    out = [
        "<div class='decision'>",
        _caveats(d),
        f"<p class='lead'><b>We ask leadership to approve a package of {n:,} control{'s' if n != 1 else ''}</b> "
        f"that take nothing away from the teams that use the plugins (approval gates on high-impact actions, row "
        f"limits, masked personal columns), owned by {owners} owner{'s' if owners != 1 else ''} and due between "
        + (f"{min(d.package.due).isoformat()} and {max(d.package.due).isoformat()}" if n else "—")
        + " (each control with its owner and date: Recommended controls, package.csv).</p>",
    ]
    if n:
        out.append(_package_by_kind(d))
    if rec is not None and ppl is not None:
        score_cut = _share(d.score_total, d.score_package)
        effect = [
            f"<li><b>Bad {period} (1 in 20):</b> records affected fall from {_about(rec.baseline_p95)} to "
            f"{_about(rec.controlled_p95)}, {_share(rec.baseline_p95, rec.controlled_p95)} of the records of a "
            f"bad {period} today; people from {_about(ppl.baseline_p95)} to {_about(ppl.controlled_p95)}, "
            f"{_share(ppl.baseline_p95, ppl.controlled_p95)} of the people of a bad {period} today.</li>",
            f"<li><b>Blast-radius score:</b> {score_cut} of the enterprise score (the sum of every plugin's "
            f"capability × reach × autonomy) removed.</li>",
        ]
        m0, m1 = _total(d.money), _total(d.money_package)
        if m0 is not None and m1 is not None:
            effect.append(
                f"<li><b>Money, bad {period}:</b> from {_money_range(m0, 'p95', d)} to "
                f"{_money_range(m1, 'p95', d)}, {_share(m0.p95, m1.p95)} of the cost of a bad {period} today "
                "(in brackets: every price at the low, then the high end of its range).</li>"
            )
        out.append(
            "<h3>What the package does, all controls together</h3><p class='sub'>Simulated with every control of "
            f"the package applied, on the same {d.trials:,} {period}s and random numbers as today's figures, so "
            "the difference is the controls' alone."
            + (" No cost model was used: the figures are records and people, not money." if d.costs is None else "")
            + "</p><ul class='headline'>"
            + "".join(effect)
            + "</ul>"
        )
    out.append(section_top_risks(d))
    out.append(section_residual(d))
    out.append(_tradeoffs(d))
    out.append("</div>")
    return "\n".join(out)


def section_top_risks(d: ReportData) -> str:
    """The top five risks in plain words: what could happen, how big in a bad period, which control, owner."""
    if d.top_risks.empty:
        return ""
    period = d.period
    t = d.top_risks
    size = [
        f"{_about(r)} records, {_about(p)} people" + (f", {_money(m, d)}" if d.costs is not None else "")
        for r, p, m in zip(t.records_p95, t.people_p95, t.money_p95, strict=True)
    ]
    shown = pd.DataFrame(
        {
            "risk: plugin (owner team), what could happen": [
                f"{p} ({o}): {w}" for p, o, w in zip(t.plugin, t["owner team"], t["what could happen"], strict=True)
            ],
            f"bad {period} (1 in 20)": size,
            "control: owner, due": [
                f"{c}{'' if inside else ' (a trade-off)'}: {o}, {due.isoformat()}"
                if c
                else "no control was tried on this plugin (Recommended controls says which were)"
                for c, inside, o, due in zip(t.control, t["in package"], t["control owner"], t.due, strict=True)
            ],
        }
    )
    rank = "cost" if d.costs is not None else "records and people together"
    return (
        f"<h3>The top {len(t)} risks</h3><p>The plugins whose failures would do the most damage in a bad "
        f"{esc(period)} (ranked by {rank}), with the control that removes most of it:</p>" + table(shown)
    )


def section_residual(d: ReportData) -> str:
    """What remains once the package is in place."""
    period = esc(d.period)
    after = d.package_enterprise.iloc[0]
    left = d.package_plugin_outlook.head(2)
    crit = int(((d.findings.severity == "critical") & ~d.findings.accepted).sum()) if not d.findings.empty else 0
    slow = int((~d.runbook.fast.astype(bool)).sum()) if not d.runbook.empty else 0
    parts = [
        f"<h3>Residual risk</h3><p>With the package in place, a bad {period} (1 in 20) would still affect "
        f"{esc(_estimate(after, 'records_p95'))} records and {esc(_estimate(after, 'people_p95'))} people, a typical "
        f"one {esc(_estimate(after, 'records_p50'))} records. Most of it would come from "
        + ", ".join(f"{esc(g)} ({_about(r)} records)" for g, r in zip(left.group, left.records_p95, strict=True))
        + ". "
    ]
    m1 = _total(d.money_package)
    if m1 is not None:
        parts.append(f"In money, a bad {period} would still cost {_money_range(m1, 'p95', d)}. ")
    parts.append(
        f"{crit:,} critical finding{'s' if crit != 1 else ''} stay open until fixed or accepted, and {slow:,} "
        f"plugin{'s' if slow != 1 else ''} cannot be halted within minutes (Kill-switch readiness).</p>"
    )
    return "".join(parts)


def _tradeoffs(d: ReportData, n: int = 2) -> str:
    """The controls on the Pareto front that do stop something: for leadership to decide, each with what it costs."""
    front = d.options[d.options.on_front & ~d.options.no_regret]
    if front.empty:
        return ""
    items = "".join(
        f"<li>{esc(c)}: {_pct(r)} of the enterprise blast-radius score removed; {esc(what)}</li>"
        for c, r, what in zip(
            front.control.head(n), front.risk_removed_pct.head(n), front.collateral.head(n), strict=True
        )
    )
    more = f", {len(front) - n:,} more" if len(front) > n else ""
    return (
        "<h3>Trade-offs to decide</h3><p>Controls on the Pareto front that would remove more but stop tools, "
        f"tables or recipient lists teams use (owners, dates{more} in Recommended controls):</p>"
        f"<ul class='tight'>{items}</ul>"
    )


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
    money = ""
    m0 = _total(d.money)
    if m0 is not None:
        money = f" In money: {_money_range(m0, 'p95', d)}."
    return [
        f"<li><b>Typical {period} (median):</b> {esc(_estimate(ent, 'records_p50'))} records and "
        f"{esc(_estimate(ent, 'people_p50'))} people affected.</li>",
        f"<li><b>Bad {period} (1 in 20):</b> {esc(_estimate(ent, 'records_p95'))} records and "
        f"{esc(_estimate(ent, 'people_p95'))} people.{money}</li>",
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
    slow = d.runbook[~d.runbook.fast.astype(bool)].plugin.tolist()
    items = [
        _caveats(d),
        f"<p class='lead'><b>{esc(d.organisation)}</b>: {s['people']:,} people in {s['teams']:,} teams use "
        f"{s['plugins']:,} AI-agent plugins wired to {s['connectors']:,} connectors, which reach "
        f"{_n(s['records'])} records and {_n(s['people_reachable'])} people in {s['systems']:,} systems"
        + (
            f" (and {s['records_unknown']:,} dataset{'s' if s['records_unknown'] != 1 else ''} whose size the "
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
        f"{ungated:,} of {len(scores):,} plugins can take a high-impact action (send, delete, pay, sign) "
        "with no human approval.</li>",
        *_damage_items(d),
    ]
    rec = _enterprise_effect(d.package_effect, "records")
    if rec is not None:
        items.append(
            f"<li><b>With the package of {len(d.package):,} controls</b> (The decision): a bad {esc(d.period)} falls "
            f"from {_about(rec.baseline_p95)} to {_about(rec.controlled_p95)} records, "
            f"{_share(rec.baseline_p95, rec.controlled_p95)} of the records of a bad {esc(d.period)} today.</li>"
        )
    if d.comparison is not None:
        crec = _enterprise_effect(d.comparison, "records")
        if crec is not None:
            items.append(
                f"<li><b>With the controls of {esc(d.compare_name)}</b> (The comparison explained): a bad "
                f"{esc(d.period)} falls from {_about(crec.baseline_p95)} to {_about(crec.controlled_p95)} records, "
                f"{_share(crec.baseline_p95, crec.controlled_p95)} of the records of a bad {esc(d.period)} today.</li>"
            )
    if d.costs is None:
        items.append(
            "<li><b>Money:</b> no cost model was used, so every figure is in records and people; "
            "<code>blastradius report --costs</code> prices them in a currency, from sourced prices with ranges.</li>"
        )
    items.append(
        f"<li><b>Governance:</b> {crit:,} critical and {high:,} high findings open. "
        + (
            f"{len(slow):,} of {len(d.runbook):,} plugins cannot be halted within minutes: "
            + ", ".join(esc(p) for p in slow[:6])
            + (f" and {len(slow) - 6:,} more (kill-switch.csv)" if len(slow) > 6 else "")
            + "."
            if slow
            else "Every plugin can be halted within minutes."
        )
        + "</li>"
    )
    items.append("</ul>")
    return "\n".join(items)


def section_ranking(d: ReportData) -> str:
    """The plugins of widest blast radius, with the factors behind each."""
    df = d.scores.head(d.top)
    shown = pd.DataFrame(
        {
            "rank": range(1, len(df) + 1),
            "plugin": df.plugin,
            "department": df.department,
            "blast radius (score)": [f"{v:,.1f}" for v in df.blast_radius],
            "capability (score)": [f"{v:,.1f}" for v in df.capability],
            "reach: records": [_about(v) for v in df.reach_records],
            "reach: people": [_about(v) for v in df.reach_people],
            "autonomy (actions with no human)": [f"{v:,.1f}" for v in df.autonomy],
            "ungated high-impact actions": df.ungated_high_impact,
        }
    )
    return table(
        shown,
        numeric=[
            "rank",
            "blast radius (score)",
            "capability (score)",
            "reach: records",
            "reach: people",
            "autonomy (actions with no human)",
            "ungated high-impact actions",
        ],
    ) + _more(len(df), len(d.scores), "plugins", "plugins.csv")


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


def section_comparison(d: ReportData) -> str:
    """Baseline against the compared inventory: the enterprise first, then the plugins that gain most, in %."""
    if d.comparison is None:
        return "<p>No comparison inventory was given.</p>"
    df = d.comparison
    period = d.period
    ent = df[df.level == "enterprise"]
    plugins = df[(df.level == "plugin") & (df.metric == "records")].copy()
    plugins["_cut"] = plugins.baseline_p95 - plugins.controlled_p95
    plugins = plugins.sort_values(["_cut", "group"], ascending=[False, True], kind="mergesort")
    rows = pd.concat([ent, plugins.head(d.top)], ignore_index=True)
    shown = pd.DataFrame(
        {
            "who": ["the enterprise" if g == "enterprise" else g for g in rows.group],
            "figure": rows.metric,
            f"bad {period} today": [_about(v) for v in rows.baseline_p95],
            f"bad {period} with its controls": [_about(v) for v in rows.controlled_p95],
            f"fall (% of the bad {period} today)": [
                _share(b, c) for b, c in zip(rows.baseline_p95, rows.controlled_p95, strict=True)
            ],
            f"typical {period} today": [_about(v) for v in rows.baseline_p50],
            f"typical {period} with its controls": [_about(v) for v in rows.controlled_p50],
        }
    )
    n_plugins = int((df[(df.level == "plugin") & (df.metric == "records")]).shape[0])
    return (
        f"<p>The enterprise first, then the {min(d.top, len(plugins))} plugins whose records in a bad {esc(period)} "
        f"fall most (of {n_plugins:,}); percentages are of the same figure today.</p>"
        + table(shown, numeric=list(shown.columns[2:]))
        + _more(min(d.top, len(plugins)), n_plugins, "plugins", "comparison.csv")
    )


def section_changes(d: ReportData) -> str:
    """The controls that distinguish the compared inventory, from the diff, by kind; widenings flagged."""
    if d.changes is None or d.change_groups is None:
        return ""
    g = d.change_groups
    total, widened = len(d.changes), int(d.changes.widens.sum())
    lead = (
        f"<p class='lead'>{esc(d.compare_name)} differs from {esc(d.name)} by {total:,} changes: "
        f"{int(g.narrowed.sum()):,} narrow access, "
        f"<span class='widen'>{widened:,} widen it</span>, {int(g.other.sum()):,} neither (a new approver, a "
        "setting rewritten). Grouped by kind of control:</p>"
    )
    shown = pd.DataFrame(
        {
            "kind of control": g.group,
            "changes": g.changes,
            "narrow access": g.narrowed,
            "widen access": [f"<span class='widen'>⚠ {n:,}</span>" if n else "0" for n in g.widened],
            "for example": ["; ".join(esc(e) for e in ex) for ex in g.examples],
        }
    )
    wide = d.changes[d.changes.widens]
    flagged = ""
    if len(wide):
        rows = pd.DataFrame(
            {
                "kind of control": wide.group.head(d.top),
                "change that widens access": [
                    f"<span class='widen'>⚠ {esc(c)}</span>" for c in wide.change.head(d.top)
                ],
            }
        )
        flagged = (
            f"<h3 class='widen'>Changes that widen access ({widened:,})</h3><p>Each needs a re-approval before "
            "the comparison can be taken as the controls' effect: a new connector (a split of a shared one "
            "included) counts as wider until its scope is reviewed.</p>"
            + table(rows, raw=["change that widens access"])
            + _more(min(d.top, len(wide)), len(wide), "changes that widen access", "changes.csv")
        )
    return (
        lead
        + table(shown, numeric=["changes", "narrow access", "widen access"], raw=["widen access", "for example"])
        + flagged
        + "<p>Every change is in <b>changes.csv</b> beside this report.</p>"
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

    full = df
    df = df.head(12)
    shown = pd.DataFrame(
        {
            "assumption": df.key,
            "as assumed": [_value_words(v) for v in df.value],
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
    return lead + table(shown) + _more(len(df), len(full), "assumptions", "sensitivity.csv") + note


def _setting(value: float) -> str:
    """A setting as a settings file writes it: 0.0005, 2.5, 100,000."""
    value = float(value)
    return f"{value:,.0f}" if value >= 1_000 and value.is_integer() else f"{value:g}"


def section_controls(d: ReportData) -> str:
    """Every control tried: risk removed beside collateral, the front first, owner and due date."""
    o = d.options
    df = o.head(d.top)
    subset = (
        f"Controls were tried on the {d.control_plugins} plugins of widest blast radius and the connectors they use: "
        f"{d.controls_tried:,} of {d.controls_candidates:,} candidates (trying each rescores a changed inventory). "
        if d.controls_tried < d.controls_candidates
        else f"Every candidate control was tried ({d.controls_tried:,}). "
    ) + f"The {len(o):,} that remove any risk are ranked here. "
    from blastradius.decision import DUE_RULE

    lead = (
        f"<p>{subset}Each is checked to remove access and add none. <b>How they are ranked:</b> the controls on the "
        "Pareto front come first — no other control removes at least as much risk while losing no more uses "
        "(tool uses stopped plus tables and recipient lists no longer reachable) — from the least collateral to "
        "the most; the others follow by risk removed. Risk removed is the share of the enterprise blast-radius "
        "score (the sum of every plugin's score) the control removes on its own; effects of controls on the "
        f"same plugin overlap. <b>Effort</b> grows with the factor lowered: a gate is a setting of the plugin, a scope "
        "a connector change its approver signs again, a removal changes how teams work. "
        f"<b>Due dates:</b> {esc(DUE_RULE)}. <b>Owners:</b> a plugin's control belongs to its "
        "owner team; a connector's to its approver (on the connector or in the governance config), else its "
        "system's owner, else the owner team of its largest user; controls.csv says which for each.</p>"
    )
    pk = d.package.head(d.top)
    package = (
        f"<h3>The package, control by control ({len(d.package):,})</h3>"
        + table(
            pd.DataFrame(
                {
                    "control": pk.control,
                    "risk removed (% of the enterprise blast-radius score)": [_pct(v) for v in pk.risk_removed_pct],
                    "what it changes for users": pk.collateral,
                    "owner": pk.owner,
                    "where the owner comes from": pk.owner_source,
                    "due": pk.due,
                }
            ),
            numeric=["risk removed (% of the enterprise blast-radius score)"],
        )
        + _more(len(pk), len(d.package), "controls in the package", "package.csv")
        + "<h3>Every control tried, the Pareto front first</h3>"
        if len(d.package)
        else ""
    )
    in_package = df.option.isin(d.package.option)
    shown = pd.DataFrame(
        {
            "control": df.control,
            "standing": [
                "in the package" if p else ("on the front" if f else "—")
                for p, f in zip(in_package, df.on_front, strict=True)
            ],
            "risk removed (% of the enterprise blast-radius score)": [_pct(v) for v in df.risk_removed_pct],
            "uses lost": df.uses_lost,
            "what it changes for users": df.collateral,
            "teams affected": df.teams_affected,
            "owner": df.owner,
            "due": df.due,
        }
    )
    return (
        lead
        + package
        + table(shown, numeric=["uses lost", "teams affected", "risk removed (% of the enterprise blast-radius score)"])
        + _more(len(df), len(o), "controls", "controls.csv")
        + (
            "<p>Could not be applied with the rest of the package (another control took their tool away): "
            + "; ".join(esc(s) for s in d.package_skipped)
            + ".</p>"
            if d.package_skipped
            else ""
        )
    )


_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def section_findings(d: ReportData) -> str:
    """Findings grouped by rule: how many open and accepted, the worst examples, the fix."""
    df = d.findings
    if df.empty:
        return "<p>No findings.</p>"
    open_ = df[~df.accepted.astype(bool)]
    counts = open_.groupby("severity").size()
    order = [s for s in _SEVERITY_ORDER if s in counts]
    head = (
        "<p>Open findings: "
        + ", ".join(f"{int(counts[s]):,} {s}" for s in order)
        + f"; {int(df.accepted.sum()):,} accepted, over {df.rule.nunique()} rules. One row per rule, the most severe "
        "first, with its worst examples; every finding is in <b>findings.csv</b> beside this report.</p>"
    )
    rows = []
    for rule, g in df.groupby("rule", sort=False):
        o = g[~g.accepted.astype(bool)]
        sev = min(g.severity, key=lambda s: _SEVERITY_ORDER.index(s) if s in _SEVERITY_ORDER else 9)
        examples = (o if len(o) else g).subject.head(3).tolist()
        rows.append(
            {
                "rule": rule,
                "what it checks": g.title.iloc[0],
                "severity": sev,
                "open": len(o),
                "accepted": int(g.accepted.sum()),
                "worst examples": ", ".join(examples) + (f" and {len(o) - 3:,} more" if len(o) > 3 else ""),
                "fix": g.fix.iloc[0],
                "_rank": _SEVERITY_ORDER.index(sev) if sev in _SEVERITY_ORDER else 9,
            }
        )
    shown = pd.DataFrame(rows).sort_values(["_rank", "open", "rule"], ascending=[True, False, True], kind="mergesort")
    return head + table(shown.drop(columns="_rank"), numeric=["open", "accepted"])


def section_runbook(d: ReportData) -> str:
    """Kill-switch readiness for the plugins that matter most: the widest blast radius first."""
    book = d.runbook
    if book.empty:
        return "<p>No plugins.</p>"
    order = {p: i for i, p in enumerate(d.scores.plugin)}
    ranked = book.assign(_rank=book.plugin.map(order).fillna(len(order))).sort_values("_rank", kind="mergesort")
    df = ranked.head(d.top)
    cannot = int((~book.can_pause.astype(bool)).sum())
    slow = int((~book.fast.astype(bool)).sum())
    lead = (
        f"<p>{cannot:,} of {len(book):,} plugins cannot be paused for all users at once, and {slow:,} cannot be "
        f"halted within minutes. The {len(df)} plugins of widest blast radius:</p>"
    )
    shown = pd.DataFrame(
        {
            "plugin": df.plugin,
            "can be paused for all users": df.can_pause.astype(bool),
            "time to halt": [_duration(s) for s in df.time_to_halt_seconds],
            "halted within minutes": df.fast.astype(bool),
            "users": df.users,
            "records at risk until halted": [_about(v) for v in df.records_at_risk],
            "other plugins stopped by revoking its connectors": [
                len([x for x in str(c).split(", ") if x]) for c in df.collateral_plugins
            ],
            "what to fix": df.issues.replace("", "—"),
        }
    )
    return (
        lead
        + table(
            shown,
            numeric=["users", "records at risk until halted", "other plugins stopped by revoking its connectors"],
        )
        + _more(len(df), len(book), "plugins", "kill-switch.csv")
    )


GLOSSARY = (
    (
        "Blast radius",
        "How far the damage of one agent run gone wrong can reach: the systems, records and people it can affect.",
    ),
    (
        "Blast-radius score",
        "A unitless ranking figure per plugin: capability × reach × autonomy, summed over what "
        "the plugin can do. The enterprise score is the sum over plugins; shares of it rank controls.",
    ),
    (
        "Capability",
        "What a plugin's tools can do (read, write, send, delete, pay, sign), weighted by how hard each "
        "is to undo and how many records or recipients one call touches (its fan-out).",
    ),
    (
        "Reach",
        "The records and people a plugin's actions can touch once its connectors' scopes (allowed tables, "
        "masked columns, row limits, read-only) are applied.",
    ),
    (
        "Autonomy",
        "How many of a plugin's actions run with no human in the loop: an unchecked action counts 1, one behind "
        "an approval gate the share of mistakes its reviewers miss, a blocked one 0.",
    ),
    ("Fan-out", "How many records or recipients one call of a tool touches at most."),
    (
        "Connector",
        "The integration (an MCP server) through which plugins reach a system; its scope is the security "
        "boundary, not the prompt.",
    ),
    ("Typical period (median, P50)", "Half of the simulated periods are better than this, half worse."),
    ("Bad period (1 in 20, P95)", "One simulated period in 20 is worse than this."),
    ("Mean", "The average over every simulated period; above the median because a few periods are far worse."),
    (
        "Monte Carlo interval",
        "How far another run of the simulation could move a figure (95%); not the uncertainty "
        "of the assumptions, which “What the figures depend on” shows.",
    ),
    (
        "Common random numbers",
        "Two inventories simulated with the same random draws, so that a difference between "
        "them is the controls' effect, not chance.",
    ),
    (
        "Failure classes",
        "Wrong action (the right kind of action on the wrong target), data leakage (records reach "
        "someone who should not see them), wrong output (a confidently wrong answer people forward), systematic fault "
        "(one fault repeated over many runs before it is halted).",
    ),
    (
        "High-impact action",
        "Send, delete, pay, sign, share, run code, or a bulk write: the actions the seeds would "
        "put behind a human approval.",
    ),
    ("Approval gate", "A human confirms each such action before it runs; the prompt states exactly what will happen."),
    (
        "No-regret control",
        "A control that takes nothing away from the teams using the plugins: no tool stopped, no "
        "table or recipient list lost. The package is made of these.",
    ),
    (
        "Uses lost",
        "Tool uses that stop working, plus tables and recipient lists no longer reachable: the collateral "
        "of a control.",
    ),
    (
        "Pareto front",
        "The controls no other control beats on both counts: removing at least as much risk while losing no more uses.",
    ),
    ("Kill switch", "Pausing a plugin for all users and revoking its connectors in one action, keeping the audit log."),
    (
        "Review tier",
        "Tier 1: internal, non-sensitive output, spot-checked; tier 2: output that leaves the "
        "organisation, a named reviewer; tier 3: sensitive data or a system write, two reviewers and an audit log.",
    ),
    (
        "Lethal trifecta",
        "A plugin that reads untrusted input, can see private data and has a way to send it out: "
        "an injected instruction could leak the data.",
    ),
    (
        "BR101 … BR120",
        "The rules of the governance check, each named in Governance findings; docs/rules.md explains "
        "each one and the domain section it comes from.",
    ),
)


#: The calibrated quantities in a reader's words.
_QUANTITY_WORDS = {
    "runs_per_user_per_day": "runs per user per working day",
    "approval_gate_catch_rate": "approval gate catch",
    "data_leakage_full_share": "share of leaks at the whole bound",
    "wrong_action_full_share": "share of wrong actions at the whole bound",
}


def _figure(value: float) -> str:
    """A calibrated figure to three significant digits: 2.73, 0.8, 12,800."""
    return f"{value:,.0f}" if abs(value) >= 1_000 else f"{value:.3g}"


def section_calibration(d: ReportData) -> str:
    """The appendix on calibration: what the organisation's own logs moved, beside what was modelled."""
    from blastradius.calibrate import appendix

    if d.calibration is None:
        return ""
    rows = appendix(d.calibration, top=d.top)
    if rows.empty:
        return "<p>The logs had no events behind any setting: every figure of this report rests on its priors.</p>"
    shown = pd.DataFrame(
        {
            "setting": [_QUANTITY_WORDS.get(q, str(q).replace("_", " ")) for q in rows.quantity],
            "plugin": rows.plugin.fillna(""),
            "modelled": [_figure(v) for v in rows.prior],
            "from the logs": [
                f"{_figure(e)} ({_figure(lo)}–{_figure(hi)})"
                for e, lo, hi in zip(rows.estimate, rows.low, rows.high, strict=True)
            ],
            "events": rows.events.astype(int),
            "note": rows.note.fillna(""),
        }
    )
    moved = len(appendix(d.calibration, top=len(d.calibration)))
    return (
        f"<p>{moved:,} calibrated figures have events behind them; the {len(rows):,} that moved most are below: "
        "the estimate with its interval (90% unless <code>calibrate --level</code> said otherwise). Little data "
        "moves little, as each estimate starts from the modelled figure. The report's figures use the calibration "
        "only when it is run with the calibration's overlay (<code>--overlay</code>).</p>"
        + table(shown, numeric=["events"])
    )


def section_glossary(d: ReportData) -> str:
    """The words of the report a reader may not know."""
    del d
    return "<dl class='glossary'>" + "".join(f"<dt>{esc(t)}</dt><dd>{esc(m)}</dd>" for t, m in GLOSSARY) + "</dl>"


def section_appendix(d: ReportData) -> str:
    meta = pd.DataFrame(
        [
            ("inventory", d.name),
            ("inventory fingerprint (SHA-256)", d.fingerprint),
            ("compared with", d.compare_name or "—"),
            ("its fingerprint", d.compare_fingerprint or "—"),
            ("report id", d.report_id),
            ("trials", f"{d.trials:,}"),
            ("trials per run of the sensitivity", f"{int(d.sensitivity.attrs.get('trials', 0)):,}"),
            ("seed", str(d.seed)),
            ("period", d.period),
            ("as of", d.as_of.isoformat()),
            ("cost model", d.costs.set_by if d.costs is not None else "none"),
            ("blastradius version", d.version),
        ],
        columns=["what", "value"],
    )
    costs = ""
    if d.cost_table is not None and d.costs is not None:
        c = d.cost_table
        costs = (
            f"<h3>Cost model</h3><p>Prices in {esc(d.costs.currency)}, from {esc(d.costs.set_by)}; the report prices "
            "every simulated period at these values, then at every low end and every high end together. Records "
            "exposed are priced by the classification of their dataset as the plugin's connectors leave it readable; "
            "records changed, people contacted and wrong payments as below (docs/report.md).</p>"
            + table(
                pd.DataFrame(
                    {
                        "price": c.key,
                        "what it prices": c.meaning,
                        "value": [_setting(v) for v in c.value],
                        "plausible range": [_span(lo, hi) for lo, hi in zip(c.range_low, c.range_high, strict=True)],
                        "source": c.source,
                    }
                )
            )
        )
    return (
        "<h3>Run</h3>"
        + table(meta)
        + "<p>The full tables are CSV files in the folder beside this report: plugins, controls, package, "
        "findings, kill-switch"
        + (", comparison, changes" if d.comparison is not None else "")
        + ".</p>"
        + "<h3>Simulation assumptions</h3>"
        + "<p>Every number the simulation draws from, with its plausible range (what “What the figures depend "
        "on” tries) and the public source or reasoning behind it. An interval is a 90% interval, drawn in every "
        "trial."
        + (
            " Every one is the default of blastradius/data/assumptions.yaml."
            if (d.assumptions.set_by == "default").all()
            else ""
        )
        + "</p>"
        + table(_assumption_rows(d.assumptions), classes="data small")
        + "<h3>Scoring weights</h3>"
        + table(_weight_rows(d.weights), classes="data small")
        + costs
    )


def _span(low: Any, high: Any) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{_setting(low)} to {_setting(high)}"


def _where(who: Any, file: Any) -> str:
    """Who set an assumption, and in which file: the package's own by its path inside it, another by its name only."""
    if not isinstance(file, str) or not file:
        return str(who)
    shown = file if file.startswith("blastradius/") else Path(file).name
    return f"{who} ({shown})"


def _once(sources: Iterable[Any]) -> list[str]:
    """Each source as written, or 'as above' where it repeats the one before: a group's source is printed once."""
    out, last = [], None
    for source in sources:
        text = "" if source is None or (isinstance(source, float) and np.isnan(source)) else str(source)
        out.append("as above" if text and text == last else text)
        last = text
    return out


def _assumption_rows(assumptions: pd.DataFrame) -> pd.DataFrame:
    """The assumptions table as the appendix prints it: no machine's paths, a file by its name."""
    spans = zip(assumptions.range_low, assumptions.range_high, strict=True)
    rows = pd.DataFrame(
        {
            "assumption": assumptions.key,
            "meaning": assumptions.meaning,
            "value": [_value_words(v) for v in assumptions.value],
            "plausible range": [_span(lo, hi) for lo, hi in spans],
            "source": _once(assumptions.source),
            "set by": [_where(who, file) for who, file in zip(assumptions.set_by, assumptions.file, strict=True)],
        }
    )
    if (assumptions.set_by == "default").all():
        rows = rows.drop(columns="set by")
    return rows


def _value_words(value: Any) -> str:
    """A setting's value as text: numbers as a settings file writes them, an interval as 'low to high'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _setting(value)
    if isinstance(value, dict):
        if set(value) >= {"low", "high"}:
            return f"{_setting(value['low'])} to {_setting(value['high'])}"
        return ", ".join(f"{k} {_value_words(v)}" for k, v in value.items())
    text = str(value)
    m = re.fullmatch(r"\s*\[?\s*([-\d.e]+)\s*,\s*([-\d.e]+)\s*\]?\s*", text)
    if m:
        return f"{_setting(float(m.group(1)))} to {_setting(float(m.group(2)))}"
    return text


def _weight_rows(weights: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "weight": weights.key,
            "value": [_value_words(v) for v in weights.value],
            "plausible range": [_span(lo, hi) for lo, hi in zip(weights.range_low, weights.range_high, strict=True)],
            "source": _once(weights.source),
        }
    )


# ---------------------------------------------------------------------------
# 4. The full tables, as CSV beside the report
# ---------------------------------------------------------------------------


def write_tables(d: ReportData, directory: str | Path) -> Path:
    """Write the report's full tables as CSV into ``directory``: what the report shows the first rows of.

    Inventory text that a spreadsheet would run as a formula is written as text
    (:func:`blastradius.textout.csv_text`).
    """
    from blastradius.textout import csv_text

    def _csv(df: pd.DataFrame, path: Path) -> None:
        path.write_text(csv_text(df, index=False), encoding="utf-8")

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    plugins = d.scores.merge(
        d.plugin_outlook.rename(columns={"group": "plugin"}).drop(columns=["department"], errors="ignore"),
        on="plugin",
        how="left",
    )
    _csv(plugins, out / "plugins.csv")
    _csv(d.options.drop(columns=["option"]), out / "controls.csv")
    _csv(d.package.drop(columns=["option"]), out / "package.csv")
    _csv(d.findings.drop(columns=["evidence"], errors="ignore"), out / "findings.csv")
    _csv(d.runbook, out / "kill-switch.csv")
    _csv(d.top_risks, out / "top-risks.csv")
    _csv(d.sensitivity, out / "sensitivity.csv")
    if d.comparison is not None:
        _csv(d.comparison, out / "comparison.csv")
    if d.changes is not None:
        _csv(d.changes, out / "changes.csv")
    return out


# ---------------------------------------------------------------------------
# 5. Running the notebook and exporting it
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

#: Okabe-Ito: told apart with any colour vision. Vermillion for what widens access.
_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1c2833; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px; }
h1 { font-size: 26px; margin: 0 0 4px; line-height: 1.2; }
h2 { font-size: 21px; border-bottom: 2px solid #d5d8dc; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.meta { color: #4d5656; margin: 0 0 12px; } p.lead { font-size: 16px; } ul.headline li { margin: 5px 0; }
p.more { font-style: italic; color: #4d5656; } p.sub { color: #4d5656; font-size: 0.92em; }
p.note { background: #f4f6f6; padding: 8px 10px; }
.decision { border-left: 4px solid #0072B2; padding-left: 14px; }
.widen { color: #A63D00; font-weight: 600; }
div.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; margin: 8px 0 14px; }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; }
table.data th { background: #eaecee; text-align: left; padding: 5px 7px; vertical-align: bottom; }
table.data td { border-top: 1px solid #d5d8dc; padding: 4px 7px; vertical-align: top; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
table.small { font-size: 12px; }
figure.chart { margin: 10px 0 16px; } figure.chart svg { height: auto; display: block; }
div.caveat { border: 2px solid #D55E00; background: #fff4ec; padding: 6px 12px; margin: 8px 0 12px; }
b.draft-banner { font-size: 1.25em; letter-spacing: 0.02em; }
dl.glossary dt { font-weight: 600; margin-top: 8px; } dl.glossary dd { margin: 2px 0 0 18px; }
ul.tight li { margin: 2px 0; }
code { font-size: 13px; }
.jp-OutputArea-output pre, pre { white-space: pre-wrap; }
@media (max-width: 600px) {
  main { padding: 14px 14px; } h1 { font-size: 22px; }
  table.data { width: auto; min-width: 100%; } table.data td, table.data th { min-width: 7em; }
}
@page { size: A4; margin: 13mm 12mm 16mm; }
@media print {
  body { font-size: 10pt; } main { max-width: none; padding: 0; }
  h1 { font-size: 18pt; } h2 { font-size: 14pt; } h3 { font-size: 11pt; margin: 10px 0 4px; }
  .decision { font-size: 9.5pt; } .decision p, .decision li { margin: 2px 0; } .decision ul { margin: 3px 0; }
  .decision table.data { font-size: 8.5pt; } .decision h3 { margin: 8px 0 3px; }
  dl.glossary { columns: 2; column-gap: 24px; } dl.glossary dt { break-after: avoid; }
  dl.glossary dd { break-inside: avoid; }
  h2 { break-before: auto; break-after: avoid; margin-top: 20px; } h3 { break-after: avoid; }
  div.scroll { overflow: visible; }
  /* a long word in running text wraps (table cells get <wbr> breaks, see _breakable): one wider than the page
     would make Chromium shrink every page to fit it */
  p code, li code { overflow-wrap: anywhere; }
  table.data { font-size: 8.5pt; } table.small { font-size: 8pt; }
  table.data th, table.data td { padding: 2px 5px; } table.data td { line-height: 1.3; }
  table.data td.num, table.data td.date { white-space: nowrap; }
  tr, figure.chart, li { break-inside: avoid; }
  /* a heading and its introduction stay on the page of the chart they introduce */
  .output_area:has(+ .output_area figure.chart) { break-inside: avoid; break-after: avoid; }
  p.lead { font-size: 11pt; } .decision p.lead { font-size: 10pt; line-height: 1.4; }
}
"""


def _css_string(text: str) -> str:
    """Text as a CSS string literal: quotes, backslashes and anything that could close the style escaped."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " .,:;·-_()/&'+!?#%@":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def page_css(*, footer: str, title: str) -> str:
    """The print footer on every page: who and what the report is, and page N of M."""
    del title
    return (
        "@page { @bottom-left { content: "
        + _css_string(footer)
        + "; font: 8pt Helvetica, Arial, sans-serif; color: #4d5656; }"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages);'
        " font: 8pt Helvetica, Arial, sans-serif; color: #4d5656; } }"
    )


def template_path() -> Path:
    """The report notebook shipped with the package."""
    return Path(str(resources.files("blastradius.templates").joinpath(_TEMPLATE)))


def execute_report_notebook(parameters: dict[str, Any], *, workdir: Path, keep_at: Path) -> Any:
    """Execute the report notebook with ``parameters``; on failure keep it at ``keep_at`` and name the cell."""
    papermill = import_extra("papermill", extra="report", purpose="the report")
    from jupyter_client.manager import KernelManager
    from papermill.exceptions import PapermillExecutionError

    class _LocalKernelManager(KernelManager):
        """A kernel on local IPC sockets in the report's private working directory: nothing listens on the
        network, and no socket file lands in the current directory (or an inventory run from)."""

        def __init__(self, **kwargs: Any):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(workdir / "kernel-ipc"))
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


def export_html(nb: Any, *, title: str, footer: str = "") -> str:
    """The executed notebook as one self-contained page: no code, charts inline, no external links."""
    HTMLExporter = import_extra("nbconvert", extra="report", purpose="the report").HTMLExporter
    for i, cell in enumerate(nb.cells):  # stable ids: the same inputs give the same page
        cell["id"] = f"cell-{i}"
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    css = _CSS + (page_css(footer=footer, title=title) if footer else "")
    return _PAGE.format(title=esc(title), css=css, body=body)


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


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, paginated and footed by the page's print CSS)."""
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


class _Follow:
    """Reads the stages the report's kernel writes to a file and hands each to ``progress`` as it appears."""

    def __init__(self, path: Path, progress: Progress):
        self.path, self.progress = path, progress
        self._stop = threading.Event()
        self._seen = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Follow:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._read()

    def _read(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        for line in lines[self._seen :]:
            self.progress(line)
        self._seen = len(lines)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._read()


def write_meta(d: ReportData, path: str | Path | None) -> None:
    """Tell the exporter the page's title and the footer of every printed page (the kernel's side)."""
    if path:
        import json

        Path(path).write_text(json.dumps({"title": d.title, "footer": footer_text(d)}), encoding="utf-8")


def progress_to(path: str | Path | None) -> Progress | None:
    """A ``progress`` callback for :func:`report_data` that appends each stage to ``path`` (the kernel's side)."""
    if not path:
        return None
    target = Path(path)

    def say(stage: str) -> None:
        with target.open("a", encoding="utf-8") as f:
            f.write(stage.replace("\n", " ") + "\n")

    return say


def render_report(
    inventory: str | Path,
    *,
    out: str | Path = "reports",
    compare_to: str | Path | None = None,
    assumptions: str | Path | None = None,
    costs: str | Path | bool | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    fmt: str = "html",
    as_of: dt.date | None = None,
    title: str | None = None,
    classification: str = CLASSIFICATION,
    top: int = TOP,
    control_plugins: int | None = CONTROL_PLUGINS,
    calibration: str | Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Produce the rollout report of ``inventory`` under ``out``; return the report's path.

    The report is ``OUT/<inventory name>-rollout-report.html`` (and ``.pdf`` with ``fmt='pdf'``), its
    full tables as CSV in ``OUT/<inventory name>-rollout-report-tables/``. Files are written whole or not
    at all. ``progress`` is called with each stage as it starts, and its time so far.
    """
    if fmt not in ("html", "pdf"):
        raise ReportError(f"unknown report format '{fmt}': use html or pdf")
    start = time.perf_counter()

    def say(stage: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - start:5.1f} s] {stage}")

    if fmt == "pdf":
        find_chromium()  # fail before the long part
    inventory = Path(inventory)
    say("checking the inputs")
    # bad inputs fail here, with their own errors, not inside the kernel
    from blastradius.simulate import load_assumptions

    inv = load_inventory(inventory)
    load_assumptions(assumptions, inventory=inv)
    if compare_to:
        load_inventory(compare_to)
    if costs not in (None, False, True):
        from blastradius.costs import load_costs

        load_costs(costs)  # type: ignore[arg-type]
    if calibration is not None:
        _calibration_table(calibration)
    if trials < 1:
        raise ReportError(f"trials must be at least 1, got {trials}")
    if top < 1:
        raise ReportError(f"top must be at least 1, got {top}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{inventory.name}-rollout-report"
    as_of = as_of or dt.date.today()
    with tempfile.TemporaryDirectory() as tmp:
        stages = Path(tmp) / "stages.txt"
        stages.touch()
        params = {
            "inventory": str(inventory),
            "compare_to": str(compare_to) if compare_to else None,
            "assumptions": str(assumptions) if assumptions else None,
            "costs": str(costs) if costs not in (None, False, True) else bool(costs),
            "trials": int(trials),
            "seed": int(seed),
            "as_of": as_of.isoformat(),
            "title": title,
            "classification": classification,
            "top": int(top),
            "control_plugins": control_plugins,
            "calibration": str(calibration) if calibration else None,
            "tables": str(Path(tmp) / "tables"),
            "progress_file": str(stages),
            "meta_file": str(Path(tmp) / "meta.json"),
        }
        say("starting the report notebook")
        with _Follow(stages, say):
            nb = execute_report_notebook(params, workdir=Path(tmp), keep_at=out / f"{stem}.failed.ipynb")
        say("exporting the page (HTML)")
        import json

        meta_file = Path(tmp) / "meta.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        page_title = str(meta.get("title") or f"{title or organisation_name(inventory)}: AI-agent rollout report")
        footer = str(meta.get("footer") or "")
        page = export_html(nb, title=page_title, footer=footer)
        html_path = out / f"{stem}.html"
        _atomic_write(html_path, page.encode("utf-8"))
        tables = out / f"{stem}-tables"
        if (Path(tmp) / "tables").is_dir():
            staged = out / f".{stem}-tables.new"
            if staged.exists():
                shutil.rmtree(staged)
            shutil.copytree(Path(tmp) / "tables", staged)
            if tables.exists():
                shutil.rmtree(tables)
            os.replace(staged, tables)
        stale = out / f"{stem}.failed.ipynb"
        if stale.exists():
            stale.unlink()
        if fmt == "html":
            say(f"done: {html_path}")
            return html_path
        say("printing the PDF (Chromium)")
        pdf_tmp = Path(tmp) / "report.pdf"
        print_pdf(html_path, pdf_tmp)
        pdf_path = out / f"{stem}.pdf"
        _atomic_write(pdf_path, pdf_tmp.read_bytes())
        say(f"done: {pdf_path}")
        return pdf_path


def footer_text(d: ReportData) -> str:
    """The footer of every printed page: organisation, report id, date, classification."""
    return f"{d.organisation} · {d.report_id} · {d.as_of.isoformat()} · {d.classification}"


# ---------------------------------------------------------------------------
# 6. Charts: inline SVG whose text stays text
# ---------------------------------------------------------------------------

_SVG_RC = {
    "svg.fonttype": "none",  # text as <text>: selectable, searchable, measurable, crisp in print
    "svg.hashsalt": "blastradius-report",  # the same figure gives the same ids
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10.5,
    "font.family": ["DejaVu Sans", "Helvetica", "Arial", "sans-serif"],
}


def figure_html(fig: Any, *, alt: str) -> str:
    """A matplotlib figure as an inline SVG in a figure box that scrolls on a narrow screen (closes the figure).

    The SVG keeps its text as text, at its natural size (one unit a CSS pixel) at the least, so chart text never
    shrinks below its set size: on a phone the chart scrolls sideways in its own box instead.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with mpl.rc_context(cast(Any, _SVG_RC)):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    width = float(m.group(1)) if m else 640.0
    svg = re.sub(
        r'<svg([^>]*?) width="[\d.]+pt" height="[\d.]+pt"',
        rf'<svg\1 role="img" aria-label="{esc(alt)}" style="width:100%;min-width:{width:.0f}px;'
        rf'max-width:{width * 1.25:.0f}px"',
        svg,
        count=1,
    )
    return f'<figure class="chart"><div class="scroll">{svg}</div></figure>'


def png_html(fig: Any, *, alt: str) -> str:
    """A matplotlib figure as an embedded PNG ``<img>`` (for notebooks that want one; closes the figure)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
