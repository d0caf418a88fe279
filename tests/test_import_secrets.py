"""No credential planted in a plugin marketplace or an MCP client config reaches anything an import writes or prints.

A corpus of real-world credential shapes (fake values with the right shape, generated from a fixed
seed) is planted in every place an importer reads: arguments, flags, command lines, environment
prefixes, header arguments, ``env`` and ``headers`` blocks, URL user info, query strings and paths,
URLs without a scheme, descriptions. Beside it, forms that only their context gives away (``-k x``,
``API_TOKEN=x node``, ``user:pass@host``, webhook paths). The real import runs, as a library call and
as the command line; then no planted value may appear in any file under the output directory (the
draft, ``IMPORT-TODO.md``, the import state and log) nor on stdout or stderr, placeholders must stand
in their place, and the log must say how many were replaced and where.
"""

from __future__ import annotations

import json
import random
import re
import shlex
import string
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from blastradius import load_inventory
from blastradius.importers import ImportSourceError, import_sources, report_lines
from blastradius.importers.draft import draft_id
from blastradius.importers.secrets import Scrubber, scrub_args, scrub_text, url_host
from blastradius.importers.sources import read_plugin_sources

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
URL_SAFE = set(ALNUM + "-._~")


class CorpusCounts(UserWarning):
    """The planted and caught counts of the secrets corpus, shown in the warnings summary of every run."""


# ---------------------------------------------------------------------------
# The corpus: credential shapes, each a generator of fake values
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One planted value and the random pieces of it that must not appear anywhere either."""

    text: str
    pieces: tuple[str, ...]


class Fake:
    """Fake credentials of a shape, drawn from one seeded stream: the same corpus on every run."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pieces: list[str] = []

    def r(self, alphabet: str, n: int) -> str:
        text = "".join(self.rng.choice(alphabet) for _ in range(n))
        if alphabet in (ALNUM, B64, B64URL) and n >= 8:  # mixed case and a digit, as real keys have
            text = self.rng.choice(string.ascii_uppercase) + self.rng.choice(string.digits) + text[2:]
            text = text[:-1] + self.rng.choice(string.ascii_lowercase)
        self.pieces.append(text)
        return text

    def d(self, n: int) -> str:
        return self.r(string.digits, n)

    def value(self, make: Callable[[Fake], str]) -> Value:
        self.pieces = []
        text = make(self)
        return Value(text=text, pieces=tuple(p for p in self.pieces if len(p) >= 10))


def _pem(kind: str) -> Callable[[Fake], str]:
    def make(f: Fake) -> str:
        body = "\n".join(f.r(B64, 64) for _ in range(4)) + "\n" + f.r(B64, 28) + "=="
        return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"

    return make


def _jwt(f: Fake, header: str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9") -> str:
    return f"{header}.eyJ{f.r(B64URL, 60)}.{f.r(B64URL, 43)}"


#: (label, strong, make): ``strong`` shapes are recognisable even in free text (a known prefix, a JWT,
#: a PEM block); the others are long random strings, recognised in arguments, values and URLs.
SHAPES: tuple[tuple[str, bool, Callable[[Fake], str]], ...] = (
    ("OpenAI legacy key", True, lambda f: "sk-" + f.r(ALNUM, 48)),
    ("OpenAI project key", True, lambda f: "sk-proj-" + f.r(B64URL, 48)),
    ("OpenAI service-account key", True, lambda f: "sk-svcacct-" + f.r(B64URL, 48)),
    ("OpenAI admin key", True, lambda f: "sk-admin-" + f.r(B64URL, 48)),
    ("Anthropic API key", True, lambda f: "sk-ant-api03-" + f.r(B64URL, 93) + "AA"),
    ("Anthropic admin key", True, lambda f: "sk-ant-admin01-" + f.r(B64URL, 93) + "AA"),
    ("GitHub classic token", True, lambda f: "ghp_" + f.r(ALNUM, 36)),
    ("GitHub OAuth token", True, lambda f: "gho_" + f.r(ALNUM, 36)),
    ("GitHub app token", True, lambda f: "ghs_" + f.r(ALNUM, 36)),
    ("GitHub user-to-server token", True, lambda f: "ghu_" + f.r(ALNUM, 36)),
    ("GitHub refresh token", True, lambda f: "ghr_" + f.r(ALNUM, 36)),
    ("GitHub fine-grained token", True, lambda f: "github_pat_" + f.r(ALNUM, 22) + "_" + f.r(ALNUM, 59)),
    ("Slack bot token", True, lambda f: f"xoxb-{f.d(11)}-{f.d(13)}-{f.r(ALNUM, 24)}"),
    ("Slack user token", True, lambda f: f"xoxp-{f.d(11)}-{f.d(11)}-{f.d(13)}-{f.r(HEX, 32)}"),
    (
        "Slack app token",
        True,
        lambda f: f"xapp-1-A{f.r(string.ascii_uppercase + string.digits, 10)}-{f.d(13)}-" + f.r(HEX, 64),
    ),
    ("Slack refresh token", True, lambda f: f"xoxe.xoxp-1-{f.r(ALNUM, 140)}"),
    ("AWS access key id", True, lambda f: "AKIA" + f.r(string.ascii_uppercase + "234567", 16)),
    ("AWS temporary key id", True, lambda f: "ASIA" + f.r(string.ascii_uppercase + "234567", 16)),
    ("AWS secret access key", False, lambda f: f.r(B64, 40)),
    ("Google API key", True, lambda f: "AIza" + f.r(B64URL, 35)),
    ("Google OAuth client secret", True, lambda f: "GOCSPX-" + f.r(B64URL, 28)),
    ("Google OAuth access token", True, lambda f: "ya29." + f.r(B64URL, 120)),
    ("GitLab personal token", True, lambda f: "glpat-" + f.r(B64URL, 20)),
    ("GitLab trigger token", True, lambda f: "glptt-" + f.r(HEX, 40)),
    ("npm token", True, lambda f: "npm_" + f.r(ALNUM, 36)),
    ("Hugging Face token", True, lambda f: "hf_" + f.r(ALNUM, 34)),
    ("Stripe live secret key", True, lambda f: "sk_live_" + f.r(ALNUM, 99)),
    ("Stripe restricted key", True, lambda f: "rk_live_" + f.r(ALNUM, 99)),
    ("Stripe test key", True, lambda f: "sk_test_" + f.r(ALNUM, 24)),
    ("Stripe webhook secret", True, lambda f: "whsec_" + f.r(ALNUM, 32)),
    ("JWT (HS256)", True, _jwt),
    ("JWT (RS256)", True, lambda f: _jwt(f, "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ")),
    ("PEM RSA private key", True, _pem("RSA PRIVATE KEY")),
    ("PEM PKCS#8 private key", True, _pem("PRIVATE KEY")),
    ("PEM EC private key", True, _pem("EC PRIVATE KEY")),
    ("OpenSSH private key", True, _pem("OPENSSH PRIVATE KEY")),
    ("PGP private key block", True, _pem("PGP PRIVATE KEY BLOCK")),
    ("hex key, 32", False, lambda f: f.r(HEX, 32)),
    ("hex key, 40", False, lambda f: f.r(HEX, 40)),
    ("hex key, 64", False, lambda f: f.r(HEX, 64)),
    ("base64 key, 44", False, lambda f: f.r(B64, 42) + "=="),
    ("base64url key, 43", False, lambda f: f.r(B64URL, 43)),
    ("Azure storage account key", False, lambda f: f.r(B64, 86) + "=="),
    ("Cloudflare API token", False, lambda f: f.r(B64URL, 40)),
    ("Okta API token", False, lambda f: "00" + f.r(B64URL, 40)),
    ("Mistral API key", False, lambda f: f.r(ALNUM, 32)),
    ("Mailchimp API key", False, lambda f: f.r(HEX, 32) + "-us21"),
    ("SendGrid API key", True, lambda f: f"SG.{f.r(B64URL, 22)}.{f.r(B64URL, 43)}"),
    ("Twilio API key", True, lambda f: "SK" + f.r(HEX, 32)),
    ("Mailgun API key", True, lambda f: "key-" + f.r(HEX, 32)),
    ("Shopify access token", True, lambda f: "shpat_" + f.r(HEX, 32)),
    ("Atlassian API token", True, lambda f: "ATATT3xFfGF0" + f.r(B64URL, 180) + "=" + f.r("ABCDEF0123456789", 8)),
    ("Linear API key", True, lambda f: "lin_api_" + f.r(ALNUM, 40)),
    ("Notion integration secret", True, lambda f: "secret_" + f.r(ALNUM, 43)),
    ("Notion token", True, lambda f: "ntn_" + f.r(ALNUM, 46)),
    ("Databricks token", True, lambda f: "dapi" + f.r(HEX, 32)),
    ("DigitalOcean token", True, lambda f: "dop_v1_" + f.r(HEX, 64)),
    ("Doppler token", True, lambda f: "dp.pt." + f.r(ALNUM, 43)),
    ("Postman API key", True, lambda f: f"PMAK-{f.r(HEX, 24)}-{f.r(HEX, 34)}"),
    ("Grafana service-account token", True, lambda f: f"glsa_{f.r(ALNUM, 32)}_{f.r(HEX, 8)}"),
    ("Supabase token", True, lambda f: "sbp_" + f.r(HEX, 40)),
    ("Sentry auth token", True, lambda f: "sntrys_" + f.r(B64URL, 120)),
    ("Airtable token", True, lambda f: f"pat{f.r(ALNUM, 14)}.{f.r(HEX, 64)}"),
    ("Figma token", True, lambda f: "figd_" + f.r(B64URL, 40)),
    ("Telegram bot token", True, lambda f: f"{f.d(10)}:AA{f.r(B64URL, 33)}"),
    ("Discord bot token", True, lambda f: f"M{f.r(ALNUM, 25)}.{f.r(B64URL, 6)}.{f.r(B64URL, 38)}"),
    ("age secret key", True, lambda f: "AGE-SECRET-KEY-1" + f.r(string.ascii_uppercase + string.digits, 58)),
    ("PyPI token", True, lambda f: "pypi-AgEIcHlwaS5vcmc" + f.r(B64URL, 70)),
    ("HashiCorp Vault token", True, lambda f: "hvs." + f.r(B64URL, 90)),
    ("Groq API key", True, lambda f: "gsk_" + f.r(ALNUM, 52)),
    ("Replicate token", True, lambda f: "r8_" + f.r(ALNUM, 37)),
    ("Perplexity API key", True, lambda f: "pplx-" + f.r(ALNUM, 48)),
    ("Tavily API key", True, lambda f: "tvly-" + f.r(ALNUM, 32)),
)

_FLAGS = (
    "--token",
    "--key",
    "-k",
    "--bearer",
    "--pass",
    "--password",
    "--secret",
    "--api-key",
    "--auth",
    "--client-secret",
    "--access-token",
    "--apiKey",
)
_ENV_PREFIXES = ("API_TOKEN", "SERVICE_KEY", "DB_PASSWORD", "CLIENT_SECRET", "AUTH")
_QUERY_KEYS = ("api_key", "token", "access_token", "key", "auth", "client_secret", "sig", "password", "apiKey")


@dataclass(frozen=True)
class Planting:
    """One value planted in one place of one server."""

    shape: str
    place: str
    value: Value
    server: dict[str, Any]
    where: str  # the start of the ``where`` the log must name

    @property
    def name(self) -> str:
        return f"{draft_id(self.shape)}-{self.place}"


def _url_part(value: str) -> str:
    return value if set(value) <= URL_SAFE else quote(value, safe="")


def _stdio(args: list[str], command: str = "npx", **extra: Any) -> dict[str, Any]:
    return {"command": command, "args": args, **extra}


def shape_plantings(seed: int) -> Iterator[Planting]:
    """Every shape planted in every place an importer reads, a fresh value each time."""
    fake = Fake(seed)
    for i, (label, strong, make) in enumerate(SHAPES):
        safe = set(make(Fake(0))) <= URL_SAFE

        def plant(place: str, where: str, server: Callable[[str], dict[str, Any]], make=make, label=label) -> Planting:
            value = fake.value(make)
            return Planting(shape=label, place=place, value=value, server=server(value.text), where=where)

        flag = _FLAGS[i % len(_FLAGS)]
        prefix = _ENV_PREFIXES[i % len(_ENV_PREFIXES)]
        qkey = _QUERY_KEYS[i % len(_QUERY_KEYS)]
        yield plant("bare-arg", "args[2]", lambda v: _stdio(["-y", "example-mcp", v]))
        yield plant("flag", "args[1]", lambda v, flag=flag: _stdio([flag, v]))
        yield plant("flag-equals", "args[0]", lambda v, flag=flag: _stdio([f"{flag}={v}"]))
        yield plant("command-line", "command", lambda v: _stdio([], command=f"node server.js {shlex.quote(v)}"))
        yield plant(
            "env-prefix",
            "command",
            lambda v, p=prefix: _stdio(["--port", "8080"], command=f"{p}={shlex.quote(v)} node"),
        )
        yield plant(
            "header-arg",
            "args[4]",
            lambda v: _stdio(
                ["-y", "mcp-remote", "https://mcp.example.test/sse", "--header", f"Authorization: Bearer {v}"]
            ),
        )
        yield plant(
            "env-block",
            "env.SERVICE_CONFIG",
            lambda v: _stdio(["server.js"], command="node", env={"SERVICE_CONFIG": v}),
        )
        yield plant(
            "headers-block",
            "headers.",
            lambda v, j=i: {
                "type": "http",
                "url": "https://mcp.example.test/mcp",
                "headers": {"X-Api-Key": v} if j % 2 else {"Authorization": f"Bearer {v}"},
            },
        )
        yield plant(
            "url-userinfo", "url", lambda v: {"type": "http", "url": f"https://svc:{_url_part(v)}@mcp.example.test/mcp"}
        )
        yield plant(
            "url-query",
            "url",
            lambda v, k=qkey: {"type": "http", "url": f"https://mcp.example.test/mcp?{k}={_url_part(v)}&region=eu"},
        )
        yield plant(
            "url-no-scheme", "url", lambda v: {"type": "http", "url": f"svc:{_url_part(v)}@mcp.example.test/mcp"}
        )
        yield plant(
            "url-in-args",
            "args[1]",
            lambda v: _stdio(["mcp-server-postgres", f"postgresql://app:{_url_part(v)}@db.internal:5432/prod"], "uvx"),
        )
        if safe:  # a value that can stand in a URL as it is: found by its shape alone
            yield plant(
                "url-query-plain", "url", lambda v: {"type": "http", "url": f"https://mcp.example.test/mcp?ref={v}"}
            )
            yield plant("url-path", "url", lambda v: {"type": "sse", "url": f"https://mcp.example.test/t/{v}/sse"})
        if strong:  # free text: only shapes that say what they are
            yield plant(
                "description",
                "description",
                lambda v: {"description": f"Needs the key {v} to start."},
            )


#: (place, where, make a server from a short value): forms only their context gives away.
FORMS: tuple[tuple[str, str, Callable[[str], dict[str, Any]]], ...] = (
    ("short-k", "args[2]", lambda v: _stdio(["-y", "-k", v, "server-x"])),
    ("short-bearer-flag", "args[1]", lambda v: _stdio(["--bearer", v])),
    ("short-pass", "args[1]", lambda v: _stdio(["--pass", v])),
    ("short-key", "args[1]", lambda v: _stdio(["--key", v])),
    ("short-password-equals", "args[0]", lambda v: _stdio([f"--password={v}"])),
    ("short-client-secret", "args[1]", lambda v: _stdio(["--client-secret", v])),
    ("short-auth-token-camel", "args[1]", lambda v: _stdio(["--authToken", v])),
    ("api-token-prefix", "command", lambda v: _stdio(["server.js"], command=f"API_TOKEN={v} node")),
    ("env-command", "command", lambda v: _stdio(["-y", "x"], command=f"env DB_PASSWORD={v} npx")),
    ("docker-env", "args[3]", lambda v: _stdio(["run", "-i", "-e", f"GITHUB_TOKEN={v}", "ghcr.io/x/y"], "docker")),
    ("url-no-scheme-userinfo", "url", lambda v: {"type": "http", "url": f"admin:{v}@mcp.example.test/mcp"}),
    ("url-userinfo", "url", lambda v: {"type": "sse", "url": f"https://admin:{v}@mcp.example.test/sse"}),
    ("url-userinfo-ipv6", "url", lambda v: {"type": "http", "url": f"http://admin:{v}@[::1]:8080/mcp"}),
    ("url-token-query", "url", lambda v: {"type": "http", "url": f"https://mcp.example.test/mcp?token={v}"}),
    ("url-access-token", "url", lambda v: {"type": "http", "url": f"https://x.test/mcp?a=1&access_token={v}"}),
    ("url-sig", "url", lambda v: {"type": "http", "url": f"https://x.blob.example.test/c?sv=2024&sig={v}"}),
    ("url-code", "url", lambda v: {"type": "http", "url": f"https://fn.example.test/api/mcp?code={v}"}),
    ("url-fragment", "url", lambda v: {"type": "http", "url": f"https://x.test/mcp#access_token={v}"}),
    ("url-path-after-token", "url", lambda v: {"type": "http", "url": f"https://x.test/token/{v}7/mcp"}),
    (
        "slack-webhook",
        "url",
        lambda v: {"type": "http", "url": f"https://hooks.slack.com/services/T0A1B2C3D/B9Z8Y7X6W/{v}"},
    ),
    ("discord-webhook", "url", lambda v: {"type": "http", "url": f"https://discord.com/api/webhooks/1234567890/{v}"}),
    ("telegram-bot", "url", lambda v: {"type": "http", "url": f"https://api.telegram.org/bot123456789:{v}/getMe"}),
    ("ipv6-broken-query", "url", lambda v: {"type": "http", "url": f"http://[::1?api_key={v}"}),
    ("header-x-api-key", "args[1]", lambda v: _stdio(["-H", f"X-API-Key: {v}"])),
    ("header-basic", "args[1]", lambda v: _stdio(["--header", f"Authorization: Basic {v}"])),
    ("header-three-words", "args[3]", lambda v: _stdio(["--header", "Authorization:", "Bearer", v])),
    ("authorization-equals", "args[1]", lambda v: _stdio(["mcp-remote", f"Authorization=Bearer {v}"])),
    (
        "mcp-remote-command-line",
        "command",
        lambda v: _stdio(
            [], command=f'npx mcp-remote https://mcp.example.test/sse --header "Authorization: Bearer {v}"'
        ),
    ),
    ("curl-user", "args[1]", lambda v: _stdio(["-u", f"admin:{v}", "https://x.test"], "curl")),
    ("connection-string", "args[0]", lambda v: _stdio([f"Server=db;User Id=app;Password={v};"], "sqlcmd")),
    ("env-block-short", "env.TOKEN", lambda v: _stdio(["x"], env={"TOKEN": v})),
    (
        "header-block-short",
        "headers.Authorization",
        lambda v: {"type": "http", "url": "https://x.test/mcp", "headers": {"Authorization": f"Token {v}"}},
    ),
    (
        "cookie-header",
        "headers.Cookie",
        lambda v: {"type": "http", "url": "https://x.test/mcp", "headers": {"Cookie": f"session={v}"}},
    ),
)


def form_plantings(seed: int) -> Iterator[Planting]:
    fake = Fake(seed)
    for place, where, server in FORMS:
        value = fake.value(lambda f: "Qz7" + f.r(ALNUM, 7))  # ten characters: no shape gives it away
        yield Planting(
            shape="form", place=place, value=Value(value.text, (value.text,)), server=server(value.text), where=where
        )


def corpus(seed: int) -> list[Planting]:
    return [*shape_plantings(seed), *form_plantings(seed + 1)]


def every_third(plantings: list[Planting], offset: int) -> list[Planting]:
    """A third of the shapes' plantings and every form: each shape and each place is still in it."""
    order = {shape: i for i, shape in enumerate(dict.fromkeys(p.shape for p in plantings))}
    out, seen = [], dict.fromkeys(order, 0)
    for p in plantings:
        k = seen[p.shape]
        seen[p.shape] += 1
        if p.shape == "form" or (k + order[p.shape] + offset) % 3 == 0:
            out.append(p)
    return out


#: Ordinary servers: nothing in them is a credential, and nothing may be replaced.
ORDINARY: dict[str, dict[str, Any]] = {
    "ordinary-github": _stdio(["-y", "@modelcontextprotocol/server-github", "--port", "8080", "--verbose"]),
    "ordinary-files": _stdio(["-y", "@modelcontextprotocol/server-filesystem", "/Users/analyst/Documents", "./data"]),
    "ordinary-postgres": _stdio(["mcp-server-postgres", "postgresql://db.internal:5432/prod", "--read-only"], "uvx"),
    "ordinary-docker": _stdio(
        ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"], "docker"
    ),
    "ordinary-http": {"type": "http", "url": "https://mcp.example.test/v1/mcp?region=eu&workspace=acme"},
    "ordinary-keyfile": _stdio(["--key-file", "~/.ssh/id_ed25519", "--auth-type", "oauth", "--timeout=30"]),
    "ordinary-model": _stdio(["--model", "claude-3-5-sonnet-20241022", "--region", "us-east-1"], "uvx"),
    "ordinary-placeholders": _stdio(
        ["--token", "${GITHUB_TOKEN}", "--header", "Authorization: Bearer ${input:api-token}", "--key=$API_KEY"]
    ),
}


# ---------------------------------------------------------------------------
# Writing the sources the way a marketplace and a client hold them
# ---------------------------------------------------------------------------


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_marketplace(root: Path, plantings: list[Planting]) -> Path:
    """A marketplace whose servers sit in every place a plugin can declare them.

    Servers go, in turn, to a plugin's ``.mcp.json``, a ``plugin.json``'s inline ``mcpServers``, a
    marketplace entry's inline ``mcpServers`` and a servers file named by ``plugin.json``. A planted
    description becomes a plugin's description or a skill's.
    """
    homes: list[dict[str, dict[str, Any]]] = [{}, {}, {}, {}]
    descriptions: list[Planting] = []
    for i, p in enumerate(plantings):
        if p.place == "description":
            descriptions.append(p)
        else:
            homes[i % 4][p.name] = p.server
    homes[0].update(ORDINARY)
    _write_json(root / "dot-mcp" / ".mcp.json", {"mcpServers": homes[0]})
    _write_json(root / "dot-mcp" / ".claude-plugin" / "plugin.json", {"name": "dot-mcp", "version": "1.0.0"})
    _write_json(root / "inline" / ".claude-plugin" / "plugin.json", {"name": "inline", "mcpServers": homes[1]})
    _write_json(root / "by-file" / ".claude-plugin" / "plugin.json", {"name": "by-file", "mcpServers": "servers.json"})
    _write_json(root / "by-file" / "servers.json", {"mcpServers": homes[3]})
    entries: list[dict[str, Any]] = [
        {"name": "dot-mcp", "source": "./dot-mcp"},
        {"name": "inline", "source": "./inline"},
        {"name": "by-file", "source": "./by-file"},
        {"name": "entry-inline", "description": "Servers declared in the marketplace.", "mcpServers": homes[2]},
    ]
    for j, p in enumerate(descriptions):
        folder = root / "described" / f"p{j}"
        text = p.server["description"]
        if j % 2:
            _write_json(folder / ".claude-plugin" / "plugin.json", {"name": f"described-{j}", "description": text})
        else:
            _write_json(folder / ".claude-plugin" / "plugin.json", {"name": f"described-{j}"})
            skill = folder / "skills" / "setup" / "SKILL.md"
            skill.parent.mkdir(parents=True)
            skill.write_text(f"---\nname: setup\ndescription: {json.dumps(text)}\n---\n", encoding="utf-8")
        _write_json(folder / ".mcp.json", {"mcpServers": {f"described-{j}": _stdio(["x"])}})
        entries.append({"name": f"described-{j}", "source": f"./described/p{j}"})
    _write_json(root / ".claude-plugin" / "marketplace.json", {"name": "planted", "plugins": entries})
    return root


def write_client_configs(root: Path, plantings: list[Planting]) -> list[Path]:
    """The servers in a Claude Desktop config and a VS Code ``.vscode/mcp.json`` (JSON with comments)."""
    desktop = {p.name: p.server for p in plantings[::2] if p.place != "description"}
    vscode = {p.name: p.server for p in plantings[1::2] if p.place != "description"}
    _write_json(root / "claude_desktop_config.json", {"mcpServers": desktop})
    code = root / "project" / ".vscode" / "mcp.json"
    code.parent.mkdir(parents=True)
    code.write_text("// planted\n" + json.dumps({"servers": vscode}, indent=2)[:-1] + ",}\n", encoding="utf-8")
    return [root / "claude_desktop_config.json", code]


# ---------------------------------------------------------------------------
# Checking what was written
# ---------------------------------------------------------------------------


def written_text(out: Path) -> str:
    """Every file under ``out``, the draft, IMPORT-TODO.md and the import state and log alike."""
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.parent.name == ".blastradius-import" for p in files)
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def leaked(plantings: list[Planting], *texts: str) -> list[Planting]:
    """The plantings of which a random piece, as it is or URL-encoded, appears in any of ``texts``.

    A planted value is made of random pieces (and fixed prefixes); a value or any part of one ten
    characters long or more that reached an output shows one of its pieces. The texts are searched
    through the set of their distinct words, so that a thousand plantings do not scan megabytes each.
    """
    words = "\n".join(set(re.findall(r"[A-Za-z0-9+/=_%.~:-]{10,}", "\n".join(texts))))
    return [p for p in plantings if any(s in words for piece in p.value.pieces for s in (piece, quote(piece, safe="")))]


def check_log(out: Path, plantings: list[Planting], printed: str | None = None) -> int:
    """Every planted server is named in the log with the place of its credential; returns the total replaced."""
    log = json.loads((out / ".blastradius-import" / "log.json").read_text(encoding="utf-8"))
    entries = {e["subject"]: e for e in log["credentials"]}
    for p in plantings:
        if p.place == "description":
            continue
        entry = entries.get(f"server '{p.name}'")
        assert entry is not None, f"{p.place} of {p.shape}: not in the log"
        assert entry["count"] == len(entry["replaced"]) >= 1
        assert any(r["where"].startswith(p.where) for r in entry["replaced"]), (p.place, entry["replaced"])
        assert entry["message"].startswith(f"replaced {entry['count']} credential")
        assert all(r["placeholder"].startswith("${") for r in entry["replaced"])
    assert not [s for s in ORDINARY if f"server '{s}'" in entries], "an ordinary server had something replaced"
    total = sum(e["count"] for e in log["credentials"])
    if printed is not None:
        assert f"credentials        {total:,} replaced with placeholders" in printed
    return total


def check_placeholders(out: Path, plantings: list[Planting]) -> None:
    """Each planted server's record in connectors.yaml shows a placeholder where the value was."""
    blocks = (out / "connectors.yaml").read_text(encoding="utf-8").split("\n\n")
    by_id = {}
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("  - id: "):
                by_id[line.removeprefix("  - id: ").strip()] = block
    state = json.loads((out / ".blastradius-import" / "state.json").read_text(encoding="utf-8"))
    merged = {a: cid for cid, f in state["draft"]["facts"].items() for a in f.get("aliases", [])}  # one URL, one server
    for p in plantings:
        if p.place == "description":
            continue
        block = by_id[merged.get(p.name, draft_id(p.name))]
        assert "${" in block, (p.place, p.shape, block)


def report_counts(
    record_property: Callable[[str, object], None], plantings: list[Planting], leaks: list[Planting], message: str
) -> None:
    """Show the counts in the test output (the warnings summary, under pytest-xdist too) and record them."""
    warnings.warn(CorpusCounts(message), stacklevel=2)
    record_property("secrets_planted", len(plantings))
    record_property("secrets_caught", len(plantings) - len(leaks))


def count(plantings: list[Planting], leaks: list[Planting], what: str) -> str:
    return f"{what}: {len(plantings)} planted, {len(plantings) - len(leaks)} caught, {len(leaks)} reached an output"


# ---------------------------------------------------------------------------
# The corpus through the real imports
# ---------------------------------------------------------------------------


def test_the_corpus_is_large_and_every_value_has_its_shape() -> None:
    assert len(SHAPES) >= 50
    plantings = corpus(14)
    values = [p.value.text for p in plantings]
    assert len(set(values)) == len(values)  # a fresh value in every place
    assert corpus(14) == plantings  # the same corpus on every run
    assert {p.place for p in plantings} >= {
        "bare-arg",
        "flag",
        "flag-equals",
        "command-line",
        "env-prefix",
        "header-arg",
        "env-block",
        "headers-block",
        "url-userinfo",
        "url-query",
        "url-no-scheme",
        "url-in-args",
        "url-query-plain",
        "url-path",
        "description",
    }


def test_no_planted_secret_reaches_the_draft_the_state_or_the_log(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    plantings = corpus(14)
    market = write_marketplace(tmp_path / "market", plantings)
    out = tmp_path / "draft"
    report = import_sources("plugins", [market], out)
    printed = "\n".join(report_lines(report))
    leaks = leaked(plantings, written_text(out), printed, repr(report))
    message = count(plantings, leaks, "secrets corpus, plugins import")
    report_counts(record_property, plantings, leaks, message)
    assert not leaks, message + ": " + ", ".join(f"{p.shape} in {p.place}" for p in leaks)
    total = check_log(out, plantings, printed)
    assert total == report.credentials_replaced >= len(plantings) - sum(p.place == "description" for p in plantings)
    check_placeholders(out, plantings)
    text = (out / "connectors.yaml").read_text(encoding="utf-8")
    for name, server in ORDINARY.items():  # ordinary arguments are copied as they are
        if "command" in server:
            assert f"stdio server: {' '.join([server['command'], *server['args']])}" in text, name
    assert "http server: https://mcp.example.test/v1/mcp?region=eu&workspace=acme" in text
    assert "--token ${GITHUB_TOKEN} --header Authorization: Bearer ${input:api-token} --key=$API_KEY" in text
    load_inventory(out)  # the draft still loads


def test_the_command_line_prints_no_secret_and_says_how_many_were_replaced(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    from test_cli import run

    plantings = every_third(corpus(15), 0)
    market = write_marketplace(tmp_path / "market", plantings)
    out = tmp_path / "draft"
    result = run("import", "plugins", str(market), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    leaks = leaked(plantings, written_text(out), result.stdout, result.stderr)
    message = count(plantings, leaks, "secrets corpus, command line")
    report_counts(record_property, plantings, leaks, message)
    assert not leaks, message + ": " + ", ".join(f"{p.shape} in {p.place}" for p in leaks)
    check_log(out, plantings, result.stdout)
    assert "values not copied" in result.stdout
    checked = run("validate", str(out))
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_client_configs_and_tool_listings_are_scrubbed_too(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    plantings = every_third(corpus(16), 1)
    configs = write_client_configs(tmp_path / "clients", plantings)
    out = tmp_path / "draft"
    report = import_sources("mcp-config", configs, out)
    strong = [p for p in plantings if p.place == "description"]
    listing = tmp_path / "example-mcp.tools.json"
    _write_json(
        listing,
        {"tools": [{"name": f"tool_{i}", "description": p.server["description"]} for i, p in enumerate(strong)]},
    )
    merged = import_sources("mcp-tools", [listing], out, merge=True)
    printed = "\n".join(report_lines(report) + report_lines(merged))
    leaks = leaked(plantings, written_text(out), printed)
    message = count(plantings, leaks, "secrets corpus, client configs and a tool listing")
    report_counts(record_property, plantings, leaks, message)
    assert not leaks, message + ": " + ", ".join(f"{p.shape} in {p.place}" for p in leaks)
    check_log(out, plantings)
    assert merged.credentials_replaced == len(strong)
    assert "tool listing 'example-mcp'" in merged.credentials[0]
    load_inventory(out)


# ---------------------------------------------------------------------------
# Placeholders, names, the log
# ---------------------------------------------------------------------------


def test_placeholders_are_named_after_their_flag_or_variable_and_stay_consistent() -> None:
    s = Scrubber()
    args = s.args(["--api-key", "k1-abcdef", "--token", "k1-abcdef", "--pass", "other-1", "-k", "third-1"])
    assert args == ["--api-key", "${API_KEY}", "--token", "${API_KEY}", "--pass", "${PASS}", "-k", "${SECRET_1}"]
    assert s.command("API_TOKEN=x node server.js") == ["API_TOKEN=${API_TOKEN}", "node", "server.js"]
    assert s.env({"API_TOKEN": "y"}) == {"API_TOKEN": "${API_TOKEN_2}"}  # another value, another name
    assert [r.where for r in s.replacements] == [
        "args[1]",
        "args[3]",
        "args[5]",
        "args[7]",
        "command (word 1)",
        "env.API_TOKEN",
    ]


@pytest.mark.parametrize(
    "kept",
    ["${GITHUB_TOKEN}", "${input:gh-token}", "${env:API_KEY}", "$API_KEY", "Bearer ${TOKEN}", "%API_KEY%"],
)
def test_existing_placeholders_are_kept_as_they_are(kept: str) -> None:
    s = Scrubber()
    assert s.args(["--token", kept]) == ["--token", kept]
    assert s.env({"X": kept}) == {"X": kept}
    assert s.headers({"Authorization": kept}) == {"Authorization": kept}
    assert s.replacements == ()


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "8080", "--verbose", "-y"],
        ["@modelcontextprotocol/server-github", "@upstash/context7-mcp@latest", "mcp-server-fetch"],
        ["/Users/JaneSmith/Projects/Server2/dist/index.js", "./server.js", "C:\\Program Files\\nodejs\\node.exe"],
        [
            "https://mcp.example.test/v1/mcp",
            "https://mcp.example.test/sse?region=eu&workspace=acme",
            "mcp.example.test",
        ],
        ["postgresql://db.internal:5432/prod", "git@github.com:org/repo.git", "alice@example.test"],
        ["--key-file", "~/.ssh/id_ed25519", "--auth-type", "oauth", "--token-url", "https://auth.example.test/token"],
        ["--ssh-key", "~/.ssh/id_rsa", "--auth", "none", "--no-auth", "--client-id", "my-app"],
        ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server:v0.2.1"],
        ["mcp/postgres@sha256:3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e"],
        ["550e8400-e29b-41d4-a716-446655440000", "--model", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06"],
        ["LOG_LEVEL=debug", "PYTHONPATH=/opt/app/src", "TZ=Europe/Paris", "--timeout=30", "-p", "8080:80"],
        ["arn:aws:iam::123456789012:role/McpReadOnlyRole", "s3://my-bucket-2024/path/to/objects"],
        ["https://hooks.example.test/api/hooks/list", "node_modules/.bin/mcp-server-filesystem-with-a-long-name-2024"],
    ],
)
def test_ordinary_arguments_are_not_scrubbed(args: list[str]) -> None:
    assert scrub_args(args) == (args, ())


def test_free_text_is_scrubbed_by_shape_only() -> None:
    text = "Searches tickets by 3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e id; Bearer authentication; see https://x.test/docs."
    assert scrub_text(text, free=True) == (text, ())


def test_the_log_names_where_and_what_never_the_value(tmp_path: Path) -> None:
    plugin = tmp_path / "p"
    secret = "ghp_" + "Ab1" * 12
    _write_json(plugin / ".mcp.json", {"mcpServers": {"gh": _stdio(["--token", secret, "--port", "8080"])}})
    out = tmp_path / "d"
    report = import_sources("plugins", [plugin], out)
    [line] = report.credentials
    assert line.startswith("replaced 1 credential in server 'gh' (")
    assert line.endswith("mcpServers.gh) with placeholders: args[1] (value of --token → ${TOKEN})")
    log = json.loads((out / ".blastradius-import" / "log.json").read_text())
    assert log["credentials"][0]["replaced"] == [
        {"where": "args[1]", "what": "value of --token", "placeholder": "${TOKEN}"}
    ]
    # a second import merged in keeps the first one's entry, without counting it again
    listing = tmp_path / "gh.tools.json"
    _write_json(listing, {"tools": [{"name": "search", "annotations": {"readOnlyHint": True}}]})
    merged = import_sources("mcp-tools", [listing], out, merge=True)
    assert merged.credentials == () and merged.credentials_replaced == 0
    assert len(json.loads((out / ".blastradius-import" / "log.json").read_text())["credentials"]) == 1
    assert secret not in written_text(out)


def test_sources_hold_no_value_in_their_repr_or_their_errors(tmp_path: Path) -> None:
    secret = "sk-proj-" + "Zx9" * 16
    plugin = tmp_path / "p"
    _write_json(plugin / ".mcp.json", {"mcpServers": {"a": _stdio([secret], env={"K": secret})}})
    [found] = read_plugin_sources([plugin])
    assert secret not in repr(found) and secret not in str(found.servers[0].credentials)
    assert found.servers[0].command == ("npx", "${OPENAI_API_KEY}")
    _write_json(plugin / ".mcp.json", {"mcpServers": {"a": {"type": secret, "url": "https://x.test"}}})
    with pytest.raises(ImportSourceError, match=r"unknown server type '\$\{OPENAI_API_KEY\}'") as info:
        read_plugin_sources([plugin])
    assert secret not in str(info.value) and secret not in repr(info.value.problems)


# ---------------------------------------------------------------------------
# URLs that are not valid URLs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://[::1", "::1"),
        ("http://[::1]:8080/mcp", "::1"),
        ("https://[fe80::1%25eth0]/mcp", "fe80::1%25eth0"),
        ("http://[not-ipv6]/x", "not-ipv6"),
        ("https://x.test:notaport/mcp", "x.test"),
        ("http://", None),
        ("://x", None),
        ("[::1", None),
    ],
)
def test_invalid_urls_are_read_as_text(url: str, host: str | None) -> None:
    assert url_host(url) == host
    assert Scrubber().url(url) == url


def test_invalid_urls_are_imported_without_a_traceback(tmp_path: Path) -> None:
    from test_cli import run

    urls = [
        "http://[::1",
        "http://[::1]:99999/mcp",
        "https://x.test:notaport/sse",
        "http://[::1?token=Qz7abc1234",
        "http://[",
    ]
    plugin = tmp_path / "p"
    servers = {f"local-{i}": {"type": "http", "url": url} for i, url in enumerate(urls)}
    _write_json(plugin / ".mcp.json", {"mcpServers": servers})
    report = import_sources("plugins", [plugin], tmp_path / "lib")
    assert report.connectors == tuple(sorted(servers))
    result = run("import", "plugins", str(plugin), "--out", str(tmp_path / "cli"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "Qz7abc1234" not in written_text(tmp_path / "cli") + result.stdout
    text = (tmp_path / "cli" / "connectors.yaml").read_text()
    assert "# http server: http://[::1\n" in text and "# http server: http://[::1?token=${TOKEN}\n" in text
