"""Hostile and broken input at the boundary: a clean error or a valid inventory, never a traceback, a hang,
unbounded memory or a figure out of range.

Each attack of issue 14 on the files -> model boundary is a test here: the "billion laughs" and other YAML
aliases, merge keys, a key given twice in JSON, a date that is no date, files over the size limit, an integer
of 5,001 digits, numbers beyond the schema's bounds, a CSV column given twice. Then a mutation corpus of the
example inventory (numbers replaced by extremes, strings by control characters and injection payloads, keys
deleted, duplicated and misspelt, types swapped, YAML anchors, tags and merge keys, bad dates, truncated
files, settings sections out of range), every mutation loaded in-process, and a sample run through the
command line. The corpus' counts are printed at the end of the test run (``tests/conftest.py``).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from blastradius import Inventory, InventoryError, load_inventory
from blastradius.errors import ConfigError
from blastradius.model import (
    MAX_PEOPLE,
    MAX_RECORDS,
    MAX_RUNS_PER_PLUGIN_PER_DAY,
    MAX_RUNS_PER_USER_PER_DAY,
    MAX_SECONDS,
    Connector,
    ConnectorPolicy,
    Dataset,
    Governance,
    PeopleGroup,
    Plugin,
    System,
    Team,
)
from blastradius.scores import score_plugins
from blastradius.settings import Assumptions, Weights, load_assumptions, load_weights
from blastradius.settings.files import MAX_DEPTH, MAX_DIGITS, yaml_line_index

from conftest import ACME, ROOT, mini_inventory, write_inventory

#: A nine-line "billion laughs": nine levels of nine aliases, 9**9 (387 million) strings once expanded.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def indented(text: str, section: str) -> str:
    """``text`` (a YAML mapping) as the section ``section`` of an inventory document."""
    return f"{section}:\n" + "".join(f"  {line}\n" for line in text.splitlines())


def load_error(directory: Path) -> InventoryError:
    with pytest.raises(InventoryError) as info:
        load_inventory(directory)
    return info.value


def acme_copy(tmp_path: Path, changes: dict[str, str | bytes] | None = None) -> Path:
    """A copy of the example inventory, with some files replaced (or added)."""
    copy = shutil.copytree(ACME, tmp_path / "acme")
    for name, content in (changes or {}).items():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return copy


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it, with 4 GB of address space and a minute at most."""
    exe = Path(sys.executable).with_name("blastradius")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
        preexec_fn=_limit_memory,
    )


def assert_one_block_error(result: subprocess.CompletedProcess) -> None:
    """Exit 1 with the problems as one block on stderr: ``error: ...`` then one line per problem; no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    text = result.stderr.strip()
    assert text.startswith("error:"), text[:500]
    assert "\n\n" not in text, text[:500]


def assert_figures_in_range(table: Any) -> None:
    """Every number of a score table is finite and not negative."""
    numbers = table.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers).all() and (numbers >= 0).all(), table.select_dtypes("number").describe().T


# ---------------------------------------------------------------------------
# Resource limits when parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["teams", "weights", "assumptions"])
def test_a_billion_laughs_is_refused_at_once(tmp_path: Path, section: str) -> None:
    write_inventory(tmp_path / "inv", {"lol.yaml": indented(BILLION_LAUGHS, section)})
    start = time.perf_counter()
    error = load_error(tmp_path / "inv")
    assert time.perf_counter() - start < 1
    first = error.problems[0]
    assert first.file == tmp_path / "inv" / "lol.yaml"
    assert (first.line, first.path) == (3, f"{section}.b[0]")
    assert "the alias '*a': YAML anchors and aliases are not supported" in first.message
    assert len(error.problems) == 20 and "53 more such problems from this line on" in str(error)


def test_a_billion_laughs_in_a_settings_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(BILLION_LAUGHS)
    with pytest.raises(ConfigError, match=r"w\.yaml:2: b\[0\]: the alias '\*a'"):
        load_weights(tmp_path / "w.yaml")
    with pytest.raises(ConfigError, match="anchors and aliases are not supported"):
        load_assumptions(tmp_path / "w.yaml")


def test_the_line_indexer_walks_an_alias_once() -> None:
    start = time.perf_counter()
    index = yaml_line_index(BILLION_LAUGHS)
    assert time.perf_counter() - start < 0.5
    assert (index["b"], index["i"], index["i[8]"]) == (2, 9, 8)  # an alias is indexed where its anchor is
    assert len(index) < 100
    assert yaml_line_index("teams: &a [*a]\n") == {"teams": 1, "teams[0]": 1, "": 1}


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        ("teams: &a [*a]\n", 1, "teams[0]"),
        ("teams:\n  - &t\n    id: a\n    headcount: 3\n    sub: *t\n", 5, "teams[0].sub"),
        ("plugins: &p\n  - id: x\n    owner: y\n    connectors: *p\n", 4, "plugins[0].connectors"),
    ],
    ids=["list", "mapping", "plugin"],
)
def test_an_alias_that_contains_itself_is_a_clear_error(tmp_path: Path, text: str, line: int, path: str) -> None:
    write_inventory(tmp_path / "inv", {"self.yaml": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.line, problem.path) == (line, path)
    assert "anchors and aliases are not supported" in problem.message


def test_a_merge_key_says_so_with_its_line(tmp_path: Path) -> None:
    text = "teams:\n  - &t {id: a1, headcount: 3}\n  - <<: *t\n    id: a2\n"
    write_inventory(tmp_path / "inv", {"teams.yaml": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.line, problem.path) == (3, 'teams[1]["<<"]')
    assert problem.message == "YAML merge keys ('<<') are not supported"
    assert "constructor" not in str(problem)


def test_a_yaml_tag_is_still_refused(tmp_path: Path) -> None:
    write_inventory(tmp_path / "inv", {"t.yaml": "teams: !!python/object/apply:os.system ['echo pwned']\n"})
    [problem] = load_error(tmp_path / "inv").problems
    assert problem.line == 1 and "could not determine a constructor" in problem.message


def test_a_json_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = '{"teams": [\n  {"id": "a1",\n   "headcount": 3,\n   "headcount": 4}]}\n'
    write_inventory(tmp_path / "inv", {"teams.json": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.line, problem.path) == (4, "teams[0].headcount")
    assert problem.message == "key 'headcount' given twice (first on line 3)"


def test_a_bad_date_names_its_key_and_line_and_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    connectors = (ACME / "connectors.yaml").read_text()
    copy = acme_copy(
        tmp_path, {"connectors.yaml": connectors.replace("approved_on: 2025-09-12", "approved_on: 2026-13-45")}
    )
    [problem] = load_error(copy).problems  # one problem: the file is read, its other records are checked
    line = next(i for i, row in enumerate(connectors.splitlines(), 1) if "approved_on: 2025-09-12" in row)
    assert (problem.file, problem.line, problem.path) == (copy / "connectors.yaml", line, "connectors[0].approved_on")
    assert "month value is outside expected range of 1-12" in problem.message and "'2026-13-45'" in problem.message


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_an_integer_of_5001_digits_is_a_clear_error(tmp_path: Path, suffix: str) -> None:
    digits = "9" * 5001
    text = (
        f'{{"teams": [\n {{"id": "a1",\n  "headcount": {digits}}}]}}\n'
        if suffix == ".json"
        else f"teams:\n  - id: a1\n    headcount: {digits}\n"
    )
    write_inventory(tmp_path / "inv", {f"teams{suffix}": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.line, problem.path) == (3, "teams[0].headcount")
    assert problem.message == f"a number of 5,001 digits is too long to read (at most {MAX_DIGITS:,})"


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_nesting_deeper_than_the_limit_is_refused(tmp_path: Path, suffix: str) -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    text = f'{{"teams": {deep}}}' if suffix == ".json" else f"teams: {deep}\n"
    write_inventory(tmp_path / "inv", {f"t{suffix}": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert problem.message == f"nested more than {MAX_DEPTH} levels deep"
    assert problem.path == "teams" + "[0]" * (MAX_DEPTH - 1)


def test_json_nested_thousands_deep_is_a_clear_error(tmp_path: Path) -> None:
    write_inventory(tmp_path / "inv", {"t.json": '{"teams": ' + "[" * 100_000 + "]" * 100_000 + "}"})
    [problem] = load_error(tmp_path / "inv").problems
    assert "nested too deeply" in problem.message or "nested more than" in problem.message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    inv = acme_copy(tmp_path)
    with (inv / "datasets-huge.csv").open("wb") as handle:  # sparse: 60 MB that take no disk and no time to write
        handle.truncate(60_000_000)
    start = time.perf_counter()
    [problem] = load_error(inv).problems
    assert time.perf_counter() - start < 1
    assert problem.file == inv / "datasets-huge.csv"
    assert problem.message == "file is 60.0 MB, 50.0 MB over the limit of 10.0 MB"
    assert problem.hint == "split it into smaller files, or raise the limit: BLASTRADIUS_MAX_FILE_MB=66"


@pytest.mark.parametrize("name", ["teams.yaml", "datasets.csv", "governance.json"])
def test_the_size_limit_is_set_by_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    inv = acme_copy(tmp_path)
    sizes = {p: p.stat().st_size for p in inv.rglob("*") if p.suffix in (".yaml", ".csv", ".json")}
    size = sizes[inv / name]
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", str((size - 10) / 1e6))
    problems = {p.file: p for p in load_error(inv).problems}
    assert problems[inv / name].message == f"file is {size:,} bytes, 10 bytes over the limit of {size - 10:,} bytes"
    assert set(problems) == {p for p, n in sizes.items() if n > size - 10}  # every file over the limit, none else
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", str(max(sizes.values()) / 1e6))
    assert load_inventory(inv).summary()["people"] == 4_000


def test_the_inventory_as_a_whole_has_a_limit_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = acme_copy(tmp_path)
    total = sum(p.stat().st_size for p in inv.rglob("*") if p.suffix in (".yaml", ".csv", ".json"))
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", "0.02")
    monkeypatch.setenv("BLASTRADIUS_MAX_INVENTORY_MB", str((total - 1000) / 1e6))
    [problem] = load_error(inv).problems
    assert problem.file == inv
    assert (
        problem.message.startswith("the inventory (13 files) is ") and "1,000 bytes over the limit" in problem.message
    )
    assert "its largest files are connectors.yaml" in (problem.hint or "")
    assert "BLASTRADIUS_MAX_INVENTORY_MB=" in (problem.hint or "")


def test_a_settings_file_over_the_limit_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "w.yaml").write_text("gate_miss_rate: 0.2\n" + "# padding\n" * 200)
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", "0.001")
    with pytest.raises(ConfigError, match=r"w\.yaml: file is 2,020 bytes, 1,020 bytes over the limit of 1,000 bytes"):
        load_weights(tmp_path / "w.yaml")


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf"])
def test_a_bad_size_limit_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", value)
    with pytest.raises(InventoryError, match="BLASTRADIUS_MAX_FILE_MB must be a number of megabytes above 0"):
        load_inventory(ACME)


def test_the_command_line_refuses_a_big_file_quickly_with_one_block(tmp_path: Path) -> None:
    inv = acme_copy(tmp_path)
    with (inv / "teams-huge.yaml").open("wb") as handle:
        handle.truncate(52_000_000)
    result = run_cli("validate", str(inv))
    assert_one_block_error(result)
    assert "teams-huge.yaml: file is 52.0 MB, 42.0 MB over the limit of 10.0 MB" in result.stderr
    small = run_cli("validate", str(ACME), env={"BLASTRADIUS_MAX_FILE_MB": "0.005"})
    assert_one_block_error(small)
    assert "connectors.yaml: file is " in small.stderr and "BLASTRADIUS_MAX_FILE_MB=" in small.stderr


#: Each attack above as a file of its own, for the command line.
ATTACKS = {
    "billion laughs": ("lol.yaml", indented(BILLION_LAUGHS, "weights"), "anchors and aliases are not supported"),
    "self alias": ("t.yaml", "teams: &a [*a]\n", "t.yaml:1: teams[0]: the alias '*a'"),
    "merge key": ("t.yaml", "teams:\n  - &t {id: a1, headcount: 3}\n  - <<: *t\n", "merge keys ('<<')"),
    "JSON key twice": (
        "t.json",
        '{"teams": [{"id": "a1", "id": "a2"}]}',
        "t.json:1: teams[0].id: key 'id' given twice",
    ),
    "bad date": (
        "c.yaml",
        "policies:\n  - {connector: crm, approved_on: 2026-13-45}\n",
        "c.yaml:2: policies[0].approved_on",
    ),
    "5,001 digits": ("t.json", '{"teams": [{"id": "a1", "headcount": ' + "9" * 5001 + "}]}", "5,001 digits"),
    "records 1e30": ("d.yaml", f"datasets: [{{id: d9, system: snowflake, records: {10**30}}}]\n", "d.yaml:1"),
    "review tier true": ("p.yaml", "plugins: [{id: p9, owner: finance-fpa, review_tier: true}]\n", "True is not"),
    "CSV column twice": ("datasets-2.csv", "id,system,id\nd9,snowflake,d8\n", "column 'id' given twice"),
}


@pytest.mark.parametrize(("name", "text", "expected"), ATTACKS.values(), ids=ATTACKS.keys())
def test_the_command_line_says_what_is_wrong_in_one_block(tmp_path: Path, name: str, text: str, expected: str) -> None:
    inv = acme_copy(tmp_path, {name: text})
    result = run_cli("validate", str(inv))
    assert_one_block_error(result)
    assert expected in result.stderr


# ---------------------------------------------------------------------------
# Field bounds in the schema
# ---------------------------------------------------------------------------

_TEAM = "teams:\n  - id: t1\n    headcount: 10\n"
_PLUGIN = _TEAM + "plugins:\n  - id: p1\n    owner: t1\n"

BOUNDS = {
    "records above 10**15": (
        "datasets:\n  - id: d1\n    system: s1\n    records: 1000000000000000000000000000000\n",
        "datasets[0].records",
        r"input should be less than or equal to 1,000,000,000,000,000, got 1000000000000000000000000000000",
    ),
    "records as a float": (
        "datasets:\n  - id: d1\n    system: s1\n    records: 1.0e+30\n",
        "datasets[0].records",
        r"input should be a valid integer, got 1e\+30",
    ),
    "records as text": (
        "datasets:\n  - id: d1\n    system: s1\n    records: 1e30\n",
        "datasets[0].records",
        r"input should be a valid integer, got '1e30'",
    ),
    "people count at 2**63": (
        f"people:\n  - id: g1\n    system: s1\n    kind: customers\n    count: {2**63}\n",
        "people[0].count",
        r"input should be less than or equal to 10,000,000,000, got 9223372036854775808",
    ),
    "headcount at 2**64": (
        f"teams:\n  - id: t1\n    headcount: {2**64}\n",
        "teams[0].headcount",
        r"less than or equal to 10,000,000,000",
    ),
    "headcount negative": ("teams:\n  - id: t1\n    headcount: -1\n", "teams[0].headcount", r"must not be negative"),
    "runs per user infinite": (
        _PLUGIN + "    users: [{team: t1, runs_per_user_per_day: .inf}]\n",
        "plugins[0].users[0].runs_per_user_per_day",
        r"must be a finite number, got inf",
    ),
    "runs per user not a number": (
        _PLUGIN + "    users: [{team: t1, runs_per_user_per_day: .nan}]\n",
        "plugins[0].users[0].runs_per_user_per_day",
        r"must be a finite number, got nan",
    ),
    "runs per user above the cap": (
        _PLUGIN + "    users: [{team: t1, runs_per_user_per_day: 10001}]\n",
        "plugins[0].users[0].runs_per_user_per_day",
        r"less than or equal to 10,000, got 10001",
    ),
    "review tier true": (
        _PLUGIN + "    review_tier: true\n",
        "plugins[0].review_tier",
        r"True is not allowed here; expected 1, 2 or 3",
    ),
    "review tier 2.0": (_PLUGIN + "    review_tier: 2.0\n", "plugins[0].review_tier", r"2\.0 is not allowed here"),
    "connector tier true": (
        "connectors:\n  - id: c1\n    tier: true\n",
        "connectors[0].tier",
        r"True is not allowed here; expected 1, 2 or 3",
    ),
    "pause over a year": (
        _PLUGIN + "    kill_switch: {can_pause: true, time_to_pause_seconds: 1.0e+9}\n",
        "plugins[0].kill_switch.time_to_pause_seconds",
        r"less than or equal to 31,536,000",
    ),
    "can pause as 1": (
        _PLUGIN + "    kill_switch: {can_pause: 1}\n",
        "plugins[0].kill_switch.can_pause",
        r"input should be a valid boolean, got 1",
    ),
    "revocation infinite": (
        "connectors:\n  - id: c1\n    revocation: {can_revoke: true, time_to_revoke_seconds: .inf}\n",
        "connectors[0].revocation.time_to_revoke_seconds",
        r"must be a finite number",
    ),
    "fan-out zero": (
        "connectors:\n  - id: c1\n    tools: [{name: x, action: send, fan_out: 0}]\n",
        "connectors[0].tools[0].fan_out",
        r"greater than or equal to 1",
    ),
    "fan-out above 10**15": (
        f"connectors:\n  - id: c1\n    tools: [{{name: x, action: send, fan_out: {10**16}}}]\n",
        "connectors[0].tools[0].fan_out",
        r"less than or equal to 1,000,000,000,000,000",
    ),
    "row limit as true": (
        "connectors:\n  - id: c1\n    row_limit: true\n",
        "connectors[0].row_limit",
        r"valid integer",
    ),
    "output audience above 10**10": (
        _PLUGIN + "    output_audience: 100000000000\n",
        "plugins[0].output_audience",
        r"less than or equal to 10,000,000,000",
    ),
    "re-review beyond a century": (
        "governance:\n  re_review_days: 1000000\n",
        "governance.re_review_days",
        r"less than or equal to 36,500",
    ),
    "weights: gate miss rate not a number": (
        "weights:\n  gate_miss_rate: .nan\n",
        "weights.gate_miss_rate",
        r"must be a finite number, got nan",
    ),
    "weights: untrusted factor infinite": (
        "weights:\n  untrusted_input_factor: .inf\n",
        "weights.untrusted_input_factor",
        r"must be a finite number",
    ),
    "weights: fan-out true": (
        "weights:\n  bulk_write_fan_out: true\n",
        "weights.bulk_write_fan_out",
        r"valid integer, got True",
    ),
    "weights: unknown records above 10**15": (
        f"weights:\n  unknown_dataset_records: {10**16}\n",
        "weights.unknown_dataset_records",
        r"less than or equal to 1,000,000,000,000,000",
    ),
    "weights: an action weight infinite": (
        "weights:\n  action_weights: {pay: .inf}\n",
        "weights.action_weights.pay",
        r"must be a finite number",
    ),
    "assumptions: working days over a year": (
        "assumptions:\n  period: {name: decade, working_days: 2500.0, hours_per_day: 8.0}\n",
        "assumptions.period.working_days",
        r"less than or equal to 366",
    ),
    "assumptions: records per result infinite": (
        "assumptions:\n  magnitude: {records_per_result: .inf}\n",
        "assumptions.magnitude.records_per_result",
        r"must be a finite number|less than or equal",
    ),
    "assumptions: an interval wider than 10**12": (
        "assumptions:\n  magnitude: {wrong_action_targets: {low: 1.0e-300, high: 1.0e+15}}\n",
        "assumptions.magnitude.wrong_action_targets",
        r"more than 1e\+12 times the lower",
    ),
    "assumptions: an hour infinite": (
        "assumptions:\n  halt: {manual_hours: .inf}\n",
        "assumptions.halt.manual_hours",
        r"must be a finite number",
    ),
}


@pytest.mark.parametrize(("text", "path", "message"), BOUNDS.values(), ids=BOUNDS.keys())
def test_a_number_out_of_bounds_names_its_file_line_and_key(tmp_path: Path, text: str, path: str, message: str) -> None:
    write_inventory(tmp_path / "inv", {"x.yaml": text})
    error = load_error(tmp_path / "inv")
    mine = [p for p in error.problems if p.path == path]
    assert mine, str(error)
    assert mine[0].file == tmp_path / "inv" / "x.yaml"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if path.rsplit(".", 1)[-1].split("[")[0] in row)
    assert mine[0].line == line, str(error)
    assert re.search(message, mine[0].message), str(error)


def test_a_csv_column_given_twice_is_refused(tmp_path: Path) -> None:
    write_inventory(tmp_path / "inv", {"datasets.csv": "id,system,records,records\nd1,s1,5,6\n"})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.line, problem.path) == (1, "records")
    assert problem.message == "column 'records' given twice in the header (columns 3 and 4)"


def test_all_records_together_must_fit_a_64_bit_integer(tmp_path: Path) -> None:
    rows = "".join(f"d{i},s1,{MAX_RECORDS}\n" for i in range(1001))
    write_inventory(tmp_path / "inv", {"datasets.csv": "id,system,records\n" + rows, "s.yaml": "systems: [{id: s1}]\n"})
    [problem] = load_error(tmp_path / "inv").problems
    assert problem.path == "datasets[0].records" and problem.line == 2
    assert problem.message == (
        "the datasets hold 1,001,000,000,000,000,000 records in all, more than the "
        "1,000,000,000,000,000,000 an inventory may hold"
    )


def test_a_plugin_run_more_than_a_million_times_a_day_is_refused(tmp_path: Path) -> None:
    text = _PLUGIN.replace("headcount: 10", f"headcount: {MAX_PEOPLE}") + "    users: [{team: t1}]\n"
    write_inventory(tmp_path / "inv", {"x.yaml": text})
    [problem] = load_error(tmp_path / "inv").problems
    assert (problem.path, problem.line) == ("plugins[0].users", 7)
    assert problem.message == (
        "plugin 'p1' runs 10,000,000,000 times a working day over its users, more than the 1,000,000 an inventory "
        "may give"
    )


def _numeric_nodes(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of a JSON Schema that accepts a number, with where it is."""
    definitions = schema.get("$defs", {})

    def walk(node: Any, where: str, seen: frozenset[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    yield from walk(definitions[name], f"{where}->{name}", seen | {name})
                return
            if node.get("type") in ("integer", "number"):
                yield where, node
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}", seen)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{where}[{i}]", seen)

    yield from walk(schema, "", frozenset())


@pytest.mark.parametrize(
    "model",
    [Team, Plugin, Connector, ConnectorPolicy, System, Dataset, PeopleGroup, Governance, Weights, Assumptions],
    ids=lambda m: m.__name__,
)
def test_every_number_of_every_model_has_an_upper_bound(model: Any) -> None:
    unbounded = [
        where
        for where, node in _numeric_nodes(model.model_json_schema())
        if "maximum" not in node and "exclusiveMaximum" not in node and "enum" not in node
    ]
    assert not unbounded


def _at_the_caps() -> dict[str, Any]:
    """The small inventory with every number at its cap (runs per plugin and day at theirs)."""
    files = mini_inventory()
    for team in files["teams.yaml"]["teams"]:
        team["headcount"] = MAX_PEOPLE
    for system in files["systems.yaml"]["systems"]:
        for dataset in system.get("datasets", []):
            dataset["records"] = MAX_RECORDS
        for group in system.get("people", []):
            group["count"] = MAX_PEOPLE
    for connector in files["connectors.yaml"]["connectors"]:
        connector["revocation"] = {"can_revoke": True, "time_to_revoke_seconds": float(MAX_SECONDS)}
        for tool in connector["tools"]:
            tool["fan_out"] = MAX_RECORDS
    fin, outreach = files["plugins.yaml"]["plugins"]
    per_user = MAX_RUNS_PER_PLUGIN_PER_DAY // MAX_RUNS_PER_USER_PER_DAY
    fin["users"] = [{"team": "finance", "users": per_user, "runs_per_user_per_day": float(MAX_RUNS_PER_USER_PER_DAY)}]
    outreach["users"] = [{"team": "sales", "runs_per_user_per_day": MAX_RUNS_PER_PLUGIN_PER_DAY / MAX_PEOPLE}]
    for plugin in (fin, outreach):
        plugin["output_audience"] = MAX_PEOPLE
        plugin["kill_switch"] = {"can_pause": True, "time_to_pause_seconds": float(MAX_SECONDS)}
    files["policies/finance-warehouse.json"] = json.dumps(
        {
            "connector": "finance-warehouse",
            "access": "read-only",
            "row_limit": MAX_RECORDS,
            "audit": {"log_every_query": True, "alert_if_rows_returned_over": MAX_RECORDS},
        }
    )
    return files


def test_every_number_at_its_cap_gives_figures_in_range(tmp_path: Path) -> None:
    from blastradius.simulate import simulate_failures

    inv = load_inventory(write_inventory(tmp_path / "caps", _at_the_caps()))
    assert inv.summary()["records"] == 5 * MAX_RECORDS
    assert_figures_in_range(score_plugins(inv))
    result = simulate_failures(inv, trials=500, seed=1)
    for name in ("incidents", "caught", "runs_affected", "records", "people", "records_permanent", "runs"):
        values = np.asarray(getattr(result, name), dtype=float)
        assert np.isfinite(values).all() and (values >= 0).all(), name


# ---------------------------------------------------------------------------
# The mutation corpus
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One file of the example inventory replaced by ``content``, or one file added."""

    id: str
    file: str
    content: str | bytes


def _acme_texts() -> dict[str, str]:
    return {
        str(p.relative_to(ACME)): p.read_text(encoding="utf-8")
        for p in sorted(ACME.rglob("*"))
        if p.suffix in (".yaml", ".json", ".csv")
    }


_NUMBER = re.compile(r"(?<=: )-?\d+(?:\.\d+)?(?=[ ,}\]\n])")
_DATE = re.compile(r"(?<=: )\d{4}-\d\d-\d\d\b")
_TEXT = re.compile(r"\b(?:id|name|description|owner|department|approved_by|kind|team|connector): ([^\n,{}\[\]#]+)")
_KEY_LINE = re.compile(r"^\s*(?:- )?([a-z_]+):", re.M)

YAML_NUMBERS = [
    "1e30",
    "1.0e+30",
    "-1",
    ".inf",
    "-.inf",
    ".nan",
    str(2**63),
    "9" * 5001,
    "true",
    "false",
    "0",
    "0.5",
    "null",
    '"12"',
    "0x10",
    "1_000",
    "1:30",
    "[1]",
    "{a: 1}",
    "1.0e-400",
]
JSON_NUMBERS = [
    "1e30",
    "-1",
    "Infinity",
    "NaN",
    "-Infinity",
    str(2**63),
    "9" * 5001,
    "true",
    "false",
    "1.5",
    "null",
    '"50000"',
    "[]",
    "{}",
]
CSV_NUMBERS = [
    "1e30",
    "-1",
    "inf",
    "nan",
    str(2**63),
    "9" * 5001,
    "true",
    '"1,000"',
    "1_000",
    "0x10",
    " 12 ",
    "\u0661\u0662",
    "12.5",
    "-0",
]
PAYLOADS = [
    '"\\e[31mred\\e[0m\\a"',  # terminal escapes, as YAML escapes
    '"nul\\0byte"',
    '"\\u202eevil\\u200b"',  # right-to-left override, zero-width space
    "\x07bell",  # a raw control character: not allowed in YAML
    '"' + "x" * 10_001 + '"',  # longer than any text field
    '"' + "y" * 300 + '"',  # longer than a name
    "'$\\undefinedcmd{x}$'",
    "'=cmd|'' /C calc''!A0'",
    "'<script>alert(1)</script>'",
    "'../../../etc/passwd'",
    "'{{7*7}}'",
    '"\'; DROP TABLE plugins; --"',
    "'%s%s%n'",
    "'${jndi:ldap://x/a}'",
    "''",
    "' '",
    "'Finance & Accounting'",
    '"\\U0001F4A5 boom"',
]
CSV_PAYLOADS = ["=1+1", "+cmd", "@SUM(A1)", "-2+3", '"a,b"', '"x""y"', "\x1b[31m", "x" * 10_001, "../etc", '"unclosed']
BAD_DATES = [
    "2026-13-45",
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "2026-1-1",
    "20261107",
    "tomorrow",
    "2026-11-07T25:00:00",
    "'2026-11-07'",
    "2026-11-07 10:00:00",
]
YAML_FEATURES = {
    "billion-laughs-teams": indented(BILLION_LAUGHS, "teams"),
    "billion-laughs-weights": indented(BILLION_LAUGHS, "weights"),
    "billion-laughs-assumptions": indented(BILLION_LAUGHS, "assumptions"),
    "self-alias": "teams: &a [*a]\n",
    "self-alias-mapping": "teams:\n  - &t\n    id: a\n    headcount: 3\n    sub: *t\n",
    "alias-of-a-record": "teams:\n  - &t {id: qa, headcount: 3}\n  - *t\n",
    "scalar-alias": "teams:\n  - {id: qa, headcount: &n 3}\n  - {id: qb, headcount: *n}\n",
    "unused-anchor": "teams:\n  - &t {id: qa, headcount: 3}\n",
    "merge-key": "teams:\n  - &t {id: qa, headcount: 3}\n  - <<: *t\n    id: qb\n",
    "merge-key-inline": "teams:\n  - <<: {id: qa, headcount: 3}\n",
    "python-tag": "teams: !!python/object/apply:os.system ['echo pwned']\n",
    "python-name": "teams: !!python/name:os.system\n",
    "binary-tag": "teams:\n  - id: !!binary aGVsbG8=\n    headcount: 3\n",
    "set-tag": "teams: !!set {a, b}\n",
    "omap-tag": "teams: !!omap [{id: qa}, {headcount: 3}]\n",
    "custom-tag": "teams: !custom [1]\n",
    "timestamp-tag": "connectors:\n  - id: crm\n    approved_on: !!timestamp 2026-13-45\n",
    "str-tag-number": "teams:\n  - {id: qa, headcount: !!str 3}\n",
    "float-tag": "teams:\n  - {id: qa, headcount: !!float 3}\n",
    "complex-key": "teams:\n  ? [a, b]\n  : 1\n",
    "multi-document": "teams: []\n---\nplugins: []\n",
    "directive": "%YAML 1.1\n---\nteams: [{id: qa, headcount: 3}]\n",
    "deep-flow": "teams: " + "[" * 200 + "]" * 200 + "\n",
    "deep-block": "teams:\n" + "".join("  " * i + "- \n" for i in range(1, 60)),
    "sexagesimal": "teams:\n  - {id: qa, headcount: " + ":".join(["1"] + ["00"] * 3000) + "}\n",
    "long-key": "teams:\n  - {id: qa, headcount: 3, " + "k" * 100_000 + ": 1}\n",
    "many-records": "teams:\n" + "".join(f"  - {{id: q{i}, headcount: 1}}\n" for i in range(3000)),
}
SECTIONS_ACME_LACKS = {
    "policy": "policies:\n  - {connector: crm, row_limit: X, approved_on: 2026-11-07}\n",
    "policy-bad-date": "policies:\n  - {connector: crm, row_limit: X, approved_on: 2026-13-45}\n",
    "nested": (
        "systems:\n  - id: s9\n    datasets: [{id: d9, records: X}]\n    people: [{id: g9, kind: other, count: X}]\n"
    ),
    "governance": "governance: {re_review_days: X, connectors: {crm: {tier: X}}}\n",
}
SETTINGS_EXTREMES = {
    "weights": [
        "gate_miss_rate",
        "untrusted_input_factor",
        "fan_out_slope",
        "bulk_write_fan_out",
        "unknown_dataset_records",
        "recommended_row_limit",
    ],
    "assumptions": [
        "failure_rates.wrong_action",
        "magnitude.records_per_result",
        "halt.manual_hours",
        "period.working_days",
        "untrusted_input.rate_factor",
        "detection.unaided_hours",
    ],
}
SETTINGS_VALUES = [".inf", ".nan", "-1", "1.0e+300", "true", str(2**63), "'x'", "{low: 1.0e-300, high: 1.0e+15}"]


def _settings_section(section: str, dotted: str, value: str) -> str:
    parts = dotted.split(".")
    text = f"{section}:\n"
    for depth, part in enumerate(parts):
        text += "  " * (depth + 1) + f"{part}:" + (f" {value}\n" if depth == len(parts) - 1 else "\n")
    return text


def _swap_types(data: Any, rng: random.Random, n: int) -> Iterator[tuple[str, Any]]:
    """``n`` copies of ``data`` with the value at one random place replaced by another type."""
    places: list[tuple[Any, ...]] = []

    def walk(node: Any, where: tuple[Any, ...]) -> None:
        if where:
            places.append(where)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*where, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*where, i))

    walk(data, ())
    swaps = [
        lambda v: [v],
        lambda v: {"k": v},
        lambda v: "text",
        lambda v: 0,
        lambda v: None,
        lambda v: True,
        lambda v: [],
        lambda v: {},
        lambda v: -1.5,
        lambda v: [[v]],
    ]
    for _ in range(n):
        where = rng.choice(places)
        swap = rng.randrange(len(swaps))
        copy = json.loads(json.dumps(data, default=str))
        parent = copy
        for part in where[:-1]:
            parent = parent[part]
        parent[where[-1]] = swaps[swap](parent[where[-1]])
        yield ".".join(map(str, where)) + f"~{swap}", copy


def mutation_corpus() -> list[Mutation]:
    """The corpus: at least 500 mutations of ``inventories/acme``, the same every time (seeded)."""
    rng = random.Random(14)
    texts = _acme_texts()
    yaml_files = [f for f in texts if f.endswith(".yaml")]
    json_files = [f for f in texts if f.endswith(".json")]
    out: list[Mutation] = []

    def replace_at(file: str, match: re.Match[str], value: str, group: int = 0) -> str:
        text = texts[file]
        return text[: match.start(group)] + value + text[match.end(group) :]

    def pick(file_pattern: list[tuple[str, re.Match[str]]], k: int) -> list[tuple[str, re.Match[str]]]:
        return rng.sample(file_pattern, min(k, len(file_pattern)))

    numbers = [(f, m) for f in yaml_files for m in _NUMBER.finditer(texts[f])]
    for value in YAML_NUMBERS:
        for file, match in pick(numbers, 4):
            out.append(Mutation(f"number:{file}@{match.start()}={value[:12]}", file, replace_at(file, match, value)))
    json_numbers = [(f, m) for f in json_files for m in re.finditer(r"(?<=: )\d+", texts[f])]
    for value in JSON_NUMBERS:
        for file, match in pick(json_numbers, 2):
            out.append(
                Mutation(f"json-number:{file}@{match.start()}={value[:12]}", file, replace_at(file, match, value))
            )
    rows = texts["datasets.csv"].splitlines(keepends=True)
    for value in CSV_NUMBERS:
        for row in rng.sample(range(1, len(rows)), 2):
            cells = rows[row].split(",", 5)
            cells[4] = value
            changed = [*rows[:row], ",".join(cells), *rows[row + 1 :]]
            out.append(Mutation(f"csv-number:{row}={value[:12]!r}", "datasets.csv", "".join(changed)))
    strings = [(f, m) for f in yaml_files for m in _TEXT.finditer(texts[f])]
    for value in PAYLOADS:
        for file, match in pick(strings, 4):
            out.append(
                Mutation(f"text:{file}@{match.start(1)}={value[:12]!r}", file, replace_at(file, match, value, 1))
            )
    for value in CSV_PAYLOADS:
        for row in rng.sample(range(1, len(rows)), 2):
            cells = rows[row].split(",", 7)
            cells[rng.choice([0, 3, 7])] = value
            changed = [*rows[:row], ",".join(cells) + ("" if cells[-1].endswith("\n") else "\n"), *rows[row + 1 :]]
            out.append(Mutation(f"csv-text:{row}={value[:12]!r}", "datasets.csv", "".join(changed)))
    json_strings = [(f, m) for f in json_files for m in re.finditer(r'(?<=: )"[^"]*"', texts[f])]
    for value in ['"\\u001b[2J"', '"' + "z" * 10_001 + '"', '"\\ud800"', '"=HYPERLINK()"']:
        for file, match in pick(json_strings, 2):
            out.append(
                Mutation(f"json-text:{file}@{match.start()}={value[:12]!r}", file, replace_at(file, match, value))
            )
    keys = [(f, m) for f in yaml_files for m in _KEY_LINE.finditer(texts[f])]
    for file, match in pick(keys, 45):
        text, start = texts[file], match.start()
        end = text.find("\n", start) + 1 or len(text)
        out.append(Mutation(f"delete-line:{file}@{start}", file, text[:start] + text[end:]))
    for file, match in pick(keys, 45):
        text, start = texts[file], match.start()
        end = text.find("\n", start) + 1 or len(text)
        line = text[start:end].replace("- ", "  ", 1)
        out.append(Mutation(f"duplicate-line:{file}@{start}", file, text[:end] + line + text[end:]))
    for file, match in pick(keys, 45):
        key = match.group(1)
        i = rng.randrange(len(key))
        wrong = rng.choice([key[:i] + key[i + 1 :], key[:i] + key[i:][::-1][:1] * 2 + key[i + 1 :], key.upper()])
        wrong = wrong or "x"
        out.append(
            Mutation(f"misspell:{file}@{match.start(1)}:{key}->{wrong}", file, replace_at(file, match, wrong, 1))
        )
    header = rows[0].rstrip("\n").split(",")
    for i, column in enumerate(header):
        out.append(
            Mutation(
                f"csv-drop-column:{column}",
                "datasets.csv",
                ",".join(h for j, h in enumerate(header) if j != i) + "\n" + "".join(rows[1:]),
            )
        )
        out.append(
            Mutation(
                f"csv-duplicate-column:{column}",
                "datasets.csv",
                ",".join([*header, column]) + "\n" + "".join(r.rstrip("\n") + ",x\n" for r in rows[1:]),
            )
        )
        out.append(
            Mutation(
                f"csv-misspell-column:{column}",
                "datasets.csv",
                ",".join(h if j != i else h[::-1] for j, h in enumerate(header)) + "\n" + "".join(rows[1:]),
            )
        )
    for file in sorted(texts):
        if file.endswith(".csv"):
            continue
        data = json.loads(texts[file]) if file.endswith(".json") else yaml.safe_load(texts[file])
        for where, swapped in _swap_types(data, rng, 10 if file.endswith(".yaml") else 6):
            text = json.dumps(swapped) if file.endswith(".json") else yaml.safe_dump(swapped, sort_keys=False)
            out.append(Mutation(f"swap-type:{file}:{where}", file, text))
    for name, text in YAML_FEATURES.items():
        out.append(Mutation(f"yaml:{name}", "zz-extra.yaml", text))
    for value in YAML_NUMBERS:  # the sections acme does not use: policies listed inline, nested records, governance
        for name, template in SECTIONS_ACME_LACKS.items():
            out.append(Mutation(f"section:{name}={value[:12]}", "zz-extra.yaml", template.replace("X", value)))
    dates = [(f, m) for f in yaml_files for m in _DATE.finditer(texts[f])]
    for value in BAD_DATES:
        for file, match in pick(dates, 3):
            out.append(Mutation(f"date:{file}@{match.start()}={value}", file, replace_at(file, match, value)))
    for file in sorted(texts):
        data = texts[file].encode()
        for share in (0.0, 0.1, 0.33, 0.5, 0.77, 0.99):
            out.append(Mutation(f"truncate:{file}@{share}", file, data[: int(len(data) * share)]))
        out.append(Mutation(f"bad-utf8:{file}", file, data + "\u00e9".encode()[:1]))
        out.append(Mutation(f"nul-bytes:{file}", file, data.replace(b"\n", b"\n\x00", 1)))
        out.append(Mutation(f"bom:{file}", file, b"\xef\xbb\xbf" + data))
    for section, keys_ in SETTINGS_EXTREMES.items():
        for key in keys_:
            for value in SETTINGS_VALUES:
                text = texts["teams.yaml"] + _settings_section(section, key, value)
                out.append(Mutation(f"settings:{section}.{key}={value[:12]}", "teams.yaml", text))
    return out


CORPUS = mutation_corpus()
CHUNKS = 4


def test_the_corpus_is_large_and_the_same_every_time() -> None:
    assert len(CORPUS) >= 500
    assert len({m.id for m in CORPUS}) == len(CORPUS)
    assert [m.id for m in mutation_corpus()] == [m.id for m in CORPUS]


def _check_error(error: InventoryError, inv: Path) -> None:
    """A clean error: every problem says what is wrong, in a file of the inventory, on a line the file has."""
    assert error.problems
    text = str(error)
    assert "Traceback" not in text
    for problem in error.problems:
        assert problem.message
        if problem.file is not None:
            assert problem.file == inv or inv in problem.file.parents, problem
            if problem.line is not None and problem.file.is_file():
                lines = problem.file.read_bytes().count(b"\n") + 1
                assert 1 <= problem.line <= lines, problem


def _check_loaded(inventory: Inventory, simulate: bool) -> None:
    assert_figures_in_range(score_plugins(inventory))
    if simulate:
        from blastradius.simulate import simulate_failures

        result = simulate_failures(inventory, trials=20, seed=0)
        for name in ("incidents", "runs_affected", "records", "people"):
            values = np.asarray(getattr(result, name), dtype=float)
            assert np.isfinite(values).all() and (values >= 0).all(), name


def _apply(inv: Path, mutation: Mutation) -> None:
    target = inv / mutation.file
    if isinstance(mutation.content, bytes):
        target.write_bytes(mutation.content)
    else:
        target.write_text(mutation.content, encoding="utf-8")


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_mutation_loads_or_is_a_clean_error(tmp_path: Path, chunk: int, record_property: Any) -> None:
    inv = acme_copy(tmp_path)
    originals = {p: p.read_bytes() for p in inv.rglob("*") if p.is_file()}
    loaded = rejected = 0
    slowest = (0.0, "")
    for i, mutation in enumerate(CORPUS[chunk::CHUNKS]):
        _apply(inv, mutation)
        start = time.perf_counter()
        try:
            try:
                inventory = load_inventory(inv)
            except InventoryError as exc:
                _check_error(exc, inv)
                rejected += 1
            else:
                _check_loaded(inventory, simulate=i % 10 == 0)
                loaded += 1
        except Exception as exc:  # anything but a clean outcome fails, naming the mutation
            raise AssertionError(f"mutation {mutation.id}: {type(exc).__name__}: {str(exc)[:500]}") from exc
        finally:
            for path in {p for p in inv.rglob("*") if p.is_file()} - set(originals):
                path.unlink()
            for path, content in originals.items():
                path.write_bytes(content)
        slowest = max(slowest, (time.perf_counter() - start, mutation.id))
    assert slowest[0] < 5, f"mutation {slowest[1]} took {slowest[0]:.1f} s"
    record_property("hostile_mutations", loaded + rejected)
    record_property("hostile_loaded", loaded)
    record_property("hostile_rejected", rejected)


#: Mutations also run through the command line: the first of each kind.
CLI_KINDS = ("number:", "csv-number:", "text:", "truncate:", "swap-type:", "settings:", "misspell:")
CLI_SAMPLE = [next(m for m in CORPUS if m.id.startswith(kind)) for kind in CLI_KINDS]


@pytest.mark.parametrize("mutation", CLI_SAMPLE, ids=lambda m: m.id[:60])
def test_a_sample_of_mutations_through_the_command_line(
    tmp_path: Path, mutation: Mutation, record_property: Any
) -> None:
    inv = acme_copy(tmp_path)
    _apply(inv, mutation)
    validate = run_cli("validate", str(inv))
    score = run_cli("score", str(inv), "--format", "json")
    for result in (validate, score):
        assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    if validate.returncode == 0:
        assert score.returncode == 0, score.stderr[-2000:]
        for row in json.loads(score.stdout):
            for key, value in row.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    assert math.isfinite(value) and value >= 0, (key, value)
    else:
        assert_one_block_error(validate)
        assert_one_block_error(score)
    record_property("hostile_cli_runs", 2)


# --- the importers read through the same boundary -------------------------------------------------


def test_imports_refuse_aliases_and_files_over_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blastradius.importers import import_sources
    from blastradius.importers.errors import ImportSourceError

    source = Path(__file__).parent / "data" / "importers" / "marketplace" / "support-desk"
    plugin = tmp_path / "p"
    shutil.copytree(source, plugin)
    skill = plugin / "skills" / "laughs" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text('---\nname: &a ["lol", "lol"]\ndescription: [*a, *a, *a]\n---\n')
    started = time.perf_counter()
    with pytest.raises(ImportSourceError, match=r"SKILL\.md:\d+: .*alias"):
        import_sources("plugins", [plugin], tmp_path / "draft", strict=True)
    report = import_sources("plugins", [plugin], tmp_path / "draft")  # by default the skill is left out, with why
    assert any("skill left out" in t and "alias" in t for t in report.todo)
    assert time.perf_counter() - started < 30  # refused, not expanded
    skill.unlink()
    manifest = next(plugin.rglob("plugin.json"))
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", "0.0001")  # 100 bytes: every manifest is over it
    with pytest.raises(ImportSourceError, match=r"over the limit"):
        import_sources("plugins", [plugin], tmp_path / "draft2")
    assert manifest.exists() and not (tmp_path / "draft2" / "connectors.yaml").exists()


def test_free_text_departments_split_into_valid_connector_ids(tmp_path: Path) -> None:
    from blastradius.levers import with_connector_split

    inv_dir = tmp_path / "inv"
    shutil.copytree(ROOT / "inventories" / "acme", inv_dir)
    teams = yaml.safe_load((inv_dir / "teams.yaml").read_text())
    for team in teams["teams"]:
        if team.get("department") == "finance":
            team["department"] = "Finance & Accounting"
    (inv_dir / "teams.yaml").write_text(yaml.safe_dump(teams))
    split = with_connector_split(load_inventory(inv_dir), "company-data")
    ids = [c.id for c in split.connectors if c.id.startswith("company-data")]
    assert "company-data-finance-accounting" in ids
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", i) for i in ids)
    out = subprocess.run(
        [sys.executable, "-m", "blastradius", "recommend", str(inv_dir)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-1000:]
