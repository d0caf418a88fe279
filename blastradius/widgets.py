"""Interactive explorers for notebooks (ipywidgets): controls in, the library's figures out.

Each explorer is a thin layer: its controls build a what-if inventory with
:func:`blastradius.levers.what_if` (or change an assumption), call the same
library functions as the CLI and the report, and redraw. Needs the
``notebooks`` extra (``pip install 'blastradius[notebooks]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from blastradius.defaults import DEFAULT_SEED
from blastradius.errors import import_extra
from blastradius.graph import reach_by_action
from blastradius.levers import what_if
from blastradius.model import Access, Inventory
from blastradius.reach import ToolStatus, tool_status
from blastradius.scores import is_high_impact, load_weights, score_plugins

__all__ = ["findings_explorer", "reach_explorer", "score_explorer", "simulation_explorer", "whatif_scores"]


def _widgets() -> Any:
    return import_extra("ipywidgets", extra="notebooks", purpose="the explorers")


def _ungated_high_impact(inv: Inventory, plugin: str) -> list[str]:
    p = inv.plugin_by_id[plugin]
    w = load_weights(inventory=inv)
    out = []
    for cid in p.connector_ids:
        conn = inv.connector_by_id[cid]
        for tool in conn.tools:
            if is_high_impact(tool, weights=w) and tool_status(p, conn, tool)[0] is ToolStatus.UNGATED:
                out.append(f"{cid}.{tool.name}")
    return out


def whatif_scores(
    inv: Inventory,
    plugin: str,
    *,
    gates: Sequence[str] = (),
    read_only: Sequence[str] = (),
    row_limit: int | None = None,
) -> pd.DataFrame:
    """Blast radius of ``plugin`` before and after gating ``gates``, making ``read_only`` connectors read-only and
    capping its connectors at ``row_limit`` rows (the numbers behind :func:`score_explorer`)."""
    p = inv.require("plugin", plugin)
    limits = dict.fromkeys(p.connector_ids, row_limit) if row_limit else {}
    after = what_if(inv, gate={plugin: list(gates)} if gates else None, read_only=list(read_only), row_limit=limits)
    cols = [
        "plugin",
        "capability",
        "reach_records",
        "reach_people",
        "unbounded_datasets",
        "autonomy",
        "blast_radius",
        "wrong_action",
        "data_leakage",
        "wrong_output",
    ]
    before_row = score_plugins(inv).set_index("plugin").loc[[plugin]].reset_index()[cols].assign(scenario="now")
    after_row = score_plugins(after).set_index("plugin").loc[[plugin]].reset_index()[cols].assign(scenario="what if")
    return pd.concat([before_row, after_row], ignore_index=True).set_index("scenario")


def score_explorer(inv: Inventory) -> Any:
    """Pick a plugin, gate its ungated high-impact tools, make connectors read-only, cap rows: watch its score."""
    w = _widgets()
    plugins = sorted(inv.plugin_by_id)
    pick = w.Dropdown(options=plugins, description="plugin")
    gates = w.SelectMultiple(description="gate", rows=5)
    read_only = w.SelectMultiple(description="read-only", rows=5)
    row_limit = w.IntSlider(value=0, min=0, max=100_000, step=1_000, description="row limit", continuous_update=False)
    out = w.Output()

    def refresh_options(*_: Any) -> None:
        p = inv.plugin_by_id[pick.value]
        gates.options = _ungated_high_impact(inv, pick.value)
        read_only.options = [c for c in p.connector_ids if inv.connector_by_id[c].access is Access.READ_WRITE]

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            table = whatif_scores(
                inv,
                pick.value,
                gates=list(gates.value),
                read_only=list(read_only.value),
                row_limit=row_limit.value or None,
            )
            from IPython.display import display

            display(table.round(2))

    def on_pick(*_: Any) -> None:
        refresh_options()
        redraw()

    pick.observe(on_pick, names="value")
    for control in (gates, read_only, row_limit):
        control.observe(redraw, names="value")
    refresh_options()
    redraw()
    hint = w.HTML("<small>row limit 0 = leave as it is</small>")
    return w.VBox([pick, w.HBox([gates, read_only]), w.HBox([row_limit, hint]), out])


def simulation_explorer(inv: Inventory, *, trials: int = 2_000, seed: int = DEFAULT_SEED) -> Any:
    """Move the approval gates' catch rate and every plugin's kill-switch latency: watch the quarter's P50/P95."""
    from blastradius.simulate import load_assumptions, simulate_failures, summarize

    w = _widgets()
    catch = w.FloatSlider(value=0.9, min=0.0, max=1.0, step=0.05, description="gate catch", continuous_update=False)
    latency = w.IntSlider(value=0, min=0, max=3_600, step=30, description="pause (s)", continuous_update=False)
    hint = w.HTML("<small>pause 0 = as the inventory says</small>")
    out = w.Output()

    def redraw(*_: Any) -> None:
        changed = inv
        if latency.value:
            changed = what_if(inv, kill_switch_seconds=dict.fromkeys(inv.plugin_by_id, latency.value))
        a = load_assumptions({"controls": {"approval_gate_catch_rate": catch.value}}, inventory=inv)
        df = summarize(simulate_failures(changed, a, trials=trials, seed=seed), "enterprise", by_class=True)
        with out:
            out.clear_output(wait=True)
            from IPython.display import display

            display(df[["failure_class", "records_p50", "records_p95", "people_p50", "people_p95"]].round(0))

    for control in (catch, latency):
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([catch, latency, hint]), out])


def reach_explorer(G: Any) -> Any:
    """Pick a plugin: what it can reach per action class."""
    w = _widgets()
    plugins = sorted(d["id"] for _, d in G.nodes(data=True) if d["kind"] == "plugin")
    pick = w.Dropdown(options=plugins, description="plugin")
    out = w.Output()

    def redraw(*_: Any) -> None:
        rows = [
            {
                "action": a.value,
                "records": r.records,
                "sensitive": r.sensitive_records,
                "people": r.people,
                "connectors": ", ".join(sorted(r.connectors)),
                "datasets": len(r.datasets),
            }
            for a, r in reach_by_action(G, pick.value).items()
        ]
        with out:
            out.clear_output(wait=True)
            from IPython.display import display

            display(pd.DataFrame(rows))

    pick.observe(redraw, names="value")
    redraw()
    return w.VBox([pick, out])


def findings_explorer(findings: pd.DataFrame) -> Any:
    """Filter findings by severity and rule."""
    w = _widgets()
    severities = ["critical", "high", "medium", "low", "info"]
    minimum = w.Dropdown(options=severities, value="high", description="at least")
    rules = w.SelectMultiple(options=sorted(findings["rule"].unique()), description="rules", rows=6)
    out = w.Output()

    def redraw(*_: Any) -> None:
        keep = severities[: severities.index(minimum.value) + 1]
        df = findings[findings["severity"].isin(keep)]
        if rules.value:
            df = df[df["rule"].isin(rules.value)]
        with out:
            out.clear_output(wait=True)
            from IPython.display import display

            display(df[["rule", "severity", "subject", "message", "fix"]])

    for control in (minimum, rules):
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([minimum, rules]), out])
