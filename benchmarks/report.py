"""Time `blastradius report` as a user runs it: a new process each time, several runs, like ``hyperfine``.

Each report is a process of its own (``python -m blastradius report ...``, output piped, as a user's
shell runs it): kernel start, the report notebook executed (10,000 trials by default), the page
exported, and for PDF printed by Chromium. It prints the minimum, median and maximum wall time, the
median CPU time of the process and its children (user + system: unlike wall time, it does not grow
when other processes share the machine) and the peak resident memory, with the targets of the speed
issue (acme: < 10 s; the 2,000-plugin enterprise: < 60 s goal, < 120 s must).

Beside it, where the time goes:

- the stages the command itself prints (``[  12.3 s] stage``), read from its standard error, of
  the median run;
- ``report_data``'s stages in process (one more process per inventory, so that its memory is not
  counted in the others'), wall and CPU seconds each.

Inventories: ``inventories/acme`` alone, and with ``--compare inventories/acme-governed``; each
``--inventory DIR`` given (e.g. the large synthetic enterprise, ``blastradius synth --people 50000
--plugins 2000 --connectors 500 --systems 300 --datasets 20000 --seed 1 --out DIR``). Reports are
written to a temporary folder; nothing is written into the repository or an inventory.

Run:  .venv/bin/python benchmarks/report.py [--repeat 3] [--inventory DIR] [--format html,pdf] [--no-stages]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from commands import fmt, machine, run_process  # the other process benchmarks' helpers

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "inventories" / "acme"
ACME_GOVERNED = ROOT / "inventories" / "acme-governed"
#: Targets of the speed issue, seconds of wall time (goal, must): acme, and any inventory given.
TARGETS = {"acme": (10, 10), "large": (60, 120)}

#: ``report_data``'s stages, timed in a process of its own: one JSON line per stage (wall s, CPU s).
_IN_PROCESS = """
import json, sys, time
from blastradius.report import report_data
last = [time.perf_counter(), time.process_time(), None]
def say(stage):
    wall, cpu = time.perf_counter(), time.process_time()
    if last[2] is not None:
        print(json.dumps([last[2], wall - last[0], cpu - last[1]]), flush=True)
    last[:] = [wall, cpu, stage]
compare = sys.argv[2] or None
report_data(sys.argv[1], compare_to=compare, trials=int(sys.argv[3]), progress=say)
say("end")
"""


@dataclass(frozen=True, kw_only=True)
class Runs:
    """Measured runs of one report: wall and CPU seconds, peak resident MiB, the stages of the median run."""

    wall: tuple[float, ...]
    cpu: tuple[float, ...]
    rss_mib: float
    stages: tuple[tuple[float, str], ...]


_STAGE = re.compile(r"^\[\s*([0-9.]+) s\] (.*)$")


def run_once(args: Sequence[str], timeout: float) -> tuple[float, float, float, list[tuple[float, str]]]:
    """Wall s, CPU s (the process and the children it waited for: the notebook's kernel, Chromium), peak MiB
    and the stages it printed, of one ``blastradius report`` process."""
    run = run_process(args, timeout)
    if run.code == -9:
        return float("inf"), float("inf"), 0.0, []
    if run.code != 0:
        raise SystemExit(f"{' '.join(args)}: exit {run.code}\n{run.stderr[-2000:]}")
    stages = [(float(m[1]), m[2]) for m in map(_STAGE.match, run.stderr.splitlines()) if m]
    return run.wall, run.cpu, run.peak_mib, stages


def measure(args: Sequence[str], *, repeat: int, timeout: float) -> Runs:
    walls, cpus, rss, stages = [], [], 0.0, []
    for _ in range(repeat):
        wall, cpu, peak, printed = run_once(args, timeout)
        walls.append(wall)
        cpus.append(cpu)
        stages.append(printed)
        rss = max(rss, peak)
    median = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
    return Runs(wall=tuple(walls), cpu=tuple(cpus), rss_mib=rss, stages=tuple(stages[median]))


def in_process(inventory: Path, compare: Path | None, trials: int) -> list[tuple[str, float, float]]:
    """``report_data``'s stages, in a process of its own: (stage, wall s, CPU s)."""
    out = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(inventory), str(compare or ""), str(trials)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return [tuple(json.loads(line)) for line in out.stdout.splitlines() if line.startswith("[")]


def durations(stages: Sequence[tuple[float, str]], total: float) -> list[tuple[str, float]]:
    """Each printed stage with the seconds until the next one (the last until the process ended)."""
    ends = [t for t, _ in stages[1:]] + [total]
    return [(stage, end - t) for (t, stage), end in zip(stages, ends, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each report (default: 3)")
    parser.add_argument(
        "--inventory", type=Path, action="append", default=[], help="another inventory to report on (repeatable)"
    )
    parser.add_argument("--format", default="html", help="html, pdf or html,pdf (default: html)")
    parser.add_argument("--trials", type=int, default=10_000, help="trials of the report (default: 10,000)")
    parser.add_argument("--no-acme", action="store_true", help="leave out the example")
    parser.add_argument("--no-stages", action="store_true", help="leave out report_data's stages in process")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a run is given up")
    args = parser.parse_args()
    cases: list[tuple[str, Path, Path | None, tuple[int, int] | None]] = []
    if not args.no_acme:
        cases += [("acme", ACME, None, TARGETS["acme"]), ("acme --compare", ACME, ACME_GOVERNED, None)]
    cases += [(p.name, p, None, TARGETS["large"]) for p in args.inventory]  # the 2,000-plugin enterprise's targets
    print(f"Machine: {machine()}.")
    print(f"\n## `blastradius report` as a process ({args.trials:,} trials; wall s; CPU s: median; peak MiB)\n")
    print("| report | format | runs | min | median | max | CPU | peak MiB | target: goal / must |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    timelines = []
    with tempfile.TemporaryDirectory(prefix="blastradius-report-bench-") as work:
        for name, inventory, compare, target in cases:
            for fmt_ in args.format.split(","):
                line = [
                    "report",
                    str(inventory),
                    "--out",
                    str(Path(work) / name.replace(" ", "")),
                    "--format",
                    fmt_,
                    "--stages",
                ]
                line += ["--trials", str(args.trials)] + (["--compare", str(compare)] if compare else [])
                runs = measure(line, repeat=args.repeat, timeout=args.timeout)
                lo, mid, hi = min(runs.wall), statistics.median(runs.wall), max(runs.wall)
                verdict = ""
                if target is not None:
                    goal, must = target
                    met = "goal met" if mid < goal else "met" if mid < must else "**missed**"
                    verdict = f"< {goal} s / < {must} s: {met}" if goal != must else f"< {goal} s: {met}"
                print(
                    f"| {name} | {fmt_} | {len(runs.wall)} | {fmt(lo)} | **{fmt(mid)}** | {fmt(hi)} | "
                    f"{fmt(statistics.median(runs.cpu))} | {runs.rss_mib:,.0f} | {verdict} |",
                    flush=True,
                )
                timelines.append((f"{name} ({fmt_})", durations(runs.stages, mid)))
    print("\n## Where the time goes: the stages each report printed (median run, wall s)\n")
    for label, stages in timelines:
        print(f"{label}:")
        for stage, seconds in stages:
            print(f"  {seconds:7.1f}  {stage}")
    if args.no_stages:
        return
    print("\n## `report_data`'s stages in process (wall s, CPU s of the process and its threads)\n")
    print("| report | stage | wall | CPU |")
    print("|---|---|---:|---:|")
    for name, inventory, compare, _ in cases:
        rows = in_process(inventory, compare, args.trials)
        for stage, wall, cpu in rows:
            print(f"| {name} | {stage} | {wall:.1f} | {cpu:.1f} |")
        print(f"| {name} | **total** | **{sum(r[1] for r in rows):.1f}** | {sum(r[2] for r in rows):.1f} |", flush=True)


if __name__ == "__main__":
    main()
