"""Scoring weights: every number the blast-radius score uses (docs/scoring.md).

The defaults are ``blastradius/data/weights.yaml``; an inventory's ``weights:``
section and a file or mapping given by the caller are laid over them, in
that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import yaml
from pydantic import Field, PrivateAttr, StrictFloat, StrictInt, field_validator

from blastradius.errors import ConfigError, Problem
from blastradius.model import (
    MAX_PEOPLE,
    MAX_RECORDS,
    ActionClass,
    Classification,
    Record,
    Reversibility,
    SettingsSource,
)
from blastradius.settings.files import Document, read_settings_document, validate_settings
from blastradius.settings.provenance import Provenance, layer_notes, note_of

if TYPE_CHECKING:
    from blastradius.model import Inventory

__all__ = ["ReviewTierKey", "Weights", "check_weights", "default_weights", "load_weights", "review_tier_key"]

#: The key of a review tier in a settings file: its number, or ``none`` for no declared tier.
ReviewTierKey = Literal["none", "1", "2", "3"]

#: Most a weight or a factor may be: finite, and far above any that means something.
MAX_WEIGHT = 1e6

Weight = Annotated[StrictFloat, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
Probability = Annotated[StrictFloat, Field(ge=0, le=1, allow_inf_nan=False)]


class Weights(Record):
    """Every number the score uses; defaults in ``blastradius/data/weights.yaml``."""

    action_weights: dict[ActionClass, Weight]
    reversibility: dict[Reversibility, Weight]
    fan_out_slope: Weight
    leaves_org: Weight
    bulk_write_fan_out: Annotated[StrictInt, Field(ge=1, le=MAX_RECORDS)]
    classification_weights: dict[Classification, Weight]
    people_weights: dict[Literal["external", "internal"], Weight]
    unknown_dataset_records: Annotated[StrictInt, Field(ge=0, le=MAX_RECORDS)]
    unknown_people_count: Annotated[StrictInt, Field(ge=0, le=MAX_PEOPLE)]
    unknown_output_audience: Annotated[StrictInt, Field(ge=0, le=MAX_PEOPLE)]
    gate_miss_rate: Probability
    review_miss_rate: dict[Literal["none", "1", "2", "3"], Probability]
    leak_internal_factor: Probability
    untrusted_input_factor: Annotated[StrictFloat, Field(ge=1, le=MAX_WEIGHT, allow_inf_nan=False)]
    output_weight: Weight
    output_external: Weight
    lever_cost: dict[
        Literal["autonomy", "reach", "capability"],
        Annotated[StrictFloat, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False)],
    ]
    recommended_row_limit: Annotated[StrictInt, Field(ge=1, le=MAX_RECORDS)]

    _provenance: dict[str, Provenance] = PrivateAttr(default_factory=dict)

    @property
    def provenance(self) -> Mapping[str, Provenance]:
        """``{key path: Provenance}``: the public source and plausible range given with each weight, where one was."""
        return dict(self._provenance)

    @field_validator(
        "action_weights", "reversibility", "classification_weights", "people_weights", "review_miss_rate", "lever_cost"
    )
    @classmethod
    def _complete(cls, value: dict, info: Any) -> dict:
        options: dict[str, set[Any]] = {
            "action_weights": set(ActionClass),
            "reversibility": set(Reversibility),
            "classification_weights": set(Classification),
            "people_weights": {"external", "internal"},
            "review_miss_rate": {"none", "1", "2", "3"},
            "lever_cost": {"autonomy", "reach", "capability"},
        }
        missing = options[info.field_name] - set(value)
        if missing:
            raise ValueError("missing " + ", ".join(sorted(str(getattr(m, "value", m)) for m in missing)))
        return value

    def review_miss(self, tier: int | None) -> float:
        return self.review_miss_rate[review_tier_key(tier)]


def review_tier_key(tier: int | None) -> ReviewTierKey:
    """How a review tier is written in a settings file.

    Examples
    --------
    >>> review_tier_key(None), review_tier_key(2)
    ('none', '2')
    """
    return cast(ReviewTierKey, "none" if tier is None else str(tier))


_WEIGHTS_FILE = "weights.yaml"


@cache
def _default_weights_data() -> dict[str, Any]:
    """The default weights as written, with their sources and ranges (:mod:`blastradius.settings.provenance`)."""
    text = resources.files("blastradius.data").joinpath(_WEIGHTS_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["review_miss_rate"] = {str(k): v for k, v in data["review_miss_rate"].items()}  # tiers 1-3, noted or not
    return data


def _leaf_paths(data: Any, path: str = "") -> list[str]:
    if isinstance(data, Mapping) and not (path and "value" in data):
        return [
            p
            for k, v in data.items()
            if k not in ("source", "range")
            for p in _leaf_paths(v, f"{path}.{k}" if path else str(k))
        ]
    return [path]


def _noted(weights: Weights, layers: list[tuple[Mapping[str, Any], str | None]]) -> Weights:
    """``weights`` with the source and range of each value, from the layer that set it."""
    provenance: dict[str, Provenance] = {}
    for data, file in layers:
        notes = layer_notes(data, file)
        for path in _leaf_paths(data):
            provenance[path] = note_of(notes, path)
    weights._provenance = provenance
    return weights


@cache
def default_weights() -> Weights:
    """The documented default weights (``blastradius/data/weights.yaml``).

    Examples
    --------
    >>> default_weights().gate_miss_rate
    0.2
    >>> default_weights().provenance["gate_miss_rate"].range
    (0.05, 0.5)
    >>> default_weights().review_miss(2), default_weights().provenance["review_miss_rate.2"].range
    (0.4, (0.25, 0.55))
    """
    weights = cast(Weights, validate_settings(Weights, _default_weights_data()))
    return _noted(weights, [(_default_weights_data(), None)])


def load_weights(
    source: str | Path | Mapping[str, Any] | Weights | None = None, *, inventory: Inventory | None = None
) -> Weights:
    """Weights: the defaults, then the inventory's ``weights:`` section, then ``source`` (a file or a mapping).

    Keys a layer leaves out keep the value below it. Each value keeps the
    source and range written beside it (:attr:`Weights.provenance`).

    Raises
    ------
    ConfigError
        When a layer is invalid, with file, line and key path of each problem.

    Examples
    --------
    >>> load_weights({"gate_miss_rate": 0.2}).gate_miss_rate
    0.2
    >>> load_weights().action_weights[ActionClass.PAY]
    8.0
    """
    if isinstance(source, Weights):
        return source
    own = inventory.settings.get("weights") if inventory is not None else None
    if source is None and own is None:
        return default_weights()
    document = read_settings_document(source) if isinstance(source, str | Path) else source
    weights = cast(Weights, validate_settings(Weights, _default_weights_data(), own, document))
    layers: list[tuple[Mapping[str, Any], str | None]] = [(_default_weights_data(), None)]
    if own is not None:
        layers.append((own.data, own.file))
    if document is not None:
        layers.append((document.data, str(document.file)) if isinstance(document, Document) else (document, None))
    return _noted(weights, layers)


def check_weights(source: SettingsSource) -> list[Problem]:
    """Every problem of an inventory's ``weights:`` section, at its file and key path (the caller adds lines).

    Examples
    --------
    >>> section = SettingsSource(data={"gate_mis_rate": 0.2}, file="w.yaml", path="weights")
    >>> [str(p) for p in check_weights(section)]
    ["w.yaml: weights.gate_mis_rate: unknown key 'gate_mis_rate' (did you mean 'gate_miss_rate'?)"]
    """
    try:
        validate_settings(Weights, _default_weights_data(), source)
    except ConfigError as exc:
        return list(exc.problems)
    return []
