"""Explanations in words: which paths make a plugin's blast radius, and what each approval prompt says.

A path is plugin → connector → tool(s) → system → datasets/people. Each
contributes its capability × reach × autonomy (× the plugin's untrusted-input
factor, for a plugin that takes in untrusted content); :func:`explain_plugin` returns
them as data and :func:`format_explanation` writes them for a non-engineer.
For every gated action, :func:`approval_prompt` states exactly what will happen
("This will email 2,310 contacts"), as D4 asks of an approval gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.domain import INSIDE_ONLY, NO_WAY_OUT
from blastradius.model import ActionClass, Connector, Inventory, Reversibility, Tool
from blastradius.reach import ToolStatus, tool_reach, tool_status, union_reach
from blastradius.scores import ActionScore, PluginScore, score_plugin

__all__ = ["Explanation", "PathContribution", "approval_prompt", "explain_plugin", "format_explanation"]


@dataclass(frozen=True, kw_only=True)
class PathContribution:
    """One path's share of a plugin's blast radius, with a sentence saying what it is."""

    connector: str
    system: str | None
    action: str
    tools: tuple[str, ...]
    status: str
    failure_class: str
    datasets: tuple[str, ...]
    people_groups: tuple[str, ...]
    capability: float
    reach: float
    autonomy: float
    contribution: float
    share: float
    sentence: str
    untrusted_factor: float = 1.0  # ``contribution`` is capability × reach × autonomy × this


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """Why a plugin scores what it scores."""

    plugin: str
    blast_radius: float
    by_class: Mapping[str, float]
    paths: tuple[PathContribution, ...]
    prompts: tuple[tuple[str, str], ...]  # (connector.tool, prompt) for every gated tool
    blocked: tuple[tuple[str, str], ...]  # (connector.tool, reason) for blocked or unusable tools
    way_out: str
    unknowns: int
    untrusted_inputs: tuple[str, ...] = ()  # tools through which it takes in untrusted content
    untrusted_factor: float = 1.0  # on its wrong-action and data-leakage paths, not its output


_SEND_VERBS = {"email": "email", "chat": "message", "ticketing": "reply to", "sms": "text", "crm": "email"}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n != 1 else f"1 {word.rstrip('s') if word.endswith('s') else word}"


def _tables(inventory: Inventory, dataset_ids: list[str]) -> str:
    names = [inventory.dataset_by_id[d].table_name for d in dataset_ids]
    if not names:
        return "no table"
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def approval_prompt(inventory: Inventory, connector: Connector, tool: Tool) -> str:
    """What a human approving one call of ``tool`` is told will happen.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> conn = inv.connector_by_id["email"]
    >>> approval_prompt(inv, conn, conn.tool("send_bulk_email"))
    'This will email 2,310 contacts (renewal-contacts-2026) through Exchange Online mail. It cannot be undone.'
    """
    system = inventory.system_by_id.get(connector.system or "")
    reach = tool_reach(
        connector,
        tool,
        inventory.datasets_by_system.get(connector.system or "", ()),
        inventory.people_by_system.get(connector.system or "", ()),
    )
    via = connector.name or connector.id
    total = union_reach([(connector.id, reach)])
    n_people = tool.fan_out if (total.unknown_people or not reach.people) else min(tool.fan_out, total.people)
    kinds = sorted({g.kind.value for g in reach.people}) or ["recipients"]
    groups = ", ".join(g.id for g in reach.people)
    n_records = min(tool.fan_out, total.records) if total.records and not total.unbounded_datasets else tool.fan_out
    tables = _tables(inventory, [s.dataset for s in reach.datasets])
    action = tool.action
    if action is ActionClass.SEND:
        verb = _SEND_VERBS.get((system.kind or "") if system else "", "send a message to")
        text = f"This will {verb} {_plural(n_people, ' or '.join(kinds))}" + (f" ({groups})" if groups else "")
        text += f" through {via}."
    elif action is ActionClass.SHARE:
        text = (
            f"This will share {tables if reach.datasets else 'files'} "
            f"with up to {_plural(n_people, 'people')} through {via}."
        )
    elif action is ActionClass.WRITE:
        text = f"This will change up to {_plural(n_records, 'records')} in {tables} ({via})."
    elif action is ActionClass.DELETE:
        text = f"This will delete up to {_plural(n_records, 'records')} from {tables} ({via})."
    elif action is ActionClass.PAY:
        payees = " or ".join(kinds) if reach.people else "payees"
        text = (
            f"This will release payments to up to "
            f"{_plural(n_people if reach.people else tool.fan_out, payees)} through {via}."
        )
    elif action is ActionClass.SIGN:
        text = f"This will sign up to {_plural(tool.fan_out, 'documents')} on behalf of the organisation through {via}."
    elif action is ActionClass.EXECUTE:
        text = f"This will run code on {system.name or system.id if system else via} through {via}."
    elif action is ActionClass.READ:
        text = (
            f"This will read up to {_plural(n_records if reach.datasets else tool.fan_out, 'records')} "
            f"from {tables} ({via})."
        )
    else:
        text = f"This will call '{tool.name}' on {via}; what it does has not been classified."
    if action is not ActionClass.READ:
        if tool.reversibility is Reversibility.IMMEDIATE:
            text += " It cannot be undone."
        else:
            text += f" It can be undone ({tool.reversibility.value})."
    return text


_VERB_PHRASES = {
    ActionClass.WRITE: "change",
    ActionClass.SEND: "send to",
    ActionClass.DELETE: "delete",
    ActionClass.PAY: "pay",
    ActionClass.SIGN: "sign for",
    ActionClass.SHARE: "share with",
    ActionClass.EXECUTE: "run code touching",
    ActionClass.UNKNOWN: "call unclassified tools touching",
}


def _sentence(inventory: Inventory, a: ActionScore, total: float, way_out: str) -> str:
    conn = inventory.connector_by_id[a.connector]
    via = f"{a.connector}" + (f" ({conn.name})" if conn.name else "")
    who = "with no human approval" if a.status is ToolStatus.UNGATED else "after a human approves each call"
    tools = ", ".join(a.tools)
    tables = _tables(inventory, [s.dataset for s in a.datasets])
    if a.unbounded_datasets:  # sizes not given and no row limit: the record count is a lower bound
        tables += f"; {_plural(a.unbounded_datasets, 'tables')} of unknown size and no row limit, so at least this many"
    unknown_groups = sum(
        inventory.people_by_id[g].count is None for g in a.people_groups if g in inventory.people_by_id
    )
    people = ("at least " if unknown_groups else "") + _plural(a.reach_people, "people")
    if unknown_groups:  # a stand-in, never a plain fact
        people += f" ({_plural(unknown_groups, 'groups')} of unknown size)"
    if a.action is ActionClass.READ:
        what = (
            f"can read {_plural(a.reach_records, 'records')} ({tables}) {who}, "
            f"{a.sensitive_records:,} of them sensitive"
        )
        what += f", about {people}" if a.reach_people or unknown_groups else ""
        if way_out == NO_WAY_OUT:
            what += "; it has no channel out"
        elif way_out == INSIDE_ONLY:
            what += "; colleagues may see it, and no channel out is more open"
        else:
            what += f"; the data can leave through {way_out}"
    else:
        targets = []
        if a.reach_records:
            targets.append(f"{_plural(a.reach_records, 'records')} ({tables})")
        if a.reach_people or unknown_groups:
            targets.append(people + (f" ({a.external_people:,} outside the organisation)" if a.external_people else ""))
        if a.action in (ActionClass.SEND, ActionClass.SHARE, ActionClass.PAY) and (a.reach_people or unknown_groups):
            what = f"can {_VERB_PHRASES[a.action]} {' and '.join(reversed(targets))} {who}"
        else:
            obj = targets[0] if targets else "its system"
            if len(targets) > 1:
                obj += f", about {targets[1]}"
            what = f"can {_VERB_PHRASES[a.action]} {obj} {who}"
        what += f", up to {a.fan_out:,} per call" if a.fan_out > 1 else ""
        what += ", irreversibly" if a.irreversible else ", reversibly"
        if a.action is ActionClass.UNKNOWN:
            what += "; what these tools do is unknown (a stand-in, scored as the worst class)"
    share = a.blast_radius / total if total else 0.0
    untrusted = f" × untrusted input {a.untrusted_factor:g}" if a.untrusted_factor != 1.0 else ""
    return (
        f"Through {via}, using {tools}, it {what}. "
        f"Capability {a.capability:.1f} × reach {a.reach:.2f} × autonomy {a.autonomy:.2f}{untrusted} = "
        f"{a.blast_radius:.1f} ({share:.0%} of its blast radius)."
    )


def explain_plugin(source: Inventory | Analysis, plugin: str, *, weights: WeightsLike = None) -> Explanation:
    """Which paths contribute how much to ``plugin``'s blast radius, and the prompts of its gated actions.

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.
    """
    analysis = analysis_of(source, weights=weights)
    inventory = analysis.inventory
    ps: PluginScore = score_plugin(analysis, plugin)
    total = ps.blast_radius
    paths = []
    for a in sorted(ps.actions, key=lambda a: -a.blast_radius):
        if a.status in (ToolStatus.BLOCKED, ToolStatus.UNUSABLE):
            continue
        paths.append(
            PathContribution(
                connector=a.connector,
                system=a.system,
                action=a.action.value,
                tools=a.tools,
                status=a.status.value,
                failure_class=a.failure_class,
                datasets=tuple(s.dataset for s in a.datasets),
                people_groups=a.people_groups,
                capability=a.capability,
                reach=a.reach,
                autonomy=a.autonomy,
                contribution=a.blast_radius,
                share=a.blast_radius / total if total else 0.0,
                sentence=_sentence(inventory, a, total, ps.way_out),
                untrusted_factor=a.untrusted_factor,
            )
        )
    p = inventory.plugin_by_id[plugin]
    prompts, blocked = [], []
    for pc in p.connectors:
        conn = inventory.connector_by_id[pc.connector]
        for tool in conn.tools:
            status, reason = tool_status(p, conn, tool)
            if status is ToolStatus.GATED:
                prompts.append((f"{conn.id}.{tool.name}", approval_prompt(inventory, conn, tool)))
            elif status in (ToolStatus.BLOCKED, ToolStatus.UNUSABLE):
                blocked.append((f"{conn.id}.{tool.name}", reason))
    out = ps.output
    dest = "outside the organisation" if out.destination.value == "external" else "inside the organisation"
    tier = f"review tier {out.review_tier}" if out.review_tier else "no declared review"
    paths.append(
        PathContribution(
            connector="",
            system=None,
            action="output",
            tools=(),
            status="reviewed" if out.review_tier else "unreviewed",
            failure_class="wrong_output",
            datasets=(),
            people_groups=(),
            capability=out.capability,
            reach=out.reach,
            autonomy=out.autonomy,
            contribution=out.blast_radius,
            share=out.blast_radius / total if total else 0.0,
            sentence=(
                f"Its output goes {dest} to about {_plural(out.audience, 'readers')}"
                + ("" if out.audience_known else " (audience not given: a conservative stand-in)")
                + f", with {tier}. Capability {out.capability:.1f} × reach {out.reach:.2f} × autonomy "
                f"{out.autonomy:.2f} = {out.blast_radius:.1f} ({(out.blast_radius / total if total else 0):.0%})."
            ),
        )
    )
    return Explanation(
        plugin=plugin,
        blast_radius=total,
        by_class=dict(ps.by_class),
        paths=tuple(paths),
        prompts=tuple(prompts),
        blocked=tuple(blocked),
        way_out=ps.way_out,
        # each dataset or group once, however many of its actions reach it (the score table's ``unknowns``)
        unknowns=analysis.reach(plugin).total().unknowns + (0 if out.audience_known else 1),
        untrusted_inputs=ps.untrusted_inputs,
        untrusted_factor=ps.untrusted_factor,
    )


def format_explanation(inventory: Inventory, explanation: Explanation) -> str:
    """The explanation as plain text for a reader who does not read code."""
    e = explanation
    p = inventory.plugin_by_id[e.plugin]
    lines = [
        f"{p.label} ({e.plugin}), owned by {p.owner}",
        f"Blast radius {e.blast_radius:.1f}: wrong action {e.by_class['wrong_action']:.1f}, "
        f"data leakage {e.by_class['data_leakage']:.1f}, wrong output {e.by_class['wrong_output']:.1f}.",
    ]
    if e.untrusted_inputs:
        names = ", ".join(e.untrusted_inputs[:3]) + (
            f" and {len(e.untrusted_inputs) - 3} more" if len(e.untrusted_inputs) > 3 else ""
        )
        lines.append(
            f"It takes in untrusted content ({names}), which can carry injected instructions: its wrong-action "
            f"and data-leakage paths count ×{e.untrusted_factor:g} (untrusted_input_factor)."
        )
    lines += ["", "Where it comes from, largest first:"]
    for i, path in enumerate(e.paths, 1):
        lines.append(f"  {i}. {path.sentence}")
    if e.prompts:
        lines += ["", "Approval prompts a person sees before a gated action runs:"]
        lines += [f'  - {tool}: "{prompt}"' for tool, prompt in e.prompts]
    if e.blocked:
        lines += ["", "Cannot run:"]
        groups: dict[str, list[str]] = {}
        for tool, reason in e.blocked:
            if "is not given tool" in reason:
                reason = "not given to this plugin"
            elif reason.endswith("is read-only"):
                reason = "the connector is read-only"
            groups.setdefault(reason, []).append(tool)
        lines += [f"  - {reason}: {', '.join(tools)}" for reason, tools in groups.items()]
    if e.unknowns:
        lines += [
            "",
            f"{e.unknowns} size(s) are not given: the figures above leave them out (lower bounds), the score "
            "counts them at conservative stand-ins; fill them in to sharpen both.",
        ]
    return "\n".join(lines)
