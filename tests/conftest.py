"""Shared fixtures: the example inventories and a small inventory written to a temporary directory.

Before any test runs, the simulation kernel is compiled once (see :func:`pytest_sessionstart`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "inventories" / "acme"
ACME_GOVERNED = ROOT / "inventories" / "acme-governed"


# --- the simulation kernel, compiled once per session ---------------------------------------------

#: A ten-trial simulation of the example through the public API, summarised: numba compiles the kernel
#: and the summaries' reductions and caches them on disk (``cache=True``), or loads them from there when
#: they have not changed.
COMPILE_KERNEL = (
    "from blastradius import load_inventory\n"
    "from blastradius.simulate import simulate_failures, summarize\n"
    f"r = simulate_failures(load_inventory({str(ACME)!r}), trials=10, seed=0)\n"
    # the summaries' compiled reductions too, for the stored fields' types (float32 and int32), on this thread
    # and on the thread pool (which large results use)
    "summarize(r, 'department', by_class=True, intervals=True)\n"
    "from blastradius.simulate import summaries\n"
    "summaries._PARALLEL_FROM = 0\n"
    "summarize(r, 'department', by_class=True, intervals=True)\n"
)
_kernel_note = ""


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the simulation kernel before any test, in a process of its own.

    A cold compile takes from half a minute to minutes on a loaded machine; the tests that run the
    command line, the notebooks or the report in a subprocess with a time limit would spend it
    there. Compiled here once, every later process, tests' subprocesses and pytest-xdist workers
    alike, loads it from numba's on-disk cache in well under a second. A failure is only noted: the
    tests that simulate then fail with the cause.
    """
    global _kernel_note
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: its controller has compiled it
        return
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", COMPILE_KERNEL], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode == 0:
        _kernel_note = f"simulation kernel: ready in {seconds:.1f} s (compiled once, then loaded from numba's cache)"
    else:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        _kernel_note = f"simulation kernel: could not be compiled before the tests ({last})"
        session.config.issue_config_time_warning(pytest.PytestWarning(_kernel_note), stacklevel=2)


def pytest_report_header(config: pytest.Config) -> str | None:
    return _kernel_note or None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts of the hostile-input corpus (tests/test_hostile_input.py), added up over its tests and workers.

    Each test of the corpus records its counts with ``record_property("hostile_...", n)``; the reports carry
    them to the controlling process under pytest-xdist too.
    """
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name.startswith("hostile_") and getattr(report, "when", "call") == "call":
                    counts[name] = counts.get(name, 0) + int(value)
    if counts:
        terminalreporter.write_sep("-", "hostile input")
        terminalreporter.write_line(
            f"mutations: {counts.get('hostile_mutations', 0)}, loaded: {counts.get('hostile_loaded', 0)}, "
            f"rejected cleanly: {counts.get('hostile_rejected', 0)}, "
            f"command-line runs: {counts.get('hostile_cli_runs', 0)}"
        )


def write_inventory(directory: Path, files: dict[str, Any]) -> Path:
    """Write ``{relative name: data or text}`` as inventory files; data goes out as YAML or JSON by suffix."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(content, indent=2, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return directory


def mini_inventory() -> dict[str, Any]:
    """A small, valid inventory: a finance team, a warehouse, a mail system with a 2,310-contact list."""
    return {
        "teams.yaml": {
            "teams": [
                {"id": "finance", "headcount": 400},
                {"id": "sales", "headcount": 900, "department": "sales"},
            ]
        },
        "systems.yaml": {
            "systems": [
                {
                    "id": "warehouse",
                    "kind": "warehouse",
                    "datasets": [
                        {"id": "deals", "records": 120_000, "columns": {"amount": "financial", "region": "internal"}},
                        {"id": "regions", "records": 12, "classification": "internal"},
                        {"id": "forecasts", "records": 800, "columns": {"value": "confidential"}},
                        {
                            "id": "payroll",
                            "records": 4_000,
                            "columns": {"ssn": "pii", "bank_account": "financial", "comp_individual": "financial"},
                        },
                        {"id": "employees", "records": 4_000, "columns": {"name": "pii", "title": "internal"}},
                    ],
                    "people": [{"id": "staff", "kind": "employees", "count": 4_000, "dataset": "employees"}],
                },
                {
                    "id": "mail",
                    "kind": "email",
                    "people": [{"id": "prospects", "kind": "contacts", "count": 2_310}],
                },
            ]
        },
        "connectors.yaml": {
            "connectors": [
                {
                    "id": "finance-warehouse",
                    "system": "warehouse",
                    "tools": [{"name": "query", "action": "read"}, {"name": "update_row", "action": "write"}],
                },
                {
                    "id": "email",
                    "system": "mail",
                    "access": "read-write",
                    "leaves_org": True,
                    "tools": [
                        {"name": "send_campaign", "action": "send", "fan_out": 2_310},
                        {"name": "read_inbox", "action": "read", "untrusted_content": True},
                    ],
                },
            ]
        },
        "plugins.yaml": {
            "plugins": [
                {
                    "id": "fin-analyst",
                    "owner": "finance",
                    "users": [{"team": "finance", "users": 120, "runs_per_user_per_day": 3}],
                    "connectors": ["finance-warehouse"],
                },
                {
                    "id": "outreach",
                    "owner": "sales",
                    "users": [{"team": "sales", "runs_per_user_per_day": 2}],
                    "connectors": ["email", {"connector": "finance-warehouse", "tools": ["query"]}],
                    "requires_approval": ["send"],
                    "output": "external",
                },
            ]
        },
        "policies/finance-warehouse.json": D6_POLICY,
    }


#: DOMAIN.md D6, byte for byte.
D6_POLICY = """{"connector": "finance-warehouse", "access": "read-only",
 "allowed_tables": ["deals", "regions", "forecasts"],
 "denied_columns": ["ssn", "bank_account", "comp_individual"],
 "row_limit": 50000, "requires_approval": false,
 "audit": {"log_every_query": true, "alert_if_rows_returned_over": 25000}}"""

#: DOMAIN.md D7, byte for byte.
D7_GOVERNANCE = """{"connectors": {
   "crm": {"access": "read-write", "tier": 3, "approved_by": "VP Ops"},
   "knowledge_base": {"access": "read-only", "tier": 1, "approved_by": "Team Lead"},
   "billing": {"access": "read-only", "tier": 3, "approved_by": "Finance"}},
 "review_tiers": {
   "1": {"rule": "internal, non-sensitive", "control": "spot-check"},
   "2": {"rule": "leaves org, non-sensitive", "control": "named-reviewer"},
   "3": {"rule": "sensitive-data or system-write", "control": "dual-review + audit"}},
 "prohibited": ["auto-send external commitments without review",
                "connector scope expansion without re-approval",
                "PII export to unapproved destinations"],
 "audit": {"log": ["actor", "connector", "data_scope", "approver", "output_hash"]}}"""


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """Directory holding :func:`mini_inventory`."""
    return write_inventory(tmp_path / "mini", mini_inventory())


# --- the rollout report, rendered once per session (tests/test_report.py, tests/test_report_browser.py) ----------

#: The example's report: few trials (the tests check the report's shape and that its figures are the library's).
REPORT_TRIALS, REPORT_SEED, REPORT_AS_OF = 400, 7, "2026-11-21"


def chromium_or_fail() -> str:
    """Debian's Chromium; required under CI=true (scripts/test installs it), elsewhere its tests may skip."""
    import os
    import shutil

    path = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI=true: scripts/test installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def acme_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's report (acme against acme-governed, priced with the default cost model) as HTML, with its PDF
    beside it when Chromium is installed; rendered once per session (per worker under pytest-xdist)."""
    import datetime as dt
    import shutil

    from blastradius.report import render_report

    out = tmp_path_factory.mktemp("report")
    printable = shutil.which("chromium") is not None
    path = render_report(
        ACME,
        out=out,
        compare_to=ACME_GOVERNED,
        costs=True,
        trials=REPORT_TRIALS,
        seed=REPORT_SEED,
        as_of=dt.date.fromisoformat(REPORT_AS_OF),
        fmt="pdf" if printable else "html",
    )
    return path.with_suffix(".html")


@pytest.fixture(scope="session")
def synthetic_report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The printed report of a 2,000-plugin synthetic enterprise (blastradius synth, README's large size), once per
    session. Few trials and controls tried on the 3 widest plugins: the layout at scale is under test, not figures."""
    import datetime as dt

    from blastradius.report import render_report
    from blastradius.synth import write_enterprise

    chromium_or_fail()
    root = tmp_path_factory.mktemp("synthetic")
    inventory = write_enterprise(
        root / "corp", people=50_000, plugins=2_000, connectors=500, systems=300, datasets=20_000, seed=1
    )
    return render_report(
        inventory,
        out=root / "out",
        trials=100,
        seed=1,
        as_of=dt.date.fromisoformat(REPORT_AS_OF),
        control_plugins=3,
        fmt="pdf",
    )
