"""Importing plugin folders, MCP configs, tool listings and permissions into a draft inventory that loads and scores."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from blastradius import load_inventory
from blastradius.errors import BlastRadiusError
from blastradius.importers import ImportSourceError, import_sources, report_lines
from blastradius.importers.actions import (
    MCP_HINT_DEFAULTS,
    classify_tool,
    effective_hints,
    suggest_from_name,
)
from blastradius.importers.catalog import load_catalog, match_server
from blastradius.importers.sources import read_mcp_configs, read_plugin_sources
from blastradius.model import ActionClass
from blastradius.scores import score_plugins

from conftest import ROOT

#: A copy of the real-world sample shapes (shared/samples), kept with the tests so they always run.
SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
DATA = Path(__file__).parent / "data" / "importers"
SECRETS = ("SECRET123", "hunter2", "contoso-prod-tenant", "zd_live_", 'abc"')


def connectors_of(out: Path) -> dict[str, dict]:
    return {c["id"]: c for f in out.glob("*.yaml") for c in (yaml.safe_load(f.read_text()) or {}).get("connectors", [])}


def plugins_of(out: Path) -> dict[str, dict]:
    return {p["id"]: p for f in out.glob("*.yaml") for p in (yaml.safe_load(f.read_text()) or {}).get("plugins", [])}


def all_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in out.rglob("*") if p.is_file())


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    """The test marketplace (three plugins sharing slack) imported, then both tool listings merged in."""
    out = tmp_path / "draft"
    import_sources("plugins", [DATA / "marketplace"], out)
    import_sources(
        "mcp-tools", [DATA / "tools" / "slack.tools.json", DATA / "tools" / "acme-ledger.tools.json"], out, merge=True
    )
    return out


# ---------------------------------------------------------------------------
# The acceptance path: the shared samples
# ---------------------------------------------------------------------------


def test_sample_marketplace_and_crm_listing_load_and_score(tmp_path: Path) -> None:
    out = tmp_path / "draft"
    first = import_sources("plugins", [SAMPLES / "plugin-marketplace"], out)
    assert first.plugins == ("people-ops", "revenue-ops")
    assert first.shared_connectors == {"gmail": ("people-ops", "revenue-ops")}
    report = import_sources("mcp-tools", [SAMPLES / "mcp-tools" / "crm.tools.json"], out, merge=True)
    inv = load_inventory(out)
    assert {p.id for p in inv.plugins} == {"people-ops", "revenue-ops"}
    gmail = [p.id for p in inv.plugins if "gmail" in p.connector_ids]
    assert gmail == ["people-ops", "revenue-ops"] and len([c for c in inv.connectors if c.id == "gmail"]) == 1
    # the crm listing lands on the connector whose URL host names crm (salesforce)
    sf = inv.connector_by_id["salesforce"]
    assert {t.name: t.action.value for t in sf.tools} == {
        "search_contacts": "read",
        "update_contact": "write",
        "bulk_update_contacts": "write",
        "delete_contact": "delete",
        "send_campaign_email": "send",
        "export_report": "write",
    }
    assert sf.tool("search_contacts").fan_out == 200
    assert inv.summary()["records_unknown"] == len(inv.systems)  # placeholders are unknown, never zero
    scores = score_plugins(inv)
    assert set(scores["plugin"]) == {"people-ops", "revenue-ops"} and (scores["blast_radius"] > 0).all()
    assert not any(t.startswith("connector 'salesforce'") for t in report.todo)  # its tools are now known
    assert any("unassigned" in t for t in report.todo)


def test_sample_claude_desktop_config(tmp_path: Path) -> None:
    out = tmp_path / "draft"
    report = import_sources("mcp-config", [SAMPLES / "client-configs" / "claude_desktop_config.json"], out)
    assert report.plugins == ("claude-desktop",)
    conns = connectors_of(out)
    assert set(conns) == {"filesystem", "postgres-readonly", "crm"}
    assert report.unknown_tools == ("crm.unknown_tools",)
    conn_text = (out / "connectors.yaml").read_text()
    # the config's placeholders are kept as they are, never resolved
    assert "headers Authorization: Bearer ${CRM_TOKEN}" in conn_text and "env DATABASE_URL=${DATABASE_URL}" in conn_text
    load_inventory(out)


# ---------------------------------------------------------------------------
# Plugin folders: shapes and quirks
# ---------------------------------------------------------------------------


def test_shared_connector_appears_once_with_all_its_plugins(draft: Path) -> None:
    inv = load_inventory(draft)
    assert [c.id for c in inv.connectors].count("slack") == 1
    assert sorted(p.id for p in inv.plugins if "slack" in p.connector_ids) == [
        "finance-close",
        "legal-review",
        "support-desk",
    ]
    assert "used by 3 plugins: finance-close, legal-review, support-desk" in (draft / "connectors.yaml").read_text()


def test_quirks_spaces_empty_url_transports_and_secrets(tmp_path: Path) -> None:
    out = tmp_path / "d"
    report = import_sources("plugins", [DATA / "marketplace"], out)
    conns = connectors_of(out)
    assert "google-drive" in conns and "acme-ledger" in conns  # names with spaces become ids
    assert conns["acme-ledger"]["name"] == "acme ledger"
    text = (out / "connectors.yaml").read_text()
    assert "sse server: https://ledger.contoso.example/sse" in text
    assert "stdio server: npx -y @example/zendesk-mcp --api-key ${API_KEY}" in text
    assert "https://mcp.slack.example/mcp?token=${TOKEN}" in text
    assert "credentials: OAuth" in text
    assert "headers Authorization: Bearer ${LEDGER_TOKEN}, X-Tenant: ${X_TENANT} (values not copied)" in text
    assert "env ZENDESK_SUBDOMAIN=${ZENDESK_SUBDOMAIN}, ZENDESK_TOKEN=${ZENDESK_TOKEN}" in text
    for secret in SECRETS:
        assert secret not in all_text(out), secret
    assert report.credentials_replaced == 4 and len(report.credentials) == 3  # slack, acme ledger, zendesk
    assert any("snowflake" in t and "not configured" in t for t in report.todo)
    assert any(" comes from github:" in t and "not imported" in t for t in report.todo)  # named, not dropped
    assert report.summary()["remote"] == 1
    assert "remote-thing" not in report.plugins
    load_inventory(out)


def test_categories_from_connectors_md_and_skills(tmp_path: Path) -> None:
    found = {p.name: p for p in read_plugin_sources([DATA / "marketplace"])}
    finance, legal, support = found["finance-close"], found["legal-review"], found["support-desk"]
    assert finance.categories == {"slack": "Chat", "acme ledger": "Ledger", "snowflake": "Data warehouse"}
    assert [s.name for s in finance.skills] == ["close-checklist"]
    assert [s.name for s in legal.skills] == ["redline"]  # no front matter: the folder name
    assert any("stripe" in n for n in finance.notes)
    assert support.servers[1].transport == "stdio" and support.servers[1].env_names == (
        "ZENDESK_SUBDOMAIN",
        "ZENDESK_TOKEN",
    )
    out = tmp_path / "d"
    import_sources("plugins", [DATA / "marketplace"], out)
    systems = {s["id"]: s for s in yaml.safe_load((out / "systems.yaml").read_text())["systems"]}
    assert systems["acme-ledger"]["kind"] == "ledger"  # the CONNECTORS.md category, when the catalog is silent


def test_a_single_plugin_folder_and_a_folder_of_plugins(tmp_path: Path) -> None:
    one = read_plugin_sources([DATA / "marketplace" / "support-desk"])
    assert [p.name for p in one] == ["support-desk"]
    shutil.copytree(DATA / "marketplace", tmp_path / "m")
    shutil.rmtree(tmp_path / "m" / ".claude-plugin")
    assert sorted(p.name for p in read_plugin_sources([tmp_path / "m"])) == [
        "finance-close",
        "legal-review",
        "support-desk",
    ]


# ---------------------------------------------------------------------------
# MCP client configs
# ---------------------------------------------------------------------------


def test_vscode_servers_with_comments_and_inputs(tmp_path: Path) -> None:
    [client] = read_mcp_configs([DATA / "vscode"])
    assert client.client and client.name == "vscode-vscode"
    assert {s.name: s.transport for s in client.servers} == {"github": "http", "memory": "stdio"}
    assert client.servers[0].header_names == ("Authorization",)
    out = tmp_path / "d"
    import_sources("mcp-config", [DATA / "vscode" / ".vscode" / "mcp.json"], out)
    assert "headers Authorization: Bearer ${input:gh-token}" in all_text(out)  # kept, never resolved
    load_inventory(out)


def test_cursor_url_without_type_and_a_password_in_an_argument(tmp_path: Path) -> None:
    [client] = read_mcp_configs([DATA / "cursor" / ".cursor" / "mcp.json"])
    servers = {s.name: s for s in client.servers}
    assert servers["linear"].transport == "sse"  # a URL ending in /sse, no type
    assert servers["postgres"].command == (
        "uvx",
        "mcp-server-postgres",
        "postgresql://admin:${PASSWORD}@db.internal/prod",
    )
    out = tmp_path / "d"
    import_sources("mcp-config", [DATA / "cursor"], out)
    assert "hunter2" not in all_text(out)


# ---------------------------------------------------------------------------
# Tool listings and annotation defaults
# ---------------------------------------------------------------------------


def test_mcp_defaults_apply_to_missing_hints() -> None:
    hints, declared = effective_hints(None)
    assert hints == dict(MCP_HINT_DEFAULTS) and declared == frozenset()
    assert hints == {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}
    bare = classify_tool("do_thing")
    assert bare.action is ActionClass.WRITE and bare.leaves_org is True
    assert "readOnlyHint: false (MCP default)" in bare.reason and "destructiveHint: true (MCP default)" in bare.reason


@pytest.mark.parametrize(
    ("name", "description", "annotations", "action"),
    [
        ("search_contacts", None, {"readOnlyHint": True}, "read"),
        ("list_channels", "List channels.", None, "write"),  # a read only when declared
        ("post_message", None, None, "send"),
        ("chat_postMessage", None, {"readOnlyHint": False}, "send"),
        ("create_refund", None, {"readOnlyHint": False}, "pay"),
        ("approve", "Approve an entry and notify the controller.", None, "send"),
        ("create_signature_request", None, None, "sign"),
        ("trash_email", None, None, "delete"),
        ("execute_sql", None, None, "execute"),
        ("share_folder", None, None, "share"),
        ("send_report", None, {"readOnlyHint": True}, "read"),  # the annotation decides, never the name
        ("issue_read", None, {"readOnlyHint": True}, "read"),
        ("label_list", None, {"readOnlyHint": True}, "read"),
        ("add_issue_comment", "Add a comment.", {"readOnlyHint": False, "destructiveHint": False}, "send"),
        ("remove_label", None, {"readOnlyHint": False, "destructiveHint": False}, "write"),
        ("create_gist", None, {"readOnlyHint": False}, "share"),
    ],
)
def test_action_classes(name: str, description: str | None, annotations: dict | None, action: str) -> None:
    assert classify_tool(name, description, annotations).action.value == action


def test_open_world_reads_are_untrusted_and_bulk_sets_a_fan_out() -> None:
    assert classify_tool("fetch", annotations={"readOnlyHint": True}).untrusted_content is True
    assert classify_tool("fetch", annotations={"readOnlyHint": True, "openWorldHint": False}).untrusted_content is False
    bulk = classify_tool("bulk_update_contacts")
    assert bulk.fan_out >= 100 and "fan-out unknown" in bulk.reason
    limited = classify_tool(
        "search",
        annotations={"readOnlyHint": True},
        input_schema={"properties": {"limit": {"type": "integer", "maximum": 50}}},
    )
    assert limited.fan_out == 50


def test_listing_replaces_catalog_tools_and_records_reasons(draft: Path) -> None:
    slack = connectors_of(draft)["slack"]
    tools = {t["name"]: t for t in slack["tools"]}
    assert tools["search_messages"]["action"] == "read" and tools["search_messages"]["untrusted_content"] is True
    assert tools["post_message"]["action"] == "send" and tools["post_message"]["leaves_org"] is True
    assert tools["delete_message"] == {"name": "delete_message", "action": "delete", "leaves_org": False}
    assert tools["list_channels"]["action"] == "write"
    assert tools["pay_invoice"]["action"] == "pay"  # renamed: no spaces in tool names
    text = (draft / "connectors.yaml").read_text()
    assert "# send: readOnlyHint: false (MCP default); its name says 'post'" in text
    log = json.loads((draft / ".blastradius-import" / "log.json").read_text())
    actions = {i["subject"]: i for i in log["inferences"] if i["field"] == "action"}
    assert (
        actions["tool:slack.pay_invoice"]["value"] == "pay"
        and "renamed from 'pay invoice'" in actions["tool:slack.pay_invoice"]["reason"]
    )
    ledger = {t["name"]: t["action"] for t in connectors_of(draft)["acme-ledger"]["tools"]}
    assert ledger == {"get_balance": "read", "create_refund": "pay", "approve": "send"}


def test_unknown_server_is_scored_conservatively(tmp_path: Path) -> None:
    out = tmp_path / "d"
    report = import_sources("plugins", [DATA / "marketplace"], out)
    assert report.unknown_tools == ("acme-ledger.unknown_tools",)
    inv = load_inventory(out)
    row = score_plugins(inv).set_index("plugin").loc["finance-close"]
    assert row["ungated_high_impact"] >= 1  # an unknown tool counts as high-impact
    assert inv.dataset_by_id["acme-ledger-records"].classification.value == "confidential"


def test_listing_for_an_unknown_server_becomes_its_own_connector(tmp_path: Path) -> None:
    out = tmp_path / "d"
    report = import_sources("mcp-tools", [DATA / "tools" / "acme-ledger.tools.json"], out)
    assert report.connectors == ("acme-ledger",) and report.plugins == ()
    assert any("used by no plugin" in t for t in report.todo)
    load_inventory(out)


# ---------------------------------------------------------------------------
# Permissions -> autonomy
# ---------------------------------------------------------------------------


def test_permissions_become_gates_and_blocks(draft: Path) -> None:
    report = import_sources(
        "permissions",
        [DATA / "permissions" / "settings.json", DATA / "permissions" / "tool-states.json"],
        draft,
        merge=True,
    )
    plugins = plugins_of(draft)
    fin = plugins["finance-close"]
    assert "slack.post_message" in fin["requires_approval"]
    assert set(fin["blocked"]) == {"slack.delete_message", "acme-ledger.create_refund"}
    assert "acme-ledger.approve" in fin["requires_approval"]  # bare mcp__acme_ledger asks
    assert "acme-ledger.get_balance" in fin["requires_approval"]  # allowed, but the server-wide ask beats allow
    assert plugins["legal-review"]["blocked"] == ["slack.delete_message", "google-drive.*"]
    assert plugins["support-desk"]["requires_approval"][-1] == "zendesk.*"
    assert report.ignored_rules == 1
    assert any("no_such_tool" in t for t in report.todo)
    inv = load_inventory(draft)
    scores = score_plugins(inv).set_index("plugin")
    assert scores.loc["finance-close", "blocked_actions"] >= 1 and scores.loc["finance-close", "gated_actions"] >= 1


def test_permissions_need_plugins_first(tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError, match="no imported plugin to apply permissions to"):
        import_sources("permissions", [DATA / "permissions" / "settings.json"], tmp_path / "d")


# ---------------------------------------------------------------------------
# Writing and merging
# ---------------------------------------------------------------------------


def test_refuses_to_overwrite_an_inventory(draft: Path) -> None:
    with pytest.raises(ImportSourceError, match=r"already holds an inventory.*--merge"):
        import_sources("plugins", [DATA / "marketplace"], draft)


def test_merge_keeps_analyst_edits_and_adds_new_records(draft: Path) -> None:
    conn_file = draft / "connectors.yaml"
    edited = conn_file.read_text().replace("  - id: slack\n", "  - id: slack\n    # analyst: checked with IT\n", 1)
    edited = edited.replace(
        "    system: snowflake\n    access: read-write\n", "    system: snowflake\n    access: read-only\n", 1
    )
    assert edited != conn_file.read_text()
    conn_file.write_text(edited)
    (draft / "teams.yaml").write_text((draft / "teams.yaml").read_text() + "  - {id: fpa, headcount: 140}\n")
    report = import_sources("mcp-config", [DATA / "vscode"], draft, merge=True)
    text = conn_file.read_text()
    assert "# analyst: checked with IT" in text and "access: read-only" in text  # edits survive
    new_files = sorted(p.name for p in draft.glob("imported-*.yaml"))
    assert new_files == ["imported-1.yaml"]  # new connectors did not touch the edited file
    assert "github" in connectors_of(draft) and "memory" in connectors_of(draft)
    assert "fpa" in (draft / "teams.yaml").read_text()
    inv = load_inventory(draft)  # no duplicate ids
    assert inv.connector_by_id["snowflake"].access.value == "read-only"
    assert "vscode-vscode" in report.plugins


def test_merge_updates_untouched_blocks_of_an_edited_file(tmp_path: Path) -> None:
    out = tmp_path / "d"
    import_sources("plugins", [DATA / "marketplace"], out)
    conn_file = out / "connectors.yaml"
    conn_file.write_text(
        conn_file.read_text().replace("  - id: snowflake\n", "  - id: snowflake\n    row_limit: 500\n", 1)
    )
    report = import_sources("mcp-tools", [DATA / "tools" / "slack.tools.json"], out, merge=True)
    slack = connectors_of(out)["slack"]
    assert "pay_invoice" in {t["name"] for t in slack["tools"]}  # slack's block was untouched: updated in place
    assert connectors_of(out)["snowflake"]["row_limit"] == 500
    assert report.kept == ()
    load_inventory(out)


def test_merge_never_rewrites_an_edited_record(tmp_path: Path) -> None:
    out = tmp_path / "d"
    import_sources("plugins", [DATA / "marketplace"], out)
    conn_file = out / "connectors.yaml"
    conn_file.write_text(conn_file.read_text().replace("  - id: slack\n", "  - id: slack\n    row_limit: 100\n", 1))
    report = import_sources("mcp-tools", [DATA / "tools" / "slack.tools.json"], out, merge=True)
    assert connectors_of(out)["slack"]["row_limit"] == 100
    assert "connectors:slack" in report.kept
    proposal = yaml.safe_load((out / ".blastradius-import" / "proposals.yaml").read_text())
    assert "pay_invoice" in {t["name"] for t in proposal["connectors"][0]["tools"]}
    assert "kept as you edited it" in (out / "IMPORT-TODO.md").read_text()
    load_inventory(out)


def test_merge_does_not_bring_back_a_deleted_record(tmp_path: Path) -> None:
    out = tmp_path / "d"
    import_sources("plugins", [DATA / "marketplace" / "support-desk"], out)
    plugins_file = out / "plugins.yaml"
    plugins_file.write_text("plugins: []\n")
    import_sources("plugins", [DATA / "marketplace" / "support-desk"], out, merge=True)
    assert plugins_of(out) == {}
    log = json.loads((out / ".blastradius-import" / "log.json").read_text())
    assert "plugins:support-desk" in log["deleted"]


def test_merge_into_a_hand_written_inventory(tmp_path: Path) -> None:
    out = tmp_path / "inv"
    out.mkdir()
    (out / "teams.yaml").write_text("teams:\n  - {id: unassigned, headcount: 3}\n")
    (out / "systems.yaml").write_text("systems:\n  - {id: slack, kind: chat}\n")
    import_sources("plugins", [DATA / "marketplace" / "support-desk"], out, merge=True)
    assert (out / "teams.yaml").read_text() == "teams:\n  - {id: unassigned, headcount: 3}\n"
    inv = load_inventory(out)
    assert inv.team_by_id["unassigned"].headcount == 3 and "support-desk" in inv.plugin_by_id


def test_report_lines_name_the_summary(draft: Path) -> None:
    report = import_sources("mcp-tools", [DATA / "tools" / "slack.tools.json"], draft, merge=True)
    lines = report_lines(report)
    assert lines[0].endswith("draft inventory (mcp-tools import)")
    assert any("slack: finance-close, legal-review, support-desk" in line for line in lines)
    assert report.summary()["shared_connectors"] == 1
    assert (draft / "IMPORT-TODO.md").read_text().startswith("# What the imported draft still needs")


# ---------------------------------------------------------------------------
# Malformed sources: a clear error naming the file, never a traceback
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("mcp-tools", "malformed/truncated.tools.json", r"truncated\.tools\.json:3: invalid JSON.*ends too early"),
        ("mcp-tools", "malformed/wrong-types.tools.json", r"tools\[0\]\.name: every tool needs a name"),
        (
            "mcp-tools",
            "malformed/wrong-types.tools.json",
            r"tools\[1\]\.annotations\.readOnlyHint: expected true or false",
        ),
        ("mcp-tools", "malformed/wrong-types.tools.json", r"tools\[2\]: expected a tool \(a mapping\), got a string"),
        (
            "plugins",
            "malformed/list-mcp",
            r"list-mcp/\.mcp\.json: expected a JSON object with 'mcpServers', got a list",
        ),
        ("mcp-config", "malformed/list-mcp/.mcp.json", r"got a list"),
        ("plugins", "malformed/bad-server", r"mcpServers\.crm: server 'crm' must be a mapping, got a string"),
        ("plugins", "malformed/bad-server", r"mcpServers\.tool\.type: unknown server type 'websocket'"),
        ("plugins", "malformed/bad-server", r"mcpServers\.local: stdio server 'local' has no command"),
        ("plugins", "tools", r"no plugin found here"),
        ("permissions", "tools/slack.tools.json", r"no permission settings found"),
        ("mcp-config", "does-not-exist.json", r"cannot read file"),
    ],
)
def test_malformed_sources_are_clear_errors(tmp_path: Path, kind: str, path: str, message: str) -> None:
    out = tmp_path / "d"
    if kind == "permissions":
        import_sources("plugins", [DATA / "marketplace" / "support-desk"], out)
    with pytest.raises(ImportSourceError, match=message) as info:
        import_sources(kind, [DATA / path], out, merge=kind == "permissions")
    assert isinstance(info.value, BlastRadiusError)
    assert all(p.file is not None for p in info.value.problems)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    with pytest.raises(ImportSourceError) as info:
        import_sources("mcp-tools", [DATA / "malformed" / "wrong-types.tools.json"], Path("/nonexistent/never-written"))
    assert len(info.value.problems) == 3


def test_unknown_kind_and_no_paths(tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError, match=r"unknown import kind 'plugin'.*plugins"):
        import_sources("plugin", [DATA], tmp_path / "d")
    with pytest.raises(ImportSourceError, match="nothing to import"):
        import_sources("plugins", [], tmp_path / "d")


def test_bad_skill_front_matter_names_the_file(tmp_path: Path) -> None:
    shutil.copytree(DATA / "marketplace" / "support-desk", tmp_path / "p")
    skill = tmp_path / "p" / "skills" / "x" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\nname: x\ndescription: >\n  folded\n bad: [unclosed\n---\n")
    with pytest.raises(ImportSourceError, match=r"SKILL\.md:\d+: invalid YAML front matter"):
        import_sources("plugins", [tmp_path / "p"], tmp_path / "d", strict=True)
    report = import_sources("plugins", [tmp_path / "p"], tmp_path / "d")  # by default: the skill is left out
    assert report.plugins == ("support-desk",)
    assert any(re.search(r"skill left out: .*SKILL\.md:\d+: invalid YAML front matter", t) for t in report.todo)


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


def test_catalog_matches_by_name_host_and_package() -> None:
    cat = load_catalog()
    assert match_server(cat, name="google drive").entry.id == "google-drive"
    assert match_server(cat, name="chat", url_host="mcp.slack.com").where == "url host"
    assert match_server(cat, name="docs", packages=["npx", "-y", "@example/doc-store-mcp"]).entry.id == "filesystem"
    assert match_server(cat, name="acme ledger") is None
    categories = {e.category for e in cat.connectors}
    for needed in (
        "chat",
        "email",
        "calendar",
        "files",
        "warehouse",
        "crm",
        "payments",
        "accounting",
        "e-signature",
        "hris",
        "ticketing",
        "source-control",
    ):
        assert needed in categories
    assert len({e.id for e in cat.connectors}) == len(cat.connectors)


def test_import_and_validate_from_the_command_line(tmp_path: Path) -> None:
    from test_cli import run

    samples = SAMPLES
    out = tmp_path / "draft"
    first = run("import", "plugins", str(samples / "plugin-marketplace"), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "gmail: people-ops, revenue-ops" in first.stdout
    again = run("import", "plugins", str(samples / "plugin-marketplace"), "--out", str(out))
    assert again.returncode == 1 and "Traceback" not in again.stderr
    merged = run("import", "mcp-tools", str(samples / "mcp-tools" / "crm.tools.json"), "--out", str(out), "--merge")
    assert merged.returncode == 0, merged.stderr
    checked = run("validate", str(out))
    assert checked.returncode == 0 and "still to fill in" in checked.stdout
    assert run("score", str(out)).returncode == 0


# ---------------------------------------------------------------------------
# Agreement with a labelled corpus of real tool lists (sources in each file's "source")
# ---------------------------------------------------------------------------

CORPUS = sorted((Path(__file__).parent / "data" / "importers" / "corpus").glob("*.tools.json"))


def _truth(annotations: dict) -> str | None:
    """The three-way label the server's own annotations give: None where they leave it open."""
    if annotations.get("readOnlyHint") is True:
        return "read"
    if annotations.get("readOnlyHint") is False and isinstance(annotations.get("destructiveHint"), bool):
        return "destructive" if annotations["destructiveHint"] else "additive"
    return None


def agreement_table() -> tuple[str, dict[str, float]]:
    """The markdown table docs/importing.md publishes, and the headline shares."""
    rows = []
    for file in CORPUS:
        for tool in json.loads(file.read_text())["tools"]:
            annotations = tool.get("annotations") or {}
            if "readOnlyHint" not in annotations:
                continue
            c = classify_tool(tool["name"], tool["description"], annotations)
            s = suggest_from_name(tool["name"], tool["description"])
            rows.append((annotations["readOnlyHint"], _truth(annotations), c.effect, s.effect))
    shares: dict[str, float] = {}
    lines = [
        "| ground truth (annotations) | tools | classifier | name and description alone |",
        "|---|---:|---:|---:|",
    ]

    def line(label: str, hits: list[tuple[bool, bool]], key: str) -> None:
        full = sum(h for h, _ in hits) / len(hits)
        alone = sum(h for _, h in hits) / len(hits)
        shares[key], shares[key + "/name"] = full, alone
        lines.append(f"| {label} | {len(hits)} | {full:.1%} | {alone:.1%} |")

    line(
        "read vs not read, all",
        [(read == (eff == "read"), read == (guess == "read")) for read, _, eff, guess in rows],
        "read-vs-not",
    )
    for cls in ("read", "additive", "destructive"):
        line(
            f"{cls}",
            [(eff == cls, guess == cls) for _, truth, eff, guess in rows if truth == cls],
            cls,
        )
    three = [(truth == eff, truth == guess) for _, truth, eff, guess in rows if truth]
    line("three-way, all", three, "three-way")
    return "\n".join(lines), shares


def test_the_classifier_agrees_with_annotations_of_real_tool_lists_and_the_docs_say_so() -> None:
    assert len(CORPUS) >= 5
    for file in CORPUS:
        data = json.loads(file.read_text())
        assert data["source"].startswith("github.com/"), file  # every list names where it comes from
    table, shares = agreement_table()
    assert shares["read-vs-not"] >= 0.98 and shares["three-way"] >= 0.95
    assert shares["read-vs-not"] == 1.0 and shares["three-way"] == 1.0  # annotations decide, nothing overrides them
    assert shares["read-vs-not/name"] >= 0.98 and shares["three-way/name"] >= 0.9  # the suggestion the reasons give
    assert table in (ROOT / "docs" / "importing.md").read_text(), table


def test_the_corpus_imports_as_tool_listings(tmp_path: Path) -> None:
    report = import_sources("mcp-tools", CORPUS, tmp_path / "draft")
    assert report.tools == sum(len(json.loads(f.read_text())["tools"]) for f in CORPUS)
    tools = {t["name"]: t for t in connectors_of(tmp_path / "draft")["github"]["tools"]}
    assert tools["issue_read"]["action"] == "read" and tools["label_write"]["action"] == "write"
    assert tools["add_issue_comment"]["action"] == "send" and tools["create_gist"]["action"] == "share"
    assert tools["create_issue"]["reversibility"] == "soft-delete"  # destructiveHint: false
    assert "reversibility" not in tools["merge_pull_request"]  # a destructive write stays immediate
    sentry = {t["name"]: t for t in connectors_of(tmp_path / "draft")["sentry"]["tools"]}
    assert sentry["add_issue_note"]["action"] == "send"  # not 'pay' from its example's "payments team"


# ---------------------------------------------------------------------------
# Real-world layouts: partial imports, remote entries, built-in tools, one connector per server
# ---------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _plugin(folder: Path, name: str | None = None, mcp: str | None = None) -> Path:
    _write(folder / ".claude-plugin" / "plugin.json", json.dumps({"name": name} if name else {"version": "1"}))
    if mcp is not None:
        _write(folder / ".mcp.json", mcp)
    return folder


def test_one_bad_plugin_is_left_out_with_its_line_and_strict_fails(tmp_path: Path) -> None:
    market = tmp_path / "market"
    _plugin(market / "good", "good", '{"mcpServers": {"crm": {"type": "http", "url": "https://crm.example/mcp"}}}')
    _plugin(market / "bad", "bad", '{"mcpServers": {\n  "x": {"type": "http", "url": "https://x.example/mcp"},\n}}')
    report = import_sources("plugins", [market], tmp_path / "d")
    assert report.plugins == ("good",) and len(report.skipped) == 1
    assert re.search(
        r"bad/\.mcp\.json:2: JSON does not allow comments or trailing commas.*trailing comma", report.skipped[0]
    )
    printed = "\n".join(report_lines(report))
    assert "1 problem left out" in printed and "Left out because of a problem" in printed
    with pytest.raises(ImportSourceError, match=r"\.mcp\.json:2: .*trailing comma"):
        import_sources("plugins", [market], tmp_path / "d2", strict=True)


@pytest.mark.parametrize("text", ["{}", "null", '{"mcpServers": null}', '{"mcpServers": {}}'])
def test_empty_and_null_configs_are_plugins_without_servers(tmp_path: Path, text: str) -> None:
    report = import_sources("plugins", [_plugin(tmp_path / "p", "p", text)], tmp_path / "d")
    assert report.plugins == ("p",) and report.connectors == () and not report.skipped


def test_messages_name_kinds_in_plain_english(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p", "p", '{"mcpServers": {"x": {"command": 5}}}')
    with pytest.raises(ImportSourceError, match=r"mcpServers\.x\.command: expected a string, got an integer"):
        import_sources("plugins", [folder], tmp_path / "d")


def test_entries_without_plugin_json_nested_plugins_and_unnamed_manifests(tmp_path: Path) -> None:
    market = tmp_path / "market"
    _write(market / "skills-only" / "skills" / "triage" / "SKILL.md", "---\nname: triage\n---\n")
    _plugin(market / "plugins" / "deep" / "unnamed")  # plugin.json without a name
    entries = [{"name": "skills-only", "source": "./skills-only"}]
    _write(market / ".claude-plugin" / "marketplace.json", json.dumps({"name": "m", "plugins": entries}))
    report = import_sources("plugins", [market], tmp_path / "d")
    assert report.plugins == ("skills-only", "unnamed")
    assert any("has no 'name'" in t for t in report.todo) and any("not listed in" in t for t in report.todo)
    loose = tmp_path / "loose"  # no marketplace file, plugins at several depths
    _plugin(loose / "a", "a")
    _plugin(loose / "group" / "team" / "b", "b", "{}")
    assert import_sources("plugins", [loose], tmp_path / "d2").plugins == ("a", "b")


def test_remote_entries_are_listed_with_their_commit_and_imported_from_checkouts(tmp_path: Path) -> None:
    market = tmp_path / "market"
    entries = [
        {"name": "far", "source": {"source": "github", "repo": "acme/far-plugin", "sha": "0123abc"}},
        {"name": "loose", "source": {"source": "url", "url": "https://git.example/acme/loose.git"}},
    ]
    _write(market / ".claude-plugin" / "marketplace.json", json.dumps({"name": "m", "plugins": entries}))
    report = import_sources("plugins", [market], tmp_path / "d")
    assert report.plugins == () and report.summary()["remote"] == 2
    assert report.remote["far"] == "github:acme/far-plugin @ 0123abc"
    assert report.remote["loose"].endswith("(no pinned commit)")
    assert "2 remote (not imported)" in "\n".join(report_lines(report))
    checkouts = tmp_path / "checkouts"
    _plugin(checkouts / "acme" / "far-plugin", "far", '{"mcpServers": {"crm": {"url": "https://crm.example/mcp"}}}')
    again = import_sources("plugins", [market], tmp_path / "d2", checkouts=checkouts)
    assert again.plugins == ("far",) and list(again.remote) == ["loose"] and "crm" in again.connectors


def test_commands_agents_hooks_and_pre_approvals_are_capability_and_autonomy(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "git-helper", "git-helper")
    _write(
        folder / "commands" / "ship.md", "---\ndescription: Ship it: push\nallowed-tools: Bash(git push:*), Read\n---\n"
    )
    _write(folder / "agents" / "fixer.md", "---\nname: fixer\ntools: Write, WebFetch, Task\n---\n")
    hooks = {"hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "fmt.sh"}]}]}}
    _write(folder / "hooks" / "hooks.json", json.dumps(hooks))
    out = tmp_path / "d"
    import_sources("plugins", [folder], out)
    tools = {t["name"]: t for t in connectors_of(out)["git-helper-local"]["tools"]}
    assert tools["bash-git-push"]["action"] == "execute" and tools["hook-posttooluse"]["action"] == "execute"
    assert tools["write"]["action"] == "write" and tools["webfetch"]["untrusted_content"] is True
    assert tools["read"]["action"] == "read" and "task" not in tools
    plugin = plugins_of(out)["git-helper"]
    # the agent's Write and WebFetch ask first; the command's pre-approvals and the hook run with no human
    assert plugin["requires_approval"] == ["git-helper-local.webfetch", "git-helper-local.write"]
    scores = score_plugins(load_inventory(out)).set_index("plugin")
    assert scores.loc["git-helper", "capability"] >= 5  # not "calls no connector"


def test_one_connector_per_url_and_catalog_matches_exactly(tmp_path: Path) -> None:
    servers = {
        "crm": {"type": "http", "url": "https://crm.example/mcp"},
        "crm-eu": {"type": "http", "url": "https://crm.example/mcp?region=eu"},
        "tools": {"command": "node", "args": ["/opt/slack-export/run.js"]},
    }
    report = import_sources(
        "plugins", [_plugin(tmp_path / "p", "p", json.dumps({"mcpServers": servers}))], tmp_path / "d"
    )
    assert report.connectors == ("crm", "tools")
    assert any("has the URL and credentials of connector 'crm'" in t for t in report.todo)
    assert "tools.unknown_tools" in report.unknown_tools  # a path holding "slack" is not Slack's server
    assert (
        match_server(load_catalog(), name="x", packages=["npx", "@modelcontextprotocol/server-slack"]).entry.id
        == "slack"
    )


def test_todo_is_grouped_figures_first_with_real_commands(tmp_path: Path) -> None:
    out = tmp_path / "draft"
    report = import_sources("plugins", [DATA / "marketplace"], out)
    text = (out / "IMPORT-TODO.md").read_text()
    headings = re.findall(r"^## (.+) \((\d+)\)$", text, re.M)
    assert headings[0][0].startswith("Make the figures non-zero") and report.todo[0].startswith("teams:")
    assert sum(int(n) for _, n in headings) == text.count("- [ ] ") == len(report.todo)
    assert "--out DIR" not in text and f"--out {out}" in text
    printed = "\n".join(report_lines(report))
    assert f"all in {out / 'IMPORT-TODO.md'}" in printed
    assert printed.count("\n  - ") <= 10


def test_explain_and_validate_on_a_draft_mark_stand_ins_and_keep_guidance_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from blastradius.cli import main
    from blastradius.domain import stand_ins
    from blastradius.explain import explain_plugin, format_explanation

    out = tmp_path / "draft"
    import_sources("plugins", [DATA / "marketplace"], out)
    inv = load_inventory(out)
    open_ = stand_ins(inv)
    assert open_.datasets and open_.tools  # placeholder datasets and unknown tools are stand-ins
    plugin = next(p.id for p in inv.plugins if any(c.connector == "acme-ledger" for c in p.connectors))
    text = format_explanation(inv, explain_plugin(inv, plugin))
    assert "at least" in text and "a stand-in, scored as the worst class" in text
    assert main(["validate", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"all in {out / 'IMPORT-TODO.md'}" in printed
    assert len(printed.split("still to fill in", 1)[1].strip().splitlines()) <= 11  # the heading and ten items


@pytest.mark.parametrize("name", ["issue_read", "label_list", "draft_get", "tag_search", "post_list", "git_log"])
def test_a_name_verb_is_found_by_position_not_by_coming_first(name: str) -> None:
    assert suggest_from_name(name).action is ActionClass.READ
    assert classify_tool(name, annotations={"readOnlyHint": True}).action is ActionClass.READ


@pytest.mark.parametrize(
    ("description", "not_"),
    [
        ("Add a note to an issue.\n<examples>add_note(text='Investigating with the payments team.')</examples>", "pay"),
        ("Update a record. Usage: run the loader script, or call `execute_import(batch)` first.", "execute"),
        ('Update a bookmark. Use this when the user shares a URL: "share it with the team".', "share"),
    ],
)
def test_examples_code_and_usage_in_descriptions_decide_nothing(description: str, not_: str) -> None:
    c = classify_tool("update_record", description, {"readOnlyHint": False, "destructiveHint": False})
    assert c.action.value == "write" != not_


def test_destructive_hint_false_lowers_capability_below_a_destructive_write(tmp_path: Path) -> None:
    from blastradius.scores import load_weights

    additive = classify_tool("set_flag", annotations={"readOnlyHint": False, "destructiveHint": False})
    destructive = classify_tool("set_flag", annotations={"readOnlyHint": False})
    assert additive.effect == "additive" and destructive.effect == "destructive"
    weights = load_weights()
    assert weights.reversibility[additive.reversibility] < weights.reversibility[destructive.reversibility]
    assert "idempotentHint: true (declared)" in classify_tool("star", annotations={"idempotentHint": True}).reason
