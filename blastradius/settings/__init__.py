"""Settings of the analyses: scoring weights, simulation assumptions, accepted findings.

Every settings section an inventory or a settings file can hold has its
model here, with its documented defaults and its loading (the defaults, then
the inventory's own section, then a file or mapping given by the caller).
The loader checks an inventory's sections against these models with
:func:`check_section`, so that a typo is reported when the inventory is
loaded, with its file, line and key path, and not when an analysis first
reads it.

==============  ======================================  ==========================
section         model                                   loaded by
==============  ======================================  ==========================
``weights``     :class:`Weights`                        :func:`load_weights`
``assumptions`` :class:`Assumptions`                    :func:`load_assumptions`
``acceptances`` :class:`AcceptanceFile`                 :func:`load_acceptances`
==============  ======================================  ==========================

:mod:`blastradius.settings.files` reads YAML and JSON with the line of every
key path, for settings files and inventory files alike.
"""

from __future__ import annotations

from collections.abc import Collection

from blastradius.errors import Problem, UnknownIdError
from blastradius.model import SettingsSource
from blastradius.settings.acceptances import Acceptance, AcceptanceFile, check_acceptances, load_acceptances
from blastradius.settings.assumptions import (
    Assumptions,
    Controls,
    Detection,
    FailureRates,
    Halt,
    Interval,
    Magnitude,
    Period,
    PluginAssumptions,
    PluginOverride,
    ProbabilityInterval,
    Systematic,
    UntrustedInput,
    WrongOutput,
    check_assumptions,
    default_assumptions,
    load_assumptions,
)
from blastradius.settings.weights import Weights, check_weights, default_weights, load_weights

__all__ = [
    "SETTINGS_SECTIONS",
    "Acceptance",
    "AcceptanceFile",
    "Assumptions",
    "Controls",
    "Detection",
    "FailureRates",
    "Halt",
    "Interval",
    "Magnitude",
    "Period",
    "PluginAssumptions",
    "PluginOverride",
    "ProbabilityInterval",
    "Systematic",
    "UntrustedInput",
    "Weights",
    "WrongOutput",
    "check_section",
    "default_assumptions",
    "default_weights",
    "load_acceptances",
    "load_assumptions",
    "load_weights",
]

#: Sections of an inventory document that hold settings of an analysis, not records.
SETTINGS_SECTIONS = ("weights", "assumptions", "acceptances")


def check_section(name: str, source: SettingsSource, *, plugins: Collection[str]) -> list[Problem]:
    """Every problem of an inventory's settings section ``name``, at its file and key path.

    ``plugins`` are the inventory's plugin ids, which per-plugin assumptions
    must name. Lines are left to the caller, who holds the file's lines.

    Examples
    --------
    >>> section = SettingsSource(data={"gate_mis_rate": 0.2}, file="w.yaml", path="weights")
    >>> print(check_section("weights", section, plugins=())[0])
    w.yaml: weights.gate_mis_rate: unknown key 'gate_mis_rate' (did you mean 'gate_miss_rate'?)
    """
    if name == "weights":
        return check_weights(source)
    if name == "assumptions":
        return check_assumptions(source, plugins=plugins)
    if name == "acceptances":
        return check_acceptances(source)
    raise UnknownIdError(
        "settings section", name, SETTINGS_SECTIONS, where=f"(the sections are {', '.join(SETTINGS_SECTIONS)})"
    )
