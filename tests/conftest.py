"""Shared fixtures: the example inventories and a small inventory written to a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "inventories" / "acme"
ACME_GOVERNED = ROOT / "inventories" / "acme-governed"


def write_inventory(directory: Path, files: dict[str, Any]) -> Path:
    """Write ``{relative name: data or text}`` as inventory files; data goes out as YAML or JSON by suffix."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(content, indent=2, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return directory


def mini_inventory() -> dict[str, Any]:
    """A small, valid inventory: a finance team, a warehouse, a mail system with a 2,310-contact list."""
    return {
        "teams.yaml": {
            "teams": [
                {"id": "finance", "headcount": 400},
                {"id": "sales", "headcount": 900, "department": "sales"},
            ]
        },
        "systems.yaml": {
            "systems": [
                {
                    "id": "warehouse",
                    "kind": "warehouse",
                    "datasets": [
                        {"id": "deals", "records": 120_000, "columns": {"amount": "financial", "region": "internal"}},
                        {"id": "regions", "records": 12, "classification": "internal"},
                        {"id": "forecasts", "records": 800, "columns": {"value": "confidential"}},
                        {
                            "id": "payroll",
                            "records": 4_000,
                            "columns": {"ssn": "pii", "bank_account": "financial", "comp_individual": "financial"},
                        },
                        {"id": "employees", "records": 4_000, "columns": {"name": "pii", "title": "internal"}},
                    ],
                    "people": [{"id": "staff", "kind": "employees", "count": 4_000, "dataset": "employees"}],
                },
                {
                    "id": "mail",
                    "kind": "email",
                    "people": [{"id": "prospects", "kind": "contacts", "count": 2_310}],
                },
            ]
        },
        "connectors.yaml": {
            "connectors": [
                {
                    "id": "finance-warehouse",
                    "system": "warehouse",
                    "tools": [{"name": "query", "action": "read"}, {"name": "update_row", "action": "write"}],
                },
                {
                    "id": "email",
                    "system": "mail",
                    "access": "read-write",
                    "leaves_org": True,
                    "tools": [
                        {"name": "send_campaign", "action": "send", "fan_out": 2_310},
                        {"name": "read_inbox", "action": "read", "untrusted_content": True},
                    ],
                },
            ]
        },
        "plugins.yaml": {
            "plugins": [
                {
                    "id": "fin-analyst",
                    "owner": "finance",
                    "users": [{"team": "finance", "users": 120, "runs_per_user_per_day": 3}],
                    "connectors": ["finance-warehouse"],
                },
                {
                    "id": "outreach",
                    "owner": "sales",
                    "users": [{"team": "sales", "runs_per_user_per_day": 2}],
                    "connectors": ["email", {"connector": "finance-warehouse", "tools": ["query"]}],
                    "requires_approval": ["send"],
                    "output": "external",
                },
            ]
        },
        "policies/finance-warehouse.json": D6_POLICY,
    }


#: DOMAIN.md D6, byte for byte.
D6_POLICY = """{"connector": "finance-warehouse", "access": "read-only",
 "allowed_tables": ["deals", "regions", "forecasts"],
 "denied_columns": ["ssn", "bank_account", "comp_individual"],
 "row_limit": 50000, "requires_approval": false,
 "audit": {"log_every_query": true, "alert_if_rows_returned_over": 25000}}"""

#: DOMAIN.md D7, byte for byte.
D7_GOVERNANCE = """{"connectors": {
   "crm": {"access": "read-write", "tier": 3, "approved_by": "VP Ops"},
   "knowledge_base": {"access": "read-only", "tier": 1, "approved_by": "Team Lead"},
   "billing": {"access": "read-only", "tier": 3, "approved_by": "Finance"}},
 "review_tiers": {
   "1": {"rule": "internal, non-sensitive", "control": "spot-check"},
   "2": {"rule": "leaves org, non-sensitive", "control": "named-reviewer"},
   "3": {"rule": "sensitive-data or system-write", "control": "dual-review + audit"}},
 "prohibited": ["auto-send external commitments without review",
                "connector scope expansion without re-approval",
                "PII export to unapproved destinations"],
 "audit": {"log": ["actor", "connector", "data_scope", "approver", "output_hash"]}}"""


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """Directory holding :func:`mini_inventory`."""
    return write_inventory(tmp_path / "mini", mini_inventory())
