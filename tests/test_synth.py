"""The synthetic enterprise generator: valid inventories of the asked size, deterministic, with planted pitfalls."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blastradius import load_inventory
from blastradius.errors import BlastRadiusError
from blastradius.rules import lint
from blastradius.synth import (
    AS_OF,
    DATASET_COLUMNS,
    SIZES,
    generate_enterprise,
    write_enterprise,
)

TINY = {"people": 10, "plugins": 1, "connectors": 1, "systems": 1, "datasets": 1}
SMALL = dict(SIZES["small"])
MEDIUM = dict(SIZES["medium"])


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_enterprise(tmp_path_factory.mktemp("synth") / "medium", seed=7, **MEDIUM)


@pytest.mark.parametrize(
    "sizes",
    [
        TINY,
        SMALL,
        {"people": 25, "plugins": 4, "connectors": 9, "systems": 2, "datasets": 2},
        {"people": 900, "plugins": 20, "connectors": 3, "systems": 20, "datasets": 60},
    ],
    ids=["tiny", "small", "more-connectors-than-systems", "more-systems-than-connectors"],
)
def test_generated_inventory_loads_with_the_asked_counts(tmp_path: Path, sizes: dict[str, int]) -> None:
    inv = load_inventory(write_enterprise(tmp_path / "corp", seed=1, **sizes))
    summary = inv.summary()
    assert summary["people"] == sizes["people"]
    assert sum(t.headcount for t in inv.teams) == sizes["people"]
    assert all(t.headcount >= 1 for t in inv.teams)
    for kind in ("plugins", "connectors", "systems", "datasets"):
        assert summary[kind] == sizes[kind], kind
    assert inv.warnings == ()


def test_medium_enterprise_is_realistic(medium: Path) -> None:
    inv = load_inventory(medium)
    assert inv.summary()["people"] == MEDIUM["people"]
    assert len({t.department_name for t in inv.teams}) >= 8
    # record counts are skewed: hundreds of millions at the top, most tables far smaller, a few unknown
    records = np.array([d.records for d in inv.datasets if d.records is not None])
    assert records.max() >= 100_000_000
    assert np.median(records) < records.max() / 1000
    assert inv.summary()["records_unknown"] >= 1
    assert inv.summary()["people_groups_unknown"] >= 1
    # a mix of connector scopes and controls
    access = {c.access.value for c in inv.connectors}
    assert access == {"read-only", "read-write"}
    assert any(c.allowed_tables is None for c in inv.connectors)
    assert any(c.allowed_tables for c in inv.connectors)
    limited = [c for c in inv.connectors if c.row_limit is not None]
    assert limited and any(c.audit and c.audit.alert_if_rows_returned_over for c in limited)
    assert any(t.untrusted_content for c in inv.connectors for t in c.tools)
    assert {t.action.value for c in inv.connectors for t in c.tools} >= {
        "read",
        "write",
        "send",
        "delete",
        "pay",
        "sign",
    }
    # plugins: several connectors, some tool subsets, some shared across departments, both outputs
    assert any(pc.tools is not None for p in inv.plugins for pc in p.connectors)
    assert {p.output.value for p in inv.plugins} == {"internal", "external"}
    users = {}
    for p in inv.plugins:
        for cid in p.connector_ids:
            users.setdefault(cid, set()).add(inv.department_of(p))
    assert max(len(d) for d in users.values()) >= 3
    assert inv.governance.prohibited and set(inv.governance.review_tiers) == {"1", "2", "3"}


def test_plugins_are_filed_by_owning_department(medium: Path) -> None:
    teams = yaml.safe_load((medium / "teams.yaml").read_text())["teams"]
    department = {t["id"]: t["department"] for t in teams}
    files = sorted((medium / "plugins").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        plugins = yaml.safe_load(path.read_text())["plugins"]
        assert {department[p["owner"]] for p in plugins} == {path.stem}


def test_datasets_csv_follows_the_loader_rules(medium: Path) -> None:
    with (medium / "datasets.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == DATASET_COLUMNS
    assert len(rows) - 1 == MEDIUM["datasets"]
    assert any(r[3] == "" for r in rows[1:])  # unknown size: an empty cell, never zero
    assert all(r[3] == "" or int(r[3]) >= 1 for r in rows[1:])
    with_columns = [r[5] for r in rows[1:] if r[5]]
    assert with_columns and all(all(":" in item for item in cell.split(";")) for cell in with_columns)


def test_planted_pitfalls_are_found_by_lint(medium: Path) -> None:
    found = {f.rule for f in lint(load_inventory(medium), as_of=AS_OF)}
    expected = {"BR101", "BR102", "BR104", "BR107", "BR108", "BR109", "BR111", "BR112", "BR113", "BR116"}
    assert expected <= found, sorted(expected - found)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pitfalls_are_planted_whatever_the_seed(seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_enterprise(Path(tmp) / "corp", seed=seed, **SMALL))
    found = {f.rule for f in lint(inv, as_of=AS_OF)}
    assert {"BR101", "BR102", "BR104", "BR109", "BR111", "BR112", "BR113", "BR116"} <= found


def test_same_seed_same_bytes_other_seed_other_files(tmp_path: Path) -> None:
    a = files_of(write_enterprise(tmp_path / "a", seed=42, **SMALL))
    b = files_of(write_enterprise(tmp_path / "b", seed=42, **SMALL))
    c = files_of(write_enterprise(tmp_path / "c", seed=43, **SMALL))
    assert a == b
    assert a.keys() & c.keys() >= {"teams.yaml", "connectors.yaml", "datasets.csv"}
    assert a["datasets.csv"] != c["datasets.csv"]
    assert a["connectors.yaml"] != c["connectors.yaml"]


def test_a_generator_seed_is_used_as_given() -> None:
    by_int = generate_enterprise(seed=5, **SMALL)
    by_generator = generate_enterprise(seed=np.random.default_rng(5), **SMALL)
    assert by_generator == by_int


def test_generate_returns_yaml_data_and_csv_rows() -> None:
    data = generate_enterprise(seed=3, **SMALL)
    assert {"teams.yaml", "systems.yaml", "connectors.yaml", "governance.yaml", "datasets.csv"} <= set(data)
    assert any(name.startswith("plugins/") for name in data)
    assert all(set(row) == set(DATASET_COLUMNS) for row in data["datasets.csv"])
    assert len(data["datasets.csv"]) == SMALL["datasets"]
    for name, content in data.items():
        if name.endswith(".yaml"):
            yaml.safe_dump(content, sort_keys=False)  # YAML-able as is


def test_alert_thresholds_stay_below_row_limits() -> None:
    conns = generate_enterprise(seed=11, **MEDIUM)["connectors.yaml"]["connectors"]
    alerts = [
        (c["row_limit"], c["audit"]["alert_if_rows_returned_over"])
        for c in conns
        if "row_limit" in c and c.get("audit", {}).get("alert_if_rows_returned_over")
    ]
    assert alerts and all(alert < limit for limit, alert in alerts)


@given(
    people=st.integers(10, 400),
    plugins=st.integers(1, 12),
    connectors=st.integers(1, 10),
    systems=st.integers(1, 8),
    extra_datasets=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_small_enterprise_loads(
    people: int, plugins: int, connectors: int, systems: int, extra_datasets: int, seed: int
) -> None:
    sizes = {
        "people": people,
        "plugins": plugins,
        "connectors": connectors,
        "systems": systems,
        "datasets": systems + extra_datasets,
    }
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_enterprise(Path(tmp) / "corp", seed=seed, **sizes))
    summary = inv.summary()
    assert summary["people"] == people
    assert (summary["plugins"], summary["connectors"], summary["systems"], summary["datasets"]) == (
        plugins,
        connectors,
        systems,
        systems + extra_datasets,
    )
    for p in inv.plugins:
        for use, n in inv.users_of(p):
            assert 1 <= n <= inv.team_by_id[use.team].headcount


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    out = tmp_path / "corp"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(BlastRadiusError, match="not empty"):
        write_enterprise(out, seed=0, **TINY)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_refuses_a_file_and_accepts_an_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "file.yaml"
    target.write_text("x: 1")
    with pytest.raises(BlastRadiusError, match="is a file"):
        write_enterprise(target, seed=0, **TINY)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_enterprise(empty, seed=0, **TINY) == empty
    assert (empty / "datasets.csv").is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"people": 9}, r"people must be at least 10, got 9"),
        ({"plugins": 0}, r"plugins must be at least 1, got 0"),
        ({"connectors": -3}, r"connectors must be at least 1"),
        ({"systems": 0}, r"systems must be at least 1"),
        ({"systems": 5, "datasets": 4}, r"datasets must be at least systems \(5\), got 4"),
        ({"people": 12.5}, r"people must be a whole number"),
        ({"plugins": True}, r"plugins must be a whole number"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(BlastRadiusError, match=message):
        generate_enterprise(seed=0, **(TINY | change))
    with pytest.raises(BlastRadiusError, match=message):
        write_enterprise(tmp_path / "corp", seed=0, **(TINY | change))
    assert not (tmp_path / "corp").exists()  # nothing written


def test_size_presets() -> None:
    assert SIZES["example"] is None
    assert SIZES["large"] == {"people": 50_000, "plugins": 2_000, "connectors": 500, "systems": 300, "datasets": 20_000}
    assert SIZES["medium"] == {"people": 3_000, "plugins": 60, "connectors": 25, "systems": 12, "datasets": 200}
