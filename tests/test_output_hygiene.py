"""Text from inventories reaches terminals, spreadsheets, XML and SARIF safely; outputs are written whole."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest
import yaml

from blastradius import load_inventory
from blastradius.graph import build_graph, write_graph
from blastradius.rules import lint, rule_catalog
from blastradius.simulate import _kernel
from blastradius.textout import csv_text, printable

from conftest import ACME, ROOT

ESC = "\x1b[2J\x1b]0;owned\x07"


def _hostile(tmp_path: Path) -> Path:
    """acme with a plugin whose name carries terminal escapes and a formula, and a tool name with a NUL-free control."""
    out = tmp_path / "inv"
    out.mkdir()
    for path in ACME.rglob("*"):
        if path.is_file():
            target = out / path.relative_to(ACME)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    plugin_file = next(p for p in (out / "plugins").iterdir() if "ap-autopilot" in p.read_text())
    data = yaml.safe_load(plugin_file.read_text())
    plugins = data["plugins"] if isinstance(data, dict) and "plugins" in data else [data]
    for p in plugins:
        if p.get("id") == "ap-autopilot":
            p["name"] = '=HYPERLINK("http://x")' + ESC
            p["description"] = "pays" + ESC
    plugin_file.write_text(yaml.safe_dump(data if isinstance(data, dict) else plugins, allow_unicode=True))
    return out


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blastradius", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("a\x1b[31mb\x07c\x9b") == "a\\x1b[31mb\\x07c\\x9b"
    assert printable("line\n\ttab") == "line\n\ttab"


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped() -> None:
    import pandas as pd

    df = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(1)", "\tx", "plain"], "n": [-1, 2, 3, 4, 5, 6]})
    lines = csv_text(df, index=False).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [
        "'=cmd|' /C calc'!A0",
        "'+1",
        "'-x",
        "'@SUM(1)",
        "'\tx",
        "plain",
    ]
    assert lines[1].endswith(",-1")  # numbers are left as numbers


def test_the_cli_neutralises_escapes_and_formulas(tmp_path: Path) -> None:
    inv = _hostile(tmp_path)
    assert load_inventory(inv).plugin_by_id["ap-autopilot"].name.endswith("\x07")  # valid input, kept as written
    csv = run("score", str(inv), "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    row = next(line for line in csv.stdout.splitlines() if "ap-autopilot" in line)
    assert "'=HYPERLINK" in row and "\x1b" not in csv.stdout and "\x07" not in csv.stdout
    for command in (("explain", str(inv), "ap-autopilot"), ("score", str(inv)), ("lint", str(inv))):
        out = run(*command)
        assert "\x1b" not in out.stdout and "\x07" not in out.stdout, command
        assert "Traceback" not in out.stderr, command


def test_graphml_stays_well_formed_with_control_characters(tmp_path: Path) -> None:
    inv = load_inventory(_hostile(tmp_path))
    path = write_graph(build_graph(inv), tmp_path / "g.graphml")
    xml.dom.minidom.parse(str(path))  # raises on an ill-formed document
    assert not list(tmp_path.glob(".g.graphml.*"))  # written whole: no temporary left behind


def test_sarif_uris_are_percent_encoded(tmp_path: Path) -> None:
    from blastradius.findings import to_sarif

    odd = tmp_path / "my inventory#1"
    odd.mkdir()
    for path in ACME.rglob("*"):
        if path.is_file():
            target = odd / path.relative_to(ACME)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    sarif = to_sarif(lint(load_inventory(odd)), rule_catalog(), root=tmp_path)
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result.get("locations", [])
    ]
    assert uris and all(" " not in u and "#" not in u for u in uris)
    assert any("my%20inventory%231" in u for u in uris)


def test_graph_out_refuses_a_directory_and_another_inventory(tmp_path: Path) -> None:
    to_dir = run("graph", "inventories/acme", "--out", str(tmp_path))
    assert to_dir.returncode == 1 and "is a directory" in to_dir.stderr
    other = run("graph", "inventories/acme", "--out", "inventories/acme-governed/graph.json")
    assert other.returncode == 1 and "holds an inventory" in other.stderr
    assert not (ROOT / "inventories" / "acme-governed" / "graph.json").exists()


def test_the_compiled_kernel_is_cached_outside_the_package() -> None:
    import numba

    package = Path(_kernel.__file__).resolve().parent
    cache = Path(numba.config.CACHE_DIR).resolve()
    assert package not in (cache, *cache.parents) and Path.cwd().resolve() != cache


@pytest.mark.parametrize("fmt", ["json"])
def test_json_output_escapes_control_characters(tmp_path: Path, fmt: str) -> None:
    out = run("score", str(_hostile(tmp_path)), "--format", fmt)
    assert out.returncode == 0 and "\x1b" not in out.stdout
    rows = json.loads(out.stdout)
    assert any(r.get("name", "").endswith("\x07") for r in rows)  # the data itself is kept, only escaped in JSON


def test_the_report_takes_names_literally_and_leaves_no_socket_behind(tmp_path: Path) -> None:
    inv = _hostile(tmp_path)
    connectors = inv / "connectors.yaml"
    data = yaml.safe_load(connectors.read_text())
    data["connectors"][0]["tools"][0]["description"] = r"$\undefinedcmd{x}$ <b>bold</b>"
    data["connectors"][0]["name"] = r"$\undefinedcmd{x}$"
    connectors.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = {p: p.read_bytes() for p in inv.rglob("*") if p.is_file()}
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "blastradius", "report", str(inv), "--out", str(tmp_path / "out"), "--trials", "500"],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert not list(workdir.iterdir())  # no kernel socket nor anything else in the current directory
    assert {p: p.read_bytes() for p in inv.rglob("*") if p.is_file()} == before  # the inventory untouched
    html = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    assert "\x1b" not in html and "<b>bold</b>" not in html
