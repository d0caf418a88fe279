"""blastradius: how far can one bad AI-agent run reach, and which control shrinks it most."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from blastradius.errors import BlastRadiusError, ConfigError, InventoryError, Problem

if TYPE_CHECKING:
    from blastradius.graph import build_graph
    from blastradius.loader import load_inventory
    from blastradius.model import Inventory

__all__ = [
    "BlastRadiusError",
    "ConfigError",
    "Inventory",
    "InventoryError",
    "Problem",
    "__version__",
    "build_graph",
    "load_inventory",
]

__version__ = "0.1.0"

#: Names imported on first use, so that a command imports only what it needs (the graph needs networkx).
_LAZY = {"build_graph": "blastradius.graph", "load_inventory": "blastradius.loader", "Inventory": "blastradius.model"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'blastradius' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
