"""How fast `calibrate` reads logs, and in how much memory: a synthetic month of an example inventory's logs.

    .venv/bin/python benchmarks/calibrate.py                          # acme, every plugin, 21 working days
    .venv/bin/python benchmarks/calibrate.py --days 42 --keep /tmp/logs

Writes the logs with :func:`blastradius.calibrate.synthetic.synthetic_logs` (OTLP JSON lines and a
connector audit log), then times :func:`blastradius.calibrate.calibrate` on them and prints log
records per second and the process's peak resident memory (``getrusage``) against the size of the
logs: run it for more days and the memory should stay flat as the logs grow.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from blastradius import load_inventory
from blastradius.calibrate import calibrate
from blastradius.calibrate.synthetic import synthetic_logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default="inventories/acme")
    parser.add_argument("--days", type=int, default=21, help="working days of logs (default: 21)")
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them")
    args = parser.parse_args()
    inv = load_inventory(args.inventory)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        started = time.perf_counter()
        synthetic_logs(inv, out, plugins=[p.id for p in inv.plugins], working_days=args.days, seed=1)
        written = time.perf_counter() - started
        size = sum(f.stat().st_size for f in out.iterdir())
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.perf_counter()
        cal = calibrate(inv, [out])
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    s = cal.observations.stats
    print(f"inventory {args.inventory}: {len(inv.plugins)} plugins, {args.days} working days")
    print(f"logs: {size / 1e6:,.1f} MB, {s.lines:,} lines, {s.records:,} log records (written in {written:.1f} s)")
    print(f"calibrate: {seconds:.1f} s, {s.records / seconds:,.0f} records/s, {size / 1e6 / seconds:.1f} MB/s")
    print(f"peak resident memory: {peak / 2**20:.0f} MiB ({before / 2**20:.0f} MiB before reading)")
    print(f"estimates: {len(cal.estimates):,}; findings: {len(cal.findings)}")


if __name__ == "__main__":
    main()
