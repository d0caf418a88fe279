"""The JSON Schema of an inventory file, for editors that validate YAML/JSON as analysts type."""

from __future__ import annotations

from typing import Any

from pydantic import Field, TypeAdapter

from blastradius.model import (
    Connector,
    ConnectorPolicy,
    Dataset,
    Governance,
    PeopleGroup,
    Plugin,
    Record,
    System,
    Team,
)

__all__ = ["InventoryDocument", "inventory_schema"]


class InventoryDocument(Record):
    """One inventory file: any of the sections; an inventory is a directory of these."""

    teams: tuple[Team, ...] = ()
    plugins: tuple[Plugin, ...] = ()
    connectors: tuple[Connector, ...] = ()
    systems: tuple[System, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    people: tuple[PeopleGroup, ...] = ()
    policies: tuple[ConnectorPolicy, ...] = Field(default=(), description="Connector policies in the D6 shape.")
    governance: Governance | None = None
    weights: dict[str, Any] | None = Field(
        default=None, description="Scoring weights over the defaults (docs/scoring.md)."
    )
    assumptions: dict[str, Any] | None = Field(
        default=None, description="Failure-simulation assumptions over the defaults (docs/simulation.md)."
    )
    acceptances: list[dict[str, Any]] | None = Field(
        default=None, description="Accepted findings: rule, subject, owner, reason, expires (docs/rules.md)."
    )


def inventory_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) accepted by every inventory file.

    A file is an inventory document (sections), a connector policy (the D6
    shape) or a governance config (the D7 shape).
    """
    from blastradius.findings import Acceptance  # the sections' own models live with their analyses
    from blastradius.scores import Weights

    schema = TypeAdapter(InventoryDocument | ConnectorPolicy | Governance).json_schema()
    defs = schema.setdefault("$defs", {})
    weights = TypeAdapter(Weights).json_schema(ref_template="#/$defs/{model}")
    acceptance = TypeAdapter(Acceptance).json_schema(ref_template="#/$defs/{model}")
    for sub in (weights, acceptance):
        defs.update(sub.pop("$defs", {}))
    weights.pop("required", None)  # every key has a default: a section overrides some of them
    defs["Weights"], defs["Acceptance"] = weights, acceptance
    props = defs["InventoryDocument"]["properties"]
    props["weights"] = {
        "anyOf": [{"$ref": "#/$defs/Weights"}, {"type": "null"}],
        "description": props["weights"]["description"],
    }
    props["acceptances"] = {
        "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Acceptance"}}, {"type": "null"}],
        "description": props["acceptances"]["description"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "blastradius inventory file",
        "description": (
            "An inventory file: a document with sections (teams, plugins, connectors, systems, datasets, "
            "people, policies, governance), a connector policy (has 'connector'), or a governance config."
        ),
        **schema,
    }
