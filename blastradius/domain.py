"""The domain's rules as pure predicates: one home for each, imported everywhere.

What counts as a channel out of the organisation, which actions are high
impact, which plugins share a connector, who is an external recipient and how
long it takes to halt a plugin are decided here and nowhere else
(DOMAIN.md D2, D4, D5, D8, D9). Each function takes model records (or plain
values) and returns a plain value; none reads files or keeps state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol

from blastradius.model import (
    HIGH_IMPACT_ACTIONS,
    ActionClass,
    Connector,
    Inventory,
    OutputDestination,
    Plugin,
    Tool,
)

__all__ = [
    "BULK_WRITE_FAN_OUT",
    "HALT_TARGET_SECONDS",
    "INSIDE_ONLY",
    "HaltDefaults",
    "NO_WAY_OUT",
    "is_external_commitment",
    "is_channel_out",
    "is_high_impact",
    "is_high_impact_action",
    "is_recipient_action",
    "most_open_way_out",
    "output_leaves_unreviewed",
    "per_call_limit",
    "plugins_by_connector",
    "plugins_using",
    "time_to_halt",
    "time_to_revoke",
    "idle_plugins",
    "StandIns",
    "stand_ins",
    "untrusted_inputs",
    "WayOut",
]

#: Seconds within which a plugin should be paused and its connectors revoked (D8: "in seconds").
HALT_TARGET_SECONDS = 300.0

#: What a plugin with no channel out of the organisation is said to have as its way out.
NO_WAY_OUT = "no channel out of the organisation"

#: A write whose fan-out reaches this many records is a bulk write, high impact like a send
#: (the default of ``bulk_write_fan_out`` in ``data/weights.yaml``).
BULK_WRITE_FAN_OUT = 100

_RECIPIENT_ACTIONS = frozenset({ActionClass.SEND, ActionClass.SHARE})


def is_recipient_action(action: ActionClass) -> bool:
    """Whether the action addresses people (send, share) rather than tables.

    Examples
    --------
    >>> is_recipient_action(ActionClass.SEND), is_recipient_action(ActionClass.WRITE)
    (True, False)
    """
    return action in _RECIPIENT_ACTIONS


def per_call_limit(connector: Connector, tool: Tool, *, records_per_result: float) -> float:
    """The most one call of ``tool`` touches, before what it reaches caps it: records, or people for a send or share.

    A read returns at most what one tool result carries: the tool's declared
    fan-out where the inventory gives one, else ``records_per_result`` (the
    assumption ``magnitude.records_per_result``), and never more than the
    connector's row limit. Any other action touches at most its fan-out. The
    simulation's per-run bound and the calibration's per-call bound both start
    here; each then caps it by what the tool reaches (docs/simulation.md).

    Examples
    --------
    >>> from blastradius.model import Connector
    >>> conn = Connector.model_validate(
    ...     {
    ...         "id": "wh",
    ...         "row_limit": 500,
    ...         "tools": [{"name": "q", "action": "read"}, {"name": "s", "action": "send", "fan_out": 40}],
    ...     }
    ... )
    >>> (
    ...     per_call_limit(conn, conn.tool("q"), records_per_result=2000),
    ...     per_call_limit(conn, conn.tool("s"), records_per_result=2000),
    ... )
    (500.0, 40.0)
    """
    if tool.action is not ActionClass.READ:
        return float(tool.fan_out)
    carry = float(tool.fan_out) if "fan_out" in tool.model_fields_set else float(records_per_result)
    return carry if connector.row_limit is None else min(carry, float(connector.row_limit))


def is_channel_out(connector: Connector, tool: Tool) -> bool:
    """Whether ``tool`` is a channel out of the organisation: a send or share, or a non-read whose effect leaves it.

    A read never is: what it returns stays with the agent until another action
    carries it out (D5, data leakage).

    Examples
    --------
    >>> from blastradius.model import Connector, Tool
    >>> mail = Connector(id="mail", leaves_org=True, tools=[Tool(name="send", action="send")])
    >>> is_channel_out(mail, mail.tools[0])
    True
    >>> is_channel_out(mail, Tool(name="inbox", action="read"))
    False
    """
    if is_recipient_action(tool.action):
        return True
    return tool.action is not ActionClass.READ and connector.leaves_org_for(tool)


def idle_plugins(inventory: Inventory) -> tuple[str, ...]:
    """Plugins nobody runs: no users in the inventory (or none with runs a day), in inventory order.

    Their simulated figures are 0 because nobody runs them, not because they
    are safe: their blast radius applies as soon as anyone does. A report or
    a simulation that shows such zeros says why.
    """
    return tuple(p.id for p in inventory.plugins if inventory.runs_per_day(p) <= 0)


class StandIns(NamedTuple):
    """Facts an inventory leaves open, which analyses fill with conservative stand-ins.

    A figure that rests on one is a bound, not a fact: records and people left
    out are lower bounds (shown with "≥"), the score counts them at stand-ins.
    """

    datasets: tuple[str, ...]  #: datasets of unknown size (no ``records``)
    people: tuple[str, ...]  #: people groups of unknown count
    tools: tuple[str, ...]  #: ``connector.tool`` of unknown action

    @property
    def total(self) -> int:
        return len(self.datasets) + len(self.people) + len(self.tools)


def stand_ins(inventory: Inventory) -> StandIns:
    """The facts ``inventory`` leaves open: datasets of unknown size, people groups of unknown count, unknown tools.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> stand_ins(load_inventory("inventories/acme"))
    StandIns(datasets=('drv-legacy-exports',), people=('external-correspondents',), tools=())
    """
    return StandIns(
        datasets=tuple(d.id for d in inventory.datasets if d.records is None),
        people=tuple(g.id for g in inventory.people if g.count is None),
        tools=tuple(
            f"{c.id}.{t.name}" for c in inventory.connectors for t in c.tools if t.action is ActionClass.UNKNOWN
        ),
    )


def untrusted_inputs(tools: Iterable[tuple[Connector, Tool, bool]]) -> list[str]:
    """The tools, of ``(connector, tool, usable)`` triples, through which a plugin takes in untrusted content.

    Untrusted content (inbound email, web pages, outside tickets, shared
    documents) can carry injected instructions (D5, D8). Only a tool the plugin
    can call counts: blocking the last one removes the exposure. The lethal
    trifecta rule, the score and the simulation all ask this one question.

    Examples
    --------
    >>> from blastradius.model import Connector, Tool
    >>> web = Connector(id="web", tools=[Tool(name="fetch", action="read", untrusted_content=True)])
    >>> untrusted_inputs([(web, web.tools[0], True)]), untrusted_inputs([(web, web.tools[0], False)])
    (['web.fetch'], [])
    """
    return [f"{c.id}.{t.name}" for c, t, usable in tools if usable and t.untrusted_content]


def is_high_impact_action(
    action: ActionClass, fan_out: int = 1, *, bulk_write_fan_out: int = BULK_WRITE_FAN_OUT
) -> bool:
    """Send, delete, pay, sign, share, execute and unknown actions, and writes whose fan-out makes them bulk (D4).

    Examples
    --------
    >>> is_high_impact_action(ActionClass.PAY)
    True
    >>> is_high_impact_action(ActionClass.WRITE, 5), is_high_impact_action(ActionClass.WRITE, 500)
    (False, True)
    """
    if action in HIGH_IMPACT_ACTIONS:
        return True
    return action is ActionClass.WRITE and fan_out >= bulk_write_fan_out


def is_high_impact(tool: Tool, *, bulk_write_fan_out: int = BULK_WRITE_FAN_OUT) -> bool:
    """:func:`is_high_impact_action` of a tool: its action class and fan-out."""
    return is_high_impact_action(tool.action, tool.fan_out, bulk_write_fan_out=bulk_write_fan_out)


class WayOut(NamedTuple):
    """The most open way a plugin's reads can reach someone who should not see them (:func:`most_open_way_out`)."""

    share: float  # of leaks that get through it
    label: str  # what it is, in words
    internal: bool  # colleagues inside the organisation, not a channel out


#: What :func:`most_open_way_out` says when exposure inside the organisation is more open than any channel out.
INSIDE_ONLY = "colleagues inside the organisation (no channel out is more open)"


def most_open_way_out(
    plugin: Plugin, channels: Iterable[tuple[float, str]], *, output_miss: float, no_way_out: float
) -> WayOut:
    """How freely data a plugin reads can reach someone who should not see it, and how (D5, data leakage).

    The most open of its ways: colleagues inside the organisation
    (``no_way_out``, the share of leaks that stay internal but still count),
    each usable channel out (``(share of events that get through, label)``,
    e.g. 1.0 for an ungated send, a gate's miss rate for a gated one) and,
    when its output goes outside, the miss rate of its review
    (``output_miss``). Exposure inside the organisation is always there, so a
    channel out counts only when it is more open: adding a gated channel never
    lowers the share, and removing one never raises it. Ties keep the first
    way, inside first, then the output, then the channels.

    Examples
    --------
    >>> from blastradius.model import Plugin
    >>> p = Plugin(id="p", owner="t", output="external", review_tier=2)
    >>> most_open_way_out(p, [(0.1, "mail.send (gated)")], output_miss=0.3, no_way_out=0.2)
    WayOut(share=0.3, label='output leaves the organisation (review tier 2)', internal=False)
    >>> most_open_way_out(Plugin(id="q", owner="t"), [], output_miss=0.3, no_way_out=0.2).label
    'no channel out of the organisation'
    >>> gated = [(0.1, "mail.send (gated)")]
    >>> most_open_way_out(Plugin(id="r", owner="t"), gated, output_miss=0.3, no_way_out=0.2)
    WayOut(share=0.2, label='colleagues inside the organisation (no channel out is more open)', internal=True)
    """
    channels = list(channels)
    external = plugin.output is OutputDestination.EXTERNAL
    best = WayOut(no_way_out, INSIDE_ONLY if channels or external else NO_WAY_OUT, True)
    if external and output_miss > best.share:
        best = WayOut(
            output_miss, f"output leaves the organisation (review tier {plugin.review_tier or 'none'})", False
        )
    for share, label in channels:
        if share > best.share:
            best = WayOut(share, label, False)
    return best


def output_leaves_unreviewed(plugin: Plugin) -> bool:
    """Whether the plugin's output leaves the organisation with no named reviewer (review tier below 2, D7).

    Tier 1 is a spot-check: for output that leaves the organisation it counts as no review, an ungated
    channel out.

    Examples
    --------
    >>> from blastradius.model import Plugin
    >>> output_leaves_unreviewed(Plugin(id="p", owner="t", output="external", review_tier=1))
    True
    >>> output_leaves_unreviewed(Plugin(id="p", owner="t", output="external", review_tier=2))
    False
    """
    return plugin.output is OutputDestination.EXTERNAL and (plugin.review_tier or 0) < 2


def is_external_commitment(connector: Connector, tool: Tool) -> bool:
    """Whether a call commits the organisation to someone outside it: signing, paying, or a send that leaves it.

    What the seeds' prohibited use "auto-send external commitments without review" is about (D7).

    Examples
    --------
    >>> from blastradius.model import Connector, Tool
    >>> mail = Connector(id="mail", leaves_org=True)
    >>> (
    ...     is_external_commitment(mail, Tool(name="send", action="send")),
    ...     is_external_commitment(Connector(id="chat"), Tool(name="post", action="send")),
    ... )
    (True, False)
    """
    if tool.action in (ActionClass.SIGN, ActionClass.PAY):
        return True
    return tool.action is ActionClass.SEND and connector.leaves_org_for(tool)


def plugins_by_connector(inventory: Inventory) -> Mapping[str, tuple[str, ...]]:
    """Per connector id, the ids of the plugins that list it, in inventory order (connectors no plugin uses are absent).

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> len(plugins_by_connector(inv)["crm"]) > 1
    True
    """
    out: dict[str, list[str]] = {}
    for p in inventory.plugins:
        for cid in dict.fromkeys(p.connector_ids):
            out.setdefault(cid, []).append(p.id)
    return {cid: tuple(ids) for cid, ids in out.items()}


def plugins_using(inventory: Inventory, connector: str) -> tuple[str, ...]:
    """Ids of the plugins that list ``connector``, in inventory order."""
    return tuple(p.id for p in inventory.plugins if connector in p.connector_ids)


class HaltDefaults(Protocol):
    """Stand-ins for halting times an inventory does not give (the ``halt`` section of the assumptions)."""

    # read-only: the assumptions' settings are frozen
    @property
    def pause_seconds_if_not_given(self) -> float: ...
    @property
    def revoke_seconds_if_not_given(self) -> float: ...
    @property
    def unrehearsed_factor(self) -> float: ...


def time_to_halt(plugin: Plugin, connectors: Sequence[Connector], defaults: HaltDefaults | None = None) -> float | None:
    """Seconds from the decision to halt until ``plugin`` can do nothing more through ``connectors``.

    The faster of two ways (D9 step 6): pausing the plugin for all users, and
    revoking every one of ``connectors`` (the slowest revocation decides). Pass
    the connectors whose damage must stop: all of the plugin's to halt it, one
    to stop one of its actions, none for its output (which only a pause stops).

    Without ``defaults`` only what the inventory declares counts: a pause or a
    revocation with no time given is not a known way. With ``defaults`` (the
    simulation's assumptions) a time not given takes its stand-in and a kill
    switch never rehearsed is ``unrehearsed_factor`` slower. None means there
    is no known way (the simulation then assumes the plugin is unplugged by
    hand, in ``manual_hours``).

    Examples
    --------
    >>> from blastradius.model import Connector, Plugin
    >>> p = Plugin(id="p", owner="t", kill_switch={"can_pause": True, "time_to_pause_seconds": 60.0})
    >>> c = Connector(id="c", revocation={"can_revoke": True, "time_to_revoke_seconds": 30.0})
    >>> time_to_halt(p, [c]), time_to_halt(p, [])
    (30.0, 60.0)
    >>> time_to_halt(Plugin(id="q", owner="t"), [])
    """
    options: list[float] = []
    ks = plugin.kill_switch
    if ks is not None and ks.can_pause:
        seconds = ks.time_to_pause_seconds
        if defaults is not None:
            if seconds is None:
                seconds = defaults.pause_seconds_if_not_given
            if ks.rehearsed_on is None:
                seconds *= defaults.unrehearsed_factor
        if seconds is not None:
            options.append(seconds)
    revoke = time_to_revoke(connectors, defaults)
    if revoke is not None:
        options.append(revoke)
    return min(options) if options else None


def time_to_revoke(connectors: Sequence[Connector], defaults: HaltDefaults | None = None) -> float | None:
    """Seconds until every one of ``connectors`` is revoked or frozen (the slowest decides; D9 step 6).

    None when there is none, or one cannot be revoked in a known time (with
    ``defaults``, a revocable connector with no time given takes its stand-in).

    Examples
    --------
    >>> from blastradius.model import Connector
    >>> fast = Connector(id="a", revocation={"can_revoke": True, "time_to_revoke_seconds": 30.0})
    >>> slow = Connector(id="b", revocation={"can_revoke": True, "time_to_revoke_seconds": 900.0})
    >>> time_to_revoke([fast, slow]), time_to_revoke([fast, Connector(id="c")]), time_to_revoke([])
    (900.0, None, None)
    """
    seconds: list[float] = []
    for c in connectors:
        rv = c.revocation
        if rv is None or not rv.can_revoke:
            return None
        given = rv.time_to_revoke_seconds
        if given is None and defaults is not None:
            given = defaults.revoke_seconds_if_not_given
        if given is None:
            return None
        seconds.append(given)
    return max(seconds) if seconds else None
