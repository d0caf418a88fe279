"""blastradius: how far can one bad AI-agent run reach, and which control shrinks it most."""

from blastradius.errors import BlastRadiusError, ConfigError, InventoryError, Problem
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
