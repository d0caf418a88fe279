"""The analysis context: an inventory, the settings of one analysis, and what is derived from them.

:class:`Analysis` is what a caller creates and passes when several analyses
run on one inventory: it holds the validated settings (scoring weights,
simulation assumptions) and computes once, on first use, what every analysis
derives from the records — each connector's scope, each plugin's reach, the
scorer's shared tables. The :class:`~blastradius.model.Inventory` itself stays
immutable and holds nothing derived.

Every public analysis function also accepts a bare inventory for convenience;
it then builds a fresh context, used for that call only::

    >>> from blastradius import load_inventory
    >>> from blastradius.scores import score_plugins
    >>> inv = load_inventory("inventories/acme")
    >>> a = Analysis(inv, weights={"gate_miss_rate": 0.2})
    >>> a.reach("renewal-campaigns") is a.reach("renewal-campaigns")
    True
    >>> score_plugins(a).equals(score_plugins(inv, weights={"gate_miss_rate": 0.2}))
    True
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from blastradius.errors import BlastRadiusError
from blastradius.model import Inventory, Plugin
from blastradius.reach import ConnectorCache, PluginReach, ScopeIndex, changed_connectors, plugin_reach
from blastradius.settings import Assumptions, Weights, load_assumptions, load_weights

__all__ = ["Analysis", "WeightsLike", "analysis_of"]

#: What a ``weights=`` argument accepts: a file, a mapping of overrides, a Weights object, or None for the defaults.
WeightsLike = Weights | Mapping[str, Any] | str | Path | None

_T = TypeVar("_T")


class Analysis:
    """An inventory with the settings of one analysis; what analyses derive from them is computed once and kept here.

    Parameters
    ----------
    inventory : Inventory
    weights : path, mapping, Weights or None, keyword-only
        Scoring weights over the defaults and the inventory's own ``weights:`` section.
    assumptions : path, mapping, Assumptions or None, keyword-only
        Simulation assumptions over the defaults and the inventory's ``assumptions:`` section;
        an ``Assumptions`` object is used as it is.

    Notes
    -----
    Everything kept is a pure function of (inventory, settings): two contexts
    of the same inputs give the same numbers. A what-if changes the inventory,
    so it gets a context of its own (:meth:`derive`).
    """

    def __init__(self, inventory: Inventory, *, weights: WeightsLike = None, assumptions: Any = None) -> None:
        if not isinstance(inventory, Inventory):
            raise BlastRadiusError(f"an Analysis needs an Inventory, got {type(inventory).__name__}")
        self.inventory = inventory
        self.weights: Weights = load_weights(weights, inventory=inventory)
        self._assumptions_source = assumptions
        if isinstance(assumptions, Assumptions):  # validated already (e.g. shared by the two sides of a comparison)
            self.__dict__["assumptions"] = assumptions
        self._reach: dict[str, PluginReach] = {}
        self._memo: dict[Hashable, Any] = {}
        self._per_connector: list[Hashable] = []  # keys of the memo kept per connector

    def __repr__(self) -> str:
        return f"Analysis({self.inventory.source or 'inventory'!r}, {len(self.inventory.plugins)} plugins)"

    @cached_property
    def assumptions(self) -> Assumptions:
        """The simulation assumptions of this analysis (validated when first asked for)."""
        return load_assumptions(self._assumptions_source, inventory=self.inventory)

    @cached_property
    def scope(self) -> ScopeIndex:
        """Each connector's scope applied once, for every tool and plugin (the fast path of reach)."""
        return ScopeIndex(self.inventory)

    def reach(self, plugin: str | Plugin) -> PluginReach:
        """What ``plugin`` reaches, action by action (:func:`blastradius.reach.plugin_reach`), computed once.

        A ``Plugin`` that is not the inventory's own record (a what-if copy) is computed as given, never kept.
        """
        if isinstance(plugin, Plugin) and self.inventory.plugin_by_id.get(plugin.id) is not plugin:
            return plugin_reach(self.inventory, plugin, reach_of=self.scope.tool_reach)
        pid = plugin if isinstance(plugin, str) else plugin.id
        hit = self._reach.get(pid)
        if hit is None:
            p = self.inventory.require("plugin", pid)
            hit = self._reach[pid] = plugin_reach(self.inventory, p, reach_of=self.scope.tool_reach)
        return hit

    def memo(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """``build()``, computed once per ``key`` in this context: how analyses keep what they derive.

        Keys are namespaced by the analysis that stores them (``("scores", ...)``).
        """
        if key not in self._memo:
            value = self._memo[key] = build()
            if isinstance(value, ConnectorCache) or callable(getattr(type(value), "derived", None)):
                self._per_connector.append(key)  # what a what-if's context reads through (derive)
        return self._memo[key]

    def with_settings(self, *, weights: WeightsLike = None, assumptions: Any = None) -> Analysis:
        """A context of the same inventory with other settings, sharing what does not depend on them (scope, reach).

        A setting not given keeps this context's own.
        """
        other = Analysis(
            self.inventory,
            weights=self.weights if weights is None else weights,
            assumptions=self._assumptions_source if assumptions is None else assumptions,
        )
        other.__dict__["scope"] = self.scope
        other._reach = self._reach
        return other

    def derive(self, inventory: Inventory) -> Analysis:
        """A context of a changed inventory (a what-if) with the same settings.

        When the what-if keeps this inventory's datasets and people (every lever does), what this
        context derived for the connectors both hold unchanged (the same records) is read through,
        not computed again: each connector's scope and, per connector, the scorer's shared work and
        the levers' access data. What concerns plugins is derived afresh.
        """
        other = Analysis(inventory, weights=self.weights, assumptions=self._assumptions_source)
        if (
            "scope" not in self.__dict__
            or inventory.datasets is not self.inventory.datasets
            or inventory.people is not self.inventory.people
        ):
            return other
        changed = changed_connectors(self.inventory, inventory)
        scope = other.__dict__["scope"] = self.scope.derived(inventory)
        for key in self._per_connector:  # per-connector work: ConnectorCache, the scorer's shared tables
            value = self._memo[key]
            other._memo[key] = (
                value.derived(changed=changed) if isinstance(value, ConnectorCache) else value.derived(scope, changed)
            )
            other._per_connector.append(key)
        return other


def analysis_of(source: Inventory | Analysis, *, weights: WeightsLike = None, assumptions: Any = None) -> Analysis:
    """``source`` as an :class:`Analysis`: an analysis as it is, an inventory in a fresh one.

    Settings given with an analysis replace its own (the scope and reach it
    has computed are shared, since they do not depend on them).

    Raises
    ------
    BlastRadiusError
        When ``source`` is neither.
    """
    if isinstance(source, Analysis):
        if weights is None and assumptions is None:
            return source
        return source.with_settings(weights=weights, assumptions=assumptions)
    if isinstance(source, Inventory):
        return Analysis(source, weights=weights, assumptions=assumptions)
    raise BlastRadiusError(f"expected an Inventory or an Analysis, got {type(source).__name__}")
