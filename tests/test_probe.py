"""`blastradius probe` against real MCP servers built with the MCP SDK's server API, over stdio and HTTP."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from blastradius.cli import main
from blastradius.errors import BlastRadiusError
from blastradius.importers import import_sources
from blastradius.probe import probe_servers

SERVER = Path(__file__).parent / "data" / "probe" / "crm_server.py"
TOKEN = "s3cret-crm-token-4f9a2c"  # what the HTTP server asks for; never to be written


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """A live streamable-HTTP MCP server asking for a bearer token, for the whole module."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "http", str(port), TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the test server stopped: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the test server did not start within 60 s")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _config(tmp_path: Path, servers: dict) -> Path:
    file = tmp_path / ".mcp.json"
    file.write_text(json.dumps({"mcpServers": servers}))
    return file


def _stdio(*extra: str) -> dict:
    return {"command": sys.executable, "args": [str(SERVER), "stdio", *extra]}


def test_probe_captures_a_live_stdio_and_a_live_http_server_and_import_reads_them(
    tmp_path: Path, http_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "sales-assist"  # a plugin folder whose stdio server lives inside it
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text('{"name": "sales-assist"}')
    shutil.copy(SERVER, plugin / "crm_server.py")
    crm = {"command": sys.executable, "args": ["${CLAUDE_PLUGIN_ROOT}/crm_server.py", "stdio"]}
    _config(
        plugin,
        {
            "crm": {**crm, "env": {"CRM_REGION": "${CRM_REGION:-eu}"}},
            "crm-cloud": {"type": "http", "url": http_url, "headers": {"Authorization": "Bearer ${CRM_TOKEN}"}},
        },
    )
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    out = tmp_path / "tools"
    assert main(["probe", str(plugin), "--out", str(out), "--timeout", "60"]) == 0
    printed = capsys.readouterr().out
    assert "ok      crm:       3 tools captured" in printed and "ok      crm-cloud: 3 tools captured" in printed
    assert f"next: blastradius import mcp-tools {out} --out DRAFT --merge" in printed
    files = sorted(p.name for p in out.iterdir())
    assert files == ["crm-cloud.tools.json", "crm.tools.json"]
    for name in files:
        text = (out / name).read_text()
        assert TOKEN not in text
        listing = json.loads(text)
        assert {t["name"] for t in listing["tools"]} == {"search_contacts", "delete_contact", "add_contact_comment"}
        search = next(t for t in listing["tools"] if t["name"] == "search_contacts")
        assert search["annotations"] == {"readOnlyHint": True, "openWorldHint": False}
    draft = tmp_path / "draft"
    report = import_sources("mcp-tools", [out], draft)
    assert report.connectors == ("crm", "crm-cloud") and report.tools == 6
    connectors = {c["id"]: c for c in yaml.safe_load((draft / "connectors.yaml").read_text())["connectors"]}
    actions = {t["name"]: t["action"] for t in connectors["crm"]["tools"]}
    # annotations decide; the comment's example ("payments team") does not make it a payment
    assert actions == {"search_contacts": "read", "delete_contact": "delete", "add_contact_comment": "send"}
    assert TOKEN not in "".join(p.read_text() for p in draft.rglob("*") if p.is_file())
    again = probe_servers([plugin], out, timeout=60, only=["crm"])  # a listing the probe wrote is replaced
    assert [r.ok for r in again] == [True]


def test_each_failing_server_gets_one_clear_line_and_the_others_still_run(
    tmp_path: Path, http_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "not-the-token")
    monkeypatch.delenv("LEDGER_KEY", raising=False)
    config = _config(
        tmp_path,
        {
            "wrong-token": {"type": "http", "url": http_url, "headers": {"Authorization": "Bearer ${CRM_TOKEN}"}},
            "no-token": {"type": "http", "url": http_url},
            "unreachable": {"type": "http", "url": f"http://127.0.0.1:{_free_port()}/mcp"},
            "missing": {"command": "no-such-mcp-server-xyz"},
            "needs-env": {"command": "ledger-mcp", "args": ["--key", "${LEDGER_KEY}"]},
            "not-yet": {"type": "http", "url": ""},
            "slow": _stdio("--slow", "30"),
            "fine": _stdio(),
        },
    )
    start = time.monotonic()
    results = {r.server: r for r in probe_servers([config], tmp_path / "tools", timeout=6)}
    assert time.monotonic() - start < 25  # each server has its own timeout; they do not wait in line
    assert results["fine"].ok and results["fine"].tools == 3
    assert not any(r.ok for name, r in results.items() if name != "fine")
    assert results["wrong-token"].message.startswith("authentication needed (HTTP 401): check CRM_TOKEN")
    assert "its config sends no credentials" in results["no-token"].message
    assert results["unreachable"].message.startswith("unreachable: nothing answers at http://127.0.0.1:")
    assert results["missing"].message == "cannot start: command 'no-such-mcp-server-xyz' not found on PATH"
    assert results["needs-env"].message.startswith("set LEDGER_KEY in the environment")
    assert results["not-yet"].message == 'no URL configured yet ("url": "")'
    assert results["slow"].message.startswith("no answer within 6 s")
    assert "not-the-token" not in "".join(r.message for r in results.values())
    assert sorted(p.name for p in (tmp_path / "tools").iterdir()) == ["fine.tools.json"]


def test_probe_refuses_an_inventory_folder_a_bad_timeout_and_unknown_servers(tmp_path: Path) -> None:
    config = _config(tmp_path, {"crm": _stdio()})
    inventory = tmp_path / "inv"
    inventory.mkdir()
    (inventory / "teams.yaml").write_text("teams: []\n")
    with pytest.raises(BlastRadiusError, match="holds an inventory"):
        probe_servers([config], inventory)
    with pytest.raises(BlastRadiusError, match="positive number of seconds"):
        probe_servers([config], tmp_path / "t", timeout=0)
    with pytest.raises(BlastRadiusError, match=r"no server named 'crn'.*servers found: crm"):
        probe_servers([config], tmp_path / "t", only=["crn"])
    (tmp_path / "t" / "crm.tools.json").parent.mkdir(exist_ok=True)
    (tmp_path / "t" / "crm.tools.json").write_text('{"tools": []}')  # saved by hand: never replaced
    [result] = probe_servers([config], tmp_path / "t", timeout=60)
    assert not result.ok and "was not written by blastradius probe" in result.message
    assert (tmp_path / "t" / "crm.tools.json").read_text() == '{"tools": []}'


def test_without_the_sdk_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if not installed
    with pytest.raises(BlastRadiusError, match=r"pip install 'blastradius\[probe\]'"):
        probe_servers([_config(tmp_path, {"crm": _stdio()})], tmp_path / "t")
