"""The documentation names the code as it is: every module in the README's layout and the architecture page."""

from __future__ import annotations

import pkgutil
import re

import blastradius
import blastradius.simulate

from conftest import ROOT


def _modules(package) -> set[str]:
    data = {"__main__", "data", "templates"}  # the entry point and folders of package data
    return {m.name for m in pkgutil.iter_modules(package.__path__) if m.name not in data}


def test_the_readme_layout_names_every_module_and_no_other() -> None:
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `blastradius/` |"))
    named = set(re.findall(r"`(\w+)`", row))
    assert _modules(blastradius) <= named, _modules(blastradius) - named
    assert _modules(blastradius.simulate) <= named, _modules(blastradius.simulate) - named
    assert named <= _modules(blastradius) | _modules(blastradius.simulate) | {"Inventory", "Analysis"}, named


def test_the_architecture_page_names_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = {m for m in _modules(blastradius) if f"`{m}`" not in text and m not in text.split()}
    assert not missing, missing
