"""Action classes of MCP tools, inferred from their annotations, names and descriptions.

MCP tool annotations are hints, each with a default when missing
(``readOnlyHint`` false, ``destructiveHint`` true, ``idempotentHint`` false,
``openWorldHint`` true): a tool with no annotations is a destructive write that
reaches an open world.

The annotations decide, and nothing overrides them:

- ``readOnlyHint: true`` makes a read, whatever the name says (``issue_read``,
  ``send_report`` declared read-only are reads);
- otherwise the tool is a write, destructive unless it declares
  ``destructiveHint: false``. A destructive write whose name says so is a
  ``delete``; an additive one (``destructiveHint: false``) never is, and its
  effect counts as reversible (what it added can be removed), which lowers its
  capability below a destructive write's.

The name and the description then refine a write into ``pay``, ``sign``,
``send``, ``share`` or ``execute``: the name's verb (``create_refund`` pays,
``chat_postMessage`` sends, a ``noun_verb`` name such as ``label_list`` has its
verb last), and failing that the description's lead sentence, read without
its examples, code and quoted usage. An open-world write that posts content
for others to read (a comment, a reply, a message) is a ``send``; one that
gives people access (a shared link, a gist, a grant) a ``share``.

A read is never inferred from a name alone: a tool that does not declare
``readOnlyHint: true`` stays a write, so the draft errs on the side of a
larger blast radius. What the name suggests (:func:`suggest_from_name`) is
given in the reason, for the analyst to check and overrule. Every inference
carries its reason in words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from blastradius.model import ActionClass, Reversibility

__all__ = [
    "BULK_FAN_OUT",
    "MCP_HINT_DEFAULTS",
    "NameSuggestion",
    "ToolClassification",
    "classify_tool",
    "describing_text",
    "effective_hints",
    "name_words",
    "suggest_from_name",
]

#: Defaults the MCP specification gives to tool annotations that are missing.
MCP_HINT_DEFAULTS: Mapping[str, bool] = MappingProxyType(
    {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}
)

#: Fan-out assumed for a tool whose name or description says it acts in bulk
#: ("bulk_update", "every contact matching a filter") when nothing gives the
#: real figure: large enough to count as a bulk write.
BULK_FAN_OUT = 1000

#: What a tool does, in three: the split the annotations decide.
Effect = Literal["read", "additive", "destructive"]

_VERBS: dict[ActionClass, frozenset[str]] = {
    ActionClass.PAY: frozenset(
        {"pay", "charge", "refund", "payout", "transfer", "wire", "disburse", "remit", "purchase"}
    ),
    ActionClass.SIGN: frozenset({"sign", "countersign", "esign"}),
    ActionClass.DELETE: frozenset(
        {"delete", "remove", "purge", "destroy", "drop", "erase", "trash", "truncate", "wipe", "del", "unlink"}
    ),
    ActionClass.SEND: frozenset(
        {
            "send",
            "reply",
            "forward",
            "post",
            "notify",
            "broadcast",
            "announce",
            "dm",
            "sms",
            "tweet",
            "email",
            "mail",
            "comment",
            "message",
        }
    ),
    ActionClass.SHARE: frozenset({"share", "grant", "invite", "unshare", "expose", "publish"}),
    ActionClass.EXECUTE: frozenset(
        {"run", "exec", "execute", "eval", "shell", "deploy", "invoke", "trigger", "launch"}
    ),
    ActionClass.WRITE: frozenset(
        {
            "create",
            "update",
            "set",
            "add",
            "insert",
            "edit",
            "modify",
            "upsert",
            "patch",
            "put",
            "move",
            "rename",
            "upload",
            "import",
            "assign",
            "close",
            "merge",
            "write",
            "save",
            "append",
            "archive",
            "approve",
            "submit",
            "cancel",
            "void",
            "reset",
            "apply",
            "change",
            "issue",
            "make",
            "initiate",
            "process",
            "schedule",
            "book",
            "complete",
            "mark",
            "tag",
            "label",
            "draft",
            "copy",
            "sync",
            "restore",
            "enable",
            "disable",
            "start",
            "stop",
            "commit",
            "push",
            "fork",
            "star",
            "unstar",
            "request",
            "resolve",
            "unresolve",
            "dismiss",
            "reprioritize",
            "toggle",
            "checkout",
            "switch",
            "record",
            "manage",
            "compress",
            "revoke",
            "unstage",
            "stage",
            "provision",
            "register",
        }
    ),
    ActionClass.READ: frozenset(
        {
            "get",
            "list",
            "search",
            "find",
            "read",
            "fetch",
            "query",
            "lookup",
            "describe",
            "show",
            "view",
            "export",
            "download",
            "count",
            "retrieve",
            "browse",
            "check",
            "inspect",
            "summarize",
            "summarise",
            "analyze",
            "analyse",
            "preview",
            "open",
            "diff",
            "log",
            "status",
            "whoami",
            "echo",
            "return",
            "identify",
            "explore",
            "tree",
            "blame",
            "load",
            "demonstrate",
            "print",
        }
    ),
}
#: Words that are verbs in some names and nouns in others (``issue_write``, ``post_list``, ``label_get``):
#: one of them is the verb only when the name has no unambiguous verb.
_AMBIGUOUS = frozenset(
    {
        "issue",
        "post",
        "label",
        "tag",
        "draft",
        "comment",
        "message",
        "mail",
        "email",
        "book",
        "schedule",
        "process",
        "import",
        "export",
        "copy",
        "star",
        "record",
        "log",
        "status",
        "tree",
        "diff",
        "count",
        "transfer",
        "wire",
        "charge",
        "refund",
        "payout",
        "reply",
        "forward",
        "request",
        "check",
        "view",
        "change",
        "stage",
        "load",
        "open",
        "trigger",
        "run",
        "return",
        "echo",
        "commit",
        "push",
        "fork",
        "sign",
        "share",
        "invite",
        "archive",
        "trash",
        "drop",
        "sync",
    }
)
#: Nouns that turn a generic write verb into a high-impact class: create_refund, create_signature_request.
_NOUNS: dict[str, ActionClass] = {
    "refund": ActionClass.PAY,
    "payment": ActionClass.PAY,
    "payments": ActionClass.PAY,
    "payout": ActionClass.PAY,
    "transfer": ActionClass.PAY,
    "wire": ActionClass.PAY,
    "signature": ActionClass.SIGN,
    "envelope": ActionClass.SIGN,
}
#: What an open-world write posts for others to read (a send) or opens to others (a share).
_OUTWARD_NOUNS: dict[str, ActionClass] = {
    "comment": ActionClass.SEND,
    "comments": ActionClass.SEND,
    "reply": ActionClass.SEND,
    "message": ActionClass.SEND,
    "messages": ActionClass.SEND,
    "email": ActionClass.SEND,
    "mail": ActionClass.SEND,
    "post": ActionClass.SEND,
    "tweet": ActionClass.SEND,
    "announcement": ActionClass.SEND,
    "gist": ActionClass.SHARE,
    "link": ActionClass.SHARE,
    "permission": ActionClass.SHARE,
    "permissions": ActionClass.SHARE,
    "access": ActionClass.SHARE,
    "collaborator": ActionClass.SHARE,
}
#: Verbs that put something new out (an additive write of a comment is a send, its removal is not).
_PUTTING_OUT = frozenset({"create", "add", "post", "write", "submit", "leave", "make", "upload", "publish"})
_PREPOSITIONS = frozenset({"to", "on", "in", "for", "into", "with", "about"})
_PRIORITY = (
    ActionClass.PAY,
    ActionClass.SIGN,
    ActionClass.DELETE,
    ActionClass.SEND,
    ActionClass.SHARE,
    ActionClass.EXECUTE,
)
#: Verbs that overwrite or take away (a name-only guess at a destructive write).
_OVERWRITING = frozenset(
    {"update", "set", "edit", "modify", "upsert", "patch", "put", "move", "rename", "write", "reset", "merge", "push"}
    | {"revoke", "cancel", "void", "close", "disable", "stop", "manage", "apply", "change", "unstage", "sync"}
)
_BULK_WORDS = frozenset({"bulk", "mass", "batch", "all", "every", "many", "campaign", "broadcast"})
_LIMIT_KEYS = frozenset({"limit", "max_results", "maxresults", "page_size", "pagesize", "top", "count", "max"})
_SOFT_DELETE_WORDS = frozenset({"trash", "archive"})
_ALL_VERBS = {word: action for action in reversed(list(_VERBS)) for word in _VERBS[action]}


@dataclass(frozen=True, kw_only=True)
class NameSuggestion:
    """What a tool's name (or, failing that, its description's lead verb) suggests, annotations aside.

    Attributes
    ----------
    action : ActionClass or None
        The class its verb says (None when no verb is recognised).
    word : str or None
        The verb, or ``"verb … noun"`` when a noun sharpens it.
    effect : {'read', 'additive', 'destructive'} or None
        Read, additive write or destructive write, as the verb suggests.
    where : str
        ``name`` or ``description``.
    """

    action: ActionClass | None
    word: str | None
    effect: Effect | None
    where: str = "name"


@dataclass(frozen=True, kw_only=True)
class ToolClassification:
    """What the importer infers about one tool, and why.

    Attributes
    ----------
    action : ActionClass
    reasons : tuple of str
        Each inference in words ("readOnlyHint: true (declared)", "its name says 'send'").
    hints : Mapping[str, bool]
        The four annotation hints after MCP defaults.
    declared : frozenset of str
        The hints the server declared (the others are defaults).
    fan_out : int
        Records or recipients one call touches at most (1 unless a limit or bulk wording says more).
    leaves_org : bool or None
        Whether its effect leaves the organisation (from ``openWorldHint``), None for reads.
    untrusted_content : bool
        A read of an open world: it returns content written outside.
    reversibility : Reversibility
    suggestion : NameSuggestion
        What the name and description alone suggest.
    """

    action: ActionClass
    reasons: tuple[str, ...]
    hints: Mapping[str, bool]
    declared: frozenset[str]
    fan_out: int = 1
    leaves_org: bool | None = None
    untrusted_content: bool = False
    reversibility: Reversibility = Reversibility.IMMEDIATE
    suggestion: NameSuggestion | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def effect(self) -> Effect:
        """``read``, ``additive`` (``destructiveHint: false``) or ``destructive``: what the annotations decide."""
        if self.action is ActionClass.READ:
            return "read"
        return "destructive" if self.hints["destructiveHint"] else "additive"


def name_words(name: str) -> list[str]:
    """The words of a tool name: ``chat_postMessage`` -> ``['chat', 'post', 'message']``.

    Examples
    --------
    >>> name_words("bulkUpdate-contacts v2")
    ['bulk', 'update', 'contacts', 'v2']
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def effective_hints(annotations: Mapping[str, Any] | None) -> tuple[dict[str, bool], frozenset[str]]:
    """The four MCP hints with defaults applied, and which of them were declared.

    Examples
    --------
    >>> effective_hints({"readOnlyHint": True})[0]
    {'readOnlyHint': True, 'destructiveHint': True, 'idempotentHint': False, 'openWorldHint': True}
    """
    annotations = annotations or {}
    declared = frozenset(k for k in MCP_HINT_DEFAULTS if isinstance(annotations.get(k), bool))
    hints = {k: annotations[k] if k in declared else default for k, default in MCP_HINT_DEFAULTS.items()}
    return hints, declared


_BLOCKS = re.compile(r"<(\w+)[^>]*>.*?</\1>|```.*?```", re.S)
_INLINE = re.compile(
    r"`[^`]*`"  # inline code
    r"|\b[\w.]+\([^)]*\)"  # a call: execute_query(…)
    r"|\"[^\"]*\""  # double-quoted usage
    r"|(?<![\w])'[^']*'(?![\w])"  # single-quoted usage (not an apostrophe)
    r"|https?://\S+"
)


def describing_text(description: str | None) -> str:
    """The lead sentence of a description, without examples, code, quoted usage or URLs.

    A description tells what the tool does in its first sentence; what follows
    (when to use it, examples, usage) mentions other actions and must not
    decide the class.

    Examples
    --------
    >>> describing_text("Add a note to an issue.\\n<examples>add_note(text='ask the payments team')</examples>")
    'Add a note to an issue'
    >>> describing_text('Run a query. Use "execute_sql(…)" for writes.')
    'Run a query'
    """
    text = _BLOCKS.sub(" ", description or "")
    text = _INLINE.sub(" ", text)
    lead = re.split(r"(?<=[a-z0-9)])\.(?:\s|$)|\n\s*\n|\n\s*[-*#]|:\s*\n", text.strip(), maxsplit=1)[0]
    return " ".join(lead.split()).rstrip(".")


def _stem(word: str) -> str:
    """A description's verb in its base form: ``shows`` -> ``show``, ``creates`` -> ``create``."""
    if word in _ALL_VERBS:
        return word
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("es", "e")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in _ALL_VERBS:
            return word[: -len(suffix)] + repl
    return word


def _effect(action: ActionClass, verb: str) -> Effect:
    if action is ActionClass.READ:
        return "read"
    if action is ActionClass.DELETE or (action is ActionClass.EXECUTE and verb != "trigger") or verb in _OVERWRITING:
        return "destructive"
    return "additive"


def _name_verb(words: list[str]) -> tuple[ActionClass | None, str | None, int]:
    """The verb of a name and its position: the first unambiguous verb, else the first ambiguous one.

    ``issue_read`` -> read (``issue`` is a noun here), ``post_list`` -> list, ``create_issue`` -> create.
    """
    candidates = [(i, w) for i, w in enumerate(words) if w in _ALL_VERBS]
    if not candidates:
        return None, None, -1
    clear = [(i, w) for i, w in candidates if w not in _AMBIGUOUS]
    i, word = (clear or candidates)[0]
    return _ALL_VERBS[word], word, i


def suggest_from_name(name: str, description: str | None = None) -> NameSuggestion:
    """What a tool's name suggests it does, or, when the name has no verb, its description's lead verb.

    Annotations aside: :func:`classify_tool` lets annotations decide and uses this
    only to refine a write and to explain.

    Examples
    --------
    >>> s = suggest_from_name("issue_read")
    >>> s.action.value, s.word, s.effect
    ('read', 'read', 'read')
    >>> suggest_from_name("create_refund").action.value
    'pay'
    >>> suggest_from_name("git_branch", "List Git branches").where
    'description'
    """
    words = name_words(name)
    action, word, i = _name_verb(words)
    where = "name"
    if action is None:
        lead = [_stem(w) for w in re.findall(r"[a-z]+", describing_text(description).lower())]
        verbs = [(j, w) for j, w in enumerate(lead[:3]) if w in _ALL_VERBS]
        if not verbs:
            return NameSuggestion(action=None, word=None, effect=None, where="name")
        i, word = verbs[0]
        action, words, where = _ALL_VERBS[word], lead, "description"
    assert word is not None
    effect = _effect(action, word)
    if action is ActionClass.WRITE:
        for noun in words[i + 1 :]:
            if noun in _NOUNS:
                return NameSuggestion(action=_NOUNS[noun], word=f"{word} … {noun}", effect=effect, where=where)
    return NameSuggestion(action=action, word=word, effect=effect, where=where)


def _outward(words: list[str], verb: str | None) -> tuple[ActionClass | None, str | None]:
    """Send or share when a write puts out content others read (a comment) or access others use (a link).

    The noun must be the object: the last word, or followed by a preposition
    (``add_comment_to_review``); in ``add_issue_comment_reaction`` the object is the reaction.
    """
    if verb not in _PUTTING_OUT:
        return None, None
    found = None
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else None
        if word in _OUTWARD_NOUNS and (after is None or after in _PREPOSITIONS):
            found = word
    return (_OUTWARD_NOUNS[found], found) if found else (None, None)


def _fan_out(words: list[str], description: str, schema: Mapping[str, Any] | None) -> tuple[int, str | None]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    limits = []
    if isinstance(props, Mapping):
        for key, prop in props.items():
            if not isinstance(prop, Mapping):
                continue
            if key.lower() in _LIMIT_KEYS and isinstance(prop.get("maximum"), int) and prop["maximum"] >= 1:
                limits.append((prop["maximum"], f"input '{key}' allows at most {prop['maximum']:,}"))
            if prop.get("type") == "array" and isinstance(prop.get("maxItems"), int) and prop["maxItems"] >= 1:
                limits.append((prop["maxItems"], f"input '{key}' takes at most {prop['maxItems']:,} items"))
    if limits:
        return max(limits)
    bulk = _BULK_WORDS & set(words) or _BULK_WORDS & set(re.findall(r"[a-z]+", describing_text(description).lower()))
    if bulk:
        return BULK_FAN_OUT, f"it acts in bulk ('{min(bulk)}'): fan-out unknown, {BULK_FAN_OUT:,} assumed"
    return 1, None


def classify_tool(
    name: str,
    description: str | None = None,
    annotations: Mapping[str, Any] | None = None,
    input_schema: Mapping[str, Any] | None = None,
) -> ToolClassification:
    """Infer the action class (and fan-out, reach outside, reversibility) of one MCP tool.

    Parameters
    ----------
    name, description : str
        As in the tool listing.
    annotations : mapping, optional
        The tool's ``annotations``; missing hints take the MCP defaults.
    input_schema : mapping, optional
        The tool's ``inputSchema``: a ``limit``-like input with a ``maximum`` gives the fan-out.

    Returns
    -------
    ToolClassification

    Examples
    --------
    A tool with no annotations is a destructive, open-world write:

    >>> c = classify_tool("export_report")
    >>> c.action.value, c.leaves_org, c.effect
    ('write', True, 'destructive')
    >>> classify_tool("send_campaign_email", annotations={"readOnlyHint": False}).action.value
    'send'
    >>> classify_tool("issue_read", annotations={"readOnlyHint": True}).action.value
    'read'
    >>> classify_tool("send_report", annotations={"readOnlyHint": True}).action.value  # annotations decide
    'read'
    >>> c = classify_tool("add_issue_comment", annotations={"readOnlyHint": False, "destructiveHint": False})
    >>> c.action.value, c.effect
    ('send', 'additive')
    """
    hints, declared = effective_hints(annotations)
    description = description or ""
    words = name_words(name)

    def said(hint: str) -> str:
        return f"{hint}: {'true' if hints[hint] else 'false'} ({'declared' if hint in declared else 'MCP default'})"

    reasons = [said("readOnlyHint")]
    suggestion = suggest_from_name(name, description)
    fan_out, fan_reason = _fan_out(words, description, input_schema)
    if fan_reason:
        reasons.append(fan_reason)
    its = f"its {suggestion.where}" + (" (lead sentence)" if suggestion.where == "description" else "")
    if hints["readOnlyHint"]:
        if suggestion.action not in (None, ActionClass.READ):
            reasons.append(f"{its} says '{suggestion.word}', but the annotation decides: a read")
        untrusted = hints["openWorldHint"]
        if untrusted:
            reasons.append(f"{said('openWorldHint')}: returns content from outside")
        return ToolClassification(
            action=ActionClass.READ,
            reasons=tuple(reasons),
            hints=hints,
            declared=declared,
            fan_out=fan_out,
            untrusted_content=untrusted,
            suggestion=suggestion,
        )
    destructive = hints["destructiveHint"]
    action = ActionClass.WRITE
    verb_words = words if suggestion.where == "name" else re.findall(r"[a-z]+", describing_text(description).lower())
    verb = suggestion.word.split(" … ")[0] if suggestion.word else None
    if suggestion.action is ActionClass.DELETE and not destructive:
        reasons.append(f"{its} says '{suggestion.word}', but destructiveHint: false (declared): not a delete")
    elif suggestion.action in _PRIORITY:
        assert suggestion.action is not None
        action = suggestion.action
        reasons.append(f"{its} says '{suggestion.word}'")
    if action is ActionClass.WRITE and hints["openWorldHint"]:
        outward, noun = _outward(verb_words, verb)
        if outward is None and suggestion.where == "name":  # the name gives the verb, the description its object
            lead = re.findall(r"[a-z]+", describing_text(description).lower())
            outward, noun = _outward(lead[:8], verb) if lead and _stem(lead[0]) == verb else (None, None)
        if outward is not None:
            action = outward
            reasons.append(
                f"'{verb} … {noun}' in an open world ({said('openWorldHint')}): "
                + ("it posts content others read" if outward is ActionClass.SEND else "it gives others access")
            )
    if action is ActionClass.WRITE and suggestion.where == "name":  # what its lead sentence says it also does
        lead = [_stem(w) for w in re.findall(r"[a-z]+", describing_text(description).lower())]
        said_verbs = [
            (_ALL_VERBS[w], w)
            for w in lead
            if w in _ALL_VERBS and w not in _AMBIGUOUS and _ALL_VERBS[w] in _PRIORITY and w != verb
        ]
        said_verbs = [(a, w) for a, w in said_verbs if a is not ActionClass.DELETE or destructive]
        if said_verbs:
            action, word = min(said_verbs, key=lambda aw: _PRIORITY.index(aw[0]))
            reasons.append(f"its description (lead sentence) says '{word}'")
    if action is ActionClass.WRITE and not any(r.startswith(its) for r in reasons):
        if suggestion.action is ActionClass.READ:
            reasons.append(
                f"{its} suggests a read ('{suggestion.word}'), but it does not declare readOnlyHint: true, so it "
                "stays a write; set action: read if it only reads"
            )
        elif suggestion.action is not None:
            reasons.append(f"{its} says '{suggestion.word}'")
        else:
            reasons.append("nothing in its name or description says more: a write")
    reversibility = Reversibility.IMMEDIATE
    if action in (ActionClass.WRITE, ActionClass.DELETE):
        if destructive:
            reasons.append(said("destructiveHint") + ": may destroy or overwrite data")
        else:
            reasons.append(
                said("destructiveHint") + ": additive only, what it adds can be removed: scored as reversible "
                "(soft-delete), below a destructive write"
            )
            reversibility = Reversibility.SOFT_DELETE
    if "idempotentHint" in declared and hints["idempotentHint"]:
        reasons.append("idempotentHint: true (declared): repeating a call changes nothing more")
    soft = _SOFT_DELETE_WORDS & set(words)
    if action is ActionClass.DELETE and soft:
        reversibility = Reversibility.SOFT_DELETE
        reasons.append(f"'{min(soft)}' can be undone: soft-delete")
    leaves = hints["openWorldHint"]
    reasons.append(said("openWorldHint") + (": its effect may leave the organisation" if leaves else ": stays inside"))
    return ToolClassification(
        action=action,
        reasons=tuple(reasons),
        hints=hints,
        declared=declared,
        fan_out=fan_out,
        leaves_org=leaves,
        reversibility=reversibility,
        suggestion=suggestion,
    )
