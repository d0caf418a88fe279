"""The ``blastradius`` command: a thin layer over the library.

Exit codes: 0 success, 1 the input is invalid (the message says where and
why), 2 the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from blastradius import __version__
from blastradius.errors import BlastRadiusError, InventoryError
from blastradius.graph import build_graph, to_node_link, write_graph
from blastradius.loader import load_inventory
from blastradius.model import Inventory
from blastradius.schema import inventory_schema

__all__ = ["main"]

_DESCRIPTION = """\
How far can one bad AI-agent run reach, and which control shrinks it most?

blastradius reads an inventory (a directory of YAML/JSON/CSV files describing
teams, plugins, connectors, systems, datasets and people) and analyses it.
Start with:  blastradius validate inventories/acme
"""


def _summary_lines(inv: Inventory) -> list[str]:
    s = inv.summary()
    rows = [
        ("teams", f"{s['teams']:,}"),
        ("people", f"{s['people']:,}"),
        ("plugins", f"{s['plugins']:,}"),
        ("connectors", f"{s['connectors']:,} ({s['tools']:,} tools)"),
        ("systems", f"{s['systems']:,}"),
        ("datasets", f"{s['datasets']:,}"),
        ("records", f"{s['records']:,}" + (f" (+{s['records_unknown']} datasets of unknown size)" if s["records_unknown"] else "")),
        (
            "people reachable",
            f"{s['people_reachable']:,}"
            + (f" (+{s['people_groups_unknown']} groups of unknown size)" if s["people_groups_unknown"] else ""),
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _cmd_validate(args: argparse.Namespace) -> int:
    inv = load_inventory(args.inventory)
    if args.format == "json":
        print(json.dumps({"valid": True, "inventory": str(args.inventory), "summary": inv.summary(),
                          "warnings": [str(w) for w in inv.warnings]}, indent=2))
        return 0
    print(f"{args.inventory}: valid inventory")
    print("\n".join(_summary_lines(inv)))
    if inv.warnings:
        print(f"\n{len(inv.warnings)} warning{'s' if len(inv.warnings) != 1 else ''}:")
        for w in inv.warnings:
            print(f"  - {w}")
    return 0


def _refuse_inside(out: Path, inventory: Path) -> None:
    """Never write into an inventory: the output would be read back as input next time."""
    inv_root = inventory.resolve()
    target = out.resolve()
    if target == inv_root or inv_root in target.parents:
        raise BlastRadiusError(
            f"refusing to write {out} inside the inventory {inventory}: it would become part of the input; "
            "choose a path outside it, e.g. reports/graph.graphml"
        )


def _cmd_graph(args: argparse.Namespace) -> int:
    inv = load_inventory(args.inventory)
    G = build_graph(inv)
    if args.out is None:
        print(json.dumps(to_node_link(G), indent=1, default=str))
        return 0
    _refuse_inside(args.out, args.inventory)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_graph(G, args.out)
    print(f"wrote {args.out}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges", file=sys.stderr)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(inventory_schema(), indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blastradius", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"blastradius {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "validate",
        help="check an inventory and print a summary",
        description="Check every file of an inventory. Exit 0 if valid (with a summary of what it holds), "
        "1 with the list of every problem (file, line, key path, what is wrong, how to fix it).",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory (or a single file)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "graph",
        help="export the plugin -> connector -> system -> data/people graph",
        description="Build the inventory's graph and write it as GraphML (.graphml, for Gephi/Cytoscape) "
        "or node-link JSON (.json). Without --out, node-link JSON goes to standard output.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    p.add_argument("--out", type=Path, metavar="FILE", help="output file: *.graphml or *.json")
    p.set_defaults(func=_cmd_graph)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of inventory files (for editor validation)",
        description="Print the JSON Schema every inventory file follows. Save it and point your editor at it, "
        "e.g. `blastradius schema > inventory.schema.json` and, in a YAML file, "
        "`# yaml-language-server: $schema=inventory.schema.json`.",
    )
    p.set_defaults(func=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InventoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BlastRadiusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `blastradius schema | head`
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
