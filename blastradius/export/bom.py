"""The inventory as a CycloneDX bill of materials (CycloneDX 1.6, JSON), for asset registers and AI-BOM tooling.

Written with the maintained ``cyclonedx-python-lib`` (the ``export`` extra)
and validated against the CycloneDX schema it ships before it is returned:

- every **plugin** is a component of type ``application``, with its owner,
  department, users, review tier, gates and blocks as properties;
- every **connector** is a service (``connector:<id>``) whose ``data`` lists
  each classification its scope lets through (after allowed tables and
  denied columns, :mod:`blastradius.reach`) with the direction it flows:
  ``outbound`` from the system when its tools only read, ``inbound`` when they
  only write or send, ``bi-directional`` when both; ``trustZone`` crossing
  (``x-trust-boundary``) when data or actions leave the organisation; its
  scope, audit and tools as properties;
- every **system** is a service (``system:<id>``) holding the classifications
  of its datasets, and every **dataset** a component of type ``data`` with its
  classification and record count;
- the dependency graph is the inventory's: plugin → connectors → system →
  datasets.

Properties are named ``blastradius:<field>`` (the CycloneDX property
taxonomy convention for a tool's own names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from blastradius import __version__
from blastradius.analysis import Analysis, analysis_of
from blastradius.errors import BlastRadiusError, import_extra
from blastradius.model import Access, ActionClass, Connector, Inventory

__all__ = ["BOM_SPEC_VERSION", "bom_json", "inventory_bom", "validate_bom_json"]

#: The CycloneDX specification version written.
BOM_SPEC_VERSION = "1.6"

_PURPOSE = "export-bom (a CycloneDX bill of materials)"


def _cdx(module: str) -> Any:
    return import_extra(f"cyclonedx.{module}", extra="export", purpose=_PURPOSE)


def _fingerprint(inv: Inventory) -> str:
    text = inv.model_dump_json(
        include={"teams", "plugins", "connectors", "systems", "datasets", "people", "governance"}
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _props(pairs: dict[str, Any]) -> list[Any]:
    model = _cdx("model")
    out = []
    for key, value in pairs.items():
        if value is None or value == () or value == []:
            continue
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        elif isinstance(value, bool):
            value = str(value).lower()
        out.append(model.Property(name=f"blastradius:{key}", value=str(value)))
    return out


def _flow(conn: Connector) -> Any:
    model = _cdx("model")
    reads = any(t.action is ActionClass.READ for t in conn.tools)
    writes = conn.access is not Access.READ_ONLY and any(t.action is not ActionClass.READ for t in conn.tools)
    if reads and writes:
        return model.DataFlow.BI_DIRECTIONAL
    if reads:
        return model.DataFlow.OUTBOUND
    if writes:
        return model.DataFlow.INBOUND
    return model.DataFlow.UNKNOWN


def inventory_bom(source: Inventory | Analysis, *, timestamp: dt.datetime | None = None) -> Any:
    """The CycloneDX ``Bom`` of the inventory (a ``cyclonedx.model.bom.Bom``).

    The serial number is derived from the inventory's content: the same
    inventory gives the same serial number.

    Raises
    ------
    MissingExtraError
        When ``cyclonedx-python-lib`` is not installed (the ``export`` extra).
    """
    model = _cdx("model")
    bom_mod = _cdx("model.bom")
    component_mod = _cdx("model.component")
    service_mod = _cdx("model.service")
    tool_mod = _cdx("model.tool")
    analysis = analysis_of(source)
    inv = analysis.inventory
    name = inv.source.rstrip("/").rsplit("/", 1)[-1] if inv.source else "inventory"
    Component, ComponentType, Service = component_mod.Component, component_mod.ComponentType, service_mod.Service

    root = Component(
        name=name,
        type=ComponentType.APPLICATION,
        bom_ref="rollout",
        description=f"AI-agent rollout described by the inventory {name}",
    )
    bom = bom_mod.Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"blastradius:{_fingerprint(inv)}"),
        metadata=bom_mod.BomMetaData(
            component=root,
            timestamp=timestamp or dt.datetime.now(dt.UTC),
            tools=tool_mod.ToolRepository(
                components=[Component(name="blastradius", version=__version__, type=ComponentType.APPLICATION)]
            ),
        ),
    )

    datasets = {}
    for d in inv.datasets:
        c = Component(
            name=d.name or d.id,
            type=ComponentType.DATA,
            bom_ref=f"dataset:{d.id}",
            description=d.description,
            properties=_props(
                {
                    "id": d.id,
                    "system": d.system,
                    "table": d.table_name,
                    "classification": d.effective_classification().value,
                    "records": d.records if d.records is not None else "unknown",
                    "columns": [f"{col.name}:{col.classification.value}" for col in d.columns],
                }
            ),
        )
        datasets[d.id] = c
        bom.components.add(c)

    systems = {}
    for s in inv.systems:
        held = sorted({d.effective_classification().value for d in inv.datasets_by_system.get(s.id, ())})
        svc = Service(
            name=s.name or s.id,
            bom_ref=f"system:{s.id}",
            group="system",
            description=s.description,
            data=[model.DataClassification(flow=model.DataFlow.UNKNOWN, classification=c) for c in held],
            properties=_props(
                {
                    "id": s.id,
                    "kind": s.kind,
                    "owner": s.owner,
                    "people": [
                        f"{g.id}:{g.kind.value}:{g.count if g.count is not None else 'unknown'}"
                        for g in inv.people_by_system.get(s.id, ())
                    ],
                }
            ),
        )
        systems[s.id] = svc
        bom.services.add(svc)

    connectors = {}
    for conn in inv.connectors:
        scoped = analysis.scope.scoped(conn) if conn.system else None
        classes = sorted({c.value for c in scoped.classification}) if scoped is not None else []
        flow = _flow(conn)
        leaves = conn.leaves_org or any(conn.leaves_org_for(t) for t in conn.tools)
        audit = conn.audit
        svc = Service(
            name=conn.name or conn.id,
            bom_ref=f"connector:{conn.id}",
            group="connector",
            description=conn.description,
            x_trust_boundary=leaves,
            data=[model.DataClassification(flow=flow, classification=c) for c in classes],
            properties=_props(
                {
                    "id": conn.id,
                    "system": conn.system,
                    "access": (conn.access or Access.READ_WRITE).value,
                    "allowed_tables": list(conn.allowed_tables) if conn.allowed_tables is not None else "every table",
                    "denied_columns": list(conn.denied_columns),
                    "row_limit": conn.row_limit if conn.row_limit is not None else "none",
                    "requires_approval": conn.requires_approval,
                    "audit.log_every_query": bool(audit and audit.log_every_query),
                    "audit.alert_if_rows_returned_over": audit.alert_if_rows_returned_over if audit else None,
                    "audit.alert_if_sends_over": audit.alert_if_sends_over if audit else None,
                    "tier": conn.tier,
                    "approved_by": conn.approved_by,
                    "approved_on": conn.approved_on.isoformat() if conn.approved_on else None,
                    "tools": [f"{t.name}:{t.action.value}" for t in conn.tools],
                }
            ),
        )
        connectors[conn.id] = svc
        bom.services.add(svc)
        targets = [systems[conn.system]] if conn.system in systems else []
        bom.register_dependency(svc, targets)

    for s in inv.systems:
        bom.register_dependency(systems[s.id], [datasets[d.id] for d in inv.datasets_by_system.get(s.id, ())])

    plugins = []
    for p in inv.plugins:
        c = Component(
            name=p.label,
            type=ComponentType.APPLICATION,
            bom_ref=f"plugin:{p.id}",
            description=p.description,
            properties=_props(
                {
                    "kind": "plugin",
                    "id": p.id,
                    "owner": p.owner,
                    "department": inv.department_of(p),
                    "users": sum(n for _, n in inv.users_of(p)),
                    "runs_per_day": round(inv.runs_per_day(p), 3),
                    "output": p.output.value,
                    "review_tier": p.review_tier,
                    "requires_approval": list(p.requires_approval),
                    "blocked": list(p.blocked),
                    "connectors": list(dict.fromkeys(p.connector_ids)),
                    "skills": [s.name for s in p.skills],
                }
            ),
        )
        plugins.append(c)
        bom.components.add(c)
        bom.register_dependency(c, [connectors[cid] for cid in dict.fromkeys(p.connector_ids)])
    bom.register_dependency(root, plugins)
    return bom


def bom_json(source: Inventory | Analysis, *, timestamp: dt.datetime | None = None) -> str:
    """The CycloneDX 1.6 JSON document of the inventory, checked against the CycloneDX schema.

    Raises
    ------
    MissingExtraError
        Without the ``export`` extra.
    BlastRadiusError
        If the document does not validate (a defect: the message says where).
    """
    output = _cdx("output.json")
    text: str = output.JsonV1Dot6(inventory_bom(source, timestamp=timestamp)).output_as_string(indent=2)
    validate_bom_json(text)
    return text + "\n"


def validate_bom_json(text: str) -> None:
    """Check ``text`` against the CycloneDX 1.6 JSON schema shipped with ``cyclonedx-python-lib``.

    Raises
    ------
    BlastRadiusError
        Saying what does not validate.
    """
    schema = _cdx("schema")
    validation = _cdx("validation.json")
    error = validation.JsonStrictValidator(schema.SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise BlastRadiusError(f"the CycloneDX document does not validate: {error}")
