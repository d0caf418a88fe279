"""Reading figures off a simulation: the summaries' time and memory, against the plain numpy way in the same run.

Run from the repository root:

    .venv/bin/python benchmarks/summaries.py [--inventory inventories/acme] [--trials 10000]

Simulates the inventory once (``--seed``), then times each summary the commands print or the
report reads: best wall time and CPU time (summed over threads) of ``--repeat`` calls, and the
peak memory traced during one call (tracemalloc: every numpy array; the compiled reductions'
few scratch buffers of a few MB are not traced). Beside each, a naive baseline measured in the
same run: the dense ``(trials, plugins, classes)`` arrays, numpy sums, a cap at each level and
``np.quantile`` / ``np.sort`` along the trials, as plain numpy code would do it; it checks that
both give the same figures (every float equal) and prints the speed-up.

The large synthetic enterprise (2,000 plugins; ``blastradius synth --people 50000 --plugins 2000
--connectors 500 --systems 300 --datasets 20000 --seed 1``, generated outside the repository):

    .venv/bin/python benchmarks/summaries.py --inventory /tmp/large --trials 10000 --naive-repeat 1

Figures go to benchmarks/README.md ("Summaries").
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blastradius import load_inventory  # noqa: E402
from blastradius.simulate import (  # noqa: E402
    METRICS,
    SimulationResult,
    compare_results,
    exceedance_by_class,
    simulate_failures,
    summarize,
)

QUANTILES = [0.5, 0.9, 0.95, 0.99]
Z = 1.959963984540054


# --- the naive way: dense arrays, numpy along the trials ----------------------------------------------


def naive_totals(r: SimulationResult, metric: str, by: str, classes: list[str] | None = None) -> np.ndarray:
    """``(trials, groups)`` totals from the dense arrays, capped at each level."""
    if metric.endswith("_recoverable"):
        field = metric.removesuffix("_recoverable")
        return naive_totals(r, field, by, classes) - naive_totals(r, f"{field}_permanent", by, classes)
    mask = np.isin(np.array(r.classes), classes if classes is not None else r.classes)
    per_plugin = r.metric(metric)[:, :, mask].astype(np.float64).sum(axis=2)
    ceiling = {"records": 0, "people": 1}.get(metric.split("_")[0])
    if ceiling is not None:
        per_plugin = np.minimum(per_plugin, [r.reachable([i])[ceiling] for i in range(len(r.plugins))])
    if by == "plugin":
        return per_plugin
    departments = sorted(set(r.departments))
    per_department = np.zeros((r.trials, len(departments)))
    for j, name in enumerate(departments):
        index = np.array([i for i, d in enumerate(r.departments) if d == name], dtype=int)
        per_department[:, j] = per_plugin[:, index].sum(axis=1)
        if ceiling is not None:
            per_department[:, j] = np.minimum(per_department[:, j], r.reachable(index)[ceiling])
    if by == "department":
        return per_department
    total = per_department.sum(axis=1)
    if ceiling is not None:
        total = np.minimum(total, r.reachable()[ceiling])
    return total[:, None]


def naive_stats(values: np.ndarray, intervals: bool) -> dict[str, np.ndarray]:
    n = values.shape[0]
    qs = np.quantile(values, QUANTILES, axis=0)
    out = {"mean": values.mean(axis=0)} | {f"p{round(q * 100)}": qs[i] for i, q in enumerate(QUANTILES)}
    if intervals:
        ordered = np.sort(values, axis=0)
        half = Z * values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(values.shape[1], math.inf)
        out["mean_low"], out["mean_high"] = out["mean"] - half, out["mean"] + half
        for q in QUANTILES:
            spread = Z * math.sqrt(n * q * (1 - q))
            lo = int(min(max(math.floor(n * q - spread) - 1, 0), n - 1))
            hi = int(min(max(math.ceil(n * q + spread), 0), n - 1))
            out[f"p{round(q * 100)}_low"], out[f"p{round(q * 100)}_high"] = ordered[lo], ordered[hi]
    return out


def naive_summary(r: SimulationResult, by: str, *, by_class: bool = False, intervals: bool = False) -> dict:
    """Every figure of ``summarize(r, by, ...)`` keyed by (class, metric_stat): arrays in the groups' order."""
    out = {}
    for classes in [[c] for c in r.classes] if by_class else [None]:
        for metric in METRICS:
            for stat, values in naive_stats(naive_totals(r, metric, by, classes), intervals).items():
                out[(classes[0] if classes else None, f"{metric}_{stat}")] = values
    return out


def naive_curves(r: SimulationResult) -> dict:
    out = {}
    for c in r.classes:
        col = np.sort(naive_totals(r, "records", "enterprise", [c])[:, 0])
        grid = np.unique(np.concatenate([[0.0], np.geomspace(1.0, max(float(col[-1]), 1.0), 79)]))
        out[c] = 1.0 - np.searchsorted(col, grid, side="right") / col.shape[0]
    return out


def naive_comparison(a: SimulationResult, b: SimulationResult) -> dict:
    out = {}
    for level in ("plugin", "enterprise"):
        for metric in ("records", "people"):
            for side, r in (("baseline", a), ("controlled", b)):
                stats = naive_stats(naive_totals(r, metric, level), intervals=False)
                out[(level, metric, side)] = np.stack([stats["mean"], stats["p50"], stats["p95"]])
    return out


# --- checks: the fast figures against the naive ones ------------------------------------------------------


def groups_of(r: SimulationResult, by: str) -> list[str]:
    return {"plugin": list(r.plugins), "department": sorted(set(r.departments)), "enterprise": ["enterprise"]}[by]


def same_summary(r: SimulationResult, by: str, df: pd.DataFrame, naive: dict) -> bool:
    labels = groups_of(r, by)
    for (cls, column), expected in naive.items():
        rows = df[df.failure_class == cls] if cls is not None else df
        got = rows.set_index("group").loc[labels, column].to_numpy(dtype=float)
        if not np.array_equal(got, expected):
            return False
    return True


def same_curves(df: pd.DataFrame, naive: dict) -> bool:
    return all(np.array_equal(df[df.group == c].exceedance.to_numpy(), e) for c, e in naive.items())


def same_comparison(a: SimulationResult, df: pd.DataFrame, naive: dict) -> bool:
    for (level, metric, side), expected in naive.items():
        rows = df[(df.level == level) & (df.metric == metric)]
        got = rows[[f"{side}_mean", f"{side}_p50", f"{side}_p95"]].to_numpy(dtype=float).T
        if not np.array_equal(got, expected):
            return False
    return True


# --- timing -------------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of ``repeat`` calls, and the last result."""
    best_wall = best_cpu = math.inf
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, result


def peak_memory(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventories" / "acme"))
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="calls of each summary; the best is kept")
    parser.add_argument("--naive-repeat", type=int, default=1, help="calls of each naive baseline (0: none)")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}; load average {os.getloadavg()[0]:.1f}"
    )
    inventory = load_inventory(args.inventory)
    start = time.perf_counter()
    r = simulate_failures(inventory, trials=args.trials, seed=args.seed)
    print(
        f"{args.inventory}: {len(r.plugins):,} plugins, {args.trials:,} trials simulated in "
        f"{time.perf_counter() - start:.1f} s; the result holds {r.nbytes / 2**20:,.0f} MiB\n"
    )
    # the compiled reductions, from numba's cache or compiled now: not part of any timing
    summarize(r, "department", by_class=True, intervals=True)

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[Any, Any], bool]]] = [
        (
            'summarize(r, "plugin")',
            lambda: summarize(r, "plugin"),
            lambda: naive_summary(r, "plugin"),
            lambda df, naive: same_summary(r, "plugin", df, naive),
        ),
        (
            'summarize(r, "enterprise", by_class=True)',
            lambda: summarize(r, "enterprise", by_class=True),
            lambda: naive_summary(r, "enterprise", by_class=True),
            lambda df, naive: same_summary(r, "enterprise", df, naive),
        ),
        (
            'summarize(r, "enterprise", intervals=True)',
            lambda: summarize(r, "enterprise", intervals=True),
            lambda: naive_summary(r, "enterprise", intervals=True),
            lambda df, naive: same_summary(r, "enterprise", df, naive),
        ),
        (
            'summarize(r, "department")',
            lambda: summarize(r, "department"),
            lambda: naive_summary(r, "department"),
            lambda df, naive: same_summary(r, "department", df, naive),
        ),
        (
            'exceedance_by_class(r, "records")',
            lambda: exceedance_by_class(r, "records"),
            lambda: naive_curves(r),
            same_curves,
        ),
        (
            'compare_results(r, r, by=("plugin", "enterprise"))',
            lambda: compare_results(r, r, by=("plugin", "enterprise")),
            lambda: naive_comparison(r, r),
            lambda df, naive: same_comparison(r, df, naive),
        ),
    ]
    header = f"{'summary':52s} {'wall s':>7s} {'CPU s':>6s} {'peak MiB':>8s}"
    if args.naive_repeat:
        header += f" | {'naive s':>7s} {'peak MiB':>8s} {'speed-up':>8s}  same figures"
    print(header)
    printed = {name for name, *_ in cases[:3]}  # what `blastradius simulate` prints
    totals = [0.0, 0.0]
    for name, fast, naive, same in cases:
        wall, cpu, got = timed(fast, args.repeat)
        peak = peak_memory(fast) / 2**20
        line = f"{name:52s} {wall:7.2f} {cpu:6.2f} {peak:8.0f}"
        if args.naive_repeat:
            naive_wall, _, expected = timed(naive, args.naive_repeat)
            naive_peak = peak_memory(naive) / 2**20
            line += f" | {naive_wall:7.2f} {naive_peak:8.0f} {naive_wall / wall:7.1f}x  " + (
                "yes" if same(got, expected) else "NO"
            )
            totals[1] += naive_wall if name in printed else 0.0
        totals[0] += wall if name in printed else 0.0
        print(line, flush=True)
    print(
        f"\nthe three summaries `blastradius simulate` prints: {totals[0]:.2f} s"
        + (f" (naive: {totals[1]:.2f} s)" if args.naive_repeat else "")
        + f"; peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} "
        + "GiB"
    )


if __name__ == "__main__":
    main()
