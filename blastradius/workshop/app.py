"""The workshop page (Solara): controls on the left, the library's figures on the right, for a projector.

Each browser has its own :class:`~blastradius.workshop.state.Session` (Solara gives
each a virtual kernel); every figure is read from the session's
:class:`~blastradius.workshop.state.Figures`, so the page shows exactly what the
library computes. After a change the figures come first from fewer trials
(marked provisional), then from the final trials.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from typing import Any, cast

import pandas as pd
import solara

from blastradius.plots import plot_exceedance
from blastradius.workshop.state import (
    Figures,
    Move,
    MoveKind,
    Progress,
    Session,
    Stages,
    Workshop,
    actions_of,
    department_moves,
    selectors_of,
)

__all__ = ["Layout", "Page", "use_workshop"]

_WORKSHOP: list[Workshop] = []


def use_workshop(workshop: Workshop) -> None:
    """The workshop every browser's session starts from (set by the server before it serves)."""
    _WORKSHOP[:] = [workshop]


def _workshop() -> Workshop:
    if not _WORKSHOP:
        raise RuntimeError("no workshop: start it with `blastradius workshop DIR`")
    return _WORKSHOP[0]


_CSS = """
html, body, .v-application { background: #ffffff !important; color: #000000 !important; }
.v-application { font-size: 19px; }
.br-root { padding: 10px 18px; height: 100vh; box-sizing: border-box; overflow: hidden; }
.br-title { font-size: 30px; font-weight: 700; margin: 0; }
.br-sentence { font-size: 27px; font-weight: 600; line-height: 1.25; margin: 4px 0 8px 0;
  border-left: 10px solid #0072B2; padding: 6px 12px; background: #F2F7FB; }
.br-status { font-size: 18px; font-weight: 700; padding: 2px 10px; border-radius: 4px; display: inline-block; }
.br-provisional { background: #E69F00; color: #000; }
.br-final { background: #009E73; color: #fff; }
.br-panel h3 { font-size: 22px; margin: 4px 0; }
.br-table { border-collapse: collapse; font-size: 18px; width: 100%; }
.br-table th, .br-table td { padding: 2px 8px; border-bottom: 1px solid #888; text-align: right; white-space: nowrap; }
.br-table th:first-child, .br-table td:first-child { text-align: left; }
.br-table th { background: #000; color: #fff; }
.br-down { color: #005A8C; font-weight: 700; }
.br-up { color: #B34000; font-weight: 700; }
.br-controls { padding-top: 16px; overflow-y: auto; max-height: calc(100vh - 190px); padding-right: 8px; }
.br-controls .v-input { margin-top: 0 !important; padding-top: 0 !important; }
.br-controls .v-label { font-size: 18px !important; color: #000 !important; }
.br-small { font-size: 14px; }
.br-label { font-size: 17px; margin-top: 6px; }
.br-message { font-size: 18px; font-weight: 600; }
.br-stale { opacity: 0.35; }
.br-error { border-left-color: #D55E00; background: #FFF1E8; }
"""


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _share(share: float) -> str:
    if share == 0:
        return "0%"
    if abs(share) < 0.001:
        return "<0.1%" if share > 0 else ">-0.1%"
    return f"{share:.1%}" if abs(share) < 0.1 else f"{share:.0%}"


def ranking_html(scores: pd.DataFrame, base_scores: pd.DataFrame, *, top: int = 10) -> str:
    """The plugins the scenario changed, then the widest: blast radius now (starting inventory) and in the scenario."""
    base = base_scores.set_index("plugin").blast_radius
    changed = [p for p, v in zip(scores.plugin, scores.blast_radius, strict=True) if v != base.get(p)]
    shown = set(changed[:top]) | set(scores.plugin.head(max(top - len(changed), 0)))
    rows = []
    for _, r in scores[scores.plugin.isin(shown)].iterrows():
        now, after = float(base.get(r.plugin, 0.0)), float(r.blast_radius)
        cls = "br-down" if after < now else "br-up" if after > now else ""
        change = _share((after - now) / now).replace("-", "−") if now > 0 and after != now else "–"
        rows.append(
            f"<tr data-plugin='{html.escape(r.plugin)}'><td>{html.escape(r.plugin)}</td>"
            f"<td>{now:,.1f}</td><td class='br-radius {cls}' data-value='{after!r}'>{after:,.1f}</td>"
            f"<td class='{cls}'>{change}</td></tr>"
        )
    total_now, total = float(base_scores.blast_radius.sum()), float(scores.blast_radius.sum())
    return (
        "<table class='br-table br-ranking'><tr><th>plugin (changed, then widest)</th><th>now</th><th>scenario</th>"
        "<th>change</th></tr>" + "".join(rows) + f"<tr><td><b>all {len(scores):,} plugins</b></td>"
        f"<td><b>{total_now:,.1f}</b></td><td class='br-total' data-value='{total!r}'><b>{total:,.1f}</b></td>"
        f"<td></td></tr></table>"
    )


_CLASS_NAMES = {
    "wrong_action": "wrong action",
    "data_leakage": "data leakage",
    "wrong_output": "wrong output",
    "systematic": "systematic fault",
}


def _figure(row: Any, column: str) -> str:
    v, lo, hi = float(row[column]), float(row[f"{column}_low"]), float(row[f"{column}_high"])
    return (
        f"<td class='br-fig' data-column='{column}' data-value='{v!r}'>{_n(v)}"
        f"<br><span class='br-small'>[{_n(lo)}–{_n(hi)}]</span></td>"
    )


def outlook_html(fig: Figures, period: str) -> str:
    """Records and people affected per period, typical (P50) and bad (P95), with 95% Monte Carlo intervals."""
    head = (
        f"<table class='br-table br-outlook'><tr><th>per {html.escape(period)}</th><th>records P50</th>"
        "<th>records P95</th><th>people P50</th><th>people P95</th></tr>"
    )
    rows = []
    for _, r in fig.outlook.iterrows():
        name = _CLASS_NAMES.get(r.failure_class, r.failure_class)
        rows.append(
            f"<tr data-class='{r.failure_class}'><td>{name}</td>"
            + "".join(_figure(r, c) for c in ("records_p50", "records_p95", "people_p50", "people_p95"))
            + "</tr>"
        )
    w = fig.whole
    rows.append(
        "<tr data-class='enterprise'><td><b>all classes</b></td>"
        + "".join(_figure(w, c) for c in ("records_p50", "records_p95", "people_p50", "people_p95"))
        + "</tr>"
    )
    return head + "".join(rows) + "</table>"


def kept_html(session: Session) -> str:
    if not session.kept:
        return "<p class='br-small'>Keep a scenario to compare it here with the others the room tries.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(k.name)}</td><td>{k.blast_radius:,.1f}</td><td>{_n(k.records_p95)}</td>"
        f"<td>{_n(k.people_p95)}</td><td>{_share(k.reduction_share_p95)}</td></tr>"
        for k in session.kept
    )
    return (
        "<table class='br-table br-kept'><tr><th>scenario</th><th>blast radius</th><th>records P95</th>"
        "<th>people P95</th><th>P95 cut</th></tr>" + rows + "</table>"
    )


_CHARTS: dict[int, tuple[Figures, str]] = {}


def _chart(fig: Figures, period: str) -> str:
    """The exceedance curves of ``fig`` (:func:`blastradius.plots.plot_exceedance`) as an <img> of a PNG, drawn once
    per figures (in the thread that computed them, so the page is never kept waiting for a drawing)."""
    hit = _CHARTS.get(id(fig))
    if hit is not None and hit[0] is fig:
        return hit[1]
    import base64

    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.8), dpi=100)
    ax = figure.subplots()
    plot_exceedance(fig.curves, ax=ax, metric="records", title=f"Chance that a {period} exceeds N records")
    for item in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()):
        item.set_fontsize(13)
    ax.legend(frameon=False, fontsize=12)
    figure.subplots_adjust(left=0.11, right=0.98, top=0.9, bottom=0.16)  # fixed: tight_layout would draw it twice
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    img = (
        f"<img src='data:image/png;base64,{data}' style='width:100%;max-width:640px' "
        f"alt='Chance that a {html.escape(period)} exceeds each number of records, per failure class'>"
    )
    if len(_CHARTS) >= 128:
        _CHARTS.clear()
    _CHARTS[id(fig)] = (fig, img)
    return img


@solara.component
def Layout(children: list[Any] = []) -> Any:  # noqa: B006 - Solara's signature
    """No app bar, no side bar: the page is the dashboard."""
    return solara.Column(children=children, style={"padding": "0", "margin": "0"})


@solara.component
def Controls(session: Session, moves: tuple[Move, ...], set_moves: Callable[[tuple[Move, ...]], None]) -> None:
    w = session.workshop
    inv = w.base
    department, set_department = solara.use_state(w.departments()[0] if w.departments() else "")
    plugins = w.plugins_of(department or None)
    plugin, set_plugin = solara.use_state(plugins[0] if plugins else "")
    connector, set_connector = solara.use_state("")
    if plugin not in plugins and plugins:
        plugin = plugins[0]
    current = {m.key: m for m in moves}

    def put(move: Move | None, key: tuple[str, str, str] | None = None) -> None:
        new = dict(current)
        if move is None and key is not None:
            new.pop(key, None)
        elif move is not None:
            new[move.key] = move
        set_moves(tuple(new.values()))

    def toggle_many(many: list[Move]) -> Callable[[bool], None]:
        def toggle(on: bool) -> None:
            new = dict(current)
            for m in many:
                if on:
                    new[m.key] = m
                else:
                    new.pop(m.key, None)
            set_moves(tuple(new.values()))

        return toggle

    def switch(move: Move) -> Callable[[bool], None]:
        return lambda on: put(move if on else None, move.key)

    def amount(kind: MoveKind, target: str, scale: float, *, unset: float = 0) -> Callable[[int], None]:
        def change(v: int) -> None:
            put(Move(kind=kind, target=target, value=v * scale) if v != unset else None, (kind, target, ""))

        return change

    with solara.Column(classes=["br-controls"], gap="2px"):
        solara.Select(label="department", values=w.departments(), value=department, on_value=set_department)
        with solara.Row(gap="6px"):
            for action in actions_of(inv, plugins):
                many = department_moves(inv, department, "gate", action)
                on = bool(many) and all(m.key in current for m in many)
                solara.Checkbox(
                    label=f"gate {action} for {department}",
                    value=on,
                    on_value=toggle_many(many),
                )
        solara.Select(label="plugin", values=plugins, value=plugin, on_value=set_plugin)
        if plugin:
            solara.HTML(tag="b", unsafe_innerHTML="Gate or block a tool of the plugin")
            for selector, label in selectors_of(inv, plugin):
                with solara.Row(gap="4px"):
                    for kind in ("gate", "block"):
                        key = (kind, plugin, selector)
                        solara.Checkbox(
                            label=f"{kind} {label}" if kind == "gate" else "block",
                            value=key in current,
                            on_value=switch(Move(kind=kind, target=plugin, selector=selector)),
                        )
            p = inv.plugin_by_id[plugin]
            solara.HTML(tag="b", unsafe_innerHTML="Its connectors")
            for cid in p.connector_ids:
                conn = inv.connector_by_id[cid]
                if conn.is_read_only:
                    continue
                key = ("read_only", cid, "")
                solara.Checkbox(
                    label=f"{cid} read-only",
                    value=key in current,
                    on_value=switch(Move(kind="read_only", target=cid)),
                )
            choices = list(p.connector_ids)
            chosen = connector if connector in choices else (choices[0] if choices else "")
            if chosen:
                solara.Select(label="connector to scope", values=choices, value=chosen, on_value=set_connector)
                scoped: tuple[tuple[MoveKind, str], ...] = (("row_limit", "row limit"), ("alert", "alert above rows"))
                for scope_kind, label in scoped:
                    key = (scope_kind, chosen, "")
                    now = current.get(key)
                    solara.HTML(tag="div", unsafe_innerHTML=f"{label} on {chosen} (0 = as it is)", classes=["br-label"])
                    solara.SliderInt(
                        label="",
                        value=int(now.value or 0) if now else 0,
                        min=0,
                        max=100_000,
                        step=1_000,
                        thumb_label=True,
                        on_value=amount(scope_kind, chosen, 1.0),
                    )
            key = ("kill_switch", plugin, "")
            now = current.get(key)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"kill switch of {plugin}: minutes to pause (0 = as it is)",
                classes=["br-label"],
            )
            solara.SliderInt(
                label="",
                value=int((now.value or 0) / 60) if now else 0,
                min=0,
                max=240,
                step=5,
                thumb_label=True,
                on_value=amount("kill_switch", plugin, 60.0),
            )
        key = ("catch_rate", "", "")
        now = current.get(key)
        default = w.analysis.assumptions.controls.approval_gate_catch_rate
        solara.HTML(tag="div", unsafe_innerHTML="approval gates catch (%)", classes=["br-label"])
        solara.SliderInt(
            label="",
            value=round((now.value if now and now.value is not None else default) * 100),
            min=0,
            max=100,
            step=5,
            thumb_label=True,
            on_value=amount("catch_rate", "", 0.01, unset=round(default * 100)),
        )


@solara.component
def Page() -> None:
    w = _workshop()
    session = solara.use_memo(lambda: Session(w), [])
    moves, set_moves = solara.use_state(cast(tuple[Move, ...], ()))
    kept_count, set_kept_count = solara.use_state(0)
    name, set_name = solara.use_state("agreed-scenario")
    overwrite, set_overwrite = solara.use_state(False)
    message, set_message = solara.use_state("")
    session.restore(moves)
    key = tuple((*m.key, m.value) for m in moves)

    # one worker per browser computes the newest scenario asked for, stage after stage (Stages), and hands each
    # result over as a new Progress: the page is drawn again at every step, and labels final only the figures of
    # the current scenario from the final trials
    progress, set_progress = solara.use_state(Progress())
    stages = solara.use_memo(lambda: Stages(session, set_progress, draw=lambda fig: _chart(fig, w.period)), [])
    solara.use_effect(lambda: stages.close, [])  # the worker stops with the page
    solara.use_effect(lambda: stages.ask(key, moves), [key])
    newest = progress.figures
    shown_key, shown_moves, fig, chart = newest or (None, (), None, "")
    simulating = newest is None or shown_key != key  # the outlook shown is of the scenario before this change
    current = not simulating and fig is not None and fig.final
    scores, ranked_key = None, None
    if not simulating and fig is not None:
        scores, ranked_key = fig.scores, key
    elif progress.scores is not None and progress.scores[0] == key:
        scores, ranked_key = progress.scores[1], key
    elif fig is not None:
        scores, ranked_key = fig.scores, shown_key
    failed = progress.error[1] if progress.error is not None and progress.error[0] == key else None

    def keep() -> None:
        if current and fig is not None:
            session.keep(fig, moves=moves)
            set_kept_count(kept_count + 1)

    def save() -> None:
        try:
            path = session.save_overlay(name, overwrite=overwrite)
            set_message(f"saved {path}")
        except Exception as exc:  # shown to the room, who can fix the name
            set_message(f"not saved: {exc}")

    exports, set_exports = solara.use_state(0)

    def export() -> tuple[int, str]:
        if not exports:
            return exports, ""
        try:
            return exports, f"report written: {session.export_report(name)}"
        except Exception as exc:  # shown to the room
            return exports, f"no report: {exc}"

    # judged by the request its value answers, not by Solara's state (which a replaced thread can still change)
    exported = solara.use_thread(export, dependencies=[exports], intrusive_cancel=False)
    answered = exported.value is not None and exported.value[0] == exports
    if not exports:
        report = ""
    elif answered and exported.value is not None:
        report = exported.value[1]
    else:
        report = "building the rollout report of this scenario (a minute or two) ..."

    solara.Style(_CSS)
    solara.Title("blastradius workshop")
    with solara.Column(classes=["br-root"], gap="4px"):
        with solara.Row(justify="space-between", style={"align-items": "center"}):
            solara.HTML(tag="p", unsafe_innerHTML=f"Workshop: {html.escape(w.name)}", classes=["br-title"])
            if fig is not None:
                state = "final" if current else "provisional"
                if state == "final":
                    label = f"final: {fig.trials:,} trials, seed {fig.seed}"
                elif simulating:
                    label = f"blast radius updated — simulating the outlook ({w.quick_trials:,} trials first)"
                else:
                    label = f"provisional ({fig.trials:,} trials) — refining to {w.trials:,}"
                solara.HTML(
                    tag="span",
                    unsafe_innerHTML=html.escape(label),
                    classes=["br-status", f"br-{state}"],
                    attributes={"data-state": state, "data-key": repr(shown_key)},
                )
        if failed is not None:
            solara.HTML(
                tag="p",
                unsafe_innerHTML=html.escape(f"That change cannot be made: {failed}. Undo it to go on."),
                classes=["br-sentence", "br-error"],
            )
        elif fig is None:
            solara.HTML(tag="p", unsafe_innerHTML="Simulating the starting inventory ...", classes=["br-sentence"])
        else:
            solara.HTML(
                tag="p", unsafe_innerHTML=html.escape(session.sentence(fig, shown_moves)), classes=["br-sentence"]
            )
        with solara.Columns([3, 6, 4], gutters_dense=True):
            with solara.Column():
                Controls(session, moves, set_moves)
            with solara.Column(classes=["br-panel"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Blast radius of the plugins (capability × reach × autonomy)")
                if scores is not None:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=ranking_html(scores, w.base_scores),
                        attributes={"data-ranked": repr(ranked_key)},
                    )
                solara.HTML(
                    tag="h3", unsafe_innerHTML=f"Outlook per {html.escape(w.period)}, with 95% Monte Carlo intervals"
                )
                if fig is not None:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=outlook_html(fig, w.period),
                        classes=["br-stale"] if simulating else [],
                    )
            with solara.Column(classes=["br-panel"]):
                if chart:
                    solara.HTML(tag="div", unsafe_innerHTML=chart, classes=["br-stale"] if simulating else [])
                solara.HTML(tag="h3", unsafe_innerHTML="Scenarios the room kept")
                solara.HTML(tag="div", unsafe_innerHTML=kept_html(session))
                if session.kept:
                    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
                        solara.HTML(tag="span", unsafe_innerHTML="show again:", classes=["br-small"])
                        for kept in session.kept:
                            solara.Button(kept.name, on_click=lambda kept=kept: set_moves(kept.moves), small=True)
                with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                    solara.Button("Keep this scenario", on_click=keep, color="primary", disabled=not current)
                    solara.Button("Start over", on_click=lambda: set_moves(()))
                with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                    solara.InputText("scenario name", value=name, on_value=set_name)
                    solara.Checkbox(label="overwrite", value=overwrite, on_value=set_overwrite)
                with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                    solara.Button("Save as overlay", on_click=save, color="primary", disabled=not moves)
                    solara.Button(
                        "Export rollout report", on_click=lambda: set_exports(exports + 1), disabled=not moves
                    )
                if message:
                    solara.HTML(tag="p", unsafe_innerHTML=html.escape(message), classes=["br-message", "br-saved"])
                if report:
                    solara.HTML(tag="p", unsafe_innerHTML=html.escape(report), classes=["br-message", "br-report"])
