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


def inventory_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) accepted by every inventory file.

    A file is an inventory document (sections), a connector policy (the D6
    shape) or a governance config (the D7 shape).
    """
    schema = TypeAdapter(InventoryDocument | ConnectorPolicy | Governance).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "blastradius inventory file",
        "description": (
            "An inventory file: a document with sections (teams, plugins, connectors, systems, datasets, "
            "people, policies, governance), a connector policy (has 'connector'), or a governance config."
        ),
        **schema,
    }
