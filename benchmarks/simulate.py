"""Failure-simulation throughput and memory, against a naive baseline measured in the same run.

Run from the repository root:

    .venv/bin/python benchmarks/simulate.py [--inventory inventories/acme] [--naive-trials 200]

Prints, for the inventory (every plugin and failure class; inventories/acme by default):

1. wall time and compute time (CPU seconds, summed over the kernel's threads) of
   ``simulate_failures`` at several trial counts, best of three, and trials per second;
2. peak memory during a run (tracemalloc: every numpy array) at the same trial counts, and the
   bytes per trial × plugin, which should stay flat (memory linear in trials × plugins);
3. a naive baseline, measured in the same run: the same model written as a Python loop over
   trials, paths and events (one draw at a time, as riskquant-style code does), on fewer
   trials, scaled to 10,000, and the speed ratio; its mean incidents per period are printed
   next to the vectorised ones as a check that both simulate the same thing.

Figures go to benchmarks/README.md ("Simulation").
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numba
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blastradius import load_inventory  # noqa: E402
from blastradius.simulate import (  # noqa: E402
    FAILURE_MODES,
    Assumptions,
    failure_paths,
    load_assumptions,
    simulate_failures,
    summarize,
)

TRIALS = (1_000, 2_000, 5_000, 10_000, 20_000)


def timed(fn, repeat: int = 3) -> tuple[float, float, object]:
    """Best CPU and wall seconds of ``repeat`` calls, and the last result."""
    best_cpu = best_wall = math.inf
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall, result


def peak_memory(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def naive(paths: pd.DataFrame, assumptions: Assumptions, trials: int, seed: int) -> np.ndarray:
    """The same model, the slow way: a Python loop over trials, then paths, then events and faults.

    Returns the incidents per trial (all plugins and classes) as a check.
    """
    rng = np.random.default_rng(seed)
    plugins = {p: (assumptions.for_plugin(p), df) for p, df in paths.groupby("plugin", sort=False)}
    incidents = np.zeros(trials)
    for t in range(trials):
        z = rng.standard_normal(4)
        for a, df in plugins.values():
            rates = {c: float(getattr(a.failure_rates, c).draw(z[j])) for j, c in enumerate(FAILURE_MODES[:3])}
            onsets = float(a.systematic.onsets_per_period.draw(z[3]))
            d = a.detection
            hours = assumptions.period.hours
            for row in df.itertuples():
                q = a.magnitude.full_share(row.failure_class)
                fixed = row.failure_class == "wrong_output"
                harmless = row.records_bound <= 0 and row.people_bound <= 0
                records = people = 0.0
                for _ in range(rng.poisson(row.runs_per_period * rates[row.failure_class])):
                    if rng.random() < row.catch_rate or rng.random() >= row.escape_rate or harmless:
                        continue
                    v = 1.0 if fixed or q >= 1 else min(rng.random() / (1 - q), 1.0)
                    records += row.records_bound**v if row.records_bound > 1 else row.records_bound
                    people += row.people_bound**v if row.people_bound > 1 else row.people_bound
                    rng.random()  # recovered or not
                    incidents[t] += 1
                records, people = min(records, row.records_cap), min(people, row.people_cap)
                for _ in range(rng.poisson(onsets) if row.runs_per_period > 0 else 0):
                    if harmless:
                        continue
                    v = 1.0 if fixed or q >= 1 else min(rng.random() / (1 - q), 1.0)
                    m_r = row.records_bound**v if row.records_bound > 1 else row.records_bound
                    m_p = row.people_bound**v if row.people_bound > 1 else row.people_bound
                    alert = (m_r > row.alert_over_rows or m_p > row.alert_over_sends) and rng.random() < d.alert_fires
                    zt = rng.standard_normal(3)
                    t_detect = min(
                        float(d.alert_response_hours.draw(zt[0])) if alert else math.inf,
                        float(d.audit_review_hours.draw(zt[1])) if row.audit else math.inf,
                        float(d.unaided_hours.draw(zt[2])),
                        hours,
                    )
                    rate = row.runs_per_period / hours * a.systematic.share_of_runs_affected
                    runs = 1 + rng.poisson(rate * t_detect)
                    passed = 0
                    for _ in range(runs):  # run by run until a human check stops one
                        if rng.random() < row.catch_rate:
                            break
                        passed += 1
                    after = rng.poisson(rate * max(min(row.halt_hours, hours - t_detect), 0.0))
                    passed += sum(rng.random() >= row.catch_rate for _ in range(after))
                    damaging = sum(rng.random() < row.escape_rate for _ in range(passed))
                    incidents[t] += damaging > 0
    return incidents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventories" / "acme"))
    parser.add_argument("--naive-trials", type=int, default=200)
    parser.add_argument(
        "--trials",
        type=lambda text: [int(x) for x in text.split(",")],
        default=list(TRIALS),
        help="trial counts, comma-separated (default: %(default)s)",
    )
    args = parser.parse_args()

    inv = load_inventory(args.inventory)
    paths = failure_paths(inv)
    print("Failure simulation benchmark")
    print(f"  machine   {platform.machine()}, nproc {os.cpu_count()}, {platform.system()} {platform.release()}")
    print(
        f"  python    {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads)"
    )
    print(
        f"  inventory {args.inventory}: {len(inv.plugins)} plugins, {len(paths)} failure paths, "
        f"{len(FAILURE_MODES)} classes, "
        f"{paths.groupby('plugin').runs_per_period.first().sum():,.0f} runs per period"
    )
    w0 = time.perf_counter()
    simulate_failures(inv, trials=200, seed=0)  # loads the compiled kernel (compiles it on a first run)
    print(f"  first call (200 trials, loading or compiling the kernel): {time.perf_counter() - w0:.2f} s")

    print("\nThroughput (best of 3)")
    print(
        f"  {'trials':>7}  {'wall s':>7}  {'compute s':>9}  {'trials/s':>9}  {'peak MiB':>8}  "
        f"{'bytes/(trial*plugin)':>20}"
    )
    rows = {}
    for trials in args.trials:
        cpu, wall, result = timed(lambda trials=trials: simulate_failures(inv, trials=trials, seed=1))
        peak = peak_memory(lambda trials=trials: simulate_failures(inv, trials=trials, seed=1))
        rows[trials] = (cpu, wall, result)
        print(
            f"  {trials:>7,}  {wall:>7.3f}  {cpu:>9.3f}  {trials / wall:>9,.0f}  {peak / 2**20:>8.1f}  "
            f"{peak / (trials * len(inv.plugins)):>20,.0f}"
        )
    top = max(rows)
    wall_top = rows[top][1]

    n = args.naive_trials
    c0 = time.process_time()
    slow = naive(paths, load_assumptions(inventory=inv), n, seed=1)
    naive_cpu = time.process_time() - c0
    per_trial = naive_cpu / n
    fast = rows[top][2].incidents.sum(axis=(1, 2))
    print(f"\nNaive baseline (Python loop over trials, paths and events), {n} trials")
    print(
        f"  compute {naive_cpu:.2f} s = {per_trial * 1e3:.1f} ms per trial "
        f"-> {per_trial * top:,.0f} s for {top:,} trials"
    )
    print(f"  kernel: {wall_top / top * 1e3:.4f} ms per trial (wall); speed ratio {per_trial * top / wall_top:,.0f}x")
    print(
        f"  mean incidents per period: naive {slow.mean():,.0f} (± {2 * slow.std(ddof=1) / math.sqrt(n):,.0f}), "
        f"kernel {fast.mean():,.0f} (± {2 * fast.std(ddof=1) / math.sqrt(fast.size):,.0f})"
    )

    ent = summarize(rows[top][2], by="enterprise").iloc[0]
    print(f"\nEnterprise figures per period ({top:,} trials, seed 1)")
    for metric in ("records", "people", "incidents"):
        print(
            f"  {metric:<9}  mean {ent[f'{metric}_mean']:>14,.0f}  P50 {ent[f'{metric}_p50']:>14,.0f}  "
            f"P95 {ent[f'{metric}_p95']:>14,.0f}  P99 {ent[f'{metric}_p99']:>14,.0f}"
        )


if __name__ == "__main__":
    main()
