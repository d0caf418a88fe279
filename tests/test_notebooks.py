"""The analyst notebooks run top to bottom on the example, and show what the library computes."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.manager import KernelManager

from blastradius import load_inventory
from blastradius.levers import recommend
from blastradius.scores import score_plugins
from blastradius.simulate import simulate_failures, summarize
from blastradius.widgets import findings_explorer, reach_explorer, score_explorer, simulation_explorer, whatif_scores

from conftest import ACME, ROOT

NOTEBOOKS = ROOT / "notebooks"
TRIALS, SEED = 300, 11


class LocalKernelManager(KernelManager):
    """A kernel on local IPC sockets, as the report runs it: nothing listens on the network."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)


def execute(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    out = tmp_path / name
    return papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters={"TRIALS": TRIALS, "SEED": SEED, **parameters},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS),
        kernel_manager_class=LocalKernelManager,
        execution_timeout=600,
        start_timeout=120,  # a stuck kernel fails the test instead of hanging the suite
    )


def last_text(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs)


def widget_views(nb: nbformat.NotebookNode) -> int:
    return sum(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


def test_every_notebook_has_a_parameters_cell() -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == [
        "01-inventory-tour.ipynb",
        "02-blast-radius.ipynb",
        "03-failure-simulation.ipynb",
        "04-governance.ipynb",
    ]
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "INVENTORY" in tagged[0].source, name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} is saved with outputs"


def test_inventory_tour(tmp_path: Path) -> None:
    nb = execute("01-inventory-tour.ipynb", tmp_path)
    text = last_text(nb)
    assert "plugins: 18, people: 4000" in text and "most shared connector:" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 2 and widget_views(nb) == 1


def test_blast_radius(tmp_path: Path) -> None:
    nb = execute("02-blast-radius.ipynb", tmp_path)
    scores = score_plugins(load_inventory(ACME))
    recs = recommend(load_inventory(ACME))
    text = last_text(nb)
    assert f"top plugin: {scores.plugin.iloc[0]} ({scores.blast_radius.iloc[0]:.1f})" in text
    assert f"best lever: {recs.lever.iloc[0]}" in text
    assert widget_views(nb) == 1


def test_failure_simulation(tmp_path: Path) -> None:
    nb = execute("03-failure-simulation.ipynb", tmp_path)
    ent = summarize(simulate_failures(load_inventory(ACME), trials=TRIALS, seed=SEED), "enterprise").iloc[0]
    assert f"records p50: {ent.records_p50:.0f}, p95: {ent.records_p95:.0f}" in last_text(nb)
    assert widget_views(nb) == 1


def test_governance(tmp_path: Path) -> None:
    nb = execute("04-governance.ipynb", tmp_path)
    assert "plugins not halted fast: 3" in last_text(nb) and "critical:" in last_text(nb)


def test_a_notebook_points_at_another_inventory_with_one_parameter(tmp_path: Path) -> None:
    nb = execute("02-blast-radius.ipynb", tmp_path, INVENTORY=str(ROOT / "inventories" / "acme-governed"))
    gov = score_plugins(load_inventory(ROOT / "inventories" / "acme-governed"))
    assert f"top plugin: {gov.plugin.iloc[0]} ({gov.blast_radius.iloc[0]:.1f})" in last_text(nb)


# --- the explorers behind the widgets -------------------------------------------------------------


def test_whatif_scores_moves_when_a_gate_is_toggled() -> None:
    inv = load_inventory(ACME)
    table = whatif_scores(inv, "ap-autopilot", gates=["payments.release_payment_batch"])
    assert table.loc["what if", "blast_radius"] < table.loc["now", "blast_radius"]
    same = whatif_scores(inv, "ap-autopilot")
    assert same.loc["what if", "blast_radius"] == pytest.approx(same.loc["now", "blast_radius"])
    capped = whatif_scores(inv, "renewal-campaigns", row_limit=1000, read_only=["company-data"])
    assert capped.loc["what if", "reach_records"] < capped.loc["now", "reach_records"]


def test_explorers_build_and_react() -> None:
    inv = load_inventory(ACME)
    box = score_explorer(inv)
    pick = box.children[0]
    gates = box.children[1].children[0]
    pick.value = "crm-hygiene"
    assert "crm.mass_delete_records" in gates.options  # options follow the picked plugin
    gates.value = ("crm.mass_delete_records",)
    assert simulation_explorer(inv, trials=50).children
    from blastradius import build_graph
    from blastradius.findings import findings_frame
    from blastradius.rules import lint

    assert reach_explorer(build_graph(inv)).children
    assert findings_explorer(findings_frame(lint(inv))).children
