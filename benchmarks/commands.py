"""Every command as a user runs it: a new process each time, timed like ``hyperfine``.

Each command of ``blastradius`` is run as its own process (``python -m blastradius ...``, output
to a pipe, the garbage collector on, as a user's shell runs it) several times after one warm-up
run (which fills the file cache and loads, or compiles once, the simulation kernel), on:

- ``acme``: the example inventory (``inventories/acme``);
- ``medium``: a synthetic enterprise of 500 plugins (12,500 people, 125 connectors, 75 systems,
  5,000 datasets);
- ``large``: the synthetic enterprise of the targets (``blastradius synth --people 50000 --plugins
  2000 --connectors 500 --systems 300 --datasets 20000 --seed 1``).

The synthetic enterprises are generated with ``blastradius synth`` into a work folder
(``--work``, default ``$BLASTRADIUS_BENCH_DIR``, else ``blastradius-bench`` in the system's
temporary folder) and kept there for the next run; nothing is written into the repository. For
``diff`` a copy of each inventory with one plugin changed (one more approval gate) is written
beside it.

For each command it prints the minimum, median and maximum wall time, the median CPU time of the
process (user + system: unlike wall time, it does not grow when other processes share the
machine) and the peak resident memory, and the target where the issue sets one (large
enterprise). ``--series`` adds a growth series in plugins (250 to 4,000, the rest in proportion):
time per command as the enterprise grows, and the time per 1,000 plugins, which stays flat (or
falls) when a command grows linearly or better. ``--steps`` adds the in-process figures of
``benchmarks/pipeline.py`` (load, score and simulate, beside the naive per-plugin traversal and
the naive simulation, a Python loop over trials, paths and events, measured in the same run).

Every command is timed twice: as run again (the inventory read back from the cache of loaded
inventories, ``blastradius.cache``) and loading the inventory afresh (``BLASTRADIUS_NO_CACHE=1``,
as on a first run or after any edit); the verdict against a target reads the slower.

Run:  .venv/bin/python benchmarks/commands.py [--sizes acme,medium,large] [--repeat 5] [--series] [--steps]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Sizes of the synthetic enterprises: people, plugins, connectors, systems and datasets grow together.
SIZES = {
    "medium": {"people": 12_500, "plugins": 500, "connectors": 125, "systems": 75, "datasets": 5_000},
    "large": {"people": 50_000, "plugins": 2_000, "connectors": 500, "systems": 300, "datasets": 20_000},
}
#: The growth series: plugins, with everything else in the proportion of the large enterprise.
SERIES = (250, 500, 1_000, 2_000, 4_000)

#: Targets on the large enterprise (goal, must), seconds of wall time, from the speed issue.
TARGETS = {
    "validate": (2, 5),
    "score": (2, 5),
    "lint": (3, 8),
    "explain": (3, 8),
    "runbook": (3, 8),
    "tiers": (3, 8),
    "diff": (3, 8),
    "recommend": (10, 30),
    "simulate": (5, 10),
    "report": (60, 120),
}
#: Commands run fewer times (each takes long): at most this many measured runs, and no warm-up run.
SLOW = {"report": 1, "recommend": 2, "simulate": 2}
COMMANDS = ("validate", "score", "explain", "lint", "runbook", "tiers", "diff", "recommend", "simulate")


def proportional(plugins: int) -> dict[str, int]:
    """An enterprise of ``plugins`` plugins in the proportions of the large one."""
    large = SIZES["large"]
    scale = plugins / large["plugins"]
    return {k: max(1, round(v * scale)) for k, v in large.items()} | {"plugins": plugins}


def blastradius(*args: str) -> list[str]:
    return [sys.executable, "-m", "blastradius", *args]


def synthesize(work: Path, name: str, size: dict[str, int]) -> Path:
    """The synthetic enterprise ``size`` in ``work`` (generated once, seed 1), and its one-plugin-changed copy."""
    out = work / f"{name}-{'-'.join(str(size[k]) for k in sorted(size))}"
    if not (out / "teams.yaml").exists():
        shutil.rmtree(out, ignore_errors=True)
        options = [f"--{k}={v}" for k, v in size.items()]
        subprocess.run(
            blastradius("synth", *options, "--seed", "1", "--out", str(out)), check=True, capture_output=True
        )
    return out


def changed_copy(inventory: Path, work: Path) -> Path:
    """A copy of ``inventory`` in which one plugin needs one more approval (the 'diff' of one change)."""
    import yaml

    from blastradius.loader import inventory_files, load_inventory
    from blastradius.model import ActionClass

    out = work / f"{inventory.name}-one-change"
    marker = out / ".changed"
    if marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(inventory, out)
    inv = load_inventory(inventory)
    target = inv.plugins[0]
    new = next(a.value for a in ActionClass if a.value not in target.requires_approval and a is not ActionClass.READ)
    for file in inventory_files(out):
        if file.suffix not in (".yaml", ".yml"):
            continue
        data = yaml.safe_load(file.read_text())
        for plugin in (data or {}).get("plugins") or []:
            if plugin.get("id") == target.id:
                plugin["requires_approval"] = [*(plugin.get("requires_approval") or []), new]
                file.write_text(yaml.safe_dump(data, sort_keys=False))
                marker.write_text(f"{target.id}: requires_approval += {new}\n")
                return out
    raise SystemExit(f"plugin {target.id} not found in the YAML files of {inventory}")


def prepare(inventory: Path, work: Path) -> tuple[str, Path]:
    """The plugin of widest blast radius, and the one-change copy, made in a process of their own.

    Peak memory is read from each command's process; Linux carries a process's peak over to the
    processes it starts, so this one must never load a large inventory itself.
    """
    import json

    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[3]); import commands; "
        "from blastradius.loader import load_inventory; from blastradius.scores import score_plugins; "
        "inv = Path(sys.argv[1]); top = str(score_plugins(load_inventory(inv)).plugin.iloc[0]); "
        "print(json.dumps([top, str(commands.changed_copy(inv, Path(sys.argv[2])))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(inventory), str(work), str(Path(__file__).parent)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    top, changed = json.loads(out.stdout.strip().splitlines()[-1])
    return top, Path(changed)


_PREPARED: dict[Path, tuple[str, Path]] = {}


def command_lines(name: str, inventory: Path, work: Path) -> dict[str, list[str]]:
    """The command line of each command on ``inventory``."""
    if inventory not in _PREPARED:
        _PREPARED[inventory] = prepare(inventory, work)
    top, changed = _PREPARED[inventory]
    inv = str(inventory)
    lines = {
        "validate": ["validate", inv],
        "score": ["score", inv],
        "explain": ["explain", inv, top],
        "lint": ["lint", inv, "--fail-on", "none"],
        "runbook": ["runbook", inv],
        "tiers": ["tiers", inv],
        "diff": ["diff", inv, str(changed)],
        "recommend": ["recommend", inv],
        "simulate": ["simulate", inv, "--trials", "10000"],
        "report": ["report", inv, "--out", str(work / f"report-{name}.html"), "--format", "html"],
    }
    return lines


@dataclass(frozen=True, kw_only=True)
class Runs:
    """Measured runs of one command: wall and CPU seconds, peak resident MiB, and the exit code."""

    wall: tuple[float, ...]
    cpu: tuple[float, ...]
    rss_mib: float
    code: int

    def row(self) -> tuple[float, float, float, float]:
        return min(self.wall), statistics.median(self.wall), max(self.wall), statistics.median(self.cpu)


@dataclass(frozen=True)
class Process:
    """One finished ``blastradius`` process: wall s, CPU s (user + system, with the children it waited for),
    peak resident MiB, exit code (-9 when given up) and what it printed on standard error."""

    wall: float
    cpu: float
    peak_mib: float
    code: int
    stderr: str


def run_process(args: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> Process:
    """Run ``blastradius args`` as a process, output to files as when piped (no progress bars), and read its
    resource use when it is reaped (``os.wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(blastradius(*args), stdout=out, stderr=err, cwd=ROOT, env=env)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                return Process(float("inf"), float("inf"), 0.0, -9, "")
            time.sleep(0.005)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Process(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), text
    )


def run_once(args: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """Wall s, CPU s and peak resident MiB of one process running ``args``, and its exit code."""
    run = run_process(args, timeout, env)
    if run.code not in (0, 1, -9):
        print(f"  {' '.join(args)}: exit {run.code}\n{run.stderr[-2000:]}", file=sys.stderr)
    return run.wall, run.cpu, run.peak_mib, run.code


#: The environment of a run that loads every inventory afresh (no cache of loaded inventories).
NO_CACHE = {**os.environ, "BLASTRADIUS_NO_CACHE": "1"}


def measure(
    args: Sequence[str], *, repeat: int, warmup: int = 1, timeout: float = 3600, env: dict[str, str] | None = None
) -> Runs:
    for _ in range(warmup):
        run_once(args, timeout, env)
    walls, cpus, rss, code = [], [], 0.0, 0
    for _ in range(repeat):
        wall, cpu, peak, code = run_once(args, timeout, env)
        walls.append(wall)
        cpus.append(cpu)
        rss = max(rss, peak)
        if code not in (0, 1):  # 1: lint's findings, diff's widenings; anything else is a failure
            break
    return Runs(wall=tuple(walls), cpu=tuple(cpus), rss_mib=rss, code=code)


def fmt(s: float) -> str:
    return "timeout" if s == float("inf") else f"{s:.2f}"


def machine() -> str:
    import numpy as np
    import pandas as pd
    import pydantic

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpus = os.cpu_count()
    return (
        f"{platform.machine()}, {cpus} CPUs (`nproc`), {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"pydantic {pydantic.__version__}; "
        f"load average {load:.1f} when the run began"
    )


def process_table(sizes: dict[str, Path], work: Path, commands: Sequence[str], repeat: int) -> None:
    print(
        "\n## Each command as a process (wall s: min / median / max with the inventory read back from the cache; "
        "the median loading it afresh, `BLASTRADIUS_NO_CACHE=1`; CPU s: median; peak MiB)\n"
    )
    print(
        "| command | inventory | runs | min | median | max | median, no cache | CPU | peak MiB "
        "| target (large): goal / must |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for command in commands:
        for name, path in sizes.items():
            args = command_lines(name, path, work)[command]
            n = min(repeat, SLOW.get(command, repeat))
            runs = measure(
                args, repeat=n, warmup=0 if command in SLOW else 1, env=NO_CACHE if command == "report" else None
            )
            lo, mid, hi, cpu = runs.row()
            # the report's loading is a second of minutes: timed once, as it runs on a first run (no cache)
            fresh = runs if command == "report" else measure(args, repeat=n, warmup=0, env=NO_CACHE)
            worst = max(mid, fresh.row()[1])  # the verdict reads the slower of the two
            target = ""
            if name == "large" and command in TARGETS:
                goal, must = TARGETS[command]
                verdict = "goal met" if worst < goal else "met" if worst < must else "**missed**"
                target = f"< {goal} s / < {must} s: {verdict}"
            failed = "" if runs.code in (0, 1) and fresh.code in (0, 1) else f" (exit {runs.code}, {fresh.code})"
            print(
                f"| {command}{failed} | {name} | {len(runs.wall)} | {fmt(lo)} | **{fmt(mid)}** | {fmt(hi)} | "
                f"{fmt(fresh.row()[1])} | {fmt(cpu)} | {max(runs.rss_mib, fresh.rss_mib):,.0f} | {target} |",
                flush=True,
            )


def series_table(work: Path, commands: Sequence[str], repeat: int) -> None:
    print(
        "\n## Growth in plugins (each command as a process, loading afresh: CPU s, median; in brackets: CPU s per "
        "1,000 plugins)\n"
    )
    print("| plugins | " + " | ".join(commands) + " |")
    print("|---:|" + "---:|" * len(commands))
    for plugins in SERIES:
        path = synthesize(work, "series", proportional(plugins))
        cells = []
        for command in commands:
            # loading afresh: the growth of every step, not of reading a cached inventory back
            runs = measure(command_lines("series", path, work)[command], repeat=repeat, warmup=0, env=NO_CACHE)
            cpu = runs.row()[3]
            cells.append(f"{fmt(cpu)} ({cpu / plugins * 1000:.2f})")
        print(f"| {plugins:,} | " + " | ".join(cells) + " |", flush=True)


def steps_table(sizes: dict[str, Path], naive_trials: int) -> None:
    """In-process steps with the collector off (benchmarks/pipeline.py), beside the naive baselines, same run."""
    sys.path.insert(0, str(Path(__file__).parent))
    from pipeline import naive_reach, naive_simulation_seconds, timed

    import blastradius as br
    from blastradius.analysis import Analysis
    from blastradius.scores import score_plugins
    from blastradius.simulate import simulate_failures

    print("\n## In-process steps (collector off while timed, as timeit does), with the naive baselines\n")
    print(
        "| inventory | load + validate s | graph s | score s (best of 5) | naive traversal s (best of 5) | ratio "
        "| simulate 10,000 trials s | naive simulation, 10,000 trials s (extrapolated) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, path in sizes.items():
        t_load, inv = timed(lambda p=path: br.load_inventory(p, cache=False))
        t_graph, G = timed(lambda i=inv: br.build_graph(i))
        t_score, _ = timed(lambda i=inv: score_plugins(i), repeat=5)
        t_naive, _ = timed(lambda g=G: naive_reach(g), repeat=5)
        simulate_failures(inv, trials=100, seed=1)  # the kernel loaded once, outside the timing
        t_sim, _ = timed(lambda i=inv: simulate_failures(Analysis(i), trials=10_000, seed=1))
        t_naive_sim = naive_simulation_seconds(inv, naive_trials) * 10_000
        print(
            f"| {name} | {t_load:.2f} | {t_graph:.2f} | {t_score:.2f} | {t_naive:.2f} | {t_naive / t_score:.1f}× "
            f"| {t_sim:.2f} | {t_naive_sim:,.0f} | {t_naive_sim / t_sim:,.0f}× |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="acme,medium,large", help="inventories: acme, medium, large (default: all)")
    parser.add_argument("--commands", default=",".join(COMMANDS) + ",report", help="commands to time (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each command (default: 3)")
    parser.add_argument("--series", action="store_true", help="add the growth series in plugins (250 to 4,000)")
    parser.add_argument("--series-repeat", type=int, default=1, help="measured runs per command in the series")
    parser.add_argument(
        "--series-commands", default=",".join(COMMANDS) + ",report", help="commands of the series (default: all)"
    )
    parser.add_argument("--steps", action="store_true", help="add the in-process steps and the naive baseline")
    parser.add_argument("--naive-trials", type=int, default=3, help="trials of the naive simulation (extrapolated)")
    parser.add_argument("--work", type=Path, help="where synthetic enterprises are kept (default: a temp folder)")
    args = parser.parse_args()
    work = args.work or Path(
        os.environ.get("BLASTRADIUS_BENCH_DIR") or Path(tempfile.gettempdir()) / "blastradius-bench"
    )
    work.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}.")
    sizes: dict[str, Path] = {}
    for name in args.sizes.split(","):
        sizes[name] = ROOT / "inventories" / "acme" if name == "acme" else synthesize(work, name, SIZES[name])
    commands = [c for c in args.commands.split(",") if c]
    if commands:
        process_table(sizes, work, commands, args.repeat)
    if args.series:
        series_table(work, [c for c in args.series_commands.split(",") if c], args.series_repeat)
    if args.steps:  # last: it loads the inventories in this process (see prepare)
        steps_table(sizes, args.naive_trials)


if __name__ == "__main__":
    main()
