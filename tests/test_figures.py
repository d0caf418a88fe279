"""The golden figures do not change unless someone means them to: scores, lint and diff of three inventories.

``tests/data/expected-figures.json`` holds the figures (see :mod:`figures`); when one changes, the
failure shows which, and each changed value old and new. After an intended change, run
``scripts/regenerate-figures`` and explain every changed figure in the commit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import figures

EXPECTED = figures.load_golden()


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return figures.compute(tmp_path_factory.mktemp("figures"))


@pytest.fixture(scope="module")
def stored() -> dict[str, dict[str, Any]] | None:
    return figures.load_full()


@pytest.mark.parametrize(("inventory", "figure"), figures.NAMES, ids=[f"{i}-{f}" for i, f in figures.NAMES])
def test_figure_is_unchanged(inventory: str, figure: str, computed: dict, stored: dict | None) -> None:
    problem = figures.mismatch(inventory, figure, computed[inventory][figure], EXPECTED, stored)
    if problem:
        pytest.fail(
            f"{problem}\nIf the change is intended: scripts/regenerate-figures, and explain it in the commit.",
            pytrace=False,
        )


def test_the_full_figures_are_those_of_the_golden_file(stored: dict | None) -> None:
    assert stored is not None, f"{figures.FULL} is missing: scripts/regenerate-figures writes it"
    assert figures.golden(stored) == EXPECTED, f"{figures.FULL.name} is out of step: run scripts/regenerate-figures"


def test_a_changed_figure_is_shown_old_and_new() -> None:
    old = {
        "columns": ["plugin", "blast_radius"],
        "dtypes": ["str", "float64"],
        "index": [1, 2],
        "rows": [["a", 2.0], ["b", 1.0]],
    }
    new = {**old, "rows": [["a", 2.5], ["b", 1.0]]}
    assert figures.differences(old, new, "x/scores") == ["x/scores[plugin=a].blast_radius: 2.0 -> 2.5"]
    findings = [{"rule": "BR102", "subject": "p:t", "message": "m"}, {"rule": "BR103", "subject": "p", "message": "n"}]
    assert figures.differences(findings, [{**findings[1], "message": "o"}], "x/lint") == [
        "x/lint[rule=BR102, subject=p:t]: removed",
        'x/lint[rule=BR103, subject=p].message: "n" -> "o"',
    ]
    changes = [{"subject": s} for s in "abcd"]
    assert figures.differences(changes, [changes[0], changes[2], {"subject": "z"}, changes[3]], "x/diff") == [
        'x/diff[1]: removed {"subject": "b"}',
        'x/diff[2]: added {"subject": "z"}',
    ]


def test_text_columns_have_one_dtype_on_every_pandas() -> None:
    text = pd.DataFrame({"plugin": pd.Series(["a", None], dtype=object), "n": [1, 2]})
    for df in (text, text.astype({"plugin": "string"})):  # text as pandas 2 and pandas 3 store it
        assert figures.table(df) == {
            "index": [0, 1],
            "columns": ["plugin", "n"],
            "dtypes": ["str", "int64"],
            "rows": [["a", 1], [None, 2]],
        }
