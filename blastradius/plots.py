"""Plots for notebooks and the rollout report: each takes data already computed and an ``ax``.

Drawing never computes: every function takes the DataFrame an analysis
returned (scores, exceedance curves, recommendations, findings) or the graph,
draws on ``ax`` (a new figure when None) and returns the Axes. matplotlib is
imported inside the functions, never at import, and nothing here calls
``show()`` or ``savefig()``. Needs the ``report`` extra
(``pip install 'blastradius[report]'``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from blastradius.errors import BlastRadiusError, import_extra

__all__ = [
    "CLASS_COLORS",
    "CLASS_SHORT",
    "OKABE_ITO",
    "RANGE_COLORS",
    "plot_controls",
    "plot_exceedance",
    "plot_factor_heatmap",
    "plot_factors",
    "plot_findings",
    "plot_graph",
    "plot_recommendations",
    "plot_scores",
    "tornado",
]

#: The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"): eight colours told apart with any colour
#: vision. Every plot draws from it, and where a colour carries meaning a label, a marker or a line style
#: carries it too.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
#: One colour per failure class, used by every plot.
CLASS_COLORS = {
    "wrong_action": OKABE_ITO["vermillion"],
    "data_leakage": OKABE_ITO["blue"],
    "wrong_output": OKABE_ITO["orange"],
    "systematic": OKABE_ITO["reddish purple"],
}
#: A short name per failure class, written inside each bar segment wide enough to hold it, so that bars
#: differ without colour too (a label rather than a hatch pattern: browsers print patterns as large images).
CLASS_SHORT = {"wrong_action": "action", "data_leakage": "leak", "wrong_output": "output", "systematic": "fault"}
#: A line style per failure class, so that curves differ without colour too.
CLASS_LINES = {"wrong_action": "-", "data_leakage": "--", "wrong_output": "-.", "systematic": ":"}
_LABELS = {
    "wrong_action": "wrong action",
    "data_leakage": "data leakage",
    "wrong_output": "wrong output",
    "systematic": "systematic fault",
}
#: The two ends of an assumption's range in :func:`tornado`: blue and orange of the Okabe-Ito palette,
#: told apart with any colour vision.
RANGE_COLORS = {"low": "#0072B2", "high": "#E69F00"}
SEVERITY_COLORS = {
    "critical": OKABE_ITO["vermillion"],
    "high": OKABE_ITO["orange"],
    "medium": OKABE_ITO["yellow"],
    "low": OKABE_ITO["sky blue"],
    "info": "#BBBBBB",
}
#: Text colour that reads on each fill above (white on the dark ones, black on the light ones).
_INK = {OKABE_ITO["vermillion"]: "white", OKABE_ITO["blue"]: "white", OKABE_ITO["reddish purple"]: "white"}
#: Colour and marker of each factor a control lowers (plot_controls).
FACTOR_STYLES = {
    "autonomy": (OKABE_ITO["bluish green"], "o", "approval gate (autonomy)"),
    "reach": (OKABE_ITO["blue"], "s", "scope: rows, columns, tables, split (reach)"),
    "capability": (OKABE_ITO["vermillion"], "^", "read-only, block, remove (capability)"),
}


def _of(shown: int, total: int, noun: str) -> str:
    """' (the 20 widest of 2,000 plugins)' when a chart shows a subset, else ' (all 18 plugins)'."""
    return f"all {total:,} {noun}" if shown >= total else f"the {shown:,} of {total:,} {noun}"


def _plt() -> Any:
    return import_extra("matplotlib.pyplot", extra="report", purpose="plotting")


def _plain_text(draw: Callable[..., Any]) -> Callable[..., Any]:
    """``draw`` with every text it creates taken literally: a name like ``$\\undefined{x}$`` from an
    inventory is shown as written, never parsed as mathtext (which would fail, or render markup)."""

    @functools.wraps(draw)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with _plt().rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return wrapped


def _label_segments(ax: Any, bars: Any, text: str, color: str) -> None:
    """Write ``text`` inside every bar of ``bars`` (one ``barh`` call) that is wide enough to hold it.

    Where colour tells stacked segments apart, the segment's name says it too, for readers who cannot tell
    the colours apart and for print in black and white.
    """
    fig = ax.figure
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    low, high = ax.get_xlim()
    span = max(high - low, 1e-12)
    need_pt = (len(text) + 1) * 10 * 0.6  # 10-point text, about 0.6 em per character
    ink = _INK.get(color, "black")
    for bar in bars:
        if bar.get_width() / span * width_pt >= need_pt:
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_y() + bar.get_height() / 2,
                text,
                ha="center",
                va="center",
                fontsize=10,
                color=ink,
            )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _plain_ticks(axis: Any) -> None:
    """Tick labels of a log axis as plain figures (1, 10, 100, 1,000, 10k, 1M): matplotlib's default writes
    mathtext, which the charts show literally (they never parse mathtext; see :func:`_plain_text`)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
    axis.set_minor_formatter(NullFormatter())


def _ax(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    _, ax = _plt().subplots(figsize=size, layout="constrained")
    return ax


@_plain_text
def plot_scores(scores: pd.DataFrame, ax: Any = None, *, top: int | None = 20) -> Any:
    """Ranked blast radius per plugin, stacked by failure class (the frame of ``score_plugins``)."""
    df = scores.head(top) if top else scores
    ax = _ax(ax, (9, 0.3 * len(df) + 1.6))
    y = np.arange(len(df))[::-1]
    left = np.zeros(len(df))
    drawn = []
    for cls in ("wrong_action", "data_leakage", "wrong_output"):
        values = df[cls].to_numpy(dtype=float)
        bars = ax.barh(
            y,
            values,
            left=left,
            color=CLASS_COLORS[cls],
            edgecolor="white",
            linewidth=0.5,
            label=_LABELS[cls],
            height=0.7,
        )
        drawn.append((bars, CLASS_SHORT[cls], CLASS_COLORS[cls]))
        left += values
    for bars, text, color in drawn:
        _label_segments(ax, bars, text, color)
    ax.set_yticks(y, df["plugin"])
    ax.set_xlabel("blast-radius score of one bad run (capability × reach × autonomy)")
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Blast radius by plugin: {_of(len(df), len(scores), 'plugins')}, widest first")
    return ax


@_plain_text
def plot_factors(scores: pd.DataFrame, axes: Sequence[Any] | None = None, *, top: int | None = 20) -> Sequence[Any]:
    """The three factors side by side: capability, reach (records and people, log scale), autonomy."""
    df = scores.head(top) if top else scores
    if axes is None:
        _, axes = _plt().subplots(1, 3, figsize=(12, 0.35 * len(df) + 1.5), sharey=True, layout="constrained")
    y = np.arange(len(df))[::-1]
    axes[0].barh(y, df["capability"], color="#34495e", height=0.7)
    axes[0].set_title("capability")
    axes[0].set_yticks(y, df["plugin"])
    axes[1].barh(
        y + 0.18, np.log10(1 + df["reach_records"].astype(float)), color="#2980b9", height=0.35, label="records"
    )
    axes[1].barh(y - 0.18, np.log10(1 + df["reach_people"].astype(float)), color="#16a085", height=0.35, label="people")
    axes[1].set_title("reach (orders of magnitude)")
    axes[1].set_xlabel("log10(1 + count)")
    axes[1].legend(frameon=False, loc="lower right")
    axes[2].barh(y, df["autonomy"], color="#d35400", height=0.7)
    axes[2].set_xlim(0, max(1.0, float(df["autonomy"].max()) if len(df) else 1.0))
    axes[2].set_title("autonomy (actions with no human)")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return axes


@_plain_text
def plot_factor_heatmap(scores: pd.DataFrame, ax: Any = None, *, top: int | None = 30) -> Any:
    """Capability, reach and autonomy of each plugin as a heat map, each column scaled to its maximum."""
    df = scores.head(top) if top else scores
    columns = {
        "capability": df["capability"].astype(float),
        "records (log)": np.log10(1 + df["reach_records"].astype(float)),
        "people (log)": np.log10(1 + df["reach_people"].astype(float)),
        "autonomy": df["autonomy"].astype(float),
        "blast radius": df["blast_radius"].astype(float),
    }
    raw = np.column_stack([np.asarray(v) for v in columns.values()])
    peak = raw.max(axis=0)
    scaled = np.divide(raw, peak, out=np.zeros_like(raw), where=peak > 0)
    ax = _ax(ax, (8.5, 0.36 * len(df) + 1.8))
    image = ax.imshow(scaled, aspect="auto", cmap="cividis_r", vmin=0, vmax=1)
    ax.set_xticks(range(len(columns)), list(columns), rotation=30, ha="right")
    ax.set_yticks(range(len(df)), df["plugin"])
    for i in range(raw.shape[0]):
        for j in range(raw.shape[1]):
            value = raw[i, j]
            text = f"{value:.2f}" if list(columns)[j] == "autonomy" else f"{value:.1f}"
            ax.text(
                j, i, text, ha="center", va="center", fontsize=10, color="white" if scaled[i, j] > 0.55 else "black"
            )
    ax.figure.colorbar(image, ax=ax, label="share of the column's highest value", shrink=0.6)
    ax.set_title(f"Capability, reach and autonomy: {_of(len(df), len(scores), 'plugins')}")
    return ax


@_plain_text
def plot_exceedance(curves: pd.DataFrame, ax: Any = None, *, metric: str = "records", title: str | None = None) -> Any:
    """Loss-exceedance curves (``exceedance_curve`` frames): chance that a period exceeds each value.

    ``curves`` has ``group``, ``value`` and ``exceedance``; one line per group
    (failure classes take their colour when the groups are class names).
    """
    ax = _ax(ax, (8, 4.5))
    for group, g in curves.groupby("group", sort=False):
        g = g[g["value"] > 0]
        if g.empty:
            continue
        ax.step(
            g["value"],
            g["exceedance"],
            where="post",
            label=_LABELS.get(str(group), str(group)),
            color=CLASS_COLORS.get(str(group)),
            ls=CLASS_LINES.get(str(group), "-"),
            lw=2,
        )
    ax.set_xscale("log")
    _plain_ticks(ax.xaxis)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"{metric} affected in the period (log scale)")
    ax.set_ylabel("chance of exceeding")
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False)
    ax.set_title(title or f"Loss exceedance: {metric}")
    return ax


@_plain_text
def plot_recommendations(recs: pd.DataFrame, ax: Any = None, *, top: int = 10) -> Any:
    """Blast radius before → after each recommended lever (the frame of ``recommend``)."""
    df = recs.head(top)
    ax = _ax(ax, (9, 0.45 * len(df) + 1.5))
    y = np.arange(len(df))[::-1]
    from matplotlib.patches import Patch

    ax.barh(y, df["before"], color="#DDDDDD", height=0.7)
    colors = df["factor"].map({f: style[0] for f, style in FACTOR_STYLES.items()}).fillna("#999999")
    ax.barh(y, df["after"], color=colors, height=0.7)
    labels = [lv if len(lv) <= 70 else lv[:67] + "…" for lv in df["lever"]]
    ax.set_yticks(y, labels, fontsize=10)
    for yi, (before, after) in zip(y, zip(df["before"], df["after"], strict=True), strict=True):
        ax.text(before, yi, f"  −{(before - after) / before:.0%}" if before else "", va="center", fontsize=10)
    ax.set_xlabel("blast-radius score: grey before, coloured after the control")
    present = [f for f in FACTOR_STYLES if f in set(df["factor"])]
    ax.legend(
        handles=[Patch(color=FACTOR_STYLES[f][0], label=FACTOR_STYLES[f][2]) for f in present],
        frameon=False,
        loc="lower right",
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"What each control buys: {_of(len(df), len(recs), 'controls')}")
    return ax


@_plain_text
def plot_controls(options: pd.DataFrame, ax: Any = None, *, label: int = 6, tried: int | None = None) -> Any:
    """Risk removed against collateral, one point per control; the Pareto front joined and labelled.

    ``options`` is :func:`blastradius.decision.control_options`: ``risk_removed_pct`` (share of the enterprise
    score), ``uses_lost``, ``factor``, ``on_front`` and ``control``. The x axis is symmetric-log, so controls
    that lose nothing (0) and those that lose hundreds of uses both show. Marker shape and colour both give
    the kind of control; the front is drawn filled, the rest hollow.
    """
    from matplotlib.lines import Line2D

    ax = _ax(ax, (9, 5.2))
    if options.empty:
        ax.text(0.5, 0.5, "no control removes any risk", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    for factor, (color, marker, _) in FACTOR_STYLES.items():
        g = options[options["factor"] == factor]
        rest, front = g[~g["on_front"]], g[g["on_front"]]
        ax.scatter(
            rest["uses_lost"],
            rest["risk_removed_pct"],
            marker=marker,
            s=34,
            facecolors="none",
            edgecolors=color,
            linewidths=1.0,
            alpha=0.7,
            zorder=2,
        )
        ax.scatter(
            front["uses_lost"],
            front["risk_removed_pct"],
            marker=marker,
            s=70,
            color=color,
            edgecolors="black",
            linewidths=0.8,
            zorder=4,
        )
    front = options[options["on_front"]].sort_values("uses_lost")
    ax.step(front["uses_lost"], front["risk_removed_pct"], where="post", color="black", lw=1, ls="--", zorder=3)
    named = front.head(label)
    for k, row in enumerate(named.itertuples(), start=1):
        # a number beside the point, its control in the key below: names written on the chart run into each
        # other and into the front's line
        ax.annotate(
            str(k),
            (row.uses_lost, row.risk_removed_pct),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=10,
            fontweight="bold",
            zorder=5,
        )
    ax.set_xscale("symlog", linthresh=1)
    _plain_ticks(ax.xaxis)
    ax.set_xlim(left=-0.3)
    ax.set_ylim(bottom=0, top=max(float(options["risk_removed_pct"].max()) * 1.1, 1.0))
    ax.set_xlabel("uses lost: tool uses stopped + tables and recipient lists no longer reachable (symlog)")
    ax.set_ylabel("risk removed (% of enterprise score)")
    handles = [
        Line2D([], [], marker=m, color="none", markerfacecolor=c, markeredgecolor="black", markersize=8, label=w)
        for c, m, w in FACTOR_STYLES.values()
    ]
    handles.append(Line2D([], [], color="black", ls="--", lw=1, label="Pareto front (filled)"))
    ax.add_artist(ax.legend(handles=handles, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2))
    if len(named):
        more = len(front) - len(named)
        keys = [
            Line2D([], [], color="none", label=f"{k}  {_clip(str(c), 90)}")
            for k, c in enumerate(named["control"], start=1)
        ]
        if more:
            keys.append(Line2D([], [], color="none", label=f"and {more:,} more on the front: see the table"))
        ax.legend(
            handles=keys,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(-0.08, -0.14),
            handlelength=0,
            handletextpad=0,
            title="On the Pareto front, least collateral first",
            alignment="left",
        )
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    tried = len(options) if tried is None else tried
    ax.set_title(
        f"Risk removed against what it costs users: the {len(options):,} controls that remove risk, of {tried:,} tried",
        pad=44,
    )
    return ax


@_plain_text
def plot_findings(findings: pd.DataFrame, ax: Any = None, *, top: int | None = 15) -> Any:
    """Open findings per rule, most first, stacked by severity, each segment named where it fits.

    ``findings`` is the frame of :func:`blastradius.findings.findings_frame`.
    """
    df = findings[~findings["accepted"].astype(bool)] if "accepted" in findings else findings
    order = ["critical", "high", "medium", "low", "info"]
    table = df.groupby(["rule", "severity"]).size().unstack(fill_value=0).reindex(columns=order, fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="mergesort").index]
    shown = table.head(top) if top else table
    ax = _ax(ax, (9, 0.36 * max(len(shown), 3) + 1.8))
    if shown.empty:
        ax.text(0.5, 0.5, "no open findings", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    left = np.zeros(len(shown))
    y = np.arange(len(shown))[::-1]
    present = [s for s in order if shown[s].sum() > 0]
    drawn = []
    for sev in present:
        bars = ax.barh(
            y,
            shown[sev],
            left=left,
            color=SEVERITY_COLORS[sev],
            edgecolor="white",
            linewidth=0.5,
            label=sev,
            height=0.7,
        )
        drawn.append((bars, sev, SEVERITY_COLORS[sev]))
        left += shown[sev].to_numpy()
    ax.set_xlim(0, left.max() * 1.08)  # room for the totals written after each bar
    for bars, text, color in drawn:
        _label_segments(ax, bars, text, color)
    for yi, total in zip(y, left, strict=True):
        ax.text(total, yi, f" {total:,.0f}", va="center", fontsize=10)
    ax.set_yticks(y, shown.index)
    ax.set_xlabel("open findings")
    ax.legend(frameon=False, ncols=len(present), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Open findings by rule: {_of(len(shown), len(table), 'rules')}, most first", pad=26)
    return ax


def _layered_positions(layers: list[list[str]]) -> dict[str, tuple[float, float]]:
    pos = {}
    for x, nodes in enumerate(layers):
        n = len(nodes)
        for i, node in enumerate(nodes):
            pos[node] = (float(x), 1.0 - (i + 0.5) / max(n, 1))
    return pos


@_plain_text
def plot_graph(G: Any, ax: Any = None, *, summary: bool | None = None, max_plugins: int = 30) -> Any:
    """The graph drawn in layers: plugins → connectors → systems → data/people.

    With more than ``max_plugins`` plugins (or ``summary=True``) plugins are
    grouped by department and datasets and people by system, so a large rollout
    reads as a summary instead of a hairball. Edge width grows with how many
    links it stands for; red edges carry an ungated high-impact action.
    """
    plugins = [n for n, d in G.nodes(data=True) if d["kind"] == "plugin"]
    summary = len(plugins) > max_plugins if summary is None else summary
    group: dict[str, str] = {}
    for n, d in G.nodes(data=True):
        kind = d["kind"]
        if kind == "team":
            continue
        if summary and kind == "plugin":
            owner = f"team:{d['owner']}"
            dept = G.nodes[owner]["department"] if owner in G else d["owner"]
            group[n] = f"{dept} plugins"
        elif summary and kind in ("dataset", "people"):
            system = next((u for u in G.predecessors(n) if G.nodes[u]["kind"] == "system"), None)
            label = G.nodes[system]["id"] if system else "?"
            group[n] = f"{label} {'data' if kind == 'dataset' else 'people'}"
        else:
            group[n] = d["label"] if kind != "connector" else d["id"]
    kinds = {"plugin": 0, "connector": 1, "system": 2, "dataset": 3, "people": 3}
    layers: list[list[str]] = [[], [], [], []]
    counts: dict[str, int] = {}
    for n, d in G.nodes(data=True):
        if d["kind"] == "team":
            continue
        g = group[n]
        counts[g] = counts.get(g, 0) + 1
        if g not in layers[kinds[d["kind"]]]:
            layers[kinds[d["kind"]]].append(g)
    for layer in layers:
        layer.sort()
    edges: dict[tuple[str, str], dict[str, float]] = {}
    for u, v, d in G.edges(data=True):
        if G.nodes[u]["kind"] == "team" or d.get("relation") == "describes":
            continue
        key = (group[u], group[v])
        e = edges.setdefault(key, {"n": 0, "hot": 0})
        e["n"] += 1
        if d.get("relation") == "calls" and any(
            t["status"] == "ungated" and t["action"] not in ("read", "write") for t in d.get("tools", [])
        ):
            e["hot"] += 1
    pos = _layered_positions(layers)
    height = max(len(layer) for layer in layers)
    ax = _ax(ax, (13, max(4.0, 0.32 * height + 1.5)))
    top = max((e["n"] for e in edges.values()), default=1)
    for (a, b), e in edges.items():
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.plot(
            [x0, x1],
            [y0, y1],
            color="#c0392b" if e["hot"] else "#aab7b8",
            lw=0.6 + 3.0 * math.sqrt(e["n"] / top),
            alpha=0.8 if e["hot"] else 0.5,
            zorder=1,
        )
    colors = ["#34495e", "#2980b9", "#16a085", "#7f8c8d"]
    for x, layer in enumerate(layers):
        for node in layer:
            px, py = pos[node]
            size = 30 + 8 * math.sqrt(counts[node]) if summary else 40
            ax.scatter([px], [py], s=size, color=colors[x], zorder=2)
            text = f"{node} ({counts[node]})" if summary and counts[node] > 1 else node
            ax.text(
                px + (0.04 if x < 3 else -0.04),
                py,
                text,
                fontsize=7,
                va="center",
                ha="left" if x < 3 else "right",
                zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 0.4},
            )
    for x, title in enumerate(["plugins", "connectors", "systems", "data and people"]):
        ax.text(x, 1.02, title, ha="center", va="bottom", fontsize=10, weight="bold", transform=ax.transData)
    ax.set_xlim(-0.2, 3.2)
    ax.set_ylim(-0.02, 1.08)
    ax.set_axis_off()
    ax.set_title("Who can reach what" + (" (summary: plugins by department, data by system)" if summary else ""))
    return ax


def _short(value: float) -> str:
    """A figure in a few characters: 8,412, 14.1k, 2.83M, 1.2B."""
    for suffix, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= 10 * scale or (suffix != "k" and abs(value) >= scale):
            return f"{value / scale:.3g}{suffix}"
    return f"{value:,.0f}"


def _setting(value: float) -> str:
    return f"{value:,.0f}" if value >= 1_000 and float(value).is_integer() else f"{value:g}"


@_plain_text
def tornado(
    sensitivity: pd.DataFrame,
    ax: Any = None,
    *,
    metric: str | None = None,
    statistic: str | None = None,
    top: int | None = 12,
) -> Any:
    """Which assumptions move a figure most: one bar per assumption, from its low end's figure to its high end's.

    ``sensitivity`` is the frame of :func:`blastradius.simulate.sensitivity`
    (sorted, largest swing first). Each bar starts at the baseline (the
    dashed line, every assumption as it is) and runs to the figure with the
    assumption at the low end of its range (blue) and at the high end
    (orange); where both ends move the figure the same way, the nearer end
    is drawn over the farther one.

    Parameters
    ----------
    metric, statistic : str, optional
        The figure drawn, e.g. ``records`` and ``p95`` (default: the
        table's metric and the statistic it is sorted by).
    top : int, optional
        The assumptions that move it most (default 12; None for all); the
        title says how many there are when some are left out.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    metric = metric or sensitivity.attrs.get("metric", "records")
    statistic = statistic or sensitivity.attrs.get("statistic", "p95")
    name = f"{metric}_{statistic}"
    if f"{name}_swing" not in sensitivity:
        raise BlastRadiusError(f"the sensitivity table has no {metric} at {statistic}: ask sensitivity() for it")
    df = sensitivity.sort_values(f"{name}_swing", ascending=False, kind="mergesort")
    shown = df.head(top) if top else df
    ax = _ax(ax, (9, 0.5 * len(shown) + 2.2))
    if shown.empty:
        ax.text(0.5, 0.5, "no assumption with a range", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    baseline = float(shown[f"{name}_baseline"].iloc[0])
    y = np.arange(len(shown))[::-1]
    for yi, row in zip(y, shown.itertuples(index=False), strict=True):
        ends = [("low", float(getattr(row, f"{name}_at_low"))), ("high", float(getattr(row, f"{name}_at_high")))]
        ends.sort(key=lambda e: -abs(e[1] - baseline))  # the farther end first, the nearer drawn over it
        for end, value in ends:
            ax.barh(yi, value - baseline, left=baseline, height=0.62, color=RANGE_COLORS[end], zorder=2)
        for _, value in ends:
            if value != baseline:
                ax.text(
                    value,
                    yi,
                    f" {_short(value)} ",
                    ha="left" if value > baseline else "right",
                    va="center",
                    fontsize=10,
                    color="#1c2833",
                    zorder=3,
                )
    labels = [
        f"{key}\n{_setting(lo)} → {_setting(hi)}"
        for key, lo, hi in zip(shown["key"], shown["range_low"], shown["range_high"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=10)
    ax.axvline(baseline, color="#1c2833", lw=1, ls="--", zorder=4)
    lo = min(baseline, float(shown[[f"{name}_at_low", f"{name}_at_high"]].min().min()))
    hi = max(baseline, float(shown[[f"{name}_at_low", f"{name}_at_high"]].max().max()))
    pad = 0.12 * (hi - lo) if hi > lo else max(abs(baseline), 1.0) * 0.1
    ax.set_xlim(lo - 1.6 * pad, hi + 1.6 * pad)  # room for the figures beside the bars' ends
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v) if v >= 0 or lo < 0 else ""))
    period = sensitivity.attrs.get("period", "period")
    stat = {"p50": "P50 (typical)", "p95": "P95 (1 in 20)", "p99": "P99 (1 in 100)"}.get(statistic, statistic)
    ax.set_xlabel(f"enterprise {metric} per {period}, {stat}")
    ax.legend(
        handles=[
            Patch(color=RANGE_COLORS["low"], label="assumption at the low end of its range"),
            Patch(color=RANGE_COLORS["high"], label="at the high end"),
            Line2D([], [], color="#1c2833", lw=1, ls="--", label=f"as assumed ({_short(baseline)})"),
        ],
        loc="lower center",  # above the bars, under the title
        bbox_to_anchor=(0.5, 1.0),
        ncols=2,
        frameon=False,
        fontsize=10,
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis="x", alpha=0.3, zorder=0)
    cut = f" (the {len(shown)} of {len(df)} that move it most)" if len(shown) < len(df) else ""
    ax.set_title(f"What the {stat} of {metric} depends on{cut}", fontsize=12, pad=40)
    return ax
