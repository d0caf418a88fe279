"""Observed against modelled, per plugin: the calibration table drawn (needs the ``report`` extra).

Drawing never computes: :func:`plot_calibration` takes the calibration table
(:meth:`blastradius.calibrate.Calibration.table`, or
:func:`blastradius.calibrate.appendix`), draws on ``ax`` (a new figure when
None) and returns the Axes; matplotlib is imported inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from blastradius.plots import OKABE_ITO, _ax, _of, _plain_text

__all__ = ["plot_calibration"]

_LABELS = {
    "runs_per_user_per_day": "runs/user/day",
    "approval_gate_catch_rate": "gate catch",
    "data_leakage_full_share": "reads at bound",
    "wrong_action_full_share": "sends at bound",
}


@_plain_text
def plot_calibration(table: pd.DataFrame, ax: Any = None, *, top: int | None = 20) -> Any:
    """Each calibrated setting as calibrated over modelled (log scale): a dot for the estimate, a bar for its interval.

    A setting at 1× is where the logs agree with the model; right of it the
    logs show more (more runs, more rejections, more calls at the bound) than
    the model assumed, left of it less. Only settings with events behind them
    and a modelled figure above 0 are drawn, the largest moves first.
    """
    table = table.assign(  # a CSV reads "" back as a missing value
        setting=table["setting"].astype(object).where(table["setting"].notna(), ""),
        team=table["team"].astype(object).where(table["team"].notna(), ""),
    )
    df = table[(table["setting"] != "") & (table["events"] > 0) & (table["prior"] > 0)].copy()
    df["ratio"] = df["estimate"] / df["prior"]
    df["size"] = np.abs(np.log(df["ratio"].clip(lower=1e-12)))
    df = df.sort_values("size", ascending=False)
    total = len(df)
    df = df.head(top) if top else df
    ax = _ax(ax, (9, 0.32 * max(len(df), 1) + 1.8))
    if df.empty:
        ax.text(0.5, 0.5, "no setting has events behind it", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(df))[::-1]
    low = (df["low"] / df["prior"]).to_numpy(dtype=float)
    high = (df["high"] / df["prior"]).to_numpy(dtype=float)
    mid = df["ratio"].to_numpy(dtype=float)
    ax.hlines(y, low, high, color=OKABE_ITO["blue"], linewidth=3, alpha=0.6, label="interval")
    ax.plot(mid, y, "o", color=OKABE_ITO["vermillion"], label="calibrated")
    ax.axvline(1.0, color="#555555", linestyle="--", linewidth=1, label="as modelled")
    labels = [
        f"{p}{' / ' + t if t else ''}: {_LABELS.get(q, q)} ({n:,} events)"
        for p, t, q, n in zip(df["plugin"], df["team"], df["quantity"], df["events"], strict=True)
    ]
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    # plain figures: the default ticks are mathtext, which these charts show literally
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("calibrated ÷ modelled (log scale)")
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"What the logs say against the model: {_of(len(df), total, 'settings')}, largest move first")
    return ax
