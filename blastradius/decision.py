"""What to ask leadership for: each control's risk removed beside its collateral, the package, and its owners and dates.

Read off :mod:`blastradius.levers` (every candidate control, tried once and checked to remove
access only) and nothing else; plain tables out, for the report and the command line:

- :func:`control_options`: one row per control with the share of the enterprise blast-radius
  score it removes and what it costs the people who use the plugins: tools that stop working,
  tools that then need a human, tables and recipient lists no longer reachable, teams
  affected; who owns it (:func:`owner_of`) and by when (:data:`DUE_DAYS`);
- :func:`pareto_front`: the controls no other control beats on both risk removed and uses lost
  (the stated ranking rule, never a hidden weight);
- :func:`control_package`: the controls to approve now: every control that stops nothing and
  loses nothing a team uses (approval gates, row limits, masked columns), the largest first;
  controls that do stop something are trade-offs for leadership to decide, not part of it;
- :func:`apply_package`: the inventory with the whole package applied, to score and simulate
  together (on common random numbers with the baseline: :mod:`blastradius.simulate`);
- :func:`comparison_controls`: the changes between two inventories
  (:func:`blastradius.diff.diff_inventories`) grouped by kind of control, widenings counted apart.

Examples
--------
>>> from blastradius import load_inventory
>>> from blastradius.analysis import Analysis
>>> import datetime as dt
>>> a = Analysis(load_inventory("inventories/acme"))
>>> options = control_options(a, as_of=dt.date(2026, 11, 21))
>>> package = control_package(options)
>>> bool((package.uses_lost == 0).all()), package.kind.iloc[0]
(True, 'gate')
>>> str(package.due.iloc[0])
'2026-12-05'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blastradius.analysis import Analysis, analysis_of
from blastradius.errors import BlastRadiusError
from blastradius.levers import AccessChange, LeverKind, LeverResult, candidate_levers, evaluate_levers
from blastradius.model import Inventory

__all__ = [
    "CHANGE_GROUPS",
    "COLLATERAL_COLUMNS",
    "DUE_DAYS",
    "DUE_RULE",
    "KIND_WORDS",
    "OPTION_COLUMNS",
    "RANKING_RULE",
    "Owner",
    "apply_package",
    "collateral",
    "comparison_controls",
    "control_options",
    "control_words",
    "control_package",
    "due_date",
    "evaluate_controls",
    "owner_of",
    "pareto_front",
    "rank_controls",
    "ranking",
]

#: Days from the report's date to each control's due date, by the factor it lowers (DOMAIN.md D2): a gate is a
#: setting of the plugin; a scope is a connector change its approver signs again; taking capability away changes
#: how teams work, so they need notice.
DUE_DAYS = {"autonomy": 14, "reach": 30, "capability": 45}

#: :data:`DUE_DAYS` in words, as the report states it.
DUE_RULE = (
    "approval gates within 2 weeks (a setting of the plugin), scope changes within 30 days (row limits, masked "
    "columns, allowed tables, split connectors: a change the connector's approver signs again), removals within "
    "45 days (read-only, blocked tools, removed connectors: the teams affected change how they work)"
)

#: The rule :func:`rank_controls` orders controls by, in words (the report's decision page and ``recommend``).
RANKING_RULE = (
    "controls on the Pareto front first (no other control removes as much risk or more while losing no more uses: "
    "tool uses stopped, tables and recipient lists lost), from the least collateral to the most; then the rest by "
    "risk removed"
)

#: Each kind of control in a reader's words.
KIND_WORDS = {
    LeverKind.GATE.value: "approval gate",
    LeverKind.ROW_LIMIT.value: "row limit",
    LeverKind.DENY_COLUMNS.value: "masked columns",
    LeverKind.RESTRICT_TABLES.value: "allowed tables",
    LeverKind.SPLIT_CONNECTOR.value: "connector split",
    LeverKind.READ_ONLY.value: "read-only connector",
    LeverKind.BLOCK.value: "blocked tools",
    LeverKind.REMOVE_CONNECTOR.value: "connector removed",
}

#: The effort of each kind of control, in words (shown beside its collateral; never a number that ranks).
_EFFORT = {
    "autonomy": "low: a setting of the plugin; reviewers approve each such action",
    "reach": "medium: a connector change its approver signs again",
    "capability": "high: teams lose a function and change how they work",
}

#: What a control costs the plugins' users: the keys of :func:`collateral`.
COLLATERAL_COLUMNS = (
    "tools_gated",
    "tools_stopped",
    "tables_lost",
    "recipient_lists_lost",
    "recipients_lost",
    "rows_capped",
    "columns_masked",
    "uses_lost",
    "teams_affected",
    "teams",
    "collateral",
)
#: Columns of :func:`control_options`.
OPTION_COLUMNS = (
    "option",
    "control",
    "kind",
    "kind_words",
    "factor",
    "target",
    "plugins",
    "risk_removed",
    "risk_removed_pct",
    *COLLATERAL_COLUMNS,
    "effort",
    "owner",
    "owner_source",
    "due",
    "no_regret",
    "on_front",
)


@dataclass(frozen=True, kw_only=True)
class Owner:
    """Who owns a control, and where in the inventory that comes from."""

    name: str
    source: str


def _team_name(inv: Inventory, team: str) -> str:
    t = inv.team_by_id.get(team)
    return t.name if t is not None and t.name else team


def owner_of(inv: Inventory, kind: str, target: str) -> Owner:
    """The owner of a control on ``target`` (a plugin for gates, blocks and removals; else a connector).

    A plugin's control belongs to the plugin's owner team. A connector's belongs to its approver
    (``approved_by`` on the connector, else in the governance config), else to the owner of its system,
    else to the owner team of the plugin that uses it most.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> owner_of(inv, "gate", "ap-autopilot")
    Owner(name='Accounts Payable', source="owner team of plugin 'ap-autopilot'")
    >>> owner_of(inv, "read-only", "crm").source
    "approver of connector 'crm' in the governance config"
    """
    if kind in (LeverKind.GATE.value, LeverKind.BLOCK.value, LeverKind.REMOVE_CONNECTOR.value):
        plugin = inv.plugin_by_id.get(target)
        if plugin is None:
            raise BlastRadiusError(f"no plugin '{target}' to own a {kind} control")
        return Owner(name=_team_name(inv, plugin.owner), source=f"owner team of plugin '{target}'")
    conn = inv.connector_by_id.get(target)
    if conn is None:
        raise BlastRadiusError(f"no connector '{target}' to own a {kind} control")
    governed = inv.governance.connectors.get(target)
    if governed is not None and governed.approved_by:
        return Owner(name=governed.approved_by, source=f"approver of connector '{target}' in the governance config")
    if conn.approved_by:
        return Owner(name=conn.approved_by, source=f"approver of connector '{target}'")
    system = inv.system_by_id.get(conn.system) if conn.system else None
    if system is not None and system.owner:
        return Owner(name=system.owner, source=f"owner of system '{system.id}' (connector '{target}' has no approver)")
    users = [p for p in inv.plugins if target in p.connector_ids]
    if users:
        top = max(users, key=lambda p: (sum(n for _, n in inv.users_of(p)), p.id))
        return Owner(
            name=_team_name(inv, top.owner),
            source=f"owner team of plugin '{top.id}', its largest user (connector '{target}' has no approver)",
        )
    return Owner(name="unassigned", source=f"connector '{target}' has no approver and no user")


def due_date(factor: str, as_of: dt.date) -> dt.date:
    """When a control lowering ``factor`` is due: :data:`DUE_DAYS` after ``as_of``.

    Examples
    --------
    >>> due_date("reach", dt.date(2026, 11, 21))
    datetime.date(2026, 12, 21)
    """
    return as_of + dt.timedelta(days=DUE_DAYS[factor])


_SELECTOR = re.compile(r"\b[A-Za-z0-9][A-Za-z0-9_-]*\.([^\s,]+)")


def _first(items: str, n: int = 3) -> str:
    """'a, b, c, d, e' -> 'a, b, c and 2 more' (and 'a, …, e and 9 more' counts the 9): a long list in a sentence."""
    m = re.search(r" and (\d+) more$", items)
    extra = int(m.group(1)) if m else 0
    parts = [p.strip() for p in (items[: m.start()] if m else items).split(",") if p.strip()]
    left = len(parts) - n + extra if len(parts) > n else extra
    return ", ".join(parts[:n]) + (f" and {left} more" if left > 0 else "")


def control_words(kind: str, description: str) -> str:
    """A lever's description in a reader's words: 'gate send on p: c.t1' -> 'Human approval before p can send (t1)'."""
    m = re.match(r"(gate|block) (\w+) on ([^:]+): (.*)", description)
    if m:
        verb, action, plugin, tools = m.groups()
        tools = _first(_SELECTOR.sub(r"\1", tools))
        if verb == "gate":
            return f"Human approval before {plugin} can {action} ({tools})"
        return f"Stop {plugin} from calling its {action} tools ({tools})"
    m = re.match(r"remove connector (\S+) from (\S+)", description)
    if m:
        return f"Take connector {m.group(1)} away from {m.group(2)}"
    words = {
        LeverKind.READ_ONLY.value: lambda d: d.replace("make ", "Make connector ", 1),
        LeverKind.ROW_LIMIT.value: lambda d: d.replace("limit ", "Limit connector ", 1),
        LeverKind.DENY_COLUMNS.value: lambda d: d.replace("mask personal columns on ", "Mask personal columns on ", 1),
        LeverKind.RESTRICT_TABLES.value: lambda d: d.replace("allow ", "Allow connector ", 1),
        LeverKind.SPLIT_CONNECTOR.value: lambda d: d.replace("split ", "Split connector ", 1),
    }
    text = words.get(kind, lambda d: d)(description)
    head, colon, items = text.partition(": ")
    if colon and kind in (LeverKind.DENY_COLUMNS.value, LeverKind.RESTRICT_TABLES.value):
        text = f"{head}: {_first(items)}"
    m = re.match(r"(.*)\(([^()]*)\)$", text)
    if m and kind == LeverKind.SPLIT_CONNECTOR.value:
        text = f"{m.group(1)}({_first(m.group(2))})"
    return text[:1].upper() + text[1:]


def collateral(changes: Sequence[AccessChange], inv: Inventory) -> dict[str, object]:
    """What a control costs the plugins' users, counted from its access changes: tools gated and stopped, tables
    and recipient lists lost (and the people on them), tables row-capped and masked, ``uses_lost`` (tool uses
    stopped plus tables and recipient lists lost), teams affected, and all of it in words (``collateral``)."""
    gated = {(c.plugin, c.detail) for c in changes if c.what == "needs a human"}
    stopped = {(c.plugin, c.detail) for c in changes if c.what == "stops working"}
    tables = {c.detail.split(" on ", 1)[-1] for c in changes if c.what == "loses data"}
    capped = {c.detail.split(": ", 1)[0].split(" on ", 1)[-1] for c in changes if c.what == "capped"}
    masked = {c.detail.split(": ", 1)[0].split(" on ", 1)[-1] for c in changes if c.what == "masked"}
    groups: set[str] = set()
    for c in changes:
        if c.what == "loses people":
            groups.update(g.strip() for g in c.detail.split(": ", 1)[-1].split(","))
    recipients = sum(
        (inv.people_by_id[g].count or 0) for g in groups if g in inv.people_by_id and inv.people_by_id[g].count
    )
    touched = {c.plugin for c in changes}
    teams: set[str] = set()
    for pid in touched:
        plugin = inv.plugin_by_id.get(pid)
        if plugin is not None:
            teams.add(plugin.owner)
            teams.update(u.team for u in plugin.users)
    parts = []
    if stopped:
        parts.append(f"{len(stopped):,} tool use{'s' if len(stopped) != 1 else ''} stop")
    if tables:
        parts.append(f"{len(tables):,} table{'s' if len(tables) != 1 else ''} lost")
    if groups:
        parts.append(f"{len(groups):,} recipient list{'s' if len(groups) != 1 else ''} lost ({recipients:,} people)")
    if gated:
        parts.append(
            f"{len(gated):,} tool{'s' if len(gated) != 1 else ''} need{'s' if len(gated) == 1 else ''} approval"
        )
    if capped:
        parts.append(f"{len(capped):,} table{'s' if len(capped) != 1 else ''} row-capped")
    if masked:
        parts.append(f"{len(masked):,} table{'s' if len(masked) != 1 else ''} masked")
    return {
        "tools_gated": len(gated),
        "tools_stopped": len(stopped),
        "tables_lost": len(tables),
        "recipient_lists_lost": len(groups),
        "recipients_lost": recipients,
        "rows_capped": len(capped),
        "columns_masked": len(masked),
        "uses_lost": len(stopped) + len(tables) + len(groups),
        "teams_affected": len(teams),
        "teams": ", ".join(sorted(_team_name(inv, t) for t in teams)),
        "collateral": "; ".join(parts) or "nothing the plugins use changes",
    }


def evaluate_controls(source: Inventory | Analysis, *, plugins: int | None = None) -> tuple[list[LeverResult], int]:
    """The candidate controls tried (:func:`blastradius.levers.evaluate_levers`), and how many candidates there were.

    With ``plugins`` set and more plugins than that in the inventory, only the controls on the ``plugins``
    plugins of widest blast radius, and on the connectors they use, are tried: each try rescores a changed
    inventory, and at thousands of plugins trying all of them takes longer than the rest of an analysis.
    Each control tried is checked as :func:`~blastradius.levers.evaluate_levers` checks it: it removes access
    and adds none.

    Raises
    ------
    WidenedAccessError
        If a control would widen some plugin's access (a defect, never expected).
    """
    analysis = analysis_of(source)
    inv = analysis.inventory
    if plugins is None or len(inv.plugins) <= plugins:
        results = evaluate_levers(analysis)
        return results, len(results)
    from blastradius.scores import score_plugins

    top = set(score_plugins(analysis).plugin.head(plugins))
    connectors = {c for pid in top for c in inv.plugin_by_id[pid].connector_ids}
    candidates = candidate_levers(analysis)
    chosen = [
        lever
        for lever in candidates
        if (lever.kind.factor != "reach" and lever.kind is not LeverKind.READ_ONLY and lever.target in top)
        or ((lever.kind.factor == "reach" or lever.kind is LeverKind.READ_ONLY) and lever.target in connectors)
    ]
    results = evaluate_levers(analysis, levers=chosen)
    return results, len(candidates)


def control_options(
    source: Inventory | Analysis,
    *,
    results: Sequence[LeverResult] | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Every candidate control with the risk it removes, its collateral, owner, due date and place on the front.

    Parameters
    ----------
    source : Inventory or Analysis
    results : list of LeverResult, optional
        :func:`blastradius.levers.evaluate_levers` of ``source``, if already computed.
    as_of : date, optional
        The date due dates count from (default: today).

    Returns
    -------
    DataFrame
        :data:`OPTION_COLUMNS`, ranked by the stated rule: the controls on the Pareto front
        (:func:`pareto_front`) first, from the least collateral to the most, then the others by risk
        removed. ``risk_removed_pct`` is the share of the enterprise blast-radius score (the sum of every
        plugin's score) the control removes on its own; ``uses_lost`` is tool uses stopped plus tables
        and recipient lists no longer reachable; ``no_regret`` marks a control that loses none.
    """
    analysis = analysis_of(source)
    inv = analysis.inventory
    as_of = as_of or dt.date.today()
    results = list(evaluate_levers(analysis) if results is None else results)
    from blastradius.scores import score_plugins

    total = float(score_plugins(analysis).blast_radius.sum())
    rows = []
    for i, r in enumerate(results):
        lever = r.lever
        removed = float(sum(r.before.values()) - sum(r.after.values()))
        owner = owner_of(inv, lever.kind.value, lever.target)
        rows.append(
            {
                "option": i,
                "control": control_words(lever.kind.value, lever.description),
                "kind": lever.kind.value,
                "kind_words": KIND_WORDS[lever.kind.value],
                "factor": lever.kind.factor,
                "target": lever.target,
                "plugins": len(lever.plugins),
                "risk_removed": removed,
                "risk_removed_pct": 100 * removed / total if total > 0 else 0.0,
                **collateral(r.changes, inv),
                "effort": _EFFORT[lever.kind.factor],
                "owner": owner.name,
                "owner_source": owner.source,
                "due": due_date(lever.kind.factor, as_of),
            }
        )
    df = pd.DataFrame(rows, columns=[c for c in OPTION_COLUMNS if c not in ("no_regret", "on_front")])
    df = df[df.risk_removed > 1e-9].reset_index(drop=True)
    df["no_regret"] = df.uses_lost == 0
    return rank_controls(df)


def rank_controls(options: pd.DataFrame, *, risk: str = "risk_removed", cost: str = "uses_lost") -> pd.DataFrame:
    """``options`` in the order of the stated rule (:data:`RANKING_RULE`, :func:`ranking`), with ``on_front`` set.

    Examples
    --------
    >>> df = pd.DataFrame({"risk_removed": [10, 8, 12, 3], "uses_lost": [0, 0, 5, 1]})
    >>> ranked = rank_controls(df)
    >>> ranked.risk_removed.tolist(), ranked.on_front.tolist()
    ([10, 12, 8, 3], [True, True, False, False])
    """
    order, on_front = ranking(options[risk].to_numpy(dtype=float), options[cost].to_numpy(dtype=float))
    df = options.assign(on_front=on_front)
    return df.iloc[order].reset_index(drop=True)


def ranking(risk: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order of the stated rule (:data:`RANKING_RULE`) and which controls are on the Pareto front.

    The controls on the Pareto front of ``risk`` removed against ``cost`` (:func:`pareto_front`) come
    first, from the least collateral to the most (the most risk first at equal cost); then the others,
    from the most risk removed (the least cost first at equal risk). Ties keep their given order.

    Examples
    --------
    >>> order, front = ranking(np.array([10.0, 8, 12, 3]), np.array([0.0, 0, 5, 1]))
    >>> order.tolist(), front.tolist()
    ([0, 2, 1, 3], [True, False, True, False])
    """
    on = _front(risk, cost)
    idx = np.arange(len(risk))
    front, rest = idx[on], idx[~on]
    front = front[np.lexsort((-risk[front], cost[front]))]  # stable: ties keep their order
    rest = rest[np.lexsort((cost[rest], -risk[rest]))]
    return np.concatenate([front, rest]).astype(np.intp), on


def pareto_front(options: pd.DataFrame, *, risk: str = "risk_removed", cost: str = "uses_lost") -> np.ndarray:
    """Which controls are on the Pareto front: no other removes at least as much risk with no more collateral.

    A control is dominated when another removes at least as much ``risk`` at no more ``cost``, and
    more risk or less cost; the front is every control that is not. Ties on both are all kept.

    Examples
    --------
    >>> df = pd.DataFrame({"risk_removed": [10, 8, 12, 12, 3], "uses_lost": [0, 0, 5, 9, 1]})
    >>> pareto_front(df).tolist()
    [True, False, True, False, False]
    """
    return _front(options[risk].to_numpy(dtype=float), options[cost].to_numpy(dtype=float))


def _front(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """:func:`pareto_front` of arrays: risk removed ``r`` against cost ``c``."""
    order = np.lexsort((-r, c))  # least cost first, the most risk first within a cost
    on = np.zeros(len(r), dtype=bool)
    best = -np.inf
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and c[order[j]] == c[order[i]]:
            j += 1
        top = r[order[i]]
        if top > best:
            for k in order[i:j]:
                on[k] = r[k] == top
            best = top
        i = j
    return on


def control_package(options: pd.DataFrame, *, min_share: float = 0.0, max_controls: int | None = None) -> pd.DataFrame:
    """The controls to approve now: every no-regret control (nothing a team uses is lost), the largest first.

    Parameters
    ----------
    options : DataFrame
        :func:`control_options`.
    min_share : float
        Leave out controls that remove less than this percentage of the enterprise score.
    max_controls : int, optional
        At most this many (the largest); all by default.
    """
    package = options[options.no_regret & (options.risk_removed_pct >= min_share)]
    package = package.sort_values(["risk_removed", "option"], ascending=[False, True], kind="mergesort")
    if max_controls is not None:
        package = package.head(max_controls)
    return package.reset_index(drop=True)


def apply_package(
    source: Inventory | Analysis, package: pd.DataFrame, *, results: Sequence[LeverResult] | None = None
) -> tuple[Inventory, list[str]]:
    """The inventory with every control of ``package`` applied, in order; and the controls that could not be.

    ``results`` must be those ``package`` was built from (its ``option`` column indexes them).
    A control that no longer applies once the others are (it names a tool another took away) is skipped
    and named.
    """
    analysis = analysis_of(source)
    results = list(evaluate_levers(analysis) if results is None else results)
    inv = analysis.inventory
    skipped = []
    for option, words in zip(package.option, package.control, strict=True):
        try:
            inv = results[int(option)].lever.apply(inv)
        except BlastRadiusError:
            skipped.append(str(words))
    return inv, skipped


# ---------------------------------------------------------------------------
# The comparison explained: what distinguishes two inventories, by kind of control
# ---------------------------------------------------------------------------

#: Kinds of control a change between two inventories belongs to, in the order the report lists them.
CHANGE_GROUPS = (
    "approval gates",
    "tools stopped or removed",
    "connector scopes",
    "what plugins reach",
    "tools made reversible or narrower",
    "audit log and alerts",
    "connectors added, removed or split",
    "plugins added or retired",
    "output review",
    "approvals and review tiers",
    "plugin settings as written",
    "users",
)


def _change_group(kind: str, field: str, direction: str) -> str:
    if kind == "plugin":
        if direction in ("added", "removed"):
            return "plugins added or retired"
        if field in ("needs a human", "now gated"):
            return "approval gates"
        if field in ("stops working", "now ungated"):
            return "tools stopped or removed"
        if field in ("loses data", "capped", "masked", "loses people", "gains data", "gains people"):
            return "what plugins reach"
        if field in ("more rows", "more sensitive"):
            return "what plugins reach"
        if field in ("output", "review_tier"):
            return "output review"
        if field == "users":
            return "users"
        return "plugin settings as written"
    if kind == "tool":
        return "tools stopped or removed" if direction in ("added", "removed") else "tools made reversible or narrower"
    if direction in ("added", "removed"):
        return "connectors added, removed or split"
    if field == "requires_approval":
        return "approval gates"
    if field.startswith("audit."):
        return "audit log and alerts"
    if field in ("tier", "approved_by", "approved_on"):
        return "approvals and review tiers"
    return "connector scopes"


_FIELD_WORDS = {
    "access": "access",
    "allowed_tables": "allowed tables",
    "denied_columns": "masked columns",
    "row_limit": "row limit",
    "requires_approval": "approval required",
    "audit.log_every_query": "every query logged",
    "audit.alert_if_rows_returned_over": "alert over rows returned",
    "audit.alert_if_sends_over": "alert over recipients",
    "fan_out": "fan-out",
    "approved_by": "approved by",
    "approved_on": "approved on",
    "review_tier": "review tier",
    "requires_approval_plugin": "approval required for",
    "blocked": "blocked tools",
    "connectors": "connectors",
}


def _words(text: str) -> str:
    """A value as the diff wrote it, in words: no Python lists, quotes or booleans."""
    t = re.sub(r"\bTrue\b", "yes", re.sub(r"\bFalse\b", "no", re.sub(r"\bNone\b", "none", text)))
    while "[" in t and "]" in t:
        t, n = re.subn(r"\[([^\[\]]*)\]", lambda m: f"({m.group(1)})" if m.group(1) else "(none)", t)
        if not n:
            break
    t = t.replace("'", "").replace('"', "")
    depth = 0
    for i, ch in enumerate(t):  # one pair of parentheses around the whole: drop it
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(t) - 1:
            break
    else:
        if t.startswith("(") and t.endswith(")"):
            t = t[1:-1] or "none"
    return t


def _change_words(c: object) -> str:
    """One change of :func:`blastradius.diff.diff_inventories` as a sentence, every value in words."""
    kind, subject = str(getattr(c, "kind", "")), str(getattr(c, "subject", ""))
    field, direction = str(getattr(c, "field", "")), str(getattr(c, "direction", ""))
    old, new = _words(str(getattr(c, "old", ""))), _words(str(getattr(c, "new", "")))
    what = _FIELD_WORDS.get(field, field.replace("_", " "))
    if direction in ("added", "removed"):
        return f"{kind} {subject} {direction}" + (f" ({what})" if field else "")
    if not old:
        return f"{kind} {subject}: {what} {new} ({direction})"
    if not new:
        return f"{kind} {subject}: {what} {old} ({direction})"
    return f"{kind} {subject}: {what} {old} → {new} ({direction})"


def comparison_controls(changes: Iterable[object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changes of :func:`blastradius.diff.diff_inventories`, grouped by kind of control, widenings apart.

    Returns
    -------
    (groups, changes) : DataFrames
        ``groups``: one row per kind of control (:data:`CHANGE_GROUPS` order) with ``changes``, ``narrowed``,
        ``widened`` and ``other`` counts and a few ``examples``. ``changes``: every change with its ``group``,
        its text and whether it ``widens`` access (an added connector or tool, a scope widened).
    """
    rows = []
    for c in changes:
        direction = str(getattr(c, "direction", ""))
        rows.append(
            {
                "group": _change_group(str(getattr(c, "kind", "")), str(getattr(c, "field", "")), direction),
                "kind": getattr(c, "kind", ""),
                "subject": getattr(c, "subject", ""),
                "field": getattr(c, "field", ""),
                "old": getattr(c, "old", ""),
                "new": getattr(c, "new", ""),
                "direction": direction,
                "widens": direction in ("widened", "added"),
                "change": _change_words(c),
            }
        )
    detail = pd.DataFrame(
        rows, columns=["group", "kind", "subject", "field", "old", "new", "direction", "widens", "change"]
    )
    groups = []
    for name in CHANGE_GROUPS:
        g = detail[detail.group == name]
        if g.empty:
            continue
        narrowed = int(g.direction.isin(["narrowed", "removed"]).sum())
        widened = int(g.widens.sum())
        shown = pd.concat([g[g.widens], g[~g.widens]]).change.head(3).tolist()
        groups.append(
            {
                "group": name,
                "changes": len(g),
                "narrowed": narrowed,
                "widened": widened,
                "other": len(g) - narrowed - widened,
                "examples": shown,
            }
        )
    return pd.DataFrame(groups, columns=["group", "changes", "narrowed", "widened", "other", "examples"]), detail
