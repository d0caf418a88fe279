"""Scenario sweeps: what-if grids of levers and assumptions, simulated on common random numbers, here or on Dask.

A rollout plan is chosen by comparing many scenarios: every combination of
candidate controls per department, each assumption across its range. A
*grid* (:func:`load_grid`; docs/sweeps.md) names them; :func:`run_sweep`
expands it to scenarios (:func:`expand_grid`), simulates each
(:func:`blastradius.simulate.simulate_failures`, every scenario on the same
seed), and returns one table: per scenario the enterprise's mean, P50, P90,
P95 and P99 of every figure with their 95% Monte Carlo intervals, the
reduction against its baseline, what its levers cost the plugins' users, and
whether it is on the Pareto front of risk removed against uses lost
(:func:`blastradius.decision.pareto_front`).

Scenarios run in this process, or on a Dask cluster (``dask.distributed``,
the ``sweep`` extra): a local one of ``workers`` processes, or a running one
at ``scheduler``. The figures do not depend on which: a scenario's seed
depends on the sweep's seed and its key only (:func:`scenario_seed`).
:func:`blastradius.simulate.sensitivity` runs through the same engine
(:func:`evaluate_scenarios`).

Examples
--------
>>> from blastradius import load_inventory
>>> grid = {
...     "levers": {"gate-pay": {"kind": "gate", "plugin": "ap-autopilot", "actions": ["pay"]}},
...     "assumptions": {"controls.approval_gate_catch_rate": [0.5]},
... }
>>> r = run_sweep(load_inventory("inventories/acme"), grid, trials=200, seed=1)
>>> r.table[["scenario", "baseline"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
[['baseline', 'baseline'],
 ['controls.approval_gate_catch_rate=0.5', 'controls.approval_gate_catch_rate=0.5'],
 ['gate-pay=on', 'baseline'],
 ['gate-pay=on,controls.approval_gate_catch_rate=0.5', 'controls.approval_gate_catch_rate=0.5']]
"""

from blastradius.sweep.grid import EXPANSIONS, MAX_SCENARIOS, Grid, LeverDimension, expand_grid, load_grid
from blastradius.sweep.run import REDUCTION_OF, SweepResult, evaluate_scenarios, run_sweep, summary_lines
from blastradius.sweep.scenarios import LeverStep, Outcome, Scenario, Setting, scenario_seed

__all__ = [
    "EXPANSIONS",
    "MAX_SCENARIOS",
    "REDUCTION_OF",
    "Grid",
    "LeverDimension",
    "LeverStep",
    "Outcome",
    "Scenario",
    "Setting",
    "SweepResult",
    "evaluate_scenarios",
    "expand_grid",
    "load_grid",
    "run_sweep",
    "scenario_seed",
    "summary_lines",
]
