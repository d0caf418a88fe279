"""Action classes of MCP tools, inferred from their annotations, names and descriptions.

MCP tool annotations are hints, each with a default when missing
(``readOnlyHint`` false, ``destructiveHint`` true, ``idempotentHint`` false,
``openWorldHint`` true): a tool with no annotations is a destructive write that
reaches an open world. The annotations decide read or not; the tool's name
(its verb) and, failing that, its description refine a non-read into send,
pay, sign, delete, share or execute. A read is never inferred from a name
alone: a tool that does not declare ``readOnlyHint: true`` stays a write, so
the draft errs on the side of a larger blast radius. Every inference carries
its reason in words, for the analyst to check and overrule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from blastradius.model import ActionClass, Reversibility

__all__ = [
    "BULK_FAN_OUT",
    "MCP_HINT_DEFAULTS",
    "ToolClassification",
    "classify_tool",
    "effective_hints",
    "name_words",
]

#: Defaults the MCP specification gives to tool annotations that are missing.
MCP_HINT_DEFAULTS: Mapping[str, bool] = MappingProxyType(
    {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}
)

#: Fan-out assumed for a tool whose name or description says it acts in bulk
#: ("bulk_update", "every contact matching a filter") when nothing gives the
#: real figure: large enough to count as a bulk write.
BULK_FAN_OUT = 1000

_VERBS: dict[ActionClass, frozenset[str]] = {
    ActionClass.PAY: frozenset(
        {"pay", "charge", "refund", "payout", "transfer", "wire", "disburse", "remit", "purchase"}
    ),
    ActionClass.SIGN: frozenset({"sign", "countersign", "esign"}),
    ActionClass.DELETE: frozenset(
        {"delete", "remove", "purge", "destroy", "drop", "erase", "trash", "truncate", "wipe", "del"}
    ),
    ActionClass.SEND: frozenset(
        {
            "send",
            "reply",
            "forward",
            "post",
            "notify",
            "publish",
            "broadcast",
            "announce",
            "dm",
            "sms",
            "tweet",
            "email",
            "mail",
        }
    ),
    ActionClass.SHARE: frozenset({"share", "grant", "invite", "unshare", "expose"}),
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
            "preview",
        }
    ),
}
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
#: Description words strong enough to refine a non-read tool (a stricter list than for names).
_DESCRIPTION_WORDS: dict[ActionClass, frozenset[str]] = {
    ActionClass.PAY: frozenset(
        {"pay", "pays", "payment", "payments", "refund", "refunds", "payout", "charge", "charges"}
    ),
    ActionClass.SIGN: frozenset({"sign", "signs", "signature", "signatures", "e-sign", "esign"}),
    ActionClass.DELETE: frozenset(
        {"delete", "deletes", "permanently", "purge", "purges", "erase", "erases", "destroy"}
    ),
    ActionClass.SEND: frozenset({"send", "sends", "notify", "notifies", "forward", "forwards", "publish", "publishes"}),
    ActionClass.SHARE: frozenset({"share", "shares", "sharing"}),
    ActionClass.EXECUTE: frozenset({"execute", "executes", "shell", "script", "scripts"}),
}
_PRIORITY = (
    ActionClass.PAY,
    ActionClass.SIGN,
    ActionClass.DELETE,
    ActionClass.SEND,
    ActionClass.SHARE,
    ActionClass.EXECUTE,
)
_BULK_WORDS = frozenset({"bulk", "mass", "batch", "all", "every", "many", "campaign", "broadcast"})
_LIMIT_KEYS = frozenset({"limit", "max_results", "maxresults", "page_size", "pagesize", "top", "count", "max"})
_SOFT_DELETE_WORDS = frozenset({"trash", "archive"})


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
    """

    action: ActionClass
    reasons: tuple[str, ...]
    hints: Mapping[str, bool]
    declared: frozenset[str]
    fan_out: int = 1
    leaves_org: bool | None = None
    untrusted_content: bool = False
    reversibility: Reversibility = Reversibility.IMMEDIATE

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


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


def _verb(words: list[str]) -> tuple[ActionClass | None, str | None]:
    """The action class of the first verb of a name, sharpened by a telling noun after it."""
    for i, word in enumerate(words):
        for action in (*_PRIORITY, ActionClass.WRITE, ActionClass.READ):
            if word in _VERBS[action]:
                if action is ActionClass.WRITE:
                    for noun in words[i + 1 :]:
                        if noun in _NOUNS:
                            return _NOUNS[noun], f"{word} … {noun}"
                return action, word
    return None, None


def _described(description: str) -> tuple[ActionClass | None, str | None]:
    text = set(re.findall(r"[a-z][a-z-]*", description.lower()))
    for action in _PRIORITY:
        hit = text & _DESCRIPTION_WORDS[action]
        if hit:
            return action, min(hit)
    return None, None


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
    bulk = _BULK_WORDS & set(words) or _BULK_WORDS & set(re.findall(r"[a-z]+", description.lower()))
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
    >>> c.action.value, c.leaves_org
    ('write', True)
    >>> classify_tool("send_campaign_email", annotations={"readOnlyHint": False}).action.value
    'send'
    >>> classify_tool("search_contacts", annotations={"readOnlyHint": True, "openWorldHint": False}).action.value
    'read'
    """
    hints, declared = effective_hints(annotations)
    description = description or ""
    words = name_words(name)

    def said(hint: str) -> str:
        return f"{hint}: {'true' if hints[hint] else 'false'} ({'declared' if hint in declared else 'MCP default'})"

    reasons = [said("readOnlyHint")]
    verb_action, verb = _verb(words)
    fan_out, fan_reason = _fan_out(words, description, input_schema)
    if fan_reason:
        reasons.append(fan_reason)
    action: ActionClass
    if hints["readOnlyHint"]:
        if verb_action is not None and verb_action is not ActionClass.READ:
            reasons.append(
                f"but its name says '{verb}': classified {verb_action.value} (annotations are hints; "
                "set action: read if it only reads)"
            )
            action = verb_action
        else:
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
            )
    elif verb_action is not None and verb_action not in (ActionClass.READ, ActionClass.WRITE):
        action = verb_action
        reasons.append(f"its name says '{verb}'")
    else:
        described, word = _described(description)
        if described is not None:
            action = described
            reasons.append(f"its description says '{word}'")
        else:
            action = ActionClass.WRITE
            if verb_action is ActionClass.READ:
                reasons.append(
                    f"its name suggests a read ('{verb}'), but it does not declare readOnlyHint: true, so it stays "
                    "a write; set action: read if it only reads"
                )
            elif verb_action is ActionClass.WRITE:
                reasons.append(f"its name says '{verb}'")
            else:
                reasons.append("nothing in its name or description says more: a write")
    if action in (ActionClass.WRITE, ActionClass.DELETE):
        reasons.append(
            said("destructiveHint")
            + (": may destroy or overwrite data" if hints["destructiveHint"] else ": additive only")
        )
    reversibility = Reversibility.IMMEDIATE
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
    )
