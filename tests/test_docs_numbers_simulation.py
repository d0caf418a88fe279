"""Every number docs/simulation.md quotes is the code's: the defaults it names, and the example it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from blastradius import load_inventory
from blastradius.settings import default_assumptions, default_weights
from blastradius.simulate import compare

from conftest import ACME, ACME_GOVERNED

DOC = (Path(__file__).resolve().parents[1] / "docs" / "simulation.md").read_text(encoding="utf-8")
A = default_assumptions()
W = default_weights()
FLAT = " ".join(DOC.split())  # prose wraps: patterns read the text as one line


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _says(pattern: str) -> re.Match[str]:
    match = re.search(pattern, FLAT)
    assert match, f"docs/simulation.md no longer says {pattern!r}"
    return match


@pytest.mark.parametrize("name", ["wrong output", "wrong action", "data leakage"])
def test_the_failure_rate_table_is_the_defaults(name: str) -> None:
    row = _says(rf"\| {name} \| ([\d.]+) – ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|")
    low, high, median, mean = (_number(x) for x in row.groups())
    interval = getattr(A.failure_rates, name.replace(" ", "_"))
    assert (low, high) == (interval.low, interval.high)
    assert median == pytest.approx(interval.median, rel=0.02)
    assert mean == pytest.approx(interval.mean, rel=0.02)


def test_the_catch_rates_and_the_way_out_are_the_defaults() -> None:
    c = A.controls
    assert _number(_says(r"`approval_gate_catch_rate` \(([\d.]+)\)").group(1)) == c.approval_gate_catch_rate
    tiers = _says(r"none ([\d.]+), tier 1 ([\d.]+), tier 2 ([\d.]+), tier 3 ([\d.]+)").groups()
    assert [_number(t) for t in tiers] == [c.review_catch_rate[k] for k in ("none", "1", "2", "3")]
    assert _number(_says(r"`gate_miss_rate` ([\d.]+)").group(1)) == pytest.approx(W.gate_miss_rate)
    assert W.gate_miss_rate == pytest.approx(1 - c.approval_gate_catch_rate)
    assert _number(_says(r"`internal_exposure_share`, ([\d.]+)\)").group(1)) == c.internal_exposure_share
    recovery = _says(r"immediate ([\d.]+), soft-delete ([\d.]+) .*?staged ([\d.]+)").groups()
    assert [_number(r) for r in recovery] == [A.recovery[k] for k in A.recovery]  # type: ignore[index]


def test_the_magnitude_law_is_the_defaults() -> None:
    m = A.magnitude
    assert _number(_says(r"`magnitude.records_per_result` \(([\d,]+):").group(1)) == m.records_per_result
    full = _says(r"\(`magnitude.\*_full_share`: ([\d.]+) for wrong actions .*?; ([\d.]+) for leaks").groups()
    assert [_number(x) for x in full] == [m.wrong_action_full_share, m.data_leakage_full_share]
    targets = _says(r"`magnitude.wrong_action_targets`, ([\d,]+) – ([\d,]+);").groups()
    assert [_number(x) for x in targets] == [m.wrong_action_targets.low, m.wrong_action_targets.high]
    leak = _says(r"`magnitude.data_leakage_records`, ([\d,]+) – ([\d,]+)\)").groups()
    assert [_number(x) for x in leak] == [m.data_leakage_records.low, m.data_leakage_records.high]
    assert _number(_says(r"`untrusted_input.rate_factor` \(([\d.]+)\)").group(1)) == A.untrusted_input.rate_factor
    assert _number(_says(r"stand-in ([\d,]+) when unknown").group(1)) == W.unknown_output_audience


def test_the_systematic_fault_defaults() -> None:
    onsets = _says(r"\(([\d.]+)–([\d.]+), median ([\d.]+), drawn like π\)").groups()
    interval = A.systematic.onsets_per_period
    assert [_number(x) for x in onsets[:2]] == [interval.low, interval.high]
    assert _number(onsets[2]) == pytest.approx(interval.median, rel=0.02)
    assert _number(_says(r"\(`alert_fires`, ([\d.]+)\)").group(1)) == A.detection.alert_fires
    assert _number(_says(r"`pause_seconds_if_not_given` ([\d,]+)").group(1)) == A.halt.pause_seconds_if_not_given
    assert _number(_says(r"`unrehearsed_factor` ([\d.]+)").group(1)) == A.halt.unrehearsed_factor
    assert _number(_says(r"`revoke_seconds_if_not_given` ([\d,]+)").group(1)) == A.halt.revoke_seconds_if_not_given
    assert _number(_says(r"`manual_hours` \(([\d.]+)\)").group(1)) == A.halt.manual_hours
    assert _number(_says(r"`working_days` is ([\d]+)").group(1)) == A.period.working_days


def _figure(text: str) -> float:
    number, _, unit = text.partition(" ")
    return _number(number) * {"million": 1e6, "": 1.0}[unit.strip()]


def test_the_example_is_what_compare_gives() -> None:
    rows = {
        m.group(1): [_figure(x.strip()) for x in m.group(2).split("|")]
        for m in re.finditer(r"\| (records|people) affected \|(.*?)\|\n", DOC)
    }
    assert set(rows) == {"records", "people"}, "the example table of §11 is missing"
    df = compare(load_inventory(ACME), load_inventory(ACME_GOVERNED), trials=10_000, seed=1, by=("enterprise",))
    for metric, (base50, gov50, base95, gov95) in rows.items():
        row = df[df.metric == metric].iloc[0]
        for quoted, column in (
            (base50, "baseline_p50"),
            (gov50, "controlled_p50"),
            (base95, "baseline_p95"),
            (gov95, "controlled_p95"),
        ):
            assert quoted == pytest.approx(float(row[column]), rel=0.06), (metric, column, float(row[column]))
