"""The cost model: simulated records, people and payments priced in a currency, each price sourced and ranged.

Optional. The simulation counts records and people (:mod:`blastradius.simulate`); a
:class:`CostModel` prices them, so a reader who thinks in money sees a currency range beside
them. The defaults (``blastradius/data/costs.yaml``) give, for every price, a plausible range
and the public source or reasoning behind it (the notes of
:mod:`blastradius.settings.provenance`); a file given with :func:`load_costs` (the report's
``--costs``) overrides any of them.

What is priced, per trial of a simulation (:func:`period_costs`):

- **records exposed** (the data-leakage class) at the price of their dataset's classification,
  after the masks of the plugin's connectors; above ``scale.linear_up_to`` records in a period
  the cost grows as the records to the power ``scale.exponent``, as large breaches cost less
  per record;
- **records changed** by a wrong action or a systematic fault, at ``per_record_changed``;
- **people contacted** or misinformed by a wrong action, a wrong output or a systematic fault,
  at ``per_person_contacted`` (people whose data leaked are priced through their records);
- **wrong payments**: the wrong actions of a plugin that can pay, in the share its payment
  paths have of its expected wrong actions (:func:`blastradius.simulate.failure_paths`), at
  ``per_wrong_payment``.

Every figure is read off the one simulation (no re-run), and priced three times: at the
values, at every low end and at every high end (:meth:`CostModel.at`); the report prints the
spread of the last two as the range.

Examples
--------
>>> costs = default_costs()
>>> costs.currency, costs.per_record_exposed[Classification.PII]
('USD', 183.0)
>>> costs.at("low").per_record_exposed[Classification.PII]
8.0
>>> money(1_234_567.0, "USD")
'US$1.2 million'
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictFloat, StrictInt, field_validator

from blastradius.model import Classification
from blastradius.settings.files import read_settings_document, validate_settings
from blastradius.settings.provenance import Provenance, note_of, split_provenance

if TYPE_CHECKING:
    from blastradius.analysis import Analysis
    from blastradius.model import Inventory
    from blastradius.simulate import SimulationResult

__all__ = [
    "COST_COMPONENTS",
    "CostModel",
    "Scale",
    "cost_summary",
    "costs_table",
    "default_costs",
    "load_costs",
    "money",
    "period_costs",
    "plugin_exposure",
]

_COSTS_FILE = "costs.yaml"

#: What :func:`period_costs` prices, in the order the report lists them, with its words.
COST_COMPONENTS = {
    "records_exposed": "records exposed",
    "records_changed": "records changed",
    "people_contacted": "people contacted",
    "wrong_payments": "wrong payments",
}

Price = StrictFloat | StrictInt
End = Literal["value", "low", "high"]


class Scale(BaseModel):
    """How the cost of exposed records grows past ``linear_up_to`` records in a period: as records ** exponent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    linear_up_to: StrictInt = Field(ge=1)
    exponent: float = Field(gt=0, le=1)


class CostModel(BaseModel):
    """Prices of what goes wrong, in ``currency``; :attr:`provenance` holds each one's range and source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD, EUR, GBP.")
    per_record_exposed: dict[Classification, float]
    scale: Scale
    per_record_changed: float = Field(ge=0)
    per_person_contacted: float = Field(ge=0)
    per_wrong_payment: float = Field(ge=0)
    _provenance: dict[str, Provenance] = PrivateAttr(default_factory=dict)
    _set_by: str = PrivateAttr(default="default")

    @field_validator("per_record_exposed")
    @classmethod
    def _every_classification(cls, value: dict[Classification, float]) -> dict[Classification, float]:
        missing = [c.value for c in Classification if c not in value]
        if missing:
            raise ValueError(f"a price is needed for every classification; missing {', '.join(missing)}")
        if any(v < 0 for v in value.values()):
            raise ValueError("a price cannot be negative")
        return value

    @property
    def provenance(self) -> Mapping[str, Provenance]:
        """``{key path: Provenance}``: the source and plausible range given with each price, where one was."""
        return dict(self._provenance)

    @property
    def set_by(self) -> str:
        """Where the prices come from: ``default`` or ``default, then FILE`` (a file's name, never its path)."""
        return self._set_by

    def at(self, end: End) -> CostModel:
        """Every price at ``end`` of its range (``value``: as set); a price with no range stays as it is."""
        if end == "value":
            return self
        i = 0 if end == "low" else 1
        data = self.model_dump(mode="json")

        def pick(path: str, value: Any) -> Any:
            span = self._provenance.get(path, Provenance()).range
            return type(value)(span[i]) if span is not None else value

        data["per_record_exposed"] = {
            k: pick(f"per_record_exposed.{k}", v) for k, v in data["per_record_exposed"].items()
        }
        data["scale"] = {k: pick(f"scale.{k}", v) for k, v in data["scale"].items()}
        for key in ("per_record_changed", "per_person_contacted", "per_wrong_payment"):
            data[key] = pick(key, data[key])
        moved = CostModel.model_validate(data)
        moved._provenance = dict(self._provenance)
        moved._set_by = self._set_by
        return moved


def _defaults_data() -> dict[str, Any]:
    text = resources.files("blastradius.data").joinpath(_COSTS_FILE).read_text(encoding="utf-8")
    return cast(dict[str, Any], yaml.safe_load(text))


def _leaf_paths(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out += _leaf_paths(value, path) if isinstance(value, Mapping) else [path]
    return out


def _with_notes(costs: CostModel, layers: list[tuple[Mapping[str, Any], str]], set_by: str) -> CostModel:
    """``costs`` with the note of each price from the last layer that sets it (a plain value there: no range)."""
    provenance: dict[str, Provenance] = {}
    for data, file in layers:
        values, notes = split_provenance(data, file=file)
        for path in _leaf_paths(values):
            provenance[path] = note_of(notes, path)
    costs._provenance = provenance
    costs._set_by = set_by
    return costs


def default_costs() -> CostModel:
    """The documented default prices (``blastradius/data/costs.yaml``), with their ranges and sources."""
    data = _defaults_data()
    costs = cast(CostModel, validate_settings(CostModel, data))
    return _with_notes(costs, [(data, f"blastradius/data/{_COSTS_FILE}")], "default")


def load_costs(path: str | Path | None = None) -> CostModel:
    """The default prices, then those of the file at ``path`` (YAML or JSON; any key may be left out).

    Raises
    ------
    ConfigError
        No such file, or a problem in it, with its file, line and key path.
    """
    if path is None:
        return default_costs()
    data = _defaults_data()
    document = read_settings_document(path)
    costs = cast(CostModel, validate_settings(CostModel, data, document))
    return _with_notes(
        costs,
        [(data, f"blastradius/data/{_COSTS_FILE}"), (document.data, str(path))],
        f"default, then {Path(path).name}",
    )


def costs_table(costs: CostModel) -> pd.DataFrame:
    """Every price, one row each: key, what it prices, value, plausible range and source."""
    meaning = {
        "per_record_exposed": "one {} record exposed",
        "scale.linear_up_to": "records exposed in a period priced in proportion",
        "scale.exponent": "growth of the cost past them (records to this power)",
        "per_record_changed": "one record a wrong action changed or deleted, put right",
        "per_person_contacted": "one person wrongly contacted or misinformed",
        "per_wrong_payment": "one payment to the wrong payee or of the wrong amount, not recovered",
    }
    data = costs.model_dump(mode="json")
    rows = []
    for path in _leaf_paths({k: v for k, v in data.items() if k != "currency"}):
        head, _, tail = path.partition(".")
        value: Any = data[head] if not tail else data[head][tail]
        note = costs.provenance.get(path, Provenance())
        rows.append(
            {
                "key": path,
                "meaning": meaning[head].format(tail) if head == "per_record_exposed" else meaning[path],
                "value": value,
                "range_low": note.range[0] if note.range else None,
                "range_high": note.range[1] if note.range else None,
                "source": note.source or "",
            }
        )
    return pd.DataFrame(rows, columns=["key", "meaning", "value", "range_low", "range_high", "source"])


_SYMBOLS = {"USD": "US$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "CAD": "C$", "AUD": "A$"}


def money(value: float, currency: str) -> str:
    """An amount in words a reader takes in at a glance: ``US$1.2 million``, ``€840 thousand``, ``£12,000``.

    Examples
    --------
    >>> money(2_500_000_000, "EUR"), money(84_000, "GBP"), money(950, "SEK")
    ('€2.5 billion', '£84 thousand', 'SEK 950')
    """
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    value = float(value)
    for word, scale in (("billion", 1e9), ("million", 1e6), ("thousand", 1e3)):
        if abs(value) >= scale and (word != "thousand" or abs(value) >= 1e4):
            amount = value / scale
            return f"{symbol}{amount:.2g} {word}" if abs(amount) < 10 else f"{symbol}{amount:,.0f} {word}"
    return f"{symbol}{value:,.0f}"


# ---------------------------------------------------------------------------
# Pricing a simulation
# ---------------------------------------------------------------------------


def plugin_exposure(result: SimulationResult, source: Inventory | Analysis) -> pd.DataFrame:
    """Per plugin: what share of the records it can touch is of each classification, and of its wrong actions pay.

    A dataset counts at its classification as the plugin's connectors leave it readable (their masks
    applied; the most sensitive where two connectors reach it), weighted by its size (stand-ins where a
    size is unknown). The payment share is that of its payment paths in its expected wrong actions
    (:func:`blastradius.simulate.failure_paths`). Prices do not enter: one table prices a result at
    every end of the ranges.
    """
    from blastradius.analysis import analysis_of
    from blastradius.simulate import failure_paths

    analysis = analysis_of(source)
    inv = analysis.inventory
    paths = failure_paths(analysis)
    wrong = paths[paths.failure_class == "wrong_action"]
    expected = wrong.groupby("plugin").expected_incidents.sum()
    paying = wrong[wrong.action == "pay"].groupby("plugin").expected_incidents.sum()
    classification: dict[str, dict[str, Classification]] = {}
    for conn in inv.connectors:
        scoped = analysis.scope.scoped(conn)
        classification[conn.id] = dict(zip(scoped.ids, scoped.classification, strict=True))
    rows = []
    for i, pid in enumerate(result.plugins):
        plugin = inv.plugin_by_id.get(pid)
        seen: dict[str, Classification] = {}
        for cid in plugin.connector_ids if plugin is not None else ():
            for ds, cls in classification.get(cid, {}).items():
                if ds not in seen or cls.rank > seen[ds].rank:
                    seen[ds] = cls
        sizes = result.reachable_records[i]
        total = sum(sizes.values())
        share = dict.fromkeys((c.value for c in Classification), 0.0)
        for ds, n in sizes.items():
            share[seen.get(ds, Classification.INTERNAL).value] += n / total if total > 0 else 0.0
        e = float(expected.get(pid, 0.0))
        rows.append({"plugin": pid, **share, "payment_share": float(paying.get(pid, 0.0)) / e if e > 0 else 0.0})
    return pd.DataFrame(rows, columns=["plugin", *(c.value for c in Classification), "payment_share"])


def _record_price(exposure: pd.DataFrame, costs: CostModel) -> np.ndarray:
    """The average price of a record each plugin can expose."""
    shares = exposure[[c.value for c in Classification]].to_numpy(dtype=float)
    return shares @ np.array([costs.per_record_exposed[c] for c in Classification], dtype=float)


def _matrix(result: SimulationResult, metric: str, classes: tuple[str, ...]) -> np.ndarray:
    """``(trials, plugins)`` float64 sum of ``metric`` over ``classes``, read off the stored columns."""
    out = np.zeros((result.trials, len(result.plugins)))
    values, columns = result.values[metric], result.columns[metric]
    for cls in classes:
        col = columns[:, result.classes.index(cls)]
        keep = np.flatnonzero(col >= 0)
        if keep.size:
            out[:, keep] += values[:, col[keep]]
    return out


def _scaled(records: np.ndarray, scale: Scale) -> np.ndarray:
    """Records as priced: in proportion up to ``linear_up_to``, then as the power ``exponent`` of the excess ratio."""
    n0 = float(scale.linear_up_to)
    out = records.astype(float).copy()
    big = out > n0
    out[big] = n0 * (out[big] / n0) ** scale.exponent
    return out


def period_costs(
    result: SimulationResult,
    source: Inventory | Analysis,
    costs: CostModel,
    *,
    by: Literal["enterprise", "plugin"] = "enterprise",
    exposure: pd.DataFrame | None = None,
) -> dict[str, np.ndarray]:
    """The money of every simulated period, by :data:`COST_COMPONENTS` and in ``total``.

    Returns arrays of shape ``(trials,)`` for the enterprise, ``(trials, plugins)`` by plugin (the scale of a
    large leak then applies to each plugin's own records). ``exposure`` is :func:`plugin_exposure` of the
    result (computed once and passed, to price one result at several ends of the ranges).
    """
    exposure = plugin_exposure(result, source) if exposure is None else exposure
    record_price = _record_price(exposure, costs)
    pay_share = exposure.payment_share.to_numpy(dtype=float)
    exposed = _matrix(result, "records", ("data_leakage",))
    changed = _matrix(result, "records", ("wrong_action", "systematic"))
    people = _matrix(result, "people", ("wrong_action", "wrong_output", "systematic"))
    payments = _matrix(result, "incidents", ("wrong_action",)) * pay_share
    if by == "plugin":
        leak = _scaled(exposed, costs.scale) * record_price
    else:
        n = exposed.sum(axis=1)
        worth = exposed @ record_price
        average = np.divide(worth, n, out=np.zeros_like(worth), where=n > 0)
        leak = _scaled(n, costs.scale) * average
        changed, people, payments = changed.sum(axis=1), people.sum(axis=1), payments.sum(axis=1)
    out = {
        "records_exposed": leak,
        "records_changed": changed * costs.per_record_changed,
        "people_contacted": people * costs.per_person_contacted,
        "wrong_payments": payments * costs.per_wrong_payment,
    }
    out["total"] = sum(out.values(), np.zeros_like(leak))
    return out


def cost_summary(
    result: SimulationResult,
    source: Inventory | Analysis,
    costs: CostModel,
    *,
    exposure: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Money per period: mean, median and 1-in-20 of each component and the total, at the values and both ends.

    Returns
    -------
    DataFrame
        One row per component of :data:`COST_COMPONENTS`, then ``total``: ``mean``, ``p50``, ``p95`` at the
        values, and ``mean_low`` ... ``p95_high`` with every price at the low or the high end of its range.
        Percentiles are of each period's figure, never sums of percentiles.
    """
    exposure = plugin_exposure(result, source) if exposure is None else exposure
    rows: dict[str, dict[str, Any]] = {}
    for end, suffix in (("value", ""), ("low", "_low"), ("high", "_high")):
        figures = period_costs(result, source, costs.at(cast(End, end)), exposure=exposure)
        for name, values in figures.items():
            row = rows.setdefault(name, {"component": name})
            row[f"mean{suffix}"] = float(values.mean())
            row[f"p50{suffix}"] = float(np.quantile(values, 0.5))
            row[f"p95{suffix}"] = float(np.quantile(values, 0.95))
    return pd.DataFrame(list(rows.values()))
