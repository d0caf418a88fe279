"""An unedited import draft, or plugins nobody runs, never reads as an all-clear."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

MARKETPLACE = ROOT / "tests" / "data" / "importers" / "marketplace"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blastradius", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def test_a_draft_says_it_is_a_draft_and_that_zero_is_not_safe(tmp_path: Path) -> None:
    draft = tmp_path / "draft"
    assert run("import", "plugins", str(MARKETPLACE), "--out", str(draft)).returncode == 0
    sim = run("simulate", str(draft), "--trials", "1000")
    assert sim.returncode == 0, sim.stderr
    assert "plugins have no users in the inventory" in sim.stderr and "not because they are safe" in sim.stderr
    assert f"{draft} is an import draft" in sim.stderr and "DRAFT: " in sim.stderr
    assert sim.stdout.startswith("NO USERS: nobody runs any plugin")  # on the figures' own page, not only stderr
    assert "of unknown size counted at stand-in sizes" in sim.stdout
    score = run("score", str(draft))
    assert score.returncode == 0 and score.stdout.startswith("DRAFT: ") and "≥ 0" in score.stdout
    lint = run("lint", str(draft), "--fail-on", "none")
    assert lint.returncode == 0 and lint.stdout.startswith("DRAFT: "), lint.stdout[:300]
    report = run("report", str(draft), "--out", str(tmp_path / "out"), "--trials", "300")
    assert report.returncode == 0, report.stderr[-2000:]
    html = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    decision = html.index("We ask leadership")
    caveat = html.index("This inventory is an import draft.")
    assert caveat < decision  # before the ask, on page one
    assert re.search(r"<b class=.draft-banner.>DRAFT: \d+ stand-ins \(\d+ datasets? of unknown size", html)
    assert "have no users in the inventory</b>" in html and "That is not a finding that they are safe" in html


def test_the_example_carries_no_caveat() -> None:
    html = (ROOT / "reports" / "acme-rollout-report.html").read_text(encoding="utf-8")
    assert "import draft" not in html and "have no users in the inventory" not in html
