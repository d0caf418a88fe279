"""Credentials in import sources, recognised by shape and by name and replaced with ``${…}`` placeholders.

Plugin folders and MCP client configs carry credentials in many places: the
arguments and command of a stdio server (``--token x``, ``-k x``,
``--header "Authorization: Bearer x"``, ``API_TOKEN=x node server.js``, a bare
``sk-…`` key), its URL (``user:pass@``, ``?api_key=``, a webhook or bot token in
the path), its ``env`` and ``headers`` blocks, and sometimes free text. A
:class:`Scrubber` rewrites each such string with every credential replaced by
a placeholder (``${GITHUB_TOKEN}``, ``${API_KEY}``, ``${SECRET_1}``) and keeps
a :class:`Replacement` for each: *where* it was and *what kind* of credential,
never the value. Placeholders already there (``${TOKEN}``, ``${input:id}``,
``$TOKEN``) are kept as they are.

What is recognised:

- by **shape**, anywhere: well-known key prefixes (``sk-``, ``sk-ant-``,
  ``ghp_``, ``github_pat_``, ``xoxb-``, ``AKIA``, ``AIza``, ``glpat-``,
  ``npm_``, ``hf_``, ``sk_live_`` …), JWTs, PEM private key blocks, bearer
  and basic credentials, passwords in URLs with or without a scheme;
- by **name**: flags (``--token``, ``--api-key``, ``-k``, ``--bearer``,
  ``--pass`` … in ``--flag value`` and ``--flag=value`` form), ``KEY=value``
  pairs and environment prefixes whose key suggests a secret, URL query
  parameters (``api_key``, ``access_token``, ``sig`` …), header arguments;
- by **place**: every literal value of an ``env`` or ``headers`` block, the
  path of a webhook URL, a Telegram ``/bot<token>/`` segment;
- long random-looking strings (hex of 32 characters or more, mixed-case
  base64 of 32 or more) in arguments and URLs, not in free text.

Nothing here raises: text that is not a valid URL (``http://[::1``) is read
as text and still scrubbed by shape.

Examples
--------
>>> s = Scrubber()
>>> s.args(["-y", "mcp-remote", "https://mcp.example.test/sse", "--header", "Authorization: Bearer abc123def456"])
['-y', 'mcp-remote', 'https://mcp.example.test/sse', '--header', 'Authorization: Bearer ${AUTHORIZATION}']
>>> s.url("https://admin:hunter2@db.example.test/mcp?api_key=k3y&region=eu")
'https://admin:${PASSWORD}@db.example.test/mcp?api_key=${API_KEY}&region=eu'
>>> [(r.where, r.what) for r in s.replacements]
[('args[4]', 'header Authorization'), ('url', 'URL password'), ('url', "URL query 'api_key'")]
>>> s.command("API_TOKEN=x node server.js --port 8080")
['API_TOKEN=${API_TOKEN}', 'node', 'server.js', '--port', '8080']
>>> s
Scrubber(4 replacements)
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Replacement",
    "Scrubber",
    "describe_replacements",
    "is_placeholder",
    "looks_random",
    "scrub_args",
    "scrub_text",
    "scrub_url",
    "secret_name",
    "split_command",
    "url_host",
]


@dataclass(frozen=True, kw_only=True)
class Replacement:
    """One credential replaced by a placeholder: where it was and what kind it was, never its value.

    Attributes
    ----------
    where : str
        Its place in the server (``args[3]``, ``command``, ``url``, ``env.GITHUB_TOKEN``, ``description``).
    what : str
        What it was recognised as (``value of --token``, ``GitHub token``, ``URL password``).
    placeholder : str
        What replaced it (``${GITHUB_TOKEN}``).
    """

    where: str
    what: str
    placeholder: str

    def describe(self) -> str:
        """``where (what → placeholder)``, for the import log.

        Examples
        --------
        >>> Replacement(where="args[3]", what="value of --token", placeholder="${TOKEN}").describe()
        'args[3] (value of --token → ${TOKEN})'
        """
        return f"{self.where} ({self.what} → {self.placeholder})"


def describe_replacements(replacements: Iterable[Replacement]) -> str:
    """The replacements in one line, for the import log: places and kinds, never values.

    Examples
    --------
    >>> describe_replacements([Replacement(where="url", what="URL password", placeholder="${PASSWORD}")])
    'url (URL password → ${PASSWORD})'
    """
    return ", ".join(r.describe() for r in replacements)


# ---------------------------------------------------------------------------
# Placeholders and names
# ---------------------------------------------------------------------------

#: ``${NAME}``, ``${input:id}``, ``${env:NAME}`` … anywhere in a string.
_BRACED = re.compile(r"\$\{[^{}\s]*\}")
#: A whole value that is a reference and no secret: ``$NAME``, ``%NAME%``, ``{{ name }}``.
_REFERENCE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^{}]*\}\}")
_SCHEMES = ("bearer", "basic", "token", "digest", "negotiate", "apikey", "api-key", "key", "oauth", "sso-key")


def is_placeholder(value: str) -> bool:
    """True when ``value`` holds no literal secret: only placeholders, references, a scheme word and punctuation.

    Examples
    --------
    >>> is_placeholder("${GITHUB_TOKEN}"), is_placeholder("Bearer ${input:gh-token}"), is_placeholder("$TOKEN")
    (True, True, True)
    >>> is_placeholder("abc${X}"), is_placeholder("pa$word"), is_placeholder("Bearer"), is_placeholder("")
    (False, False, False, True)
    """
    value = value.strip()
    if not re.search(r"[A-Za-z0-9]", value) or _REFERENCE.fullmatch(value):
        return True
    if not _BRACED.search(value):
        return False
    rest = _BRACED.sub(" ", value).split()
    if rest and rest[0].lower() in _SCHEMES:
        rest = rest[1:]
    return not re.search(r"[A-Za-z0-9]", " ".join(rest))


def _name_from(hint: str) -> str:
    """An environment-variable name from a flag, key or header name (``--api-key`` -> ``API_KEY``)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", hint)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    if len(text) < 2:
        return ""
    return text if not text[0].isdigit() else f"SECRET_{text}"


_SECRET_WORDS = frozenset(
    (
        "token tokens secret secrets password passwd pass passphrase pwd pw key apikey auth authorization "
        "bearer credential credentials cred creds cookie session signature sig jwt otp dsn hmac salt "
    ).split()
)
#: Joined spellings with no separator (``apiKey`` is split, ``apikey`` is not).
_SECRET_JOINED = re.compile(
    r"(api|access|auth|secret|private|client|refresh|session|bot|app|master|license|signing|encryption)"
    r"(key|token|secret)s?$|^(hapikey|privatetoken|accesstoken|authtoken|clientsecret|sessionid)$"
)
#: A word that makes a secret-sounding name about something else (``--key-file``, ``--auth-type``, ``--token-url``).
_BENIGN_WORDS = frozenset(
    (
        "file path dir directory folder url uri endpoint type method mode scheme provider host server port "
        "timeout ttl expiry expires expiration name id header env var variable length size format algorithm "
        "alg prefix store storage helper cmd command location region issuer audience scope scopes flow "
        "strategy kind source field policy required enable enabled disable disabled no skip insecure optional "
        "public pub max min count limit rotation interval version level cache backend hint label ref arn "
        "manager "
    ).split()
)
#: Flag values that are settings, not secrets (``--auth none``).
_NOT_SECRET_VALUES = frozenset({"none", "true", "false", "on", "off", "yes", "no", "0", "1", "oauth", "env", "auto"})
_QUERY_SECRET_KEYS = frozenset({"code", "sig", "signature", "key", "hapikey", "auth", "pass", "pw"})
_SHORT_SECRET_FLAGS = frozenset({"-k"})
_HEADER_FLAGS = frozenset({"-H", "--header", "--headers", "-header", "--http-header", "--extra-header"})
_USER_FLAGS = frozenset({"-u", "--user", "--basic-auth", "--userpass", "--user-pass"})


def _words(name: str) -> list[str]:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.lstrip("-"))
    return [w for w in re.split(r"[^A-Za-z0-9]+", text.lower()) if w]


def secret_name(name: str) -> bool:
    """A flag, key, header or variable name that says its value is a secret.

    Examples
    --------
    >>> [secret_name(n) for n in ("--token", "apiKey", "X-API-Key", "client_secret", "-k", "DB_PASSWORD")]
    [True, True, True, True, True, True]
    >>> [secret_name(n) for n in ("--port", "--key-file", "--auth-type", "--token-url", "--keyboard", "--client-id")]
    [False, False, False, False, False, False]
    """
    if name in _SHORT_SECRET_FLAGS:
        return True
    words = _words(name)
    if not words or any(w in _BENIGN_WORDS for w in words):
        return False
    return any(w in _SECRET_WORDS for w in words) or bool(_SECRET_JOINED.search("".join(words)))


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------

_B = r"(?<![A-Za-z0-9])"  # start of a token: no letter or digit before it
_E = r"(?![A-Za-z0-9])"
#: (what, placeholder name, pattern): credentials recognisable by their shape alone.
_SHAPES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (what, name, re.compile(pattern))
    for what, name, pattern in (
        (
            "PEM private key",
            "PRIVATE_KEY",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        ),
        ("JWT", "JWT", _B + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
        ("Anthropic API key", "ANTHROPIC_API_KEY", _B + r"sk-ant-[A-Za-z0-9_-]{20,}"),
        ("Stripe secret key", "STRIPE_SECRET_KEY", _B + r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("Stripe webhook secret", "STRIPE_WEBHOOK_SECRET", _B + r"whsec_[A-Za-z0-9]{20,}"),
        (
            "OpenAI-style secret key",
            "OPENAI_API_KEY",
            _B + r"sk-(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z]{2})[A-Za-z0-9_-]{20,}",
        ),
        ("GitHub token", "GITHUB_TOKEN", _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        (
            "Slack token",
            "SLACK_TOKEN",
            _B + r"(?:xox[abposre](?:\.xox[bp])?-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})",
        ),
        ("AWS access key", "AWS_ACCESS_KEY_ID", _B + r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}" + _E),
        ("Google API key", "GOOGLE_API_KEY", _B + r"AIza[0-9A-Za-z_-]{35}"),
        ("Google OAuth secret", "GOOGLE_CLIENT_SECRET", _B + r"GOCSPX-[A-Za-z0-9_-]{20,}"),
        ("Google OAuth token", "GOOGLE_ACCESS_TOKEN", _B + r"ya29\.[A-Za-z0-9_-]{20,}"),
        ("GitLab token", "GITLAB_TOKEN", _B + r"gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt|agent|oas)-[A-Za-z0-9_-]{20,}"),
        ("npm token", "NPM_TOKEN", _B + r"npm_[A-Za-z0-9]{30,}"),
        ("Hugging Face token", "HF_TOKEN", _B + r"hf_[A-Za-z0-9]{30,}"),
        ("PyPI token", "PYPI_TOKEN", _B + r"pypi-AgE[A-Za-z0-9_-]{40,}"),
        ("SendGrid key", "SENDGRID_API_KEY", _B + r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
        ("Twilio key", "TWILIO_API_KEY", _B + r"SK[0-9a-fA-F]{32}" + _E),
        ("Mailgun key", "MAILGUN_API_KEY", _B + r"key-[0-9a-f]{32}" + _E),
        ("Shopify token", "SHOPIFY_TOKEN", _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
        ("Atlassian token", "ATLASSIAN_API_TOKEN", _B + r"ATATT3[A-Za-z0-9_=-]{40,}"),
        ("Linear key", "LINEAR_API_KEY", _B + r"lin_(?:api|oauth)_[A-Za-z0-9]{30,}"),
        ("Notion token", "NOTION_TOKEN", _B + r"(?:secret_[A-Za-z0-9]{40,}|ntn_[A-Za-z0-9]{40,})"),
        ("Databricks token", "DATABRICKS_TOKEN", _B + r"dapi[0-9a-f]{32}"),
        ("DigitalOcean token", "DIGITALOCEAN_TOKEN", _B + r"do[opr]_v1_[a-f0-9]{64}"),
        ("Doppler token", "DOPPLER_TOKEN", _B + r"dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{30,}"),
        ("Postman key", "POSTMAN_API_KEY", _B + r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
        ("Grafana token", "GRAFANA_TOKEN", _B + r"(?:glc_[A-Za-z0-9+/=]{32,}|glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8})"),
        ("Supabase token", "SUPABASE_TOKEN", _B + r"sbp_[a-f0-9]{40}"),
        ("Sentry token", "SENTRY_AUTH_TOKEN", _B + r"sntry[su]_[A-Za-z0-9+/=_-]{30,}"),
        ("Vault token", "VAULT_TOKEN", _B + r"hv[sbr]\.[A-Za-z0-9_-]{24,}"),
        ("Terraform token", "TF_TOKEN", _B + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}"),
        ("Groq key", "GROQ_API_KEY", _B + r"gsk_[A-Za-z0-9]{40,}"),
        ("Replicate token", "REPLICATE_API_TOKEN", _B + r"r8_[A-Za-z0-9]{30,}"),
        ("Perplexity key", "PERPLEXITY_API_KEY", _B + r"pplx-[A-Za-z0-9]{40,}"),
        ("Tavily key", "TAVILY_API_KEY", _B + r"tvly-[A-Za-z0-9-]{20,}"),
        ("Mailchimp key", "MAILCHIMP_API_KEY", _B + r"[0-9a-f]{32}-us\d{1,2}" + _E),
        ("Airtable token", "AIRTABLE_TOKEN", _B + r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
        ("Figma token", "FIGMA_TOKEN", _B + r"fig[dr]_[A-Za-z0-9_-]{30,}"),
        ("age secret key", "AGE_SECRET_KEY", _B + r"AGE-SECRET-KEY-1[0-9A-Z]{50,}"),
        ("Telegram bot token", "TELEGRAM_BOT_TOKEN", _B + r"\d{8,10}:AA[A-Za-z0-9_-]{30,}"),
        ("Discord bot token", "DISCORD_TOKEN", _B + r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"),
    )
)
#: Any of the shapes after the PEM block: one scan tells whether the others need running.
_ANY_SHAPE = re.compile("|".join(f"(?:{pattern.pattern})" for _, _, pattern in _SHAPES[1:]))
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=:-]{8,})")
_KEY_VALUE = re.compile(r"""(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]*)(=)("[^"]*"|'[^']*'|[^\s;&,"']+)""")
_SCHEME_URL = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
#: ``user:pass@host`` with no scheme (``admin:hunter2@db.internal/prod``).
_BARE_USERINFO = re.compile(
    r"(?<![A-Za-z0-9._%+~/@:-])([A-Za-z0-9._%+~-]+):([^\s@/:?#\"']+)@"
    r"(\[[0-9A-Fa-f:.]*\]?|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|localhost)"
)
_RANDOM_RUN = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_HEX_RUN = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_DIGEST_BEFORE = re.compile(r"(?:sha\d*|md5|blake2b?)[:=-]$|[#@]$", re.IGNORECASE)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _lower_pairs(text: str) -> float:
    """Of the lower-case letters, the share followed by another: about 0.4 in random base64, 0.8 in words."""
    lows = [i for i, c in enumerate(text[:-1]) if c.islower()]
    return sum(text[i + 1].islower() for i in lows) / len(lows) if lows else 0.0


def looks_random(text: str, *, min_length: int = 32) -> bool:
    """A long string that reads as a key rather than a word, a path or a package name.

    Hex of 32 characters or more; or, from ``min_length`` on, digits with mixed-case
    letters (lower-case letters and digits from 40 characters), spread evenly (entropy),
    without the long runs of lower-case letters that words have, and not a path of
    short word-like parts.

    Examples
    --------
    >>> looks_random("3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e")
    True
    >>> looks_random("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8aL2mN4p")
    True
    >>> looks_random("@modelcontextprotocol/server-github"), looks_random("/Users/JaneSmith/Projects/Server2/dist")
    (False, False)
    """
    if len(text) < min_length:
        return False
    digits = sum(c.isdigit() for c in text)
    has_upper = any(c.isupper() for c in text)
    has_lower = any(c.islower() for c in text)
    if len(text) >= 32 and re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", text) and digits and (has_lower or has_upper):
        return True
    if _entropy(text) < (3.6 if len(text) < 32 else 3.9):
        return False
    switches = _class_switches(text)
    if not (has_upper and has_lower):  # one case and digits (base36, base32): digits all through it
        return len(text) >= 32 and digits / len(text) >= 0.15 and switches >= 0.15
    pairs = _lower_pairs(text)
    parts = [p for p in re.split(r"[/._-]", text) if p]
    if len(parts) >= 4 and max(map(len, parts)) <= 16 and pairs >= 0.6:  # a path or a long package name
        return False
    if not digits and (len(text) < 32 or pairs >= 0.7):
        return False
    return pairs < (0.85 if len(text) < 32 else 0.8) or switches >= 0.38


def _class_switches(text: str) -> float:
    """Of neighbouring letters and digits, the share that change class (lower, upper, digit): 0.6 when random."""
    kinds = ["u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "" for c in text]
    pairs = [(a, b) for a, b in itertools.pairwise(kinds) if a and b]
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else 0.0


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------

_URL_PARTS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<authority>[^/?#]*)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)


def url_host(url: str | None) -> str | None:
    """The host of a URL, lower-case, or None; never raises, even on ``http://[::1``.

    Examples
    --------
    >>> url_host("https://user:${PASSWORD}@MCP.Example.test:8443/mcp?x=1")
    'mcp.example.test'
    >>> url_host("http://[::1"), url_host("http://[::1]:8080/mcp"), url_host("")
    ('::1', '::1', None)
    """
    if not url:
        return None
    m = _URL_PARTS.fullmatch(url.strip())
    if m is None or not m.group("scheme"):
        return None
    host = m.group("authority").rpartition("@")[2]
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    else:
        host = host.partition(":")[0]
    return host.lower() or None


# ---------------------------------------------------------------------------
# The scrubber
# ---------------------------------------------------------------------------


def split_command(command: str) -> list[str]:
    """The words of a command line, as a shell reads quotes (backslashes kept: Windows paths); never raises.

    Examples
    --------
    >>> split_command('npx -y mcp-remote https://x.test/sse --header "Authorization: Bearer ${T}"')
    ['npx', '-y', 'mcp-remote', 'https://x.test/sse', '--header', 'Authorization: Bearer ${T}']
    >>> split_command(r'C:\\Tools\\server.exe --flag "unclosed')
    ['C:\\\\Tools\\\\server.exe', '--flag', '"unclosed']
    """
    lexer = shlex.shlex(command, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: words as they stand
        return command.split()


_FLAG = re.compile(r"(--?[A-Za-z][A-Za-z0-9_.-]*)(?:(=)(.*))?", re.DOTALL)
_HEADER = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*([:=])\s*(.*)", re.DOTALL)


class Scrubber:
    """Replaces the credentials of one server (or one file's free text) with placeholders.

    One scrubber per server keeps its placeholders consistent: the same value
    gets the same placeholder wherever it appears, two values never share one.
    It remembers values only as hashes, so no value is kept past the call that
    replaced it; :attr:`replacements` says where each was and what kind it was.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # sha-256 of a value -> its placeholder name
        self._taken: set[str] = set()
        self._replacements: list[Replacement] = []
        self._generic = 0

    def __repr__(self) -> str:
        return f"Scrubber({len(self._replacements)} replacements)"

    @property
    def replacements(self) -> tuple[Replacement, ...]:
        """Every replacement made so far, in order."""
        return tuple(self._replacements)

    # -- placeholders ---------------------------------------------------------

    def _placeholder(self, value: str, name: str, where: str, what: str) -> str:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        if digest not in self._names:
            base = _name_from(name)
            if not base:
                self._generic += 1
                base = f"SECRET_{self._generic}"
                while base in self._taken:
                    self._generic += 1
                    base = f"SECRET_{self._generic}"
            chosen, n = base, 1
            while chosen in self._taken:
                n += 1
                chosen = f"{base}_{n}"
            self._taken.add(chosen)
            self._names[digest] = chosen
        placeholder = "${" + self._names[digest] + "}"
        self._replacements.append(Replacement(where=where, what=what, placeholder=placeholder))
        return placeholder

    def _sub(self, pattern: re.Pattern[str], text: str, replace: Callable[[re.Match[str]], str | None]) -> str:
        """``pattern.sub`` that skips matches overlapping a placeholder; ``replace`` returns None to keep a match."""
        out, last = [], 0
        kept = [p.span() for p in _BRACED.finditer(text)] if pattern is not _KEY_VALUE else []
        ends = [end for _, end in kept]
        for m in pattern.finditer(text):
            i = bisect.bisect_right(ends, m.start())  # the first placeholder ending after the match starts
            if i < len(kept) and kept[i][0] < m.end():
                continue
            new = replace(m)
            if new is None:
                continue
            out.append(text[last : m.start()])
            out.append(new)
            last = m.end()
        out.append(text[last:])
        return "".join(out)

    def _secret_value(self, value: str, name: str, where: str, what: str) -> str:
        """``value`` replaced whole (a value a name says is secret), unless it is a placeholder or a setting."""
        if is_placeholder(value) or value.strip().lower() in _NOT_SECRET_VALUES:
            return value
        quote = value[0] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else ""
        inner = value[1:-1] if quote else value
        return quote + self._placeholder(inner, name, where, what) + quote

    def _header_value(self, name: str, value: str, where: str) -> str:
        """A header's value with its credential replaced; the scheme word (``Bearer``) is kept."""
        if is_placeholder(value):
            return value
        scheme, space, rest = value.strip().partition(" ")
        if space and scheme.lower() in _SCHEMES and rest.strip():
            if is_placeholder(rest):
                return value
            return f"{scheme} {self._placeholder(rest.strip(), name, where, f'header {name}')}"
        return self._placeholder(value.strip(), name, where, f"header {name}")

    # -- strings --------------------------------------------------------------

    def text(self, text: str, *, where: str, free: bool = False) -> str:
        """``text`` with every credential found in it replaced.

        Parameters
        ----------
        text : str
        where : str
            Its place, for the :class:`Replacement` records (``args[2]``, ``description``).
        free : bool
            Free text (a description): only what is recognisable by its shape or a
            secret-named ``KEY=value``; no long-random-string guess, which prose and
            sample data would trip.

        Examples
        --------
        >>> Scrubber().text("Server=db;User Id=app;Password=s3cret;", where="env.CONN")
        'Server=db;User Id=app;Password=${PASSWORD};'
        >>> Scrubber().text(
        ...     "Use the key sk-proj-4fJ9kLm2Qx7Rt8Vw1Yz3Ab5Cd6Ef0Gh to call it.", where="description", free=True
        ... )
        'Use the key ${OPENAI_API_KEY} to call it.'
        """
        if len(text) < 8 and "=" not in text:  # too short for any shape
            return text
        pem_what, pem_name, pem = _SHAPES[0]
        text = self._sub(pem, text, lambda m: self._placeholder(m.group(0), pem_name, where, pem_what))
        out, last = [], 0
        for m in _SCHEME_URL.finditer(text):  # URLs part by part; the rest by shape and pairing
            out.append(self._plain(text[last : m.start()], where, free=free))
            out.append(self._url_match(m, where, free=free))
            last = m.end()
        out.append(self._plain(text[last:], where, free=free))
        return "".join(out)

    def _plain(self, text: str, where: str, *, free: bool) -> str:
        """Text with no URL with a scheme in it: ``user:pass@host``, bearer credentials, pairs, shapes."""
        if not text:
            return text
        text = self._sub(_BARE_USERINFO, text, lambda m: self._bare_userinfo(m, where))
        text = self._sub(_BEARER, text, lambda m: self._bearer(m, where))
        text = self._sub(_KEY_VALUE, text, lambda m: self._pair(m, where))
        if _ANY_SHAPE.search(text):
            for what, name, pattern in _SHAPES[1:]:
                text = self._sub(pattern, text, functools.partial(self._shape, where=where, what=what, name=name))
        if not free:
            for run in (_RANDOM_RUN, _HEX_RUN):  # a hex key inside a longer word too (``<hex>-us21``)
                text = self._sub(run, text, lambda m: self._random(m, where))
        return text

    def _bare_userinfo(self, m: re.Match[str], where: str) -> str | None:
        if is_placeholder(m.group(2)):
            return None
        return f"{m.group(1)}:{self._placeholder(m.group(2), 'PASSWORD', where, 'URL password')}@{m.group(3)}"

    def _bearer(self, m: re.Match[str], where: str) -> str | None:
        if not _credential_like(m.group(3)):
            return None
        return m.group(1) + m.group(2) + self._placeholder(m.group(3), "TOKEN", where, f"{m.group(1)} credential")

    def _pair(self, m: re.Match[str], where: str) -> str | None:
        key, eq, value = m.group(1), m.group(2), m.group(3)
        if not secret_name(key) or is_placeholder(value):
            return None
        return key + eq + self._secret_value(value, key, where, f"value of {key}")

    def _shape(self, m: re.Match[str], *, where: str, what: str, name: str) -> str:
        return self._placeholder(m.group(0), name, where, what)

    def _random(self, m: re.Match[str], where: str) -> str | None:
        if not looks_random(m.group(0)) or _DIGEST_BEFORE.search(m.string[: m.start()]):
            return None
        return self._placeholder(m.group(0), "", where, "long random-looking string")

    def _url_match(self, m: re.Match[str], where: str, *, free: bool) -> str:
        url = m.group(0)
        trail = ""
        if free:  # prose: a URL does not end with the sentence's full stop or bracket
            stripped = url.rstrip(".,;:!?)]}")
            url, trail = stripped, url[len(stripped) :]
        return self.url(url, where=where) + trail

    def url(self, url: str, *, where: str = "url") -> str:
        """A URL (with or without a scheme, valid or not) with its credentials replaced.

        The password of ``user:pass@``, a user name that is a token, secret-named
        or secret-shaped query and fragment parameters, webhook paths, bot tokens
        and random-looking path segments. The host is kept.

        Examples
        --------
        >>> s = Scrubber()
        >>> s.url("https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/AbCdEfGhIjKlMnOpQrStUvWx")
        'https://hooks.slack.com/services/${WEBHOOK_SECRET}'
        >>> s.url("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage")
        'https://api.telegram.org/bot${TELEGRAM_BOT_TOKEN}/sendMessage'
        >>> s.url("http://[::1")
        'http://[::1'
        """
        m = _URL_PARTS.fullmatch(url)
        if m is None:  # pragma: no cover - the pattern matches every string
            return self.text(url, where=where)
        scheme = m.group("scheme") or ""
        authority = m.group("authority")
        userinfo, at, hostport = authority.rpartition("@")
        if at and userinfo:
            user, colon, password = userinfo.partition(":")
            if colon and password and not is_placeholder(password):
                password = self._placeholder(password, "PASSWORD", where, "URL password")
            if user and not is_placeholder(user) and _token_user(user, scheme=bool(scheme), has_password=bool(colon)):
                user = self._placeholder(user, "URL_TOKEN" if not colon else "URL_USER", where, "URL user token")
            elif user:
                user = self.text(user, where=where) if colon else user
            authority = f"{user}{colon}{password}@{hostport}"
        path = self._url_path(m.group("path"), hostport.lower(), where)
        out = scheme + authority + path
        if m.group("query") is not None:
            out += "?" + self._url_params(m.group("query"), where, "query")
        if m.group("fragment") is not None:
            fragment = m.group("fragment")
            out += "#" + (
                self._url_params(fragment, where, "fragment") if "=" in fragment else self._segment(fragment, where)
            )
        return out

    def _url_path(self, path: str, host: str, where: str) -> str:
        segments = path.split("/")
        marker = None
        for i, seg in enumerate(segments):
            low = seg.lower()
            if (host.startswith("hooks.slack.com") and low == "services") or low in (
                "webhook",
                "webhooks",
                "hooks",
                "hook",
                "incomingwebhook",
            ):
                marker = i
                break
        if marker is not None:
            tail = segments[marker + 1 :]
            while tail and tail[0] and not _secretish_segment(tail[0]):  # e.g. zapier's hooks/catch/…
                marker += 1
                tail = tail[1:]
            end = len(tail)
            while end and not _secretish_segment(tail[end - 1]):
                end -= 1
            run = "/".join(tail[:end])
            if end and not is_placeholder(run):
                secret = self._placeholder(run, "WEBHOOK_SECRET", where, "webhook URL path")
                segments = [*segments[: marker + 1], secret, *tail[end:]]
        out = []
        for i, seg in enumerate(segments):
            if "${" in seg and is_placeholder(seg):
                out.append(seg)
                continue
            bot = re.fullmatch(r"bot(\d{5,}:[A-Za-z0-9_-]{20,})", seg)
            if bot:
                out.append(
                    "bot" + self._placeholder(bot.group(1), "TELEGRAM_BOT_TOKEN", where, "bot token in URL path")
                )
                continue
            before = segments[i - 1].lower() if i else ""
            if before and secret_name(before) and len(seg) >= 8 and re.search(r"\d", seg):
                out.append(self._placeholder(seg, _name_from(before), where, f"URL path after '{segments[i - 1]}'"))
                continue
            out.append(self._segment(seg, where))
        return "/".join(out)

    def _segment(self, seg: str, where: str) -> str:
        """A piece of a URL: shapes, then a random-looking whole (20 characters and up, mixed case and digits)."""
        new = self.text(seg, where=where)
        if new == seg and looks_random(seg, min_length=20) and not is_placeholder(seg):
            new = self._placeholder(seg, "", where, "random-looking string in URL")
        return new

    def _url_params(self, query: str, where: str, part: str) -> str:
        out = []
        for param in query.split("&"):
            key, eq, value = param.partition("=")
            if not eq:
                out.append(self._segment(param, where))
            elif value and not is_placeholder(value) and (secret_name(key) or key.lower() in _QUERY_SECRET_KEYS):
                out.append(f"{key}={self._placeholder(value, key, where, f'URL {part} {key!r}')}")
            else:
                out.append(f"{key}={self._segment(value, where)}")
        return "&".join(out)

    # -- commands and arguments ------------------------------------------------

    def args(self, args: Sequence[str], *, where: str = "args", labels: Sequence[str] | None = None) -> list[str]:
        """Arguments of a command with every credential replaced, by flag, by pairing and by shape.

        Parameters
        ----------
        args : sequence of str
        where : str
            The key of the list (``args``); each replacement names ``where[i]``.
        labels : sequence of str, optional
            The place of each argument, when they do not all come from one list.

        Examples
        --------
        >>> Scrubber().args(["--api-key", "k-123", "--pass=hunter2", "-k", "abc", "--port", "8080", "--verbose"])
        ['--api-key', '${API_KEY}', '--pass=${PASS}', '-k', '${SECRET_1}', '--port', '8080', '--verbose']
        """
        labels = list(labels) if labels is not None else [f"{where}[{i}]" for i in range(len(args))]
        out: list[str] = []
        pending: tuple[str, str] | None = None  # (kind, flag) of the flag that owns the next word
        for arg, label in zip(args, labels, strict=True):
            arg = str(arg)
            flag = _FLAG.fullmatch(arg)
            if pending is not None and (flag is None or pending[0] == "header"):
                kind, name = pending
                pending = None
                if kind == "scheme" and arg.lower() in _SCHEMES:  # Authorization: Bearer <token>, in three words
                    out.append(arg)
                    pending = ("bearer", arg)
                    continue
                out.append(self._owned(kind, name, arg, label))
                continue
            pending = None
            if flag is not None:
                name, eq, value = flag.group(1), flag.group(2), flag.group(3)
                kind = (
                    "header"
                    if name in _HEADER_FLAGS
                    else "user"
                    if name in _USER_FLAGS
                    else "secret"
                    if secret_name(name)
                    else ""
                )
                if eq:
                    out.append(f"{name}={self._owned(kind, name, value, label)}" if kind else self._value(arg, label))
                else:
                    out.append(arg)
                    pending = (kind, name) if kind else None
                continue
            if arg.lower() in ("bearer", "basic"):
                out.append(arg)
                pending = ("bearer", arg)
                continue
            header = re.fullmatch(r"(authorization|proxy-authorization|cookie|x-api-key):", arg, re.IGNORECASE)
            if header:
                out.append(arg)
                pending = ("scheme", header.group(1))
                continue
            out.append(self._value(arg, label))
        return out

    def _owned(self, kind: str, flag: str, value: str, label: str) -> str:
        """The value of a flag that says what it holds."""
        if kind == "header":
            m = _HEADER.fullmatch(value)
            if m and m.group(3):
                return f"{m.group(1)}{value[m.end(1) : m.start(3)]}{self._header_value(m.group(1), m.group(3), label)}"
            return self._value(value, label)
        if kind == "user":
            user, colon, password = value.partition(":")
            if colon and password and not is_placeholder(password):
                return f"{user}:{self._placeholder(password, 'PASSWORD', label, f'password of {flag}')}"
            return self._value(value, label)
        if kind == "bearer":
            return self._secret_value(value, "TOKEN", label, f"{flag} credential")
        if kind == "scheme":
            return self._secret_value(value, flag, label, f"header {flag}")
        if _looks_like_path(value):  # --ssh-key ~/.ssh/id_ed25519: where the secret is, not the secret
            return self._value(value, label)
        return self._secret_value(value, flag, label, f"value of {flag}")

    def _value(self, arg: str, label: str) -> str:
        """An argument no flag explains: a header-like ``Name: value``, else shapes, URLs and pairs."""
        m = _HEADER.fullmatch(arg)
        if m and m.group(2) == ":" and m.group(3) and not m.group(3).startswith("//") and secret_name(m.group(1)):
            return f"{m.group(1)}{arg[m.end(1) : m.start(3)]}{self._header_value(m.group(1), m.group(3), label)}"
        return self.text(arg, where=label)

    def command(self, command: str, args: Sequence[str] = (), *, where: str = "command") -> list[str]:
        """A stdio server's command (one word or a whole command line) and arguments, as scrubbed words.

        ``API_TOKEN=x node server.js`` keeps the variable's name and loses its value; a
        flag in the command string owns a value in ``args`` as it would on a command line.

        Examples
        --------
        >>> Scrubber().command("env GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123 npx", ["-y", "server-github"])
        ['env', 'GITHUB_TOKEN=${GITHUB_TOKEN}', 'npx', '-y', 'server-github']
        """
        pem_what, pem_name, pem = _SHAPES[0]
        command = self._sub(pem, command, lambda m: self._placeholder(m.group(0), pem_name, where, pem_what))
        words = split_command(command) if re.search(r"\s", command.strip()) else [command]
        labels = [where if len(words) == 1 else f"{where} (word {i + 1})" for i in range(len(words))]
        labels += [f"args[{i}]" for i in range(len(args))]
        return self.args([*words, *map(str, args)], labels=labels)

    def env(self, values: Mapping[str, Any], *, where: str = "env") -> dict[str, str]:
        """An ``env`` block: every literal value becomes ``${NAME}``; placeholders are kept.

        Examples
        --------
        >>> Scrubber().env({"GITHUB_TOKEN": "ghp_x", "LOG_LEVEL": "debug", "DB": "${DATABASE_URL}"})
        {'GITHUB_TOKEN': '${GITHUB_TOKEN}', 'LOG_LEVEL': '${LOG_LEVEL}', 'DB': '${DATABASE_URL}'}
        """
        out = {}
        for name, raw in values.items():
            value = "" if raw is None else str(raw)
            key = str(name)
            if not value or is_placeholder(value):
                out[key] = value
            else:
                out[key] = self._placeholder(value, key, f"{where}.{key}", "env value")
        return out

    def headers(self, values: Mapping[str, Any], *, where: str = "headers") -> dict[str, str]:
        """A ``headers`` block: every literal value becomes a placeholder; the scheme (``Bearer``) is kept.

        Examples
        --------
        >>> Scrubber().headers({"Authorization": "Bearer abc123", "X-Tenant": "contoso", "X-Key": "${input:key}"})
        {'Authorization': 'Bearer ${AUTHORIZATION}', 'X-Tenant': '${X_TENANT}', 'X-Key': '${input:key}'}
        """
        out = {}
        for name, raw in values.items():
            value = "" if raw is None else str(raw)
            key = str(name)
            out[key] = value if not value else self._header_value(key, value, f"{where}.{key}")
        return out


def _credential_like(value: str) -> bool:
    """After ``Bearer``/``Basic`` in text: a credential, not a word (``Bearer authentication``)."""
    if is_placeholder(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return has_digit or mixed or "=" in value or len(value) >= 20


def _token_user(user: str, *, scheme: bool, has_password: bool) -> bool:
    """A URL's user name that is itself a token (``https://ghp_…@github.com``, a Sentry key)."""
    if any(p.fullmatch(user) for _, _, p in _SHAPES[1:]) or looks_random(user):
        return True
    return scheme and not has_password and len(user) >= 16 and bool(re.search(r"\d", user)) and "." not in user


def _looks_like_path(value: str) -> bool:
    """A file path (``~/.ssh/id_rsa``, ``./keys/app.pem``, ``C:\\keys\\app.pem``), not a random string."""
    if not re.fullmatch(r"(?:~|\.{1,2})?/[\w.~/-]+|[A-Za-z]:\\[\w.\\ -]+", value):
        return False
    return not any(looks_random(part, min_length=20) for part in re.split(r"[/\\]", value))


def _secretish_segment(seg: str) -> bool:
    return len(seg) >= 6 and (bool(re.search(r"\d", seg)) or (seg != seg.lower() and seg != seg.upper()))


# ---------------------------------------------------------------------------
# One-call helpers
# ---------------------------------------------------------------------------


def scrub_text(text: str, *, free: bool = False) -> tuple[str, tuple[Replacement, ...]]:
    """``text`` with its credentials replaced, and the replacements (see :meth:`Scrubber.text`).

    Examples
    --------
    >>> scrub_text("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")[0]
    'Authorization: Bearer ${TOKEN}'
    """
    s = Scrubber()
    return s.text(text, where="text", free=free), s.replacements


def scrub_url(url: str) -> tuple[str, tuple[Replacement, ...]]:
    """A URL with its credentials replaced, and the replacements (see :meth:`Scrubber.url`).

    Examples
    --------
    >>> scrub_url("admin:hunter2@db.internal:5432/prod")[0]
    'admin:${PASSWORD}@db.internal:5432/prod'
    """
    s = Scrubber()
    return s.text(url, where="url"), s.replacements


def scrub_args(args: Sequence[str]) -> tuple[list[str], tuple[Replacement, ...]]:
    """Arguments with their credentials replaced, and the replacements (see :meth:`Scrubber.args`).

    Examples
    --------
    >>> scrub_args(["--token", "${GITHUB_TOKEN}", "--port", "8080"])
    (['--token', '${GITHUB_TOKEN}', '--port', '8080'], ())
    """
    s = Scrubber()
    return s.args(args), s.replacements
