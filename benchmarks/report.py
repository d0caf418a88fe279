"""Time `blastradius report` end to end (kernel start, execution, export), as a user runs it.

Run:  .venv/bin/python benchmarks/report.py [--repeat 3]
Target: under 60 s for inventories/acme on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--inventory", default="inventories/acme")
    parser.add_argument("--compare", default="inventories/acme-governed")
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("blastradius")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for fmt in ("html", "pdf"):
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                subprocess.run(
                    [str(exe), "report", args.inventory, "--compare", args.compare, "--out", out, "--format", fmt],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
                times.append(time.perf_counter() - start)
        print(
            f"report --format {fmt} (10,000 trials, with --compare): "
            f"median {statistics.median(times):.1f} s, min {min(times):.1f} s, max {max(times):.1f} s "
            f"over {args.repeat} runs (target: < 60 s)"
        )


if __name__ == "__main__":
    main()
