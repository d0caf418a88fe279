"""Findings from the logs: tools used that the inventory does not list, and calls beyond the modelled bound.

The rules of :mod:`blastradius.rules` read an inventory; these read what the
logs show against it, so they are raised by ``blastradius calibrate`` (as
BR118 is by ``blastradius diff``); BR203 reads the calibrated gate catch. :data:`CALIBRATION_RULES` describes them
for SARIF and for ``lint``'s registry (:func:`blastradius.rules.rule_catalog`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from blastradius.calibrate.estimate import Estimate
from blastradius.calibrate.observe import Observations, Shadow
from blastradius.findings import Evidence, Finding, Severity, locate
from blastradius.model import Inventory
from blastradius.rules import RuleInfo

__all__ = ["CALIBRATION_RULES", "calibration_findings"]

#: Rules raised by ``blastradius calibrate`` from an organisation's logs, by id.
CALIBRATION_RULES: dict[str, RuleInfo] = {
    "BR201": RuleInfo(
        id="BR201",
        title="shadow access: a tool used that the inventory does not list",
        severity=Severity.HIGH,
        domain="D8, D9",
        description="The logs show calls the inventory does not allow or does not know: an MCP server no connector "
        "stands for, a tool its connector does not list, a connector or tool the plugin is not given, or a tool the "
        "plugin blocks. The model cannot bound what it does not know. High for an unknown server or a blocked tool "
        "that ran; medium for an unlisted tool of a known connector. Raised by `blastradius calibrate`.",
        check=None,
        raised_by="calibrate",
    ),
    "BR202": RuleInfo(
        id="BR202",
        title="observed reach above the modelled bound",
        severity=Severity.HIGH,
        domain="D2, D6",
        description="A logged call returned more rows, or addressed more recipients, than the inventory says one "
        "call can (the row limit, the tool's fan-out, what it reaches after the connector's scope): the scope is "
        "not enforced as written, or the inventory understates it. Raised by `blastradius calibrate`.",
        check=None,
        raised_by="calibrate",
    ),
    "BR203": RuleInfo(
        id="BR203",
        title="gates rubber-stamped: the logs bound the gate's catch below the assumption",
        severity=Severity.MEDIUM,
        domain="D4, D6",
        description="People at a plugin's approval prompts reject so few gated calls that, even if every rejection "
        "stopped a bad call and bad calls are as rare as the assumptions allow, they can catch at most the bound "
        "shown, below the assumed approval_gate_catch_rate: every caught bad call is a rejection, so catch x "
        "bad-call rate <= rejection rate. The calibrated overlay lowers the catch to the bound. Raised by "
        "`blastradius calibrate`.",
        check=None,
        raised_by="calibrate",
    ),
}

_SHADOW_FIX = {
    "unknown-server": "Add the server as a connector (with its tools, scope and system) or remove it from the "
    "deployment's MCP configuration; map a renamed server in the log mapping file's `servers:`.",
    "unknown-tool": "List the tool under the connector with its action, or disable it on the server.",
    "not-given": "Give the plugin the connector or tool in the inventory if it needs it; otherwise remove it from the "
    "plugin's configuration so the agent cannot call it.",
    "blocked": "The inventory says this cannot run: enforce the block (a deny rule, a read-only credential) and "
    "find out how it ran.",
}


def _finding(rule: str, **kwargs: object) -> Finding:
    info = CALIBRATION_RULES[rule]
    kwargs.setdefault("severity", info.severity)
    return Finding(rule=info.id, title=info.title, domain=info.domain, **kwargs)  # type: ignore[arg-type]


def _when(s: Shadow) -> str:
    if s.first is None or s.last is None:
        return ""
    return f" from {s.first:%Y-%m-%d} to {s.last:%Y-%m-%d}"


def _evidence(inventory: Inventory, kind: str, id: str, key: str, detail: str) -> Evidence:
    origin = inventory.origin(kind, id)
    if origin is None:
        return Evidence(file=None, path=f"{kind} {id}" + (f".{key}" if key else ""), detail=detail)
    return Evidence(file=origin.file, path=origin.path + (f".{key}" if key else ""), detail=detail)


def _shadow_findings(inventory: Inventory, obs: Observations) -> Iterator[Finding]:
    for (outcome, plugin, server, tool), s in sorted(obs.shadow.items()):
        name = f"{server}.{tool}" if server else tool
        detail = f"{s.calls:,} call{'s' if s.calls != 1 else ''} in the logs{_when(s)}"
        if plugin:
            evidence = _evidence(inventory, "plugin", plugin, "connectors", detail)
        elif outcome == "unknown-tool" and server:
            conn = next((c.id for c in inventory.connectors if c.id == server), None)
            evidence = (
                _evidence(inventory, "connector", conn, "tools", detail)
                if conn
                else Evidence(file=None, path=f"MCP server {server}", detail=detail)
            )
        else:
            evidence = Evidence(file=None, path=f"MCP server {server}" if server else "logs", detail=detail)
        severity = Severity.MEDIUM if outcome in ("unknown-tool", "not-given") else Severity.HIGH
        who = f"plugin '{plugin}'" if plugin else "an agent"
        yield _finding(
            "BR201",
            severity=severity,
            subject_kind="plugin" if plugin else "connector",
            subject=plugin or server or tool,
            message=f"{who} called {name}: {s.reason} ({detail}).",
            fix=_SHADOW_FIX[outcome],
            evidence=(evidence,),
        )


def _bound_findings(inventory: Inventory, obs: Observations) -> Iterator[Finding]:
    merged: dict[tuple[str, str, str], list[int]] = {}
    for (_, conn, tool), c in obs.tools.items():
        for measure in ("rows", "recipients"):
            above = getattr(c, f"{measure}_above")
            if above:
                m = merged.setdefault((conn, tool, measure), [0, 0, getattr(c, f"{measure}_bound") or 0])
                m[0] += above
                m[1] = max(m[1], getattr(c, f"{measure}_max"))
    for (conn, tool, measure), (above, peak, bound) in sorted(merged.items()):
        connector = inventory.connector_by_id[conn]
        limit = connector.row_limit
        key = "row_limit" if measure == "rows" and limit is not None and limit <= bound else "tools"
        noun = "rows returned" if measure == "rows" else "recipients"
        detail = f"{above:,} call{'s' if above != 1 else ''} above the bound of {bound:,}; the largest: {peak:,} {noun}"
        yield _finding(
            "BR202",
            subject_kind="connector",
            subject=conn,
            message=f"{conn}.{tool}: {detail}. One call reaches further than the inventory says it can.",
            fix="Enforce the limit in the connector (row limit, recipient cap) or correct the inventory "
            f"({'row_limit' if measure == 'rows' else 'the tool fan_out'}) to what the system really allows.",
            evidence=(_evidence(inventory, "connector", conn, key, detail),),
        )


def _gate_findings(inventory: Inventory, estimates: Iterable[Estimate]) -> Iterator[Finding]:
    for e in estimates:
        if e.quantity != "approval_gate_catch_rate" or e.prior is None or e.estimate >= e.prior:
            continue
        detail = e.note.removeprefix("gates rubber-stamped: ")
        yield _finding(
            "BR203",
            subject_kind="plugin",
            subject=e.plugin,
            message=f"plugin '{e.plugin}': gates rubber-stamped: at most {e.estimate:.1%} of bad calls can be caught "
            f"({detail}).",
            fix="Make the prompt say what is at stake (the target, the count, the recipients) and gate fewer, rarer "
            "actions so that each prompt gets attention; or take the action away instead of gating it.",
            evidence=(_evidence(inventory, "plugin", e.plugin, "requires_approval", detail),),
        )


def calibration_findings(inventory: Inventory, obs: Observations, estimates: Iterable[Estimate] = ()) -> list[Finding]:
    """BR201, BR202 and BR203 findings of one read of the logs, most severe first, with their lines located.

    BR203 reads the calibrated ``estimates`` (:func:`blastradius.calibrate.estimates`).
    """
    findings = [
        *_shadow_findings(inventory, obs),
        *_bound_findings(inventory, obs),
        *_gate_findings(inventory, estimates),
    ]
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.subject))
    return locate(findings, inventory=inventory)
