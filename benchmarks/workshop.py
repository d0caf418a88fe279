"""Time the workshop dashboard from a real browser: from a widget change to the updated view, and to final figures.

Run:  .venv/bin/python benchmarks/workshop.py [--inventory DIR] [--changes 6]
      .venv/bin/python benchmarks/workshop.py --inventory /tmp/corp --changes 2   # the large synthetic enterprise:
      blastradius synth --people 50000 --plugins 2000 --connectors 500 --systems 300 --datasets 20000 --seed 1 \
          --out /tmp/corp
Target: under 1 s from a change to the updated view on inventories/acme (goal), never over 2 s.

It starts `blastradius workshop DIR` as a user does, opens the page in Debian's Chromium (playwright,
/usr/bin/chromium), waits for the starting figures, then makes each change in turn (tick a gate on a tool of
the plugin shown, then move the gates' catch-rate slider one step) and measures, per change:

- ranking: from the click or key press until the page shows the new scenario's blast radius (no simulation);
- outlook: until it shows the new scenario's outlook and curves (provisional or final);
- final: until it shows the final figures of it.

Every scenario is new to the server (no figures kept from before), except the last rows, which go back to
scenarios already tried (the figures the server keeps).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key(page) -> str:
    return page.get_attribute("[data-state]", "data-key") or ""


_RANKED = "before => { const e = document.querySelector('[data-ranked]'); return e && e.dataset.ranked !== before; }"
_CHANGED = "before => { const e = document.querySelector('[data-state]'); return e && e.dataset.key !== before; }"
_FINAL = "before => { const e = document.querySelector('[data-state=final]'); return e && e.dataset.key !== before; }"


def _timed(page, act, timeout: float) -> tuple[float, float, float]:
    """Do ``act`` (a click, a key press); seconds until the page shows the new scenario's blast radius, its outlook
    (provisional or final), and its final figures."""
    before = _key(page)
    start = time.perf_counter()
    act()
    page.wait_for_function(_RANKED, arg=before, timeout=timeout * 1000, polling="raf")
    ranked = time.perf_counter() - start
    page.wait_for_function(_CHANGED, arg=before, timeout=timeout * 1000, polling="raf")
    view = time.perf_counter() - start
    page.wait_for_function(_FINAL, arg=before, timeout=timeout * 1000, polling="raf")
    return ranked, view, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default="inventories/acme")
    parser.add_argument("--changes", type=int, default=6, help="gate toggles to time (then one slider step)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    exe = Path(sys.executable).with_name("blastradius")
    port = _port()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        server = subprocess.Popen(
            [str(exe), "workshop", args.inventory, "--port", str(port), "--out", out],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            line = server.stdout.readline() if server.stdout else ""
            print(line.strip())
            print(f"server ready in {time.perf_counter() - start:.1f} s")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                start = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("[data-state=final]", timeout=args.timeout * 1000)
                print(f"page with the starting figures in {time.perf_counter() - start:.1f} s")
                labels = page.locator(".br-controls .v-input--checkbox label")
                gates = [i for i in range(labels.count()) if labels.nth(i).inner_text().startswith("gate ")]
                gates = [i for i in gates if "for " not in labels.nth(i).inner_text()][: args.changes]
                rows = []
                for i in gates:
                    text = labels.nth(i).inner_text()
                    rows.append((f"tick '{text}'", *_timed(page, labels.nth(i).click, args.timeout)))
                slider = page.locator(".v-slider__thumb-container").last

                def step(key: str) -> None:
                    slider.focus()
                    page.keyboard.press(key)

                rows.append(("catch-rate slider one step down", *_timed(page, lambda: step("ArrowLeft"), args.timeout)))
                rows.append(("slider back up (tried before)", *_timed(page, lambda: step("ArrowRight"), args.timeout)))
                for i in reversed(gates):
                    text = labels.nth(i).inner_text()
                    rows.append((f"untick '{text}' (tried before)", *_timed(page, labels.nth(i).click, args.timeout)))
                print(f"\n{'change':<60} {'ranking s':>9} {'outlook s':>9} {'final s':>8}")
                for what, ranked, view, final in rows:
                    print(f"{what[:60]:<60} {ranked:9.2f} {view:9.2f} {final:8.2f}")
                for label, picked in (
                    ("new scenarios", [r for r in rows if "tried before" not in r[0]]),
                    ("tried before", [r for r in rows if "tried before" in r[0]]),
                ):
                    print(
                        f"{label}: "
                        + "; ".join(
                            f"{name} median {statistics.median(r[j] for r in picked):.2f} s, "
                            f"max {max(r[j] for r in picked):.2f} s"
                            for j, name in ((1, "ranking"), (2, "outlook"), (3, "final"))
                        )
                    )
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
