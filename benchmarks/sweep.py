"""Scenario sweeps on Dask: scenarios per second with one and two workers, scaling efficiency, and task overhead.

Run from the repository root:

    .venv/bin/python benchmarks/sweep.py [--acme-trials 10000] [--large-trials 1000] [--skip-large]

Prints, for inventories/acme and the large synthetic enterprise (``blastradius synth --people 50000
--plugins 2000 --connectors 500 --systems 300 --datasets 20000 --seed 1``, written to a temporary
directory):

1. the grid (levers × an assumption's range) and its scenario count;
2. scenarios per second in this process (no Dask), on a local cluster of 1 worker and of 2 workers,
   the cluster's start (processes, imports, the kernel loaded from numba's cache) counted apart;
   and the scaling efficiency, rate(2 workers) / (2 × rate(1 worker));
3. whether every table is identical to the one computed in this process (it must be);
4. the task overhead on a 2-worker cluster: the round trip of an empty task, the cost of sending
   the inventory to every worker once (scatter), and the overhead per task measured on a sweep run
   as one task per scenario against the same sweep in four batches.

Figures go to benchmarks/README.md ("Sweeps").
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blastradius import load_inventory  # noqa: E402
from blastradius.analysis import Analysis  # noqa: E402
from blastradius.sweep import expand_grid, run_sweep  # noqa: E402
from blastradius.sweep.execute import connect, pack, warm_kernel  # noqa: E402


def grid_for(inv: Any, departments: int) -> dict[str, Any]:
    """Gates on the high-impact actions of the first departments, and the wrong-action rate at both ends of its
    range."""
    names = sorted({inv.department_of(p) for p in inv.plugins})
    levers: dict[str, Any] = {
        f"gate-{d}": {"kind": "gate", "department": d, "actions": ["send", "pay", "delete"]}
        for d in names[:departments]
    }
    return {"levers": levers, "assumptions": {"failure_rates.wrong_action": "range"}}


def measure(
    analysis: Analysis, grid: dict[str, Any], trials: int, workers: int | None
) -> tuple[float, float, float, Any]:
    """(cluster start seconds, of which loading the kernel on the slowest worker, scenarios per second once
    started, result)."""
    ready: list[float] = []
    kernel: list[float] = []

    def started(cluster: Any) -> None:
        ready.append(time.perf_counter())
        kernel.append(max(cluster.kernel_seconds.values(), default=0.0))

    start = time.perf_counter()
    result = run_sweep(analysis, grid, trials=trials, seed=1, workers=workers, on_cluster=started)
    end = time.perf_counter()
    began = ready[0] if ready else start
    return began - start, kernel[0] if kernel else 0.0, result.scenarios / (end - began), result


def inventory_run(label: str, analysis: Analysis, grid: dict[str, Any], trials: int) -> dict[str, float]:
    n = len(expand_grid(grid, analysis))
    print(f"\n## {label}: {len(analysis.inventory.plugins):,} plugins; {n} scenarios × {trials:,} trials")
    print(f"grid: {', '.join(grid['levers'])} × failure_rates.wrong_action (as in use, low, high)")
    rows = []
    reference = None
    rates: dict[str, float] = {}
    for name, workers in (("this process", None), ("1 worker", 1), ("2 workers", 2)):
        started, kernel, rate, result = measure(analysis, grid, trials, workers)
        if reference is None:
            reference = result.table
        same = result.table.equals(reference)
        rates[name] = rate
        rows.append(
            {
                "where": name,
                "cluster start s": round(started, 1) if workers else "",
                "of which kernel load s": round(kernel, 2) if workers else "",
                "scenarios/s": round(rate, 3),
                "s per scenario": round(1 / rate, 2),
                "same table": "yes" if same else "NO",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    efficiency = rates["2 workers"] / (2 * rates["1 worker"])
    print(f"scaling efficiency, 2 workers against 1: {efficiency:.0%}")
    return rates


def _unpack_seconds(payload: Any) -> float:
    """On a worker: the seconds to unpack the inventory and build its analysis (once per worker and sweep)."""
    from blastradius.sweep.execute import _unpack

    start = time.perf_counter()
    _unpack(payload)
    return time.perf_counter() - start


def overhead(analysis: Analysis, acme_grid: dict[str, Any], large: Analysis | None) -> None:
    print("\n## Task overhead (local cluster of 2 workers)")
    cluster = connect(workers=2)
    try:
        client = cluster.client
        client.submit(int, 0, pure=False).result()
        start = time.perf_counter()
        for i in range(20):
            client.submit(int, i, pure=False).result()
        print(f"round trip of an empty task, one at a time: {(time.perf_counter() - start) / 20 * 1000:.1f} ms")
        start = time.perf_counter()
        client.gather(client.map(int, range(500), pure=False))
        print(f"500 empty tasks at once: {(time.perf_counter() - start) / 500 * 1000:.2f} ms per task")
        for label, a in (("acme", analysis), ("large enterprise", large)):
            if a is None:
                continue
            start = time.perf_counter()
            payload = pack(a, token=f"bench-{label}", trials=1, seed=1, common_random_numbers=True)
            packed = time.perf_counter() - start
            start = time.perf_counter()
            future = client.scatter(payload, broadcast=True, hash=False)
            future.result()
            sent = time.perf_counter() - start
            unpacked = client.submit(_unpack_seconds, future, pure=False).result()
            print(
                f"the {label} inventory, once per sweep: packed here {packed:.2f} s "
                f"({len(payload.inventory) / 1e6:.1f} MB), sent to both workers {sent:.2f} s, "
                f"unpacked on a worker {unpacked:.2f} s"
            )
            del future
        address = client.scheduler.address
        n = len(expand_grid(acme_grid, analysis))
        timings = {}
        for size in (1, max(1, n // 4)):
            start = time.perf_counter()
            run_sweep(analysis, acme_grid, trials=100, seed=1, scheduler=address, batch_size=size)
            timings[size] = time.perf_counter() - start
        small, big = timings[1], timings[max(1, n // 4)]
        tasks = n - 4
        print(
            f"acme, {n} scenarios of 100 trials: one task per scenario {small:.2f} s, four tasks {big:.2f} s: "
            f"{(small - big) / tasks * 1000:.0f} ms of overhead per extra task"
        )
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--acme-trials", type=int, default=10_000)
    parser.add_argument("--large-trials", type=int, default=1_000)
    parser.add_argument("--skip-large", action="store_true", help="only the example inventory")
    args = parser.parse_args()

    import dask
    import numba

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, dask {dask.__version__}, numba {numba.__version__}"
    )
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine)")
    print(f"kernel loaded (or compiled once) in this process: {warm_kernel():.2f} s")
    acme = Analysis(load_inventory(ROOT / "inventories" / "acme"))
    acme_grid = {
        "levers": {
            "gate-pay": {"kind": "gate", "plugin": "ap-autopilot", "actions": ["pay"]},
            "finance-read-only": {"kind": "read-only", "department": "finance"},
            "finance-halt": {"kind": "halt-time", "department": "finance", "values": [60]},
        },
        "assumptions": {"failure_rates.wrong_action": "range"},
    }
    inventory_run("acme", acme, acme_grid, args.acme_trials)
    large = None
    if not args.skip_large:
        from blastradius.synth import write_enterprise

        with tempfile.TemporaryDirectory(prefix="blastradius-bench-") as tmp:
            start = time.perf_counter()
            path = write_enterprise(
                Path(tmp) / "corp", people=50_000, plugins=2_000, connectors=500, systems=300, datasets=20_000, seed=1
            )
            large = Analysis(load_inventory(path))
            print(f"\nlarge enterprise written and loaded in {time.perf_counter() - start:.1f} s")
            inventory_run("large enterprise", large, grid_for(large.inventory, 1), args.large_trials)
    overhead(acme, acme_grid, large)
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
