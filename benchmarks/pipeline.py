"""Speed of the whole pipeline at realistic sizes, each step against a naive baseline in the same run.

Steps: load + validate, graph, score (against a naive per-plugin networkx traversal that
recomputes every reach), simulate (10,000 trials), lint, diff. Sizes: the example, the
synthetic "large" enterprise (50,000 people, 2,000 plugins, 500 connectors, 300 systems,
20,000 datasets) and a scaling series in plugins.

Run:  .venv/bin/python benchmarks/pipeline.py [--sizes example,large,series] [--trials 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

LARGE = {"people": 50_000, "plugins": 2_000, "connectors": 500, "systems": 300, "datasets": 20_000}


def timed(fn: Callable[[], Any], *, repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result.

    As ``timeit`` does, the garbage collector is off while a run is timed (and
    a full collection runs before it): otherwise a collection over the
    hundreds of thousands of objects of a loaded inventory lands in whichever
    step happens to trigger it, fast path or baseline alike.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best, result


def peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def naive_reach(G: Any) -> dict[str, tuple[int, int]]:
    """Per plugin, records and people its usable tools reach, by walking the graph plugin by plugin.

    The straightforward way: for every plugin, follow each plugin → connector
    edge, walk connector → system → datasets/people with networkx, and apply
    the connector's scope to every dataset for every tool, with no sharing of
    work between plugins that use the same connector.
    """
    from blastradius.reach import tool_reach

    out = {}
    for node, data in G.nodes(data=True):
        if data["kind"] != "plugin":
            continue
        datasets: dict[str, int] = {}
        people: dict[str, int] = {}
        for _, conn_key, edge in G.out_edges(node, data=True):
            conn = G.nodes[conn_key]["record"]
            children = [G.nodes[c] for s in G.successors(conn_key) for c in G.successors(s)]
            ds = [c["record"] for c in children if c["kind"] == "dataset"]
            pg = [c["record"] for c in children if c["kind"] == "people"]
            for info in edge["tools"]:
                if info["status"] not in ("ungated", "gated"):
                    continue
                r = tool_reach(conn, conn.tool(info["tool"]), ds, pg)
                for s in r.datasets:
                    if s.records is not None:  # unbounded: counted apart, as blastradius.reach does
                        datasets[s.dataset] = max(datasets.get(s.dataset, 0), s.records)
                for g in r.people:
                    people[g.id] = g.count or 0
        out[data["id"]] = (sum(datasets.values()), sum(people.values()))
    return out


def simulate_rss(path: Path, trials: int) -> float:
    """Peak resident memory (MiB) of a new process that loads the inventory and simulates ``trials`` trials."""
    # VmHWM, not getrusage: ru_maxrss survives fork and exec, so it would count this big process
    code = (
        "import sys; import blastradius as br; from blastradius.simulate import simulate_failures; "
        f"simulate_failures(br.load_inventory(sys.argv[1]), trials={trials}, seed=1); "
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024


def naive_simulation_seconds(inv: Any, trials: int) -> float:
    """Seconds per trial of the naive simulation of benchmarks/simulate.py.

    The naive simulation is a Python loop over trials, paths and events.
    """
    from simulate import naive  # benchmarks/simulate.py, next to this script

    from blastradius.simulate import failure_paths, load_assumptions

    paths = failure_paths(inv)
    start = time.process_time()
    naive(paths, load_assumptions(inventory=inv), trials, seed=1)
    return (time.process_time() - start) / trials


def simulate_series(path: Path) -> None:
    """Time and memory of the simulation as trials grow, on one inventory."""
    import blastradius as br
    from blastradius.analysis import Analysis
    from blastradius.scores import score_plugins
    from blastradius.simulate import simulate_failures

    inv = Analysis(br.load_inventory(path))
    score_plugins(inv)
    print("\n== scaling series (trials, large enterprise, after scoring)")
    print(f"{'trials':>8} {'sim s':>8} {'s per 1,000':>12} {'peak MiB':>9} {'result MiB':>11}")
    for trials in (1_000, 2_500, 5_000, 10_000, 20_000):
        t, result = timed(lambda n=trials: simulate_failures(inv, trials=n, seed=1))
        mem = peak_mib(lambda n=trials: simulate_failures(inv, trials=n, seed=1))
        print(f"{trials:>8,} {t:8.2f} {t / trials * 1000:12.3f} {mem:9,.0f} {result.nbytes / 2**20:11,.0f}")
        del result


def bench(label: str, path: Path, *, trials: int, other: Path | None) -> None:
    import blastradius as br
    from blastradius.analysis import Analysis
    from blastradius.diff import diff_inventories
    from blastradius.rules import lint
    from blastradius.scores import score_plugins
    from blastradius.simulate import simulate_failures

    t_load, inv = timed(lambda: br.load_inventory(path))
    t_graph, G = timed(lambda: br.build_graph(inv))
    # What analyses derive (scoped reach, scores) is kept in an Analysis the caller holds; a bare inventory
    # gets a fresh one per call, so every timed run of fresh() computes from scratch.
    fresh = lambda: inv  # noqa: E731
    t_score, scores = timed(lambda: score_plugins(fresh()), repeat=5)
    t_naive, _ = timed(lambda: naive_reach(G), repeat=5)
    s = inv.summary()
    print(
        f"\n== {label}: {s['people']:,} people, {s['plugins']:,} plugins, {s['connectors']:,} connectors, "
        f"{s['systems']:,} systems, {s['datasets']:,} datasets"
    )
    print(f"load + validate     {t_load:8.2f} s")
    print(f"graph               {t_graph:8.2f} s")
    print(
        f"score (all plugins) {t_score:8.2f} s    naive per-plugin traversal (reach only) {t_naive:8.2f} s"
        f"    ratio {t_naive / t_score:5.1f}x"
    )
    print(f"load+graph+score    {t_load + t_graph + t_score:8.2f} s")
    simulate_failures(fresh(), trials=10, seed=1)  # load (or compile, on a first run) the kernel
    t_sim, result = timed(lambda: simulate_failures(fresh(), trials=trials, seed=1))
    scored_inv = Analysis(inv)
    score_plugins(scored_inv)
    t_sim_scored, _ = timed(lambda: simulate_failures(scored_inv, trials=trials, seed=1), repeat=2)
    mem = peak_mib(lambda: simulate_failures(fresh(), trials=trials, seed=1))
    rss = simulate_rss(path, trials)
    print(f"simulate {trials:,} trials {t_sim:8.2f} s    from a fresh inventory (its reach and scores included)")
    print(f"  after scoring     {t_sim_scored:8.2f} s    (reusing the reach kept in one Analysis; best of 2)")
    print(
        f"  memory            peak {mem:,.0f} MiB of arrays (tracemalloc), result {result.nbytes / 2**20:,.0f} MiB; "
        f"a process that loads the inventory and simulates peaks at {rss:,.0f} MiB resident"
    )
    naive_trials = 200 if len(inv.plugins) < 100 else 2
    per_trial = naive_simulation_seconds(fresh(), naive_trials)
    print(
        f"  naive Python loop over trials, paths and events: {per_trial:.2f} s per trial ({naive_trials} trials) "
        f"-> {per_trial * trials:,.0f} s for {trials:,}; ratio {per_trial * trials / t_sim:,.0f}x"
    )
    t_lint, findings = timed(lambda: lint(fresh()))
    print(f"lint                {t_lint:8.2f} s    ({len(findings):,} findings)")
    scored = Analysis(inv)
    score_plugins(scored)
    t_shared, _ = timed(lambda: lint(scored))
    print(f"lint after scoring  {t_shared:8.2f} s    (reusing the scores and reach kept in one Analysis)")
    if other is not None:
        inv2 = br.load_inventory(other)
        t_diff, d = timed(lambda: diff_inventories(fresh(), inv2))
        print(f"diff                {t_diff:8.2f} s    ({len(d.changes):,} changes)")
    del scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="example,large,series")
    parser.add_argument("--trials", type=int, default=10_000)
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    import numba

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads)"
    )
    if "example" in sizes:
        bench(
            "example (inventories/acme)",
            ROOT / "inventories" / "acme",
            trials=args.trials,
            other=ROOT / "inventories" / "acme-governed",
        )
    from blastradius.synth import write_enterprise

    with tempfile.TemporaryDirectory() as tmp:
        if "large" in sizes:
            t_gen, path = timed(lambda: write_enterprise(Path(tmp) / "large", seed=1, **LARGE))
            other = write_enterprise(Path(tmp) / "large-2", seed=2, **LARGE)
            print(f"\n(generated the large enterprise in {t_gen:.1f} s)")
            bench("large", path, trials=args.trials, other=other)
            simulate_series(path)
        if "series" in sizes:
            print("\n== scaling series (plugins; people, connectors, systems, datasets in proportion)")
            print(
                f"{'plugins':>8} {'load s':>8} {'score s':>8} {'naive s':>8} {'sim s':>8} {'sim s/1k plugins':>16} "
                f"{'sim MiB':>8} {'lint s':>8}"
            )
            import blastradius as br
            from blastradius.rules import lint
            from blastradius.scores import score_plugins
            from blastradius.simulate import simulate_failures

            for plugins in (250, 500, 1_000, 2_000):
                f = plugins / LARGE["plugins"]
                sizes_ = {k: max(int(v * f), 10) for k, v in LARGE.items()}
                path = write_enterprise(Path(tmp) / f"s{plugins}", seed=3, **sizes_)
                t_load, inv = timed(lambda p=path: br.load_inventory(p))
                t_score, _ = timed(lambda i=inv: score_plugins(i))
                t_naive, _ = timed(lambda i=inv: naive_reach(br.build_graph(i)))
                t_sim, _ = timed(lambda i=inv: simulate_failures(i, trials=args.trials, seed=1))
                mem = peak_mib(lambda i=inv: simulate_failures(i, trials=args.trials, seed=1))
                t_lint, _ = timed(lambda i=inv: lint(i))
                print(
                    f"{plugins:>8} {t_load:8.2f} {t_score:8.2f} {t_naive:8.2f} {t_sim:8.2f} "
                    f"{t_sim / plugins * 1000:16.2f} "
                    f"{mem:8.0f} {t_lint:8.2f}"
                )


if __name__ == "__main__":
    main()
