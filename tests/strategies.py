"""Hypothesis strategies: random but valid inventories, as the files an analyst would write."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from blastradius.model import (
    ActionClass,
    Classification,
    Connector,
    Dataset,
    Inventory,
    PeopleGroup,
    PeopleKind,
    Plugin,
    Reversibility,
    System,
    Team,
)

ACTIONS = [a.value for a in ActionClass]
CLASSES = [c.value for c in Classification]
KINDS = [k.value for k in PeopleKind]


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    """Files (name -> data) of a valid inventory with 1-3 systems, 1-4 connectors and 1-4 plugins."""
    systems, tables_of, columns_of, people_of = [], {}, {}, {}
    for s in range(draw(st.integers(1, 3))):
        sid = f"sys{s}"
        datasets, people = [], []
        for d in range(draw(st.integers(0, 4))):
            cols = {f"c{k}": draw(st.sampled_from(CLASSES)) for k in range(draw(st.integers(0, 3)))}
            ds = {"id": f"{sid}-t{d}", "table": f"t{d}", "columns": cols}
            if draw(st.booleans()) or d == 0:
                ds["records"] = draw(st.integers(0, 10**7))
            if draw(st.booleans()):
                ds["classification"] = draw(st.sampled_from(CLASSES))
            datasets.append(ds)
        for g in range(draw(st.integers(0, 2))):
            grp = {"id": f"{sid}-g{g}", "kind": draw(st.sampled_from(KINDS))}
            if draw(st.booleans()) or g == 0:
                grp["count"] = draw(st.integers(0, 10**6))
            if datasets and draw(st.booleans()):
                grp["dataset"] = draw(st.sampled_from(datasets))["id"]
            people.append(grp)
        systems.append({"id": sid, "datasets": datasets, "people": people})
        tables_of[sid] = [d["table"] for d in datasets]
        columns_of[sid] = sorted({c for d in datasets for c in d["columns"]})
        people_of[sid] = [g["id"] for g in people]

    connectors, tools_of = [], {}
    for c in range(draw(st.integers(1, 4))):
        sid = draw(st.sampled_from([s["id"] for s in systems]))
        tools = []
        for t in range(draw(st.integers(1, 4))):
            tool = {
                "name": f"tool{t}",
                "action": draw(st.sampled_from(ACTIONS)),
                "reversibility": draw(st.sampled_from([r.value for r in Reversibility])),
                "fan_out": draw(st.integers(1, 10_000)),
            }
            targets = tables_of[sid] + people_of[sid]
            if targets and draw(st.booleans()):
                tool["targets"] = draw(st.lists(st.sampled_from(targets), min_size=1, unique=True))
            if draw(st.booleans()):
                tool["leaves_org"] = draw(st.booleans())
            tools.append(tool)
        conn = {
            "id": f"conn{c}",
            "system": sid,
            "access": draw(st.sampled_from(["read-only", "read-write"])),
            "tools": tools,
            "leaves_org": draw(st.booleans()),
        }
        if tables_of[sid] and draw(st.booleans()):
            conn["allowed_tables"] = draw(st.lists(st.sampled_from(tables_of[sid]), unique=True))
        if columns_of[sid] and draw(st.booleans()):
            conn["denied_columns"] = draw(st.lists(st.sampled_from(columns_of[sid]), unique=True))
        if draw(st.booleans()):
            conn["row_limit"] = draw(st.integers(1, 10**6))
        conn["requires_approval"] = draw(st.booleans()) and draw(st.booleans())
        connectors.append(conn)
        tools_of[conn["id"]] = [t["name"] for t in tools]

    teams = [{"id": "team-a", "headcount": 500, "department": "a"}, {"id": "team-b", "headcount": 300}]
    plugins = []
    for p in range(draw(st.integers(1, 4))):
        used = draw(st.lists(st.sampled_from([c["id"] for c in connectors]), min_size=1, unique=True))
        refs = []
        for cid in used:
            if draw(st.booleans()):
                refs.append({"connector": cid, "tools": draw(st.lists(st.sampled_from(tools_of[cid]), unique=True))})
            else:
                refs.append(cid)
        selectors = st.one_of(
            st.sampled_from(ACTIONS),
            st.sampled_from([f"{cid}.{t}" for cid in used for t in tools_of[cid]] + [f"{cid}.*" for cid in used]),
        )
        plugin = {
            "id": f"plugin{p}",
            "owner": draw(st.sampled_from(["team-a", "team-b"])),
            "users": [{"team": "team-a", "users": draw(st.integers(0, 500)), "runs_per_user_per_day": 2.0}],
            "connectors": refs,
            "requires_approval": draw(st.lists(selectors, max_size=3, unique=True)),
            "blocked": draw(st.lists(selectors, max_size=2, unique=True)),
            "output": draw(st.sampled_from(["internal", "external"])),
        }
        if draw(st.booleans()):
            plugin["review_tier"] = draw(st.sampled_from([1, 2, 3]))
        if draw(st.booleans()):
            plugin["output_audience"] = draw(st.integers(0, 5000))
        plugins.append(plugin)
    return {
        "systems.yaml": {"systems": systems},
        "connectors.yaml": {"connectors": connectors},
        "org.yaml": {"teams": teams, "plugins": plugins},
    }


# --- small inventories with every control, drawn in few steps -------------------------------------------------

#: Stands for a number drawn afresh (by the strategy given where it is used) in the shapes below.
ANY = "<any>"


def _shapes(**fields: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Every combination of the fields' options as a record, the first options first; None leaves a field out."""
    return [
        {name: value for name, value in zip(fields, combo, strict=True) if value is not None}
        for combo in itertools.product(*fields.values())
    ]


def _subsets(items: list[str], *, min_size: int = 0) -> list[list[str]]:
    """Every subset of ``items`` of at least ``min_size``, smallest first."""
    return [list(c) for n in range(min_size, len(items) + 1) for c in itertools.combinations(items, n)]


_COLUMN_SETS: list[dict[str, str]] = [
    {},
    *({"c0": a} for a in CLASSES),
    *({"c0": a, "c1": b} for a in CLASSES for b in CLASSES),
]
#: Each field's options, the simplest first: an example shrinks towards the first shape.
DATASET_SHAPES = _shapes(
    records=(1000, None, 0, 10**6, ANY),  # None: size unknown; 10**6 is the weights' stand-in for an unknown size
    classification=(None, *CLASSES),
    columns=tuple(_COLUMN_SETS),
)
PEOPLE_SHAPES = _shapes(kind=tuple(KINDS), count=(100, None, 0, ANY), external=(None, True, False))
TOOL_SHAPES = _shapes(
    action=tuple(ACTIONS),
    reversibility=(None, "soft-delete", "staged"),
    fan_out=(None, 1, 5000, ANY),  # None: not declared
    leaves_org=(None, False, True),
    untrusted_content=(None, True),
)
CONNECTOR_SHAPES = _shapes(
    tools=(1, 2, 3),  # how many: the strategy draws each
    access=("read-write", "read-only"),
    leaves_org=(None, True),
    requires_approval=(None, True),
    row_limit=(None, 100, 10**6, ANY),
    audit=(
        None,
        {"log_every_query": True},
        {"alert_if_rows_returned_over": ANY},
        {"alert_if_sends_over": ANY},
        {"log_every_query": True, "alert_if_rows_returned_over": ANY, "alert_if_sends_over": ANY},
    ),
    revocation=(
        None,
        {"can_revoke": False},
        {"can_revoke": True},
        {"can_revoke": True, "time_to_revoke_seconds": ANY},
    ),
)
PLUGIN_SHAPES = _shapes(
    owner=("team-a", "team-b"),
    output=("internal", "external"),
    review_tier=(None, 1, 2, 3),
    output_audience=(None, 0, 5000, ANY),
    kill_switch=(
        None,
        {"can_pause": False},
        {"can_pause": True},
        {"can_pause": True, "time_to_pause_seconds": ANY},
        {"can_pause": True, "time_to_pause_seconds": ANY, "rehearsed_on": "2026-10-01"},
    ),
    users=(100, 500, ANY, 0),
)
# built once: a strategy sampling from a long list is costly to create
_DATASET = st.sampled_from(DATASET_SHAPES)
_PEOPLE = st.sampled_from(PEOPLE_SHAPES)
_TOOL = st.sampled_from(TOOL_SHAPES)
_CONNECTOR = st.sampled_from(CONNECTOR_SHAPES)
_PLUGIN = st.sampled_from(PLUGIN_SHAPES)
_SIZES = st.sampled_from(list(itertools.product((1, 2), (1, 2, 3), (1, 2, 3))))  # systems, connectors, plugins
_SYSTEM_SIZES = st.sampled_from(list(itertools.product((0, 1, 2, 3), (0, 1, 2))))  # datasets, people groups
#: Times to pause a plugin or revoke a connector: from instant to more than a working day.
SECONDS = st.floats(0, 100_000, allow_nan=False, allow_infinity=False)
_NUMBERS: dict[str, st.SearchStrategy[Any]] = {
    "records": st.integers(0, 10**7),
    "count": st.integers(0, 10**6),
    "fan_out": st.integers(1, 10_000),
    "row_limit": st.integers(1, 10**7),
    "alert_if_rows_returned_over": st.integers(1, 10**7),
    "alert_if_sends_over": st.integers(1, 10_000),
    "time_to_revoke_seconds": SECONDS,
    "time_to_pause_seconds": SECONDS,
    "output_audience": st.integers(0, 10_000),
    "users": st.integers(0, 500),
}


def _shape(draw: st.DrawFn, shapes: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A record drawn from ``shapes``, fresh, with each number marked ANY drawn."""

    def filled(record: dict[str, Any]) -> dict[str, Any]:
        return {
            k: filled(v) if isinstance(v, dict) else draw(_NUMBERS[k]) if v == ANY else copy.deepcopy(v)
            for k, v in record.items()
        }

    return filled(draw(shapes))


@st.composite
def small_inventories(draw: st.DrawFn) -> dict[str, Any]:
    """Files (name -> data) of a small, valid inventory with every control the model knows, drawn in few steps.

    1-2 systems of 0-3 datasets and 0-2 people groups, 1-3 connectors of 1-3 tools, 1-3 plugins. Connectors may
    have a scope (tables, masked columns, a row limit), an approval, an audit log and anomaly alerts, and a
    revocation time; plugins tool lists, gates, blocks, a review tier, an audience and a kill switch; tools may
    take in untrusted content. The plain fields of a record are one draw among all their combinations
    (:data:`TOOL_SHAPES` ...), so thousands of examples are quick to draw, and each shrinks towards the first
    shape, the simplest.
    """
    n_systems, n_connectors, n_plugins = draw(_SIZES)
    systems, tables_of, columns_of, people_of = [], {}, {}, {}
    for s in range(n_systems):
        sid = f"sys{s}"
        n_datasets, n_people = draw(_SYSTEM_SIZES)
        datasets = [{"id": f"{sid}-t{d}", "table": f"t{d}", **_shape(draw, _DATASET)} for d in range(n_datasets)]
        people = []
        for g in range(n_people):
            group = {"id": f"{sid}-g{g}", **_shape(draw, _PEOPLE)}
            dataset = draw(st.sampled_from([None, *(d["id"] for d in datasets)]))
            if dataset is not None:
                group["dataset"] = dataset
            people.append(group)
        systems.append({"id": sid, "datasets": datasets, "people": people})
        tables_of[sid] = [d["table"] for d in datasets]
        columns_of[sid] = sorted({c for d in datasets for c in d["columns"]})
        people_of[sid] = [g["id"] for g in people]

    connectors, tools_of = [], {}
    for c in range(n_connectors):
        sid = draw(st.sampled_from([s["id"] for s in systems]))
        conn = {"id": f"conn{c}", "system": sid, **_shape(draw, _CONNECTOR)}
        targets = [None, *_subsets(tables_of[sid] + people_of[sid], min_size=1)]
        tools = []
        for t in range(conn.pop("tools")):
            tool = {"name": f"tool{t}", **_shape(draw, _TOOL)}
            chosen = draw(st.sampled_from(targets))
            if chosen is not None:
                tool["targets"] = list(chosen)  # a list of its own: YAML would write a shared one as an alias
            tools.append(tool)
        conn["tools"] = tools
        allowed, denied = draw(
            st.sampled_from(list(itertools.product([None, *_subsets(tables_of[sid])], _subsets(columns_of[sid]))))
        )
        if allowed is not None:
            conn["allowed_tables"] = list(allowed)
        if denied:
            conn["denied_columns"] = list(denied)
        alert = conn.get("audit", {}).get("alert_if_rows_returned_over")
        if alert is not None and "row_limit" in conn and alert > conn["row_limit"]:
            conn["audit"]["alert_if_rows_returned_over"] = conn["row_limit"]  # else it could never fire
        connectors.append(conn)
        tools_of[conn["id"]] = [t["name"] for t in tools]

    teams = [{"id": "team-a", "headcount": 500, "department": "a"}, {"id": "team-b", "headcount": 300}]
    plugins = []
    for p in range(n_plugins):
        used = draw(st.sampled_from(_subsets([c["id"] for c in connectors], min_size=1)))
        refs: list[Any] = []
        for cid in used:
            tools = draw(st.sampled_from([None, *_subsets(tools_of[cid])]))
            refs.append(cid if tools is None else {"connector": cid, "tools": list(tools)})
        selectors = [*ACTIONS, *(f"{cid}.{t}" for cid in used for t in tools_of[cid]), *(f"{cid}.*" for cid in used)]
        up_to_two = st.sampled_from(
            [[], *([s] for s in selectors), *(list(c) for c in itertools.combinations(selectors, 2))]
        )
        shape = _shape(draw, _PLUGIN)
        users = shape.pop("users")
        plugins.append(
            {
                "id": f"plugin{p}",
                "users": [{"team": "team-a", "users": users, "runs_per_user_per_day": 2.0}],
                "connectors": refs,
                "requires_approval": list(draw(up_to_two)),
                "blocked": list(draw(up_to_two)),
                **shape,
            }
        )
    return {
        "systems.yaml": {"systems": systems},
        "connectors.yaml": {"connectors": connectors},
        "org.yaml": {"teams": teams, "plugins": plugins},
    }


#: Record models of the sections :func:`inventory_of` builds.
_SECTION_MODELS: dict[str, type[Any]] = {
    "teams": Team,
    "plugins": Plugin,
    "connectors": Connector,
    "systems": System,
    "datasets": Dataset,
    "people": PeopleGroup,
}


def inventory_of(files: Mapping[str, Mapping[str, Any]]) -> Inventory:
    """The inventory :func:`blastradius.load_inventory` reads from ``files`` as the strategies here draw them,
    built in memory: the fast path of property tests that build thousands.

    Each record is validated by its model, as the loader does, and the datasets and people nested under a
    system move to the top level; the loader's cross-file checks are left out (the inventories drawn here pass
    them by construction), and so are origins. Only the record sections are read: policies, governance and
    settings need the loader. ``tests/test_monotone.py`` pins it to the loader.
    """
    records: dict[str, list[Any]] = {section: [] for section in _SECTION_MODELS}
    for name, document in files.items():
        for section, entries in document.items():
            if section not in _SECTION_MODELS:
                raise ValueError(f"{name}: inventory_of reads records only, not '{section}'; use load_inventory")
            records[section].extend(_SECTION_MODELS[section].model_validate(e) for e in entries or ())
    systems = records["systems"]
    datasets = records["datasets"] + [d.model_copy(update={"system": s.id}) for s in systems for d in s.datasets]
    people = records["people"] + [g.model_copy(update={"system": s.id}) for s in systems for g in s.people]

    def by_id(items: list[Any]) -> tuple[Any, ...]:
        return tuple(sorted(items, key=lambda r: r.id))

    return Inventory(
        teams=by_id(records["teams"]),
        plugins=by_id(records["plugins"]),
        connectors=by_id(records["connectors"]),
        systems=by_id([s.model_copy(update={"datasets": (), "people": ()}) for s in systems]),
        datasets=by_id(datasets),
        people=by_id(people),
    )
