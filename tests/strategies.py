"""Hypothesis strategies: random but valid inventories, as the files an analyst would write."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from blastradius.model import ActionClass, Classification, PeopleKind, Reversibility

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
