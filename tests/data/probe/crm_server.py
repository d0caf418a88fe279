"""A small CRM MCP server built with the MCP SDK's server API, started by tests/test_probe.py.

python crm_server.py stdio                  serve over stdio
python crm_server.py stdio --slow SECONDS   wait before serving (a server that does not answer in time)
python crm_server.py http PORT TOKEN        serve streamable HTTP on 127.0.0.1:PORT, asking for "Bearer TOKEN"
"""

from __future__ import annotations

import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("crm")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
def search_contacts(query: str, limit: int = 10) -> str:
    """Search contacts by name or email."""
    return "[]"


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False))
def delete_contact(contact_id: str) -> str:
    """Delete a contact and its history."""
    return "deleted"


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
def add_contact_comment(contact_id: str, text: str) -> str:
    """Add a comment to a contact's timeline.

    <examples>add_contact_comment(contact_id='7', text='sent to the payments team')</examples>
    """
    return "added"


def _with_token(app, token: str):
    """The app behind a bearer-token check: 401 without the right token, as a real deployment answers."""

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send(
                    {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    if sys.argv[1] == "http":
        import uvicorn

        port, token = int(sys.argv[2]), sys.argv[3]
        uvicorn.run(_with_token(server.streamable_http_app(), token), host="127.0.0.1", port=port, log_level="warning")
    else:
        if "--slow" in sys.argv:
            time.sleep(float(sys.argv[sys.argv.index("--slow") + 1]))
        server.run()
