"""The connector catalog: well-known MCP servers and the tools they commonly offer.

When an import has no tool listing for a server, the catalog
(``blastradius/data/connector_catalog.yaml``) says what such a server usually
does: its system kind, a typical classification of its data, the people it can
address and its typical tools. A server the catalog does not know gets one tool
of action ``unknown``: analyses treat it as high-impact, never as harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError

from blastradius.errors import ConfigError, Problem
from blastradius.model import ActionClass, Classification, PeopleKind, Record, Tool
from blastradius.settings.files import parse_text, read_text

__all__ = [
    "CatalogEntry",
    "CatalogMatch",
    "ConnectorCatalog",
    "load_catalog",
    "match_server",
    "words",
]

_CATALOG_FILE = "connector_catalog.yaml"
_Keyword = Annotated[str, StringConstraints(min_length=1, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class CatalogEntry(Record):
    """One well-known connector: how to recognise it and what its tools commonly do."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    category: str
    keywords: tuple[_Keyword, ...] = Field(min_length=1)
    classification: Classification = Classification.CONFIDENTIAL
    people: PeopleKind | None = None
    leaves_org: bool = False
    actions: tuple[ActionClass, ...] = ()
    tools: tuple[Tool, ...] = ()


class ConnectorCatalog(Record):
    """The catalog file: a version and its entries, in matching order."""

    version: Literal[1]
    connectors: tuple[CatalogEntry, ...]


@dataclass(frozen=True, kw_only=True)
class CatalogMatch:
    """A catalog entry matched to a server, and why.

    Attributes
    ----------
    entry : CatalogEntry
    keyword : str
        The keyword that matched.
    where : str
        What it matched: ``name``, ``url host`` or ``package``.
    """

    entry: CatalogEntry
    keyword: str
    where: str

    @property
    def reason(self) -> str:
        how = "contains" if self.where == "name" else "is"
        entry = f"catalog entry '{self.entry.id}' ({self.entry.name}, {self.entry.category})"
        return f"{entry}: its {self.where} {how} '{self.keyword}'"


@cache
def _default_catalog() -> ConnectorCatalog:
    text = resources.files("blastradius").joinpath("data", _CATALOG_FILE).read_text(encoding="utf-8")
    return _parse(text, Path("blastradius/data") / _CATALOG_FILE)


def _parse(text: str, file: Path) -> ConnectorCatalog:
    data = parse_text(file, text, error=ConfigError).data  # no anchors or aliases, bounded nesting, a key once
    try:
        return ConnectorCatalog.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(file=file, path=".".join(str(p) for p in e["loc"]), message=e["msg"]) for e in exc.errors()]
        raise ConfigError(problems) from None


def load_catalog(path: str | Path | None = None) -> ConnectorCatalog:
    """The connector catalog: the one shipped with the package, or the file at ``path``.

    Raises
    ------
    ConfigError
        When the file cannot be read or does not follow the catalog format.

    Examples
    --------
    >>> catalog = load_catalog()
    >>> "salesforce" in [e.id for e in catalog.connectors]
    True
    """
    if path is None:
        return _default_catalog()
    file = Path(path)
    if not file.is_file():
        raise ConfigError([Problem(file=file, path="", message="cannot read the catalog: no such file")])
    return _parse(read_text(file, error=ConfigError), file)  # size-limited, as every input


def words(text: str) -> str:
    """``text`` lower-cased with every run of other characters turned into one ``-``.

    Examples
    --------
    >>> words("Google Drive")
    'google-drive'
    >>> words("@modelcontextprotocol/server-filesystem")
    'modelcontextprotocol-server-filesystem'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _has_keyword(haystack: str, keyword: str) -> bool:
    return re.search(rf"(^|-){re.escape(keyword)}(-|$)", haystack) is not None


def match_server(
    catalog: ConnectorCatalog, *, name: str, url_host: str | None = None, packages: Iterable[str] = ()
) -> CatalogMatch | None:
    """The catalog entry for a server, by its name first, then exactly by its URL host or package.

    A name matches a keyword as a whole word (``google drive``); a URL host only when
    one of its labels is the keyword (``mcp.slack.com``), a package only when its name,
    without scope, version and MCP affixes, is the keyword (``@modelcontextprotocol/server-slack``).
    A path that merely contains a catalog name (``/opt/slack-export/run.js``) never matches.

    Parameters
    ----------
    catalog : ConnectorCatalog
    name : str
        The server's name in its config (``"google drive"``).
    url_host : str, optional
        Host of its URL (``"mcp.slack.com"``).
    packages : iterable of str
        Command and arguments of a stdio server (``["npx", "-y", "@example/doc-store-mcp"]``).

    Returns
    -------
    CatalogMatch or None

    Examples
    --------
    >>> m = match_server(load_catalog(), name="google drive")
    >>> m.entry.id, m.where
    ('google-drive', 'name')
    >>> match_server(load_catalog(), name="acme-ledger") is None
    True
    >>> match_server(load_catalog(), name="tools", packages=["node", "/opt/slack-export/run.js"]) is None
    True
    """
    haystacks = [("name", words(name))]
    for where, haystack in haystacks:
        for entry in catalog.connectors:
            for keyword in entry.keywords:
                if _has_keyword(haystack, keyword):
                    return CatalogMatch(entry=entry, keyword=keyword, where=where)
    exact = [("url host", label) for label in _host_labels(url_host)]
    exact += [("package", p) for p in (_package_name(a) for a in packages) if p]
    for where, candidate in exact:
        for entry in catalog.connectors:
            for keyword in entry.keywords:
                if candidate == keyword:
                    return CatalogMatch(entry=entry, keyword=keyword, where=where)
    return None


_AFFIXES = re.compile(r"^(?:mcp-server-|server-|mcp-)|(?:-mcp-server|-mcp|-server)$")


def _bare(name: str) -> str:
    """A package or host label without its MCP affixes: ``server-slack``, ``slack-mcp-server`` -> ``slack``."""
    previous = None
    while previous != name:
        previous, name = name, _AFFIXES.sub("", name)
    return name


def _host_labels(host: str | None) -> list[str]:
    """The labels of a URL host, bare (``mcp.slack.com`` -> ``mcp``, ``slack``, ``com``)."""
    return [_bare(words(label)) for label in (host or "").lower().split(".") if label]


def _package_name(arg: str) -> str | None:
    """The package a stdio command runs, bare, or None for a path, an option or a placeholder.

    ``@modelcontextprotocol/server-slack@1.2`` -> ``slack``; ``./tools/slack/server.js`` -> None:
    a path that merely holds a catalog name says nothing about the server.
    """
    if not arg or arg.startswith("-") or "${" in arg:
        return None
    scoped = re.fullmatch(r"@[\w.-]+/([\w.-]+?)(?:@[\w.^~<>=*-]+)?", arg)
    plain = re.fullmatch(r"([A-Za-z][\w.-]*?)(?:(?:@|==|>=|~=)[\w.^~<>=*-]+)?", arg)
    match = scoped or plain
    if match is None:
        return None
    return _bare(words(match.group(1))) or None
