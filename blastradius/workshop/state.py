"""What a workshop room has tried: the moves of its scenario, the library's figures of it, the scenarios kept.

Nothing here computes a figure: a scenario is the starting inventory changed by
the levers of :mod:`blastradius.levers` (and an assumption laid over the
inventory's own), and its figures are :func:`blastradius.scores.score_plugins`,
:func:`blastradius.simulate.simulate_failures` read by
:func:`~blastradius.simulate.summarize`,
:func:`~blastradius.simulate.exceedance_by_class` and
:func:`~blastradius.simulate.compare_results` against the starting inventory on
the same random numbers. The page (:mod:`blastradius.workshop.app`) shows them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd

from blastradius.analysis import Analysis
from blastradius.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from blastradius.errors import BlastRadiusError
from blastradius.levers import (
    with_alert,
    with_approval_gate,
    with_kill_switch,
    with_read_only,
    with_row_limit,
    with_tool_blocked,
)
from blastradius.model import ActionClass, Inventory, SettingsSource
from blastradius.overlay import apply_overlays, overlay_from_changes, write_inventory, write_overlay
from blastradius.scores import score_plugins
from blastradius.settings.files import deep_merge
from blastradius.simulate import (
    SimulationResult,
    compare_results,
    exceedance_by_class,
    simulate_failures,
    summarize,
)

__all__ = [
    "Figures",
    "MoveKind",
    "Kept",
    "Move",
    "Progress",
    "Session",
    "Stages",
    "Workshop",
    "apply_moves",
    "change_sentence",
    "describe_moves",
]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)

MoveKind = Literal["gate", "block", "read_only", "row_limit", "alert", "kill_switch", "catch_rate"]

#: Above this many plugins, figures are first shown from fewer trials (provisional), then refined.
LARGE_INVENTORY = 200
#: Trials of the provisional figures on a large inventory, and of the first figures on a small one.
QUICK_TRIALS_LARGE = 100
QUICK_TRIALS_SMALL = 1_000
#: Scenarios whose figures a workshop keeps for the rooms to go back to.
KEEP_FIGURES = 64
#: Trials of the final figures on a large inventory (small ones use the command line's default).
FULL_TRIALS_LARGE = 1_000


@dataclass(frozen=True, kw_only=True)
class Move:
    """One change the room asked for: a lever of :mod:`blastradius.levers` with its arguments.

    ``gate``/``block``: ``target`` a plugin, ``selector`` an action class or CONNECTOR.TOOL;
    ``read_only``: ``target`` a connector; ``row_limit``/``alert``: a connector and a number of rows;
    ``kill_switch``: a plugin and seconds to pause; ``catch_rate``: the approval gates' catch rate.
    """

    kind: MoveKind
    target: str = ""
    selector: str = ""
    value: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.target, self.selector)

    def apply(self, inv: Inventory) -> Inventory:
        """``inv`` with this move made (a lever; the catch rate laid over the inventory's assumptions)."""
        if self.kind == "gate":
            return with_approval_gate(inv, self.target, self.selector)
        if self.kind == "block":
            return with_tool_blocked(inv, self.target, self.selector)
        if self.kind == "read_only":
            return with_read_only(inv, self.target)
        if self.kind == "row_limit":
            return with_row_limit(inv, self.target, int(self._number()))
        if self.kind == "alert":
            return with_alert(inv, self.target, rows_over=int(self._number()))
        if self.kind == "kill_switch":
            return with_kill_switch(inv, self.target, float(self._number()))
        if self.kind == "catch_rate":
            section = inv.settings.get("assumptions")
            layer = {"controls": {"approval_gate_catch_rate": float(self._number())}}
            merged = SettingsSource(
                data=deep_merge(section.data, layer) if section is not None else layer,
                file=section.file if section is not None else "<workshop>",
                path=section.path if section is not None else "assumptions",
            )
            return inv.replace(settings={**inv.settings, "assumptions": merged})
        raise BlastRadiusError(f"unknown move '{self.kind}'")

    def _number(self) -> float:
        if self.value is None:
            raise BlastRadiusError(f"the move '{self.kind}' on '{self.target}' needs a number")
        return self.value

    def words(self) -> str:
        """The move as the room would say it: "gating send on renewal-campaigns"."""
        v = self.value
        return {
            "gate": f"gating {self.selector} on {self.target}",
            "block": f"blocking {self.selector} on {self.target}",
            "read_only": f"making {self.target} read-only",
            "row_limit": f"capping {self.target} at {v or 0:,.0f} rows",
            "alert": f"alerting on {self.target} above {v or 0:,.0f} rows",
            "kill_switch": f"a {_duration(v or 0)} kill switch on {self.target}",
            "catch_rate": f"a gate catch rate of {v or 0:.0%}",
        }[self.kind]


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f}-second"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f}-minute"
    return f"{seconds / 3600:,.1f}-hour"


def apply_moves(inv: Inventory, moves: Iterable[Move]) -> Inventory:
    """``inv`` with every move made, in order (the original is not changed)."""
    for move in moves:
        inv = move.apply(inv)
    return inv


def describe_moves(moves: Iterable[Move]) -> str:
    """The moves in one phrase: "gating send on renewal-campaigns and making hris read-only"."""
    words = [m.words() for m in moves]
    if not words:
        return "the starting inventory"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Every figure the page shows for one scenario, as the library computes it."""

    trials: int
    seed: int
    final: bool
    scores: pd.DataFrame  # score_plugins of the scenario
    base_scores: pd.DataFrame  # score_plugins of the starting inventory
    outlook: pd.DataFrame  # summarize(result, "enterprise", by_class=True, intervals=True)
    whole: pd.Series  # summarize(result, "enterprise", intervals=True), its one row
    curves: pd.DataFrame  # exceedance_by_class(result, "records")
    effect: pd.DataFrame  # compare_results(base, result, by="enterprise")
    result: SimulationResult = field(repr=False)

    def effect_of(self, metric: str = "records", *, level: str = "enterprise", group: str = "enterprise") -> pd.Series:
        e = self.effect
        return e[(e.metric == metric) & (e.level == level) & (e.group == group)].iloc[0]


def _focus(inv: Inventory, moves: list[Move]) -> tuple[str, str] | None:
    """(level, group) every move bears on, when there is one: a plugin, else a department."""
    from blastradius.domain import plugins_using

    plugins: set[str] = set()
    for m in moves:
        if m.kind in ("gate", "block", "kill_switch"):
            plugins.add(m.target)
        elif m.kind in ("read_only", "row_limit", "alert"):
            plugins.update(plugins_using(inv, m.target))
        else:
            return None
    if len(plugins) == 1:
        return ("plugin", next(iter(plugins)))
    departments = {inv.department_of(inv.plugin_by_id[p]) for p in plugins}
    return ("department", next(iter(departments))) if len(departments) == 1 else None


def _cut(row: pd.Series, base: str) -> str:
    before, after, share = float(row.baseline_p95), float(row.controlled_p95), float(row.reduction_share_p95)
    if before <= 0:
        return f"leaves {base} at no records"
    if after == before:
        return f"leaves {base} unchanged at {before:,.0f} records"
    verb = "cuts" if after < before else "raises"
    pct = abs(share)
    amount = f"{pct:.0%}" if pct >= 0.01 else "less than 1%"
    return f"{verb} {base} by {amount} ({before:,.0f} → {after:,.0f} records)"


def change_sentence(
    moves: Iterable[Move], fig: Figures, *, period: str = "quarter", inv: Inventory | None = None
) -> str:
    """The change against the starting inventory, in one sentence whose percentages name their base.

    "Gating send on renewal-campaigns cuts renewal-campaigns' bad quarter (P95 records) by 38% (...);
    enterprise-wide, by 2% (...)."
    """
    moves = list(moves)
    whole = fig.effect_of()
    if not moves:
        return f"The starting inventory: a bad {period} (P95) affects {float(whole.baseline_p95):,.0f} records."
    what = describe_moves(moves)
    what = what[:1].upper() + what[1:]
    focus = _focus(inv, moves) if inv is not None else None
    if focus is None:
        return f"{what} {_cut(whole, f'a bad {period} (P95 records, enterprise-wide)')}."
    level, group = focus
    local = _cut(fig.effect_of(level=level, group=group), f"the bad {period} of {group} (P95 records)")
    return f"{what} {local}; enterprise-wide it {_cut(whole, f'a bad {period}')}."


@dataclass(frozen=True, kw_only=True)
class Kept:
    """A scenario the room kept, with its headline figures."""

    name: str
    moves: tuple[Move, ...]
    sentence: str
    blast_radius: float
    records_p95: float
    people_p95: float
    reduction_share_p95: float
    trials: int


class Workshop:
    """The starting inventory of a workshop and what every room shares: its scores and baseline simulations."""

    def __init__(
        self,
        inventory: Inventory | str | Path,
        *,
        overlays: Iterable[str | Path] = (),
        trials: int | None = None,
        seed: int = DEFAULT_SEED,
        out: str | Path = "workshop",
    ) -> None:
        from blastradius.loader import load_inventory

        if not isinstance(inventory, Inventory):
            self.path: Path | None = Path(inventory)
            inventory = load_inventory(inventory)
        else:
            self.path = Path(inventory.source) if inventory.source else None
        self.overlays = tuple(Path(o) for o in overlays)
        self.base = apply_overlays(inventory, self.overlays)
        large = len(self.base.plugins) > LARGE_INVENTORY
        self.trials = trials or (FULL_TRIALS_LARGE if large else DEFAULT_TRIALS)
        self.quick_trials = min(self.trials, QUICK_TRIALS_LARGE if large else QUICK_TRIALS_SMALL)
        self.seed = seed
        self.out = Path(out)
        self.name = self.path.name if self.path is not None else "inventory"
        self.analysis = Analysis(self.base)
        self.period = self.analysis.assumptions.period.name
        self._lock = threading.Lock()
        self._base_results: dict[int, SimulationResult] = {}
        self._figures: dict[tuple[Any, int], Any] = {}
        self._computing: dict[tuple[Any, int], threading.Lock] = {}
        self.base_scores = score_plugins(self.analysis)

    def base_result(self, trials: int) -> SimulationResult:
        """The starting inventory simulated with ``trials`` (once per number of trials, shared by every room)."""
        with self._lock:
            hit = self._base_results.get(trials)
            if hit is None:
                hit = self._base_results[trials] = simulate_failures(self.analysis, trials=trials, seed=self.seed)
            return hit

    def figures(self, moves: tuple[Move, ...], trials: int, compute: Callable[[], _T]) -> _T:
        """The figures of ``moves`` from ``trials`` (0: its scores alone): computed once (by ``compute``) and kept
        for every room, so a scenario tried again, here or in another browser, shows at once. The newest
        :data:`KEEP_FIGURES` are kept."""
        key = (tuple(sorted((m.key, m.value) for m in moves)), trials)
        with self._lock:
            hit = self._figures.get(key)
            if hit is not None:
                return hit
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:  # a second room asking for the same figures waits for the first
            with self._lock:
                hit = self._figures.get(key)
            if hit is None:
                hit = compute()
                with self._lock:
                    self._figures[key] = hit
                    while len(self._figures) > KEEP_FIGURES:
                        self._figures.pop(next(iter(self._figures)))
                    self._computing.pop(key, None)
        return hit

    def departments(self) -> list[str]:
        return sorted({self.base.department_of(p) for p in self.base.plugins})

    def plugins_of(self, department: str | None = None) -> list[str]:
        if department is None:
            return [p.id for p in self.base.plugins]
        return [p.id for p in self.base.plugins if self.base.department_of(p) == department]


class Session:
    """One room's scenario (one browser): the moves made, the figures of it, the scenarios kept."""

    def __init__(self, workshop: Workshop) -> None:
        self.workshop = workshop
        self.moves: dict[tuple[str, str, str], Move] = {}
        self.kept: list[Kept] = []

    # the scenario ------------------------------------------------------------

    def set(self, move: Move) -> None:
        self.moves[move.key] = move

    def unset(self, kind: MoveKind, target: str = "", selector: str = "") -> None:
        self.moves.pop((kind, target, selector), None)

    def clear(self) -> None:
        self.moves.clear()

    def current(self) -> tuple[Move, ...]:
        return tuple(self.moves.values())

    def restore(self, moves: Iterable[Move]) -> None:
        self.moves = {m.key: m for m in moves}

    def scenario(self, moves: Iterable[Move] | None = None) -> Inventory:
        return apply_moves(self.workshop.base, self.current() if moves is None else moves)

    def figures(self, moves: Iterable[Move] | None = None, *, trials: int | None = None) -> Figures:
        """The figures of the scenario (the current one unless ``moves``), from ``trials`` (default: the final)."""
        w = self.workshop
        trials = trials or w.trials
        moves = self.current() if moves is None else tuple(moves)
        return w.figures(moves, trials, lambda: self._compute(moves, trials))

    def _compute(self, moves: tuple[Move, ...], trials: int) -> Figures:
        w = self.workshop
        analysis = self._analysis(moves)
        base = w.base_result(trials)
        result = simulate_failures(analysis, trials=trials, seed=w.seed) if moves else base
        whole = summarize(result, "enterprise", intervals=True).iloc[0]
        return Figures(
            trials=trials,
            seed=w.seed,
            final=trials >= w.trials,
            scores=self.scores(moves, analysis=analysis),
            base_scores=w.base_scores,
            outlook=summarize(result, "enterprise", by_class=True, intervals=True),
            whole=whole,
            curves=exceedance_by_class(result, "records"),
            effect=compare_results(base, result, by=("plugin", "department", "enterprise")),
            result=result,
        )

    def _analysis(self, moves: tuple[Move, ...]) -> Analysis:
        # the scenario analysed as the command line analyses an inventory: its own settings, a context of its own
        return Analysis(apply_moves(self.workshop.base, moves)) if moves else self.workshop.analysis

    def scores(self, moves: Iterable[Move] | None = None, *, analysis: Analysis | None = None) -> pd.DataFrame:
        """:func:`~blastradius.scores.score_plugins` of the scenario: the first figure a change updates (it needs
        no simulation), kept like the figures."""
        w = self.workshop
        moves = self.current() if moves is None else tuple(moves)
        if not moves:
            return w.base_scores
        return w.figures(moves, 0, lambda: score_plugins(analysis or self._analysis(moves)))

    def sentence(self, fig: Figures, moves: Iterable[Move] | None = None) -> str:
        return change_sentence(
            self.current() if moves is None else moves, fig, period=self.workshop.period, inv=self.workshop.base
        )

    def keep(self, fig: Figures, *, name: str | None = None, moves: Iterable[Move] | None = None) -> Kept:
        moves = tuple(self.current() if moves is None else moves)
        effect = fig.effect_of()
        kept = Kept(
            name=name or f"Scenario {len(self.kept) + 1}",
            moves=moves,
            sentence=self.sentence(fig, moves),
            blast_radius=float(fig.scores.blast_radius.sum()),
            records_p95=float(effect.controlled_p95),
            people_p95=float(fig.effect_of("people").controlled_p95),
            reduction_share_p95=float(effect.reduction_share_p95),
            trials=fig.trials,
        )
        self.kept.append(kept)
        return kept

    # saving ------------------------------------------------------------------

    def overlay(self, *, description: str | None = None) -> dict[str, Any]:
        """The current scenario as an overlay of the starting inventory
        (:func:`~blastradius.overlay.overlay_from_changes`)."""
        w = self.workshop
        if not self.moves:
            raise BlastRadiusError("nothing to save: the scenario is the starting inventory")
        return overlay_from_changes(
            w.base, self.scenario(), description=description or describe_moves(self.current()), base_name=w.name
        )

    def save_overlay(self, name: str, *, overwrite: bool = False, description: str | None = None) -> Path:
        """Write the current scenario as ``OUT/NAME.yaml`` (refusing an existing file unless ``overwrite``)."""
        path = self.workshop.out / _file_name(name, ".yaml")
        return write_overlay(self.overlay(description=description), path, overwrite=overwrite)

    def export_report(self, name: str, *, progress: Any = None) -> Path:
        """The rollout report of the current scenario (:func:`blastradius.report.render_report`), under OUT.

        The scenario is written whole as ``OUT/<inventory>+<name>/inventory.yaml`` (the report reads an inventory
        from files; its evidence points there), then reported with the final trials and seed.
        """
        from blastradius.report import organisation_name, render_report

        w = self.workshop
        stem = _file_name(name, "")
        directory = w.out / f"{w.name}+{stem}"
        if directory.exists():
            raise BlastRadiusError(f"refusing to overwrite {directory}: choose another name")
        write_inventory(self.scenario(), directory, note=describe_moves(self.current()))
        title = organisation_name(w.path) if w.path is not None else None
        return render_report(directory, out=w.out, trials=w.trials, seed=w.seed, title=title, progress=progress)


def _file_name(name: str, suffix: str) -> str:
    """A safe file name from what the room typed: letters, digits, '-' and '_'."""
    import re

    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-")[:80]
    if not stem:
        raise BlastRadiusError("give the scenario a name (letters, digits, '-' and '_')")
    return stem + suffix


def selectors_of(inv: Inventory, plugin: str) -> list[tuple[str, str]]:
    """(selector, label) of every tool of ``plugin`` that does something (CONNECTOR.TOOL, with its action)."""
    p = inv.require("plugin", plugin)
    out = []
    for cid in p.connector_ids:
        conn = inv.connector_by_id[cid]
        for tool in conn.tools:
            if tool.action is not ActionClass.READ:
                out.append((f"{cid}.{tool.name}", f"{cid}.{tool.name} ({tool.action.value})"))
    return out


def actions_of(inv: Inventory, plugins: Iterable[str]) -> list[str]:
    """Action classes (but read) that some tool of ``plugins`` can take, in the vocabulary's order."""
    found: set[ActionClass] = set()
    for pid in plugins:
        p = inv.plugin_by_id[pid]
        for cid in p.connector_ids:
            found.update(t.action for t in inv.connector_by_id[cid].tools)
    return [a.value for a in ActionClass if a in found and a is not ActionClass.READ]


def department_moves(inv: Inventory, department: str, kind: Literal["gate", "block"], action: str) -> list[Move]:
    """Gate (or block) ``action`` on every plugin of ``department`` that has a tool of it."""
    plugins = [p.id for p in inv.plugins if inv.department_of(p) == department]
    return [Move(kind=kind, target=p, selector=action) for p in plugins if action in actions_of(inv, [p])]


# the background work of a room -------------------------------------------------


@dataclass(frozen=True, eq=False)
class Progress:
    """What a room's background work (:class:`Stages`) has computed so far: a new object at every step, so that
    a page holding it as its state is drawn again at every step. Each figure carries the key of its scenario."""

    scores: tuple[Any, pd.DataFrame] | None = None  # (key, its scores): the newest scenario ranked
    figures: tuple[Any, tuple[Move, ...], Figures, Any] | None = None  # (key, moves, figures, drawing): the newest
    error: tuple[Any, Exception] | None = None  # (key, why): the newest scenario that could not be computed


class Stages:
    """The figures of the scenario a room asked for last, computed in the background one stage after another:
    its scores (the blast radius, no simulation), then the outlook from the quick trials, then from the final
    trials. Each stage's result is handed to ``publish`` as a new :class:`Progress`.

    One worker thread per room, so that figures of one room never race each other. A scenario asked for while
    another is being computed supersedes it: the stage under way finishes (the workshop keeps its figures for
    when the scenario comes back), the stages after it are skipped. ``draw`` turns figures into what the page
    shows beside them (a chart), in the worker, so that the page is never kept waiting for a drawing.
    """

    def __init__(
        self,
        session: Session,
        publish: Callable[[Progress], None],
        *,
        draw: Callable[[Figures], Any] = lambda fig: None,
    ) -> None:
        self.session = session
        self.progress = Progress()
        self._publish = publish
        self._draw = draw
        self._changed = threading.Condition()
        self._asked: tuple[Any, tuple[Move, ...]] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="blastradius-workshop-stages", daemon=True)
        self._thread.start()

    def ask(self, key: Any, moves: Iterable[Move]) -> None:
        """Compute the scenario ``moves`` (named ``key`` in every :class:`Progress`), superseding any before it."""
        with self._changed:
            if self._asked is None or self._asked[0] != key:
                self._asked = (key, tuple(moves))
                self._changed.notify()

    def close(self, timeout: float | None = None) -> None:
        """Stop the worker once the stage under way is done (waiting for it at most ``timeout`` seconds)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _wanted(self, key: Any) -> bool:
        with self._changed:
            return not self._closed and self._asked is not None and self._asked[0] == key

    def _put(self, **change: Any) -> None:
        with self._changed:
            self.progress = progress = replace(self.progress, **change)
        self._publish(progress)

    def _work(self) -> None:
        done: Any = _NOTHING  # the key whose stages all ran
        while True:
            with self._changed:
                while not self._closed and (self._asked is None or self._asked[0] == done):
                    self._changed.wait()
                if self._closed or self._asked is None:
                    return
                key, moves = self._asked
            done = key if self._stages(key, moves) else _NOTHING

    def _stages(self, key: Any, moves: tuple[Move, ...]) -> bool:
        """Run the stages of one scenario; whether they all ran (False: a newer scenario superseded it)."""
        s, w = self.session, self.session.workshop
        try:
            self._put(scores=(key, s.scores(moves)))
            for trials in dict.fromkeys((w.quick_trials, w.trials)):  # once when they are equal
                if not self._wanted(key):
                    return False
                fig = s.figures(moves, trials=trials)
                self._put(figures=(key, moves, fig, self._draw(fig)))
        except Exception as exc:  # shown to the room, who can undo the change
            if not isinstance(exc, BlastRadiusError):  # a defect, not a change the levers refuse
                _log.exception("the figures of scenario %r could not be computed", key)
            self._put(error=(key, exc))
        return True


_NOTHING = object()
