"""Fuzzing the loader: on any input it either loads or raises InventoryError, never anything else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blastradius import Inventory, InventoryError, load_inventory
from blastradius.loader import SECTIONS
from blastradius.model import Connector, Dataset, Governance, PeopleGroup, Plugin, System, Team, Tool

from conftest import mini_inventory, write_inventory

# Keys the loader knows, so generated documents get past the first checks and reach deeper ones.
FIELD_NAMES = sorted(
    {*SECTIONS, "governance", "connector"}
    | {
        name
        for model in (Team, Plugin, Connector, Tool, System, Dataset, PeopleGroup, Governance)
        for name in model.model_fields
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["read", "send", "read-only", "read-write", "finance", "crm", "email.send", "2026-01-01", "pii"]),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from([*FIELD_NAMES, "[key]", "function-before[x]"]), st.text(max_size=8))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=30,
)

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _outcome(path: Path) -> None:
    """Loading either returns an Inventory or raises an InventoryError that names its problems."""
    error: InventoryError | None = None
    try:
        result = load_inventory(path)
    except InventoryError as exc:
        error = exc
    if error is None:
        assert isinstance(result, Inventory)
    else:
        assert error.problems and all(p.message for p in error.problems)
        str(error)


@FUZZ
@given(text=st.text(max_size=300), suffix=st.sampled_from([".yaml", ".json", ".csv", "datasets.csv"]))
def test_any_text_loads_or_raises_inventory_error(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / ("f" + suffix if suffix.startswith(".") else suffix)).write_text(text, encoding="utf-8")
        _outcome(Path(tmp))


@FUZZ
@given(data=st.binary(max_size=200))
def test_any_bytes_load_or_raise_inventory_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f.yaml").write_bytes(data)
        _outcome(Path(tmp))


@FUZZ
@given(doc=documents, as_json=st.booleans())
def test_any_document_loads_or_raises_inventory_error(doc, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if as_json:
            text = json.dumps(doc)
            name = "f.json"
        else:
            text = yaml.safe_dump(doc)
            name = "f.yaml"
        (Path(tmp) / name).write_text(text, encoding="utf-8")
        _outcome(Path(tmp))


def _paths(node, prefix=()):
    """Every (path, value) in a nested structure."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@FUZZ
@given(data=st.data())
def test_any_mutation_of_a_valid_inventory_loads_or_raises_inventory_error(data) -> None:
    files = {k: v for k, v in mini_inventory().items() if isinstance(v, dict)}
    name = data.draw(st.sampled_from(sorted(files)))
    places = [p for p, _ in _paths(files[name]) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(places))
        parent = files[name]
        for part in path[:-1]:
            parent = parent[part]
        replacement = data.draw(documents)
        if isinstance(parent, dict) and data.draw(st.booleans()):
            parent.pop(path[-1], None)
            parent[data.draw(keys)] = replacement
        else:
            parent[path[-1]] = replacement
        places = [p for p, _ in _paths(files[name]) if p]
        if not places:
            break
    with tempfile.TemporaryDirectory() as tmp:
        _outcome(write_inventory(Path(tmp), files))
