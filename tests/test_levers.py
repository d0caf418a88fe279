"""Levers tried incrementally give the figures of each lever applied to the whole inventory and scored afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from blastradius import load_inventory
from blastradius.analysis import Analysis
from blastradius.decision import RANKING_RULE, rank_controls
from blastradius.levers import access_changes, candidate_levers, evaluate_levers, recommend, recommendations
from blastradius.model import Inventory
from blastradius.scores import Scorer, score_plugins

ACME = Path(__file__).resolve().parents[1] / "inventories" / "acme"


@pytest.fixture(scope="module")
def small_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    from blastradius.synth import write_enterprise

    root = tmp_path_factory.mktemp("levers") / "inv"
    return load_inventory(
        write_enterprise(root, people=1_000, plugins=24, connectors=10, systems=6, datasets=100, seed=5)
    )


def _reference(inv: Inventory, lever: object) -> tuple[dict[str, float], list[object]]:
    """The lever applied to the whole inventory, its plugins scored and compared in fresh analyses."""
    after_inv = lever.apply(inv)  # type: ignore[attr-defined]
    after = Analysis(after_inv)
    scorer = Scorer(after)
    plugins = list(lever.plugins)  # type: ignore[attr-defined]
    scores = {pid: scorer.plugin(after_inv.plugin_by_id[pid]).blast_radius for pid in plugins}
    return scores, access_changes(Analysis(inv), after, plugins)


@pytest.mark.parametrize("which", ["acme", "synthetic"])
def test_incremental_levers_equal_the_full_rescore(which: str, small_synthetic: Inventory) -> None:
    inv = load_inventory(ACME) if which == "acme" else small_synthetic
    analysis = Analysis(inv)
    score_plugins(analysis)  # the what-ifs read through to what scoring derived
    levers = candidate_levers(analysis)
    if which == "synthetic":  # every lever on a connector, every third on a plugin: the test stays cheap
        levers = [
            lv for i, lv in enumerate(levers) if lv.kind.factor == "reach" or lv.kind.value == "read-only" or i % 3 == 0
        ]
    results = evaluate_levers(analysis, levers=levers)
    assert len(results) == len(levers) > 50
    kinds = {r.lever.kind for r in results}
    assert len(kinds) >= 6, kinds  # plugin levers and connector levers (scope, read-only, split) alike
    fresh = score_plugins(inv).set_index("plugin").blast_radius
    for r in results:
        after, changes = _reference(inv, r.lever)
        assert r.after == after, r.lever.description
        assert list(r.changes) == changes, r.lever.description
        assert r.before == {pid: fresh[pid] for pid in r.lever.plugins}


def test_a_what_if_never_changes_what_the_base_analysis_holds() -> None:
    inv = load_inventory(ACME)
    analysis = Analysis(inv)
    before = score_plugins(analysis)
    evaluate_levers(analysis)
    assert score_plugins(analysis).equals(before)
    assert score_plugins(Analysis(inv)).equals(before)


def test_recommend_ranks_by_the_decision_rule() -> None:
    df = recommend(load_inventory(ACME), min_reduction_pct=0.0)
    assert (df.reduction > 0).all() and (df.after < df.before).all()
    again = rank_controls(df.drop(columns="on_front"), risk="reduction", cost="uses_lost")
    assert list(again.lever) == list(df.lever) and list(again.on_front) == list(df.on_front)
    front = df[df.on_front]
    assert front.index[0] == 1 and df.on_front.iloc[: len(front)].all()  # the front first ...
    assert front.uses_lost.is_monotonic_increasing and front.reduction.is_monotonic_increasing  # ... least collateral
    rest = df[~df.on_front]
    assert rest.reduction.is_monotonic_decreasing
    first = df.iloc[0]  # the largest control that loses nothing a team uses
    assert first.uses_lost == 0 and first.reduction == df[df.uses_lost == 0].reduction.max()
    assert "Pareto front" in RANKING_RULE


def test_recommend_for_one_plugin_tries_only_its_levers() -> None:
    inv = load_inventory(ACME)
    df = recommend(inv, plugin="ap-autopilot", min_reduction_pct=0.0)
    assert set(df.scope) == {"ap-autopilot"}
    assert all("ap-autopilot" in plugins for plugins in df.plugins)
    overall = recommendations(inv, top=None, per_plugin=None, min_reduction_pct=0.0)
    mine = overall[overall.scope == "ap-autopilot"]
    assert list(mine.lever) == list(df.lever)
    assert list(mine.reduction) == pytest.approx(list(df.reduction))
