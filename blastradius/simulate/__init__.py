"""Failure simulation: records and people affected per period, with every control modelled (D4, D5, D9).

Scores rank plugins as if each run went wrong; this module asks how often runs
do go wrong and what that adds up to over a period (a quarter by default), the
way quantitative risk tools do (frequency × magnitude, loss-exceedance curves),
but counted in records and people affected rather than money.

A plugin fails through its *paths*: each of its actions as :mod:`blastradius.reach`
groups them (:class:`blastradius.reach.ActionReach`: a connector and an action
class, with its reach after the connector's scope and its gate) and its output.
For every path the simulation draws, per trial,

- **frequency**: runs in the period (users × runs per user per day × working
  days) times a per-run failure probability (:func:`load_assumptions`);
- **magnitude**: what one wrong call touches, a lognormal (from a sourced 90%
  interval) clamped to what its channel can carry: the action's fan-out and
  reach (a leak: what one call returns, capped by the row limit; a wrong
  output: its audience); and never, over a period, more distinct records or
  people than a plugin, department or the enterprise can touch;
- **controls**: approval gates and review tiers stop a share of events,
  soft-delete/staged tools make damage recoverable, a leak needs a way out;
  and a *systematic fault* repeats on every run until an anomaly alert, the
  audit log or a person notices it and the kill switch (or revocation) halts it.

The result (:class:`SimulationResult`) holds arrays of shape
``(trials, plugins, classes)``; :func:`summarize`, :func:`exceedance_curve`
and :func:`compare_results` read every figure off it (simulate once, read many
times). :func:`compare` and :func:`compare_levers` run a baseline and changed
inventories on common random numbers, so a difference is the control's effect
and not sampling noise. :func:`failure_paths` and :func:`assumptions_table`
list every input, so a reader can challenge it. docs/simulation.md gives every
formula.

One module per job:

- :mod:`~blastradius.simulate.assumptions`: the assumptions (their models live in
  :mod:`blastradius.settings`, where the loader checks them) and their table;
- :mod:`~blastradius.simulate.plan`: failure paths, what each plugin can do wrong;
- :mod:`~blastradius.simulate.engine`: the plan as the kernel's tables, random streams,
  :func:`simulate_failures`;
- :mod:`~blastradius.simulate._kernel`: the compiled sampler (numba);
- :mod:`~blastradius.simulate.result`: :class:`SimulationResult`;
- :mod:`~blastradius.simulate.summaries`: percentiles and loss-exceedance curves;
- :mod:`~blastradius.simulate.comparison`: a baseline against controls on common random numbers;
- :mod:`~blastradius.simulate.sensitivity`: each uncertain assumption at both ends of its range.

Examples
--------
>>> from blastradius import load_inventory
>>> inv = load_inventory("inventories/acme")
>>> result = simulate_failures(inv, trials=200, seed=1)
>>> result.records_permanent.shape
(200, 18, 4)
>>> summarize(result, by="enterprise").loc[0, "group"]
'enterprise'
"""

from blastradius.simulate.assumptions import (
    Assumptions,
    Interval,
    PluginAssumptions,
    ProbabilityInterval,
    assumptions_table,
    default_assumptions,
    load_assumptions,
)

# the other assumption models, importable from here as before
from blastradius.simulate.assumptions import Controls as Controls
from blastradius.simulate.assumptions import Detection as Detection
from blastradius.simulate.assumptions import FailureRates as FailureRates
from blastradius.simulate.assumptions import Halt as Halt
from blastradius.simulate.assumptions import Magnitude as Magnitude
from blastradius.simulate.assumptions import Period as Period
from blastradius.simulate.assumptions import PluginOverride as PluginOverride
from blastradius.simulate.assumptions import Systematic as Systematic
from blastradius.simulate.assumptions import UntrustedInput as UntrustedInput
from blastradius.simulate.assumptions import WrongOutput as WrongOutput
from blastradius.simulate.comparison import compare, compare_levers, compare_results
from blastradius.simulate.engine import simulate_failures
from blastradius.simulate.plan import failure_paths
from blastradius.simulate.result import FAILURE_MODES, METRICS, SimulationResult
from blastradius.simulate.sensitivity import SENSITIVITY_TRIALS, dominant_assumption, sensitivity
from blastradius.simulate.summaries import (
    CONFIDENCE,
    TAIL_TRIALS,
    estimate,
    exceedance_by_class,
    exceedance_curve,
    summarize,
    too_few_trials,
)

__all__ = [
    "CONFIDENCE",
    "TAIL_TRIALS",
    "Assumptions",
    "FAILURE_MODES",
    "Interval",
    "METRICS",
    "SENSITIVITY_TRIALS",
    "PluginAssumptions",
    "ProbabilityInterval",
    "SimulationResult",
    "assumptions_table",
    "compare",
    "compare_levers",
    "compare_results",
    "default_assumptions",
    "dominant_assumption",
    "estimate",
    "exceedance_by_class",
    "exceedance_curve",
    "failure_paths",
    "load_assumptions",
    "sensitivity",
    "simulate_failures",
    "summarize",
    "too_few_trials",
]
