"""The ``blastradius`` command: a thin layer over the library.

Exit codes: 0 success, 1 the input is invalid (the message says where and
why), 2 the command line is wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import math
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from blastradius import __version__
from blastradius.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from blastradius.errors import BlastRadiusError
from blastradius.loader import load_inventory as _load_inventory
from blastradius.textout import csv_text, frame_to_json, printable, text_table

if typing.TYPE_CHECKING:  # pandas, networkx and the rest are imported by the commands that use them
    import pandas as pd

    from blastradius.model import Inventory

__all__ = ["main"]

#: The report's default classification (blastradius.report.CLASSIFICATION, without importing the report here).
CLASSIFICATION_DEFAULT = "Confidential: internal use only"

_DESCRIPTION = """\
How far can one bad AI-agent run reach, and which control shrinks it most?

blastradius reads an inventory (a directory of YAML/JSON/CSV files describing
teams, plugins, connectors, systems, datasets and people) and analyses it.
Start with:  blastradius validate inventories/acme
"""


def load_inventory(path: Path) -> Inventory:
    """:func:`blastradius.loader.load_inventory`, its records then kept out of the garbage collector's walks.

    A command is one short process that keeps its inventory to the end: every collection that the
    analysis's allocations trigger would walk the hundreds of thousands of loaded objects again
    (``gc.freeze``; they are still freed when no longer referenced).
    """
    inv = _load_inventory(path)
    gc.freeze()
    return inv


def _summary_lines(inv: Inventory) -> list[str]:
    s = inv.summary()
    rows = [
        ("teams", f"{s['teams']:,}"),
        ("people", f"{s['people']:,}"),
        ("plugins", f"{s['plugins']:,}"),
        ("connectors", f"{s['connectors']:,} ({s['tools']:,} tools)"),
        ("systems", f"{s['systems']:,}"),
        ("datasets", f"{s['datasets']:,}"),
        (
            "records",
            f"{s['records']:,}"
            + (f" (+{s['records_unknown']} datasets of unknown size)" if s["records_unknown"] else ""),
        ),
        (
            "people reachable",
            f"{s['people_reachable']:,}"
            + (f" (+{s['people_groups_unknown']} groups of unknown size)" if s["people_groups_unknown"] else ""),
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _load(args: argparse.Namespace, path: Path | None = None) -> Inventory:
    """The inventory of the command (``args.inventory``, or ``path``) with its ``--overlay`` files laid over it."""
    inv = load_inventory(path or args.inventory)
    overlays = getattr(args, "overlay", None)
    if not overlays:
        return inv  # a command without overlays never imports their module
    from blastradius.overlay import apply_overlays

    return apply_overlays(inv, overlays)


def _cmd_validate(args: argparse.Namespace) -> int:
    inv = _load(args)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "valid": True,
                    "inventory": str(args.inventory),
                    "overlays": [str(o) for o in args.overlay or ()],
                    "summary": inv.summary(),
                    "warnings": [str(w) for w in inv.warnings],
                },
                indent=2,
            )
        )
        return 0
    laid = f" with {', '.join(map(str, args.overlay))} laid over it" if args.overlay else ""
    print(f"{args.inventory}: valid inventory{laid}")
    print("\n".join(_summary_lines(inv)))
    if inv.warnings:
        print(f"\n{len(inv.warnings)} warning{'s' if len(inv.warnings) != 1 else ''}:")
        for w in inv.warnings:
            print(f"  - {w}")
    if args.inventory.is_dir():
        from blastradius.importers import todo_lines

        todo = todo_lines(args.inventory)
        if todo:
            print("\n" + "\n".join(todo))
    return 0


def _refuse_inside(out: Path, inventory: Path, *, example: str = "reports/graph.graphml") -> None:
    """Never write into an inventory: the output would be read back as input next time."""
    inv_root = inventory.resolve()
    target = out.resolve()
    if target == inv_root or inv_root in target.parents:
        raise BlastRadiusError(
            f"refusing to write {out} inside the inventory {inventory}: it would become part of the input; "
            f"choose a path outside it, e.g. {example}"
        )


def _cmd_graph(args: argparse.Namespace) -> int:
    from blastradius.graph import build_graph, to_node_link, write_graph

    inv = _load(args)
    G = build_graph(inv)
    if args.out is None:
        print(json.dumps(to_node_link(G), indent=1, default=str))
        return 0
    _refuse_inside(args.out, args.inventory)
    if args.out.is_dir():
        raise BlastRadiusError(f"{args.out} is a directory: give a file name ending in .graphml or .json")
    parent = args.out.resolve().parent
    if args.out.suffix.lower() == ".json" and any(
        (parent / name).exists() for name in ("teams.yaml", "connectors.yaml", "systems.yaml")
    ):
        raise BlastRadiusError(
            f"refusing to write {args.out} into {parent}, which holds an inventory: a .json file there would be "
            "read as part of it; choose a path outside it, e.g. reports/graph.json"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_graph(G, args.out)
    print(f"wrote {args.out}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges", file=sys.stderr)
    return 0


_SCORE_FORMATS = {
    "capability": ".1f",
    "reach_records": ",d",
    "reach_people": ",d",
    "autonomy": ".2f",
    "blast_radius": ".1f",
    "wrong_action": ".1f",
    "data_leakage": ".1f",
    "wrong_output": ".1f",
    "untrusted_factor": "g",
}


def _cmd_score(args: argparse.Namespace) -> int:
    from blastradius.scores import score_plugins

    inv = _load(args)
    df = score_plugins(inv, weights=args.weights)
    if args.format == "json":
        print(frame_to_json(df.reset_index()))
    elif args.format == "csv":
        sys.stdout.write(csv_text(df))
    else:
        from blastradius.importers import draft_banner

        banner = draft_banner(args.inventory, inv)
        if banner:
            print(banner + "\n")
        shown = df.copy()  # a size left open makes a lower bound: "≥", never a plain figure
        for col, open_ in (("reach_records", df["unbounded_datasets"]), ("reach_people", df["unknowns"] > 0)):
            shown[col] = [("≥ " if o else "") + f"{v:,}" for v, o in zip(df[col], open_, strict=True)]
        print(
            text_table(
                shown,
                [
                    "plugin",
                    "capability",
                    "reach_records",
                    "reach_people",
                    "autonomy",
                    "untrusted_factor",
                    "blast_radius",
                    "wrong_action",
                    "data_leakage",
                    "wrong_output",
                    "ungated_high_impact",
                    "unknowns",
                ],
                formats={k: v for k, v in _SCORE_FORMATS.items() if k not in ("reach_records", "reach_people")},
                headers={
                    "reach_records": "records",
                    "reach_people": "people",
                    "blast_radius": "blast radius",
                    "wrong_action": "wrong action",
                    "data_leakage": "leakage",
                    "wrong_output": "wrong output",
                    "ungated_high_impact": "ungated high-impact",
                    "untrusted_factor": "untrusted ×",
                },
            )
        )
        unknown = int(df["unknowns"].sum())
        print(
            "\nblast radius = wrong action + leakage + wrong output, each a sum of capability × reach × autonomy "
            "(docs/scoring.md); wrong action and leakage × 'untrusted ×' for plugins that take in untrusted content."
        )
        if unknown:
            print(
                f"{unknown} size(s) are not given (column 'unknowns'): records and people leave them out and are "
                "lower bounds there (≥); the score counts them at conservative stand-ins."
            )
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from blastradius.explain import explain_plugin, format_explanation

    inv = _load(args)
    explanation = explain_plugin(inv, args.plugin, weights=args.weights)
    if args.format == "json":
        from dataclasses import asdict

        print(json.dumps(asdict(explanation), indent=2, default=str))
    else:
        print(format_explanation(inv, explanation))
    return 0


def _cmd_recommend(args: argparse.Namespace) -> int:
    from blastradius.decision import RANKING_RULE
    from blastradius.levers import recommend, recommendations

    inv = _load(args)
    progress = _progress(len(inv.plugins) * 10_000, unit="lever")  # a bar from about 200 plugins on
    if args.plugin:
        df = recommend(
            inv, weights=args.weights, plugin=args.plugin, min_reduction_pct=args.min_reduction, progress=progress
        ).head(args.top)
    else:
        df = recommendations(
            inv,
            weights=args.weights,
            top=args.top,
            per_plugin=args.per_plugin,
            min_reduction_pct=args.min_reduction,
            progress=progress,
        )
    if args.format == "json":
        print(frame_to_json(df.reset_index()))
        return 0
    if args.format == "csv":
        sys.stdout.write(csv_text(df))
        return 0
    if df.empty:
        print(f"No lever removes at least {args.min_reduction:.0f}% of the blast radius.")
        return 0
    print(f"Levers in the order of the rollout report's decision page: {RANKING_RULE}.")
    df = df.assign(on_front=df.on_front.map({True: "yes", False: ""}))
    for scope, group in df.groupby("scope", sort=False):
        first = group.iloc[0]
        whose = "the whole inventory's" if scope == "overall" else "the plugin's"
        title = "Whole inventory" if scope == "overall" else f"Plugin {scope}"
        print(f"\n{title}: blast radius score {first['before']:.1f}; risk removed as a % of {whose} score")
        print(
            text_table(
                group,
                [
                    "control",
                    "reduction_pct",
                    "uses_lost",
                    "tools_stopped",
                    "tools_gated",
                    "tables_lost",
                    "recipients_lost",
                    "teams_affected",
                    "on_front",
                ],
                formats={"reduction_pct": ".1f"},
                headers={
                    "reduction_pct": "risk removed %",
                    "uses_lost": "uses lost",
                    "tools_stopped": "tools stopped",
                    "tools_gated": "need approval",
                    "tables_lost": "tables lost",
                    "recipients_lost": "recipients lost",
                    "teams_affected": "teams affected",
                    "on_front": "Pareto front",
                },
                max_width={"control": 70},
            )
        )
    print(
        "\nuses lost = tool uses stopped + tables and recipient lists no longer reachable; 'need approval' counts "
        "tools that then wait for a person. --format csv gives each lever's collateral in words (column 'cost')."
    )
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: use YYYY-MM-DD") from None


def _cmd_lint(args: argparse.Namespace) -> int:
    from blastradius.findings import Severity, findings_frame, load_acceptances, to_sarif, unmatched_acceptances
    from blastradius.rules import acceptances_of, lint, rule_catalog

    if args.group_by and args.format in ("json", "sarif"):
        print(
            f"error: --group-by groups the table; --format {args.format} carries the grouping fields", file=sys.stderr
        )
        return 2
    inv = _load(args)
    accepted = load_acceptances(args.accept) if args.accept else ()
    findings = lint(inv, as_of=args.as_of, acceptances=accepted, weights=args.weights)
    threshold = None if args.fail_on == "none" else Severity(args.fail_on)
    failing = [f for f in findings if not f.accepted and threshold is not None and f.severity >= threshold]
    if args.format == "sarif":
        print(json.dumps(to_sarif(findings, rule_catalog(), root=Path.cwd(), version=__version__), indent=2))
    elif args.format == "json":
        print(frame_to_json(findings_frame(findings)))
    else:
        from blastradius.importers import draft_banner

        banner = draft_banner(args.inventory, inv)
        if banner:  # a draft's findings rest on stand-ins: say so before them, as score does
            print(banner + "\n")
        if args.format == "table" or args.group_by:
            _print_grouped_findings(findings, args.group_by or "rule")
        for f in findings if args.format == "text" and not args.group_by else ():
            state = " (accepted)" if f.accepted else " (acceptance expired)" if f.acceptance_expired else ""
            print(f"{f.severity.value.upper():8} {f.rule} {f.subject}{state}")
            print(f"         {f.message}")
            for e in f.evidence:
                print(f"         at {e}")
            print(f"         fix: {f.fix}")
            if f.accepted_by:
                print(f"         accepted by {f.accepted_by} until {f.accepted_until}: {f.accepted_reason}")
        counts = {s: sum(f.severity is s and not f.accepted for f in findings) for s in reversed(Severity)}
        open_ = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) or "none open"
        n_acc = sum(f.accepted for f in findings)
        print(f"\n{len(findings)} finding(s): {open_}" + (f"; {n_acc} accepted" if n_acc else "") + ".")
        if threshold is not None:
            print(f"{len(failing)} at or above '{threshold.value}' (--fail-on): " + ("FAIL" if failing else "pass"))
    for a in unmatched_acceptances(findings, acceptances_of(inv, accepted)):
        print(f"warning: acceptance of {a.rule} for '{a.subject}' matches no finding", file=sys.stderr)
    return 1 if failing else 0


def _print_grouped_findings(findings: list, by: str) -> None:
    import pandas as pd

    from blastradius.findings import findings_by
    from blastradius.standards import FRAMEWORKS, framework

    df = findings_by(findings, by)
    if by in FRAMEWORKS:
        f = framework(by)
        print(f"Findings by {f.title} ({f.url})")
    for label, g in df.groupby("group", sort=False):
        open_ = g[g.state != "accepted"]
        counts = ", ".join(f"{n} {s}" for s, n in open_.severity.value_counts(sort=False).items())
        print(f"\n{label}: {len(g)} finding(s)" + (f" ({counts} open)" if counts else ""))
        g = g.reset_index(drop=True)
        g.index = pd.RangeIndex(1, len(g) + 1)
        print(text_table(g, ["rule", "severity", "subject", "title", "state"], max_width={"title": 48}))


def _cmd_tiers(args: argparse.Namespace) -> int:
    import pandas as pd

    from blastradius.rules import tier_table

    df = tier_table(_load(args))
    if args.format == "json":
        print(frame_to_json(df))
    else:
        df.index = pd.RangeIndex(1, len(df) + 1)
        print(text_table(df, ["plugin", "declared", "routed", "short", "why"]))
    return 0


def _cmd_diff_policies(args: argparse.Namespace) -> int:
    from blastradius.diff import changes_frame, diff_policy_paths

    d = diff_policy_paths(args.old, args.new)
    widened = d.widened()
    if args.format == "json":
        payload = {"old": d.old, "new": d.new, "widened": len(widened)}
        payload["changes"] = json.loads(changes_frame(d).to_json(orient="records"))
        print(json.dumps(payload, indent=2))
        return 1 if widened else 0
    print(f"{d.old} → {d.new}: {len(d.changes)} policy changes, {len(widened)} WIDENED, {len(d.narrowed())} narrowed")
    for c in d.changes:
        what = f"{c.kind} {c.subject}" + (f": {c.field}" if c.field and c.field != "state" else ":")
        change = " → ".join(v for v in (c.old, c.new) if v)
        print(f"  {'WIDENED' if c in widened else c.direction:<8} {what} {change}".rstrip(" :"))
    if widened:
        print(f"\n{len(widened)} polic{'y' if len(widened) == 1 else 'ies'} WIDENED: check each was approved.")
    return 1 if widened else 0


def _cmd_diff(args: argparse.Namespace) -> int:
    import pandas as pd

    from blastradius.diff import changes_frame, diff_inventories
    from blastradius.export.policy import is_policy_export
    from blastradius.findings import findings_frame

    if is_policy_export(args.old) or is_policy_export(args.new):
        return _cmd_diff_policies(args)

    d = diff_inventories(load_inventory(args.old), load_inventory(args.new), weights=args.weights)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "old": d.old,
                    "new": d.new,
                    "changes": json.loads(changes_frame(d).to_json(orient="records")),
                    "scores": json.loads(d.scores.to_json(orient="records")),
                    "findings": json.loads(findings_frame(d.findings).to_json(orient="records")),
                },
                indent=2,
            )
        )
        return 1 if d.findings else 0
    print(
        f"{d.old} → {d.new}: {len(d.changes)} changes, {len(d.widened())} widen access, {len(d.narrowed())} narrow it"
    )
    for title, items in (
        ("Widened or added", d.widened()),
        ("Narrowed or removed", d.narrowed()),
        ("Changed", [c for c in d.changes if c.direction == "changed"]),
    ):
        if items:
            print(f"\n{title} ({len(items)}):")
            for c in items:
                print(f"  - {c}")
    print("\nBlast radius per plugin, before → after:")
    scores = d.scores.copy()
    scores.index = pd.RangeIndex(1, len(scores) + 1)
    print(
        text_table(
            scores,
            ["plugin", "before", "after", "delta", "reach_records_before", "reach_records_after"],
            formats={
                "before": ".1f",
                "after": ".1f",
                "delta": "+.1f",
                "reach_records_before": ",.0f",
                "reach_records_after": ",.0f",
            },
            headers={"reach_records_before": "records before", "reach_records_after": "records after"},
        )
    )
    unbounded = scores[["unbounded_datasets_before", "unbounded_datasets_after"]].fillna(0)
    if (unbounded.to_numpy() > 0).any():
        changed = scores.plugin[unbounded.unbounded_datasets_before != unbounded.unbounded_datasets_after].tolist()
        print(
            "\nRecords are lower bounds where a plugin reaches tables of unknown size with no row limit "
            "(columns unbounded_datasets_before/after in --format json)"
            + (f"; their number changed for {', '.join(changed)}." if changed else ".")
        )
    if d.findings:
        print("\nFindings:")
        for f in d.findings:
            print(f"  {f.severity.value.upper()} {f.rule} {f.subject}: {f.message}")
            for e in f.evidence:
                print(f"    at {e}")
    return 1 if d.findings else 0


def _cmd_export_policy(args: argparse.Namespace) -> int:
    from blastradius.export.files import write_files
    from blastradius.export.policy import policy_files

    if args.out is None and args.format != "claude-settings":
        raise BlastRadiusError(f"--format {args.format} writes a folder: give it with --out DIR")
    inv = load_inventory(args.inventory)
    if args.out is None:
        files = policy_files(inv, format=args.format, out=Path("-"), server_names=args.server_names)
        sys.stdout.write(next(iter(files.values())))
        return 0
    files = policy_files(inv, format=args.format, out=args.out, server_names=args.server_names)
    folders = {path.parent for path in files} if args.format != "claude-settings" else set()
    written = write_files(files, inputs=[args.inventory], force=args.force, folders=folders)
    print(f"wrote {len(written)} file(s) under {args.out}" if len(written) > 1 else f"wrote {written[0]}")
    return 0


def _cmd_export_bom(args: argparse.Namespace) -> int:
    from blastradius.export.bom import bom_json
    from blastradius.export.files import write_files

    text = bom_json(load_inventory(args.inventory))
    if args.out is None:
        sys.stdout.write(text)
        return 0
    print(f"wrote {write_files({args.out: text}, inputs=[args.inventory], force=args.force)[0]}")
    return 0


def _cmd_runbook(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from blastradius.runbook import format_runbook, runbook

    entries = runbook(_load(args), args.plugin)
    if args.format == "json":
        print(json.dumps([asdict(e) for e in entries], indent=2))
    else:
        print(format_runbook(entries), end="")
    return 0


def _progress(total_work: int, *, unit: str = "trial") -> Callable[[int, int], None] | None:
    """A progress bar on standard error for long runs (tqdm) on a terminal, or nothing (piped, or short)."""
    if total_work < 2_000_000 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=1, unit=unit, unit_scale=True, file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _cmd_simulate(args: argparse.Namespace) -> int:
    import pandas as pd

    from blastradius.domain import idle_plugins
    from blastradius.importers import is_import_draft
    from blastradius.simulate import (
        TAIL_TRIALS,
        assumptions_table,
        compare,
        estimate,
        load_assumptions,
        simulate_failures,
        summarize,
        too_few_trials,
    )

    inv = _load(args)
    a = load_assumptions(args.assumptions, inventory=inv)
    progress = _progress(args.trials * max(len(inv.plugins), 1) * (2 if args.compare else 1))
    if args.compare:
        other = load_inventory(args.compare)
        df = compare(
            inv,
            other,
            args.assumptions,
            trials=args.trials,
            seed=args.seed,
            progress=progress,
            by=(args.by, "enterprise") if args.by != "enterprise" else ("enterprise",),
        )
        if args.format == "json":
            print(
                frame_to_json(
                    df, trials=args.trials, seed=args.seed, baseline=str(args.inventory), controlled=str(args.compare)
                )
            )
        elif args.format == "csv":
            sys.stdout.write(csv_text(df, index=False))
        else:
            print(
                f"{args.inventory} → {args.compare}: what the controls buy per {a.period.name} "
                f"({args.trials:,} trials on the same random numbers, seed {args.seed})"
            )
            df.index = pd.RangeIndex(1, len(df) + 1)
            print(
                text_table(
                    df,
                    [
                        "group",
                        "metric",
                        "baseline_p50",
                        "controlled_p50",
                        "baseline_p95",
                        "controlled_p95",
                        "reduction_p95",
                        "reduction_share_p95",
                    ],
                    formats=dict.fromkeys(
                        ("baseline_p50", "controlled_p50", "baseline_p95", "controlled_p95", "reduction_p95"), ",.0f"
                    )
                    | {"reduction_share_p95": ".0%"},
                )
            )
        return 0
    result = simulate_failures(inv, a, trials=args.trials, seed=args.seed, progress=progress)
    by_group = summarize(result, args.by)
    by_class = summarize(result, "enterprise", by_class=True)
    idle = idle_plugins(inv)
    if idle:
        print(
            f"warning: {len(idle):,} of {len(inv.plugins):,} plugins have no users in the inventory "
            f"({', '.join(idle[:5])}{f' and {len(idle) - 5:,} more' if len(idle) > 5 else ''}): their simulated "
            "figures are 0 because nobody runs them, not because they are safe; give each its users",
            file=sys.stderr,
        )
    if is_import_draft(args.inventory):
        from blastradius.importers import draft_banner

        print(
            f"warning: {args.inventory} is an import draft: usage and sizes are placeholders until filled in "
            f"(see its TODO file). {draft_banner(args.inventory, inv)}",
            file=sys.stderr,
        )
    if inv.plugins and len(idle) == len(inv.plugins) and args.format == "table":
        print(
            "NO USERS: nobody runs any plugin of this inventory, so every simulated figure below is 0. That is not "
            "a finding that the rollout is safe: give the teams their headcounts and the plugins their users "
            "(the first items of IMPORT-TODO.md for a draft), then simulate again.\n"
        )
    unsupported = too_few_trials(args.trials, (0.5, 0.95, 0.99))
    if unsupported:
        needed = max(math.ceil(TAIL_TRIALS / min(q, 1 - q)) for q in unsupported)
        print(
            f"warning: {args.trials:,} trials are too few for "
            + ", ".join(f"P{round(q * 100)}" for q in unsupported)
            + f" (fewer than {TAIL_TRIALS} trials beyond it): read it as a rough guide, or use --trials {needed:,} "
            "or more",
            file=sys.stderr,
        )
    if args.format == "json":
        print(
            json.dumps(
                {
                    "trials": args.trials,
                    "seed": result.seed,
                    "period": result.period,
                    "by_class": json.loads(by_class.to_json(orient="records")),
                    args.by: json.loads(by_group.to_json(orient="records")),
                    "assumptions": json.loads(assumptions_table(a).to_json(orient="records")),
                },
                indent=2,
            )
        )
        return 0
    if args.format == "csv":
        sys.stdout.write(csv_text(by_group, index=False))
        return 0
    stats = {
        "records_p50": ",.0f",
        "records_p95": ",.0f",
        "records_p99": ",.0f",
        "people_p50": ",.0f",
        "people_p95": ",.0f",
        "records_permanent_p95": ",.0f",
        "incidents_mean": ",.1f",
    }
    print(
        f"{args.inventory}: {args.trials:,} simulated {result.period}s (seed {result.seed}); distinct records and "
        f"people affected per {result.period}, median (p50) and bad (p95, p99)\n"
    )
    whole = summarize(result, "enterprise", intervals=True).iloc[0]
    reach_records, reach_people = result.reachable()
    from blastradius.domain import stand_ins

    open_ = stand_ins(inv)
    for metric, held, unknown in (
        ("records", reach_records, len(open_.datasets)),
        ("people", reach_people, len(open_.people)),
    ):
        figures = "; ".join(
            f"{label} " + estimate(*(whole[f"{metric}_{stat}{end}"] for end in ("", "_low", "_high")))
            for label, stat in (("typical (median)", "p50"), ("bad (1 in 20)", "p95"), ("mean", "mean"))
        )
        kind = "datasets" if metric == "records" else "people groups"
        print(
            f"{metric.capitalize()} affected across the enterprise: {figures}; of {_short(held, words=True)} reachable"
            + (f", {unknown:,} {kind} of unknown size counted at stand-in sizes." if unknown else ".")
        )
    print("(95% Monte Carlo intervals in brackets: how far another seed could move each figure.)\n")
    by_class.index = pd.RangeIndex(1, len(by_class) + 1)
    print(text_table(by_class, ["failure_class", *stats], formats=stats))
    print()
    by_group.index = pd.RangeIndex(1, len(by_group) + 1)
    print(text_table(by_group.head(args.top), ["group", *stats], formats=stats))
    print(
        f'\nEvery assumption in use: blastradius simulate {args.inventory} --format json ("assumptions"); '
        "defaults and meaning: docs/simulation.md."
    )
    return 0


def _short(value: float, *, words: bool = False) -> str:
    """A figure to three significant figures: 8,412, 14.1k, 2.83M, 1.2B (or 14.1 thousand, 2.83 million ...)."""
    value = float(value)
    for suffix, word, scale in (("B", "billion", 1e9), ("M", "million", 1e6), ("k", "thousand", 1e3)):
        if abs(value) >= 10 * scale or (suffix != "k" and abs(value) >= scale):
            return f"{value / scale:.3g}" + (f" {word}" if words else suffix)
    return f"{value:,.0f}"


def _setting(value: float) -> str:
    """A setting as written in a settings file: 0.0005, 2.5, 100,000."""
    return f"{value:,.0f}" if value >= 1_000 and float(value).is_integer() else f"{value:g}"


_TORNADO_WIDTH = 32


def _tornado_bars(low: Sequence[float], high: Sequence[float], baseline: float) -> list[str]:
    """One text bar per row on a shared linear scale, ``│`` at the baseline.

    ``░`` runs from the baseline to the figure at the low end of the range, ``█`` to the figure at the high end;
    where both ends move the figure the same way, the nearer end is drawn over the farther one.
    """
    values = [baseline, *low, *high]
    lo, hi = min(values), max(values)
    span = hi - lo

    def cell(x: float) -> int:
        return 0 if span <= 0 else min(_TORNADO_WIDTH - 1, round((x - lo) / span * (_TORNADO_WIDTH - 1)))

    base = cell(baseline)
    bars = []
    for at_low, at_high in zip(low, high, strict=True):
        row = [" "] * _TORNADO_WIDTH
        ends = sorted(((cell(at_low), "░"), (cell(at_high), "█")), key=lambda e: -abs(e[0] - base))
        for end, mark in ends:  # the farther end first, the nearer drawn over it
            for i in range(min(base, end), max(base, end) + 1):
                row[i] = mark
            if end == base:
                row[base] = " "
        row[base] = "│"
        bars.append("".join(row))
    return bars


def _sensitivity_text(df: pd.DataFrame, inventory: Path) -> str:
    import textwrap

    import pandas as pd

    from blastradius.simulate import dominant_assumption

    metric, period = df.attrs["metric"], df.attrs["period"]
    stats = df.attrs["statistics"]
    last = df.attrs["statistic"]
    base = df.attrs["baseline"]

    def prose(text: str) -> str:
        return textwrap.fill(text, width=110)

    lines = [
        f"{inventory}: which assumptions move the enterprise's {metric} per {period} most",
        prose(
            "Each assumption at the low end, then at the high end, of its plausible range, one at a time; every run "
            f"on the same random numbers ({df.attrs['trials']:,} trials per run, seed {df.attrs['seed']}, "
            f"{1 + 2 * len(df)} runs). Interactions between assumptions are not shown (docs/sensitivity.md)."
        ),
        "Baseline, every assumption as it is: "
        + ", ".join(f"{s.upper()} {_short(base[f'{metric}_{s}'], words=True)}" for s in stats)
        + f" {metric}.",
        "",
    ]
    if df.empty:
        lines.append("No assumption in use has a plausible range: nothing to vary.")
        return "\n".join(lines)
    shown = pd.DataFrame(
        {
            "assumption": df.key.tolist(),
            "range": [f"{_setting(lo)} → {_setting(hi)}" for lo, hi in zip(df.range_low, df.range_high, strict=True)],
            **{
                f"{s.upper()} low → high end": [
                    f"{_short(a)} → {_short(b)}"
                    for a, b in zip(df[f"{metric}_{s}_at_low"], df[f"{metric}_{s}_at_high"], strict=True)
                ]
                for s in stats
            },
            f"{last.upper()} (│ baseline)": _tornado_bars(
                df[f"{metric}_{last}_at_low"].tolist(),
                df[f"{metric}_{last}_at_high"].tolist(),
                base[f"{metric}_{last}"],
            ),
        },
        index=pd.RangeIndex(1, len(df) + 1),
    )
    lines.append(text_table(shown, list(shown.columns)))
    lines.append(
        "\n"
        + prose(
            f"{metric.capitalize()} per {period}; k thousand, M million, B billion. Bars: ░ with the assumption at "
            f"the low end of its range, █ at the high end, │ the baseline {last.upper()}; sorted by how far it moves."
        )
    )
    top = dominant_assumption(df)
    if top is None:
        lines.append(f"\nNo assumption moves the {last.upper()} of {metric} within its range.")
    else:
        at_low, at_high = top[f"{metric}_{last}_at_low"], top[f"{metric}_{last}_at_high"]
        lines.append(
            "\n"
            + prose(
                f"The figures depend most on {top.key} ({top.value} as assumed): the enterprise's {last.upper()} of "
                f"{metric} per {period} would be {_short(at_low, words=True)} at the low end of its range "
                f"({_setting(top.range_low)}) and {_short(at_high, words=True)} at the high end "
                f"({_setting(top.range_high)}), "
                f"against {_short(base[f'{metric}_{last}'], words=True)} as assumed."
            )
        )
    return "\n".join(lines)


def _refuse_input(out: Path, inputs: Sequence[Path | None]) -> None:
    """Never overwrite a file the command reads."""
    for given in inputs:
        if given is not None and out.resolve() == given.resolve():
            raise BlastRadiusError(f"refusing to overwrite {out}: it is an input of this command; choose another --out")


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from blastradius.simulate import SENSITIVITY_TRIALS, TAIL_TRIALS, sensitivity, too_few_trials

    trials = SENSITIVITY_TRIALS if args.trials is None else args.trials
    rough = too_few_trials(trials, (0.5, 0.95))
    if rough:
        print(
            f"warning: {trials:,} trials per run leave fewer than {TAIL_TRIALS} trials beyond the "
            + " and the ".join(f"P{q * 100:.0f}" for q in rough)
            + f": those figures are rough; use --trials {max(math.ceil(TAIL_TRIALS / min(q, 1 - q)) for q in rough):,} "
            "or more",
            file=sys.stderr,
        )
    if args.scheduler is not None and args.workers:
        raise BlastRadiusError("--workers starts a local cluster and --scheduler joins a running one: give one of them")
    if args.out is not None:
        _refuse_inside(args.out, args.inventory, example="reports/sensitivity.txt")
        _refuse_input(args.out, [args.assumptions, args.weights])
    inv = _load(args)
    df = sensitivity(
        inv,
        args.assumptions,
        trials=trials,
        seed=args.seed,
        weights=args.weights,
        metric=args.metric,
        progress=_progress(trials * max(len(inv.plugins), 1) * 60),
        scheduler=args.scheduler,
        workers=args.workers,
    )
    if args.format == "json":
        text = frame_to_json(
            df,
            inventory=str(args.inventory),
            trials=df.attrs["trials"],
            seed=df.attrs["seed"],
            metric=df.attrs["metric"],
            period=df.attrs["period"],
            baseline=df.attrs["baseline"],
        )
    elif args.format == "csv":
        text = csv_text(df, index=False)
    else:
        text = _sensitivity_text(df, args.inventory)
    if args.out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(df)} assumptions", file=sys.stderr)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    import os

    from blastradius.sweep import run_sweep, summary_lines

    if args.scheduler is not None and args.workers is not None:
        raise BlastRadiusError("--workers starts a local cluster and --scheduler joins a running one: give one of them")
    workers = None if args.workers == 0 or args.scheduler else (args.workers or os.cpu_count() or 1)
    result = run_sweep(
        args.inventory,
        args.grid,
        out=args.out,
        scheduler=args.scheduler,
        workers=workers,
        trials=args.trials,
        seed=args.seed,
        assumptions=args.assumptions,
        weights=args.weights,
        batch_size=args.batch_size,
        progress=True,
    )
    print("\n".join(summary_lines(result)))
    print(f"wrote {', '.join(str(f) for f in result.files)}", file=sys.stderr)
    return 0 if result.complete else 1


def _cmd_import(args: argparse.Namespace) -> int:
    from blastradius.importers import import_sources, report_lines

    report = import_sources(
        args.kind, list(args.paths), args.out, merge=args.merge, strict=args.strict, checkouts=args.checkouts
    )
    print("\n".join(report_lines(report)))
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from blastradius.probe import probe_lines, probe_servers

    results = probe_servers(args.paths, args.out, timeout=args.timeout, only=args.server or ())
    print(f"{args.out}: tools/list of {len(results):,} MCP server{'s' if len(results) != 1 else ''}")
    print("\n".join(probe_lines(results, args.out)))
    return 0 if all(r.ok for r in results) else 1


def _cmd_synth(args: argparse.Namespace) -> int:
    from blastradius.synth import write_enterprise

    path = write_enterprise(
        args.out,
        people=args.people,
        plugins=args.plugins,
        connectors=args.connectors,
        systems=args.systems,
        datasets=args.datasets,
        seed=args.seed,
    )
    print(f"{path}: synthetic enterprise (seed {args.seed})")
    print("\n".join(_summary_lines(load_inventory(path))))
    return 0


def _report_progress(stage: str) -> None:
    """One line per stage of the report on standard error, as it starts, with the time so far."""
    print(stage, file=sys.stderr, flush=True)


def _cmd_report(args: argparse.Namespace) -> int:
    from blastradius.report import organisation_name, render_report

    _refuse_inside(args.out, args.inventory, example="reports")
    inventory, title, written = args.inventory, args.title, ""
    if args.overlay:  # the overlaid inventory written whole beside the report (which reads files), then reported
        from blastradius.overlay import write_inventory

        stem = "+".join([args.inventory.name, *(Path(o).stem for o in args.overlay)])
        inventory = args.out / stem
        if inventory.exists():
            raise BlastRadiusError(f"refusing to overwrite {inventory}: remove it, or report into another --out")
        write_inventory(_load(args), inventory, note=f"{args.inventory} with {', '.join(map(str, args.overlay))}")
        title = args.title or organisation_name(args.inventory)
        written = f" (the overlaid inventory it reports on: {inventory})"
    path = render_report(
        inventory,
        out=args.out,
        compare_to=args.compare,
        assumptions=args.assumptions,
        costs=args.costs,
        trials=args.trials,
        seed=args.seed,
        fmt=args.format,
        as_of=args.as_of,
        title=title,
        classification=args.classification,
        top=args.top,
        calibration=args.calibration,
        progress=_report_progress if args.stages or (not args.quiet and sys.stderr.isatty()) else None,
    )
    print(f"wrote {path}{written}")
    return 0


def _cmd_workshop(args: argparse.Namespace) -> int:
    from blastradius.workshop.server import serve

    _refuse_inside(args.out, args.inventory, example="workshop")
    serve(
        args.inventory,
        overlays=args.overlay or (),
        host=args.host,
        port=args.port,
        out=args.out,
        trials=args.trials,
        idle_minutes=args.idle_minutes,
    )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from blastradius.schema import inventory_schema

    print(json.dumps(inventory_schema(), indent=2))
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from blastradius.calibrate import calibrate
    from blastradius.calibrate.text import calibration_lines, check_outputs
    from blastradius.findings import to_sarif
    from blastradius.rules import rule_catalog

    outputs = [p for p in (args.out, args.table, args.findings) if p is not None]
    for out in outputs:
        _refuse_inside(out, args.inventory, example="calibrated.yaml")
    inputs = [*args.logs, *(p for p in (args.mapping, args.assumptions) if p is not None), *(args.overlay or ())]
    refusal = check_outputs(outputs, inputs)
    if refusal:
        raise BlastRadiusError(refusal)
    inv = _load(args)
    cal = calibrate(
        inv,
        args.logs,
        mapping=args.mapping,
        since=args.since,
        until=args.until,
        assumptions=args.assumptions,
        level=args.level / 100,
        progress=True,
    )
    print("\n".join(calibration_lines(cal)))
    written = [cal.write_overlay(args.out, base=str(args.inventory))]
    if args.table is not None:
        args.table.parent.mkdir(parents=True, exist_ok=True)
        args.table.write_text(csv_text(cal.table(), index=False), encoding="utf-8")
        written.append(args.table)
    if args.findings is not None:
        catalog = rule_catalog(calibration=True)
        sarif = to_sarif(list(cal.findings), catalog, root=Path.cwd(), version=__version__)
        args.findings.parent.mkdir(parents=True, exist_ok=True)
        args.findings.write_text(json.dumps(sarif, indent=2) + "\n", encoding="utf-8")
        written.append(args.findings)
    print("\nwrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, else a clear usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {value:,}")
        return value

    parse.__name__ = "whole number"
    return parse


def _percent(text: str) -> float:
    """An argparse type: a percentage from 0 to 100."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, got {text!r}") from None
    if not 0 <= value <= 100:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be from 0 to 100, got {text}")
    return value


_TRIALS = _whole(1, 10_000_000)
_WORKERS = _whole(0, 10_000)
_SEED = _whole(0, 2**64 - 1)
_TOP = _whole(1, 1_000_000)
_SIZE = _whole(1, 100_000_000)


def _overlay_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overlay",
        type=Path,
        action="append",
        metavar="FILE",
        help="an overlay laid over the inventory by id, its files unchanged (repeat for more, in order); "
        "see docs/workshop.md",
    )


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
    _overlay_option(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "graph",
        help="export the plugin -> connector -> system -> data/people graph",
        description="Build the inventory's graph and write it as GraphML (.graphml, for Gephi/Cytoscape) "
        "or node-link JSON (.json). Without --out, node-link JSON goes to standard output.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--out", type=Path, metavar="FILE", help="output file: *.graphml or *.json")
    p.set_defaults(func=_cmd_graph)

    weights_help = "scoring weights file (YAML/JSON) over the defaults; see docs/scoring.md"

    p = sub.add_parser(
        "score",
        help="blast radius of every plugin: capability x reach x autonomy",
        description="Score every plugin: if one run goes wrong, how far can the damage reach? Prints the three "
        "factors, the blast radius and its breakdown by failure class, highest first.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "explain",
        help="where one plugin's blast radius comes from, in words",
        description="Explain one plugin's score: each path plugin -> connector -> tool -> system -> data/people "
        "with its share, and the approval prompt a person sees for every gated action.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("plugin", metavar="PLUGIN", help="plugin id")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser(
        "recommend",
        help="which controls shrink the blast radius most, and what each costs its users",
        description="Try every containment lever (approval gates, read-only, row limits, masked columns, "
        "allowed tables, blocked tools, removed or split connectors), check each removes access and adds none, "
        "and rank them overall and per plugin as the rollout report's decision page does: risk removed against "
        "collateral (tool uses stopped, tables and recipient lists lost, teams affected), the controls on the "
        "Pareto front first.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--plugin", metavar="PLUGIN", help="rank levers for this plugin only")
    p.add_argument("--top", type=_TOP, default=15, metavar="N", help="levers in the overall ranking (default: 15)")
    p.add_argument("--per-plugin", type=_TOP, default=3, metavar="K", help="levers per plugin (default: 3)")
    p.add_argument(
        "--min-reduction",
        type=_percent,
        default=1.0,
        metavar="PCT",
        help="leave out levers removing less than PCT%% (default: 1)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_recommend)

    p = sub.add_parser(
        "lint",
        help="governance findings (rules BR101...), for people and for CI",
        description="Check an inventory for the pitfalls a governance reviewer looks for (docs/rules.md): "
        "mega-connectors, ungated high-impact actions, missing audit, alerts and row limits, unmasked columns, "
        "no kill switch, stale approvals, review tiers too low, prohibited uses, the lethal trifecta. "
        "Exit 1 when an open finding is at or above --fail-on, 0 otherwise.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument(
        "--format", choices=("text", "table", "json", "sarif"), default="text", help="output format (default: text)"
    )
    p.add_argument(
        "--group-by",
        choices=("rule", "severity", "owasp-llm", "owasp-agentic", "atlas"),
        help="with --format table: group findings by rule, severity, or the entries of OWASP Top 10 for LLM "
        "Applications 2025, OWASP Top 10 for Agentic Applications 2026 or MITRE ATLAS (default: rule)",
    )
    p.add_argument(
        "--fail-on",
        choices=("info", "low", "medium", "high", "critical", "none"),
        default="high",
        help="exit 1 if an open finding is at least this severe (default: high)",
    )
    p.add_argument(
        "--accept",
        type=Path,
        metavar="FILE",
        help="accepted findings (rule, subject, owner, reason, expires), besides the inventory's own",
    )
    p.add_argument(
        "--as-of",
        type=_date,
        default=dt.date.today(),
        metavar="DATE",
        help="date to age approvals and acceptances against (default: today)",
    )
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser(
        "tiers",
        help="declared vs routed review tier of every plugin",
        description="Route every plugin's work to a review tier (sensitive data or a system write: 3; leaving "
        "the organisation: 2; otherwise 1) and compare it with the tier it declares.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    p.set_defaults(func=_cmd_tiers)

    p = sub.add_parser(
        "diff",
        help="what changed between two inventories, in scope and in risk",
        description="Compare two snapshots of an inventory: what was added or removed, every scope widened or "
        "narrowed, the blast radius of each plugin before and after, and 'scope expansion without "
        "re-approval' (BR118). Exit 1 when there is such a finding. Given policy exports (export-policy: a "
        "managed-settings file, a connector policy or an export folder; an inventory on the other side is exported "
        "in memory), it lists every rule and scope that changed and marks each that WIDENED (an allow added, a "
        "deny or ask removed, a row limit raised, a denied column dropped ...); exit 1 when one did.",
    )
    p.add_argument("old", type=Path, metavar="OLD", help="the earlier inventory or policy export")
    p.add_argument("new", type=Path, metavar="NEW", help="the later inventory or policy export")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser(
        "export-policy",
        help="the agreed controls as managed settings (Claude Code / Cowork) and connector policies",
        description="Write what the inventory allows as configuration the platform enforces (docs/enforcement.md). "
        "claude-settings: managed settings with a permission rule per MCP tool of every plugin (deny when blocked, "
        "ask when gated, allow only when it runs with no human); connector-policy: one JSON policy per connector "
        "(access, allowed tables, denied columns, row limit, approval, audit) into a folder; all: both into a "
        "folder. Never writes into the inventory, and never over a file unless --force.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    p.add_argument(
        "--format",
        choices=("claude-settings", "connector-policy", "all"),
        default="claude-settings",
        help="what to write (default: claude-settings)",
    )
    p.add_argument(
        "--out", type=Path, metavar="PATH", help="file (claude-settings; default: standard output) or folder"
    )
    p.add_argument(
        "--server-names",
        choices=("plugin", "connector"),
        default="plugin",
        help="name MCP servers per plugin, as Claude Code names a plugin's servers (plugin_<plugin>_<connector>, "
        "exact), or per connector (one rule per tool: the strictest any plugin has) (default: plugin)",
    )
    p.add_argument("--force", action="store_true", help="replace files that exist")
    p.set_defaults(func=_cmd_export_policy)

    p = sub.add_parser(
        "export-bom",
        help="the inventory as a CycloneDX bill of materials",
        description="Write a CycloneDX 1.6 JSON document listing plugins, connectors, systems and datasets with "
        "their data flows and classifications, validated against the CycloneDX schema. Needs the export extra: "
        "pip install 'blastradius[export]'.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    p.add_argument("--out", type=Path, metavar="FILE", help="output file (default: standard output)")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    p.set_defaults(func=_cmd_export_bom)

    p = sub.add_parser(
        "runbook",
        help="the kill-switch runbook: how to halt each plugin, and how fast",
        description="For each plugin (or one): the action that halts it (pause for all users, revoke or freeze "
        "its connectors), the collateral on other plugins and teams, what it can still touch, where its audit "
        "trail is, and the expected time to halt. Plugins that cannot be halted fast come first.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("plugin", nargs="?", metavar="PLUGIN", help="one plugin (default: all)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(func=_cmd_runbook)

    p = sub.add_parser(
        "import",
        help="draft an inventory from plugin folders, MCP configs, tool listings, permissions",
        description="Turn what a deployment already has into a draft inventory: 'plugins' (a plugin folder or "
        "marketplace), 'mcp-config' (claude_desktop_config.json, .mcp.json, VS Code / Cursor configs), "
        "'mcp-tools' (tools/list results), 'permissions' (allow / ask / deny rules). Writes readable YAML with "
        "TODOs for what no config knows; refuses to overwrite an inventory unless --merge, and merging keeps "
        "every analyst edit. See docs/importing.md.",
    )
    p.add_argument("kind", choices=("plugins", "mcp-config", "mcp-tools", "permissions"), help="what the paths are")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files or folders to import")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the draft inventory directory")
    p.add_argument("--merge", action="store_true", help="add to an existing draft, keeping every edit")
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on any problem (by default a plugin or file with a problem is left out, with a warning)",
    )
    p.add_argument(
        "--checkouts",
        type=Path,
        metavar="DIR",
        help="local checkouts of a marketplace's remote plugins (DIR/name or DIR/owner/name): import them too",
    )
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "probe",
        help="capture tools/list (with annotations) from live MCP servers, for import mcp-tools",
        description="Start or connect to every MCP server a client config, .mcp.json or plugin folder names "
        "(stdio, streamable HTTP, SSE) and save each one's tools/list as SERVER.tools.json in --out, which "
        "'blastradius import mcp-tools' reads. ${NAME} placeholders of the configs are filled from the "
        "environment; no credential is written. One line per server that fails, and why; exit status 1 if any "
        "did. Needs the probe extra (pip install 'blastradius[probe]'). See docs/importing.md.",
    )
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="client configs, .mcp.json, plugin folders")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the SERVER.tools.json files")
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time each server has to start and list its tools (default: 30)",
    )
    p.add_argument("--server", action="append", metavar="NAME", help="probe only this server (repeatable)")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser(
        "simulate",
        help="Monte Carlo of the failure classes over a quarter, with the controls in place",
        description="Simulate a rollout period (a quarter by default) many times: failures of every plugin and "
        "class (wrong output, wrong action, data leakage, systematic fault at scale), intercepted by gates and "
        "review, detected by alerts, halted by the kill switch. Prints records and people affected at P50, P95 "
        "and P99, per failure class and per plugin (or department). With --compare, what the second inventory's "
        "controls buy on the same random numbers.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument(
        "--trials",
        type=_TRIALS,
        default=DEFAULT_TRIALS,
        metavar="N",
        help=f"simulated periods (default: {DEFAULT_TRIALS:,})",
    )
    p.add_argument(
        "--seed", type=_SEED, default=DEFAULT_SEED, metavar="S", help=f"random seed (default: {DEFAULT_SEED})"
    )
    p.add_argument("--compare", type=Path, metavar="DIR2", help="the same company with other controls")
    p.add_argument(
        "--assumptions", type=Path, metavar="FILE", help="assumptions over the defaults (docs/simulation.md)"
    )
    p.add_argument(
        "--by",
        choices=("plugin", "department", "enterprise"),
        default="plugin",
        help="group the figures by (default: plugin)",
    )
    p.add_argument("--top", type=_TOP, default=20, metavar="N", help="rows of the table per group (default: 20)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "sensitivity",
        help="which assumptions move the simulated figures most (a tornado)",
        description="Simulate the enterprise with each uncertain assumption (and each stand-in for a size the "
        "inventory does not give) at the low end, then at the high end, of its plausible range, one at a time, "
        "every run on the same random numbers. Prints the P50 and P95 at each end, sorted by how far the P95 "
        "moves, as a text tornado, and names the assumption the figures depend on most. Interactions between "
        "assumptions are not shown (docs/sensitivity.md).",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument(
        "--trials",
        type=_TRIALS,
        metavar="N",
        # the library's SENSITIVITY_TRIALS: not imported here, as it would load the simulation for every command
        help="simulated periods per run, two runs per assumption (default: 2,000)",
    )
    p.add_argument(
        "--seed", type=_SEED, default=DEFAULT_SEED, metavar="S", help=f"random seed (default: {DEFAULT_SEED})"
    )
    p.add_argument(
        "--assumptions", type=Path, metavar="FILE", help="assumptions over the defaults (docs/simulation.md)"
    )
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.add_argument(
        "--metric",
        choices=("records", "people"),
        default="records",
        help="the figure to sort by and show (default: records)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS, e.g. tcp://host:8786 (docs/sweeps.md)",
    )
    p.add_argument(
        "--workers",
        type=_WORKERS,
        metavar="N",
        help="run on a local Dask cluster of N processes (default: in this one)",
    )
    p.set_defaults(func=_cmd_sensitivity)

    p = sub.add_parser(
        "sweep",
        help="simulate a grid of what-if scenarios (levers x assumptions), on Dask",
        description="Expand a grid file of levers (gate, block, read-only, scope, row-limit, halt-time per plugin, "
        "connector or department) and assumption values into scenarios, simulate each on the same random numbers, "
        "and write one table (results.parquet, results.csv) with every scenario's P50/P95/P99 and their intervals, "
        "its reduction against its baseline, what its levers cost, and the Pareto front (front.csv). Runs on a "
        "local Dask cluster, or on a running one with --scheduler; an interrupted sweep resumes from OUT "
        "(docs/sweeps.md).",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    p.add_argument("--grid", type=Path, required=True, metavar="GRID", help="grid file, YAML or JSON (docs/sweeps.md)")
    p.add_argument("--out", type=Path, required=True, metavar="OUT", help="directory for the tables (resumed from)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument(
        "--workers",
        type=_WORKERS,
        metavar="N",
        help="processes of the local Dask cluster (default: one per core; 0: no cluster, in this process)",
    )
    p.add_argument(
        "--trials", type=_TRIALS, metavar="N", help="periods per scenario (default: the grid's, else 10,000)"
    )
    p.add_argument("--seed", type=_SEED, metavar="S", help=f"random seed (default: the grid's, else {DEFAULT_SEED})")
    p.add_argument(
        "--batch-size", type=_TOP, metavar="N", help="scenarios per task (default: about 4 tasks per worker)"
    )
    p.add_argument(
        "--assumptions", type=Path, metavar="FILE", help="assumptions over the defaults (docs/simulation.md)"
    )
    p.add_argument("--weights", type=Path, metavar="FILE", help=weights_help)
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser(
        "synth",
        help="generate a synthetic enterprise inventory (demos, stress tests, benchmarks)",
        description="Write a valid inventory of a made-up enterprise of the given size: departments and teams, "
        "shared connectors, skewed dataset sizes, a mix of gated/ungated and read-only/read-write, planted "
        "pitfalls. The same seed gives the same files. Refuses a non-empty output directory.",
    )
    p.add_argument("--people", type=_SIZE, default=4_000, metavar="N", help="headcount (default: 4,000)")
    p.add_argument("--plugins", type=_SIZE, default=40, metavar="N", help="plugins (default: 40)")
    p.add_argument("--connectors", type=_SIZE, default=20, metavar="N", help="connectors (default: 20)")
    p.add_argument("--systems", type=_SIZE, default=12, metavar="N", help="systems (default: 12)")
    p.add_argument("--datasets", type=_SIZE, default=150, metavar="N", help="datasets (default: 150)")
    p.add_argument(
        "--seed", type=_SEED, default=DEFAULT_SEED, metavar="S", help=f"random seed (default: {DEFAULT_SEED})"
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write it (empty or new)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser(
        "report",
        help="the rollout report for leadership (HTML or PDF)",
        description="Run the rollout report (a parameterized notebook) on an inventory and export it without code: "
        "the decision (the control package to approve, its owners, due dates and combined effect, the top risks), "
        "executive summary, blast-radius ranking, failure outlook per period, the comparison explained, what the "
        "figures depend on, every control with its collateral, governance findings by rule, kill-switch readiness, "
        "a glossary and every assumption. HTML is one self-contained file; PDF is printed by Chromium (Debian "
        "package 'chromium'), with page numbers, date, report id and classification on every page. The full "
        "tables go beside it as CSV. On a terminal, prints each stage on standard error as it starts (--stages: "
        "also when piped). Needs the report extra.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument(
        "--compare", type=Path, metavar="DIR2", help="a second inventory to compare with (e.g. after controls)"
    )
    p.add_argument(
        "--out", type=Path, default=Path("reports"), metavar="DIR", help="output directory (default: reports/)"
    )
    p.add_argument("--format", choices=("html", "pdf"), default="html", help="html (default) or pdf")
    p.add_argument("--assumptions", type=Path, metavar="FILE", help="simulation assumptions over the defaults")
    p.add_argument(
        "--costs",
        nargs="?",
        const=True,
        default=None,
        metavar="FILE",
        help="price records, people and payments in a currency: the sourced defaults "
        "(blastradius/data/costs.yaml), or FILE over them; without it the report stays in records and people",
    )
    p.add_argument(
        "--calibration",
        type=Path,
        metavar="TABLE",
        help="add an appendix on calibration: the table `blastradius calibrate --table TABLE` wrote (the figures "
        "use the calibration only with its overlay, --overlay)",
    )
    p.add_argument(
        "--title",
        metavar="NAME",
        help="the organisation's name in the title (default: the first heading of the inventory's README.md, "
        "else its directory's name)",
    )
    p.add_argument(
        "--classification",
        default=CLASSIFICATION_DEFAULT,
        metavar="TEXT",
        help=f"classification printed on every page (default: '{CLASSIFICATION_DEFAULT}')",
    )
    p.add_argument(
        "--top", type=_TOP, default=20, metavar="N", help="rows of each long table shown, the rest in CSV (default 20)"
    )
    p.add_argument(
        "--trials",
        type=_TRIALS,
        default=DEFAULT_TRIALS,
        metavar="N",
        help=f"simulated periods (default: {DEFAULT_TRIALS:,})",
    )
    p.add_argument(
        "--seed", type=_SEED, default=DEFAULT_SEED, metavar="S", help=f"random seed (default: {DEFAULT_SEED})"
    )
    p.add_argument(
        "--as-of",
        type=_date,
        default=dt.date.today(),
        metavar="DATE",
        help="date to age approvals against and count due dates from (default: today)",
    )
    stages = p.add_mutually_exclusive_group()
    stages.add_argument("--quiet", action="store_true", help="print no stages, even on a terminal")
    stages.add_argument(
        "--stages", action="store_true", help="print each stage on standard error even when it is not a terminal"
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "workshop",
        help="a live what-if dashboard for a rollout-planning workshop, in the browser",
        description="Serve a dashboard on this machine for a room planning the rollout: gate, block, make "
        "read-only, cap rows, set alerts, kill-switch times and the gates' catch rate, and see the blast-radius "
        "ranking, the outlook per failure class and the exceedance curves change. Each browser has its own "
        "scenario; a scenario can be kept, saved as an overlay or exported as a rollout report. Prints the URL; "
        "Ctrl-C stops it. Works offline. Needs the workshop extra. See docs/workshop.md.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--host", default="127.0.0.1", metavar="H", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_whole(1, 65_535), default=8765, metavar="P", help="port (default: 8765)")
    p.add_argument(
        "--out", type=Path, default=Path("workshop"), metavar="DIR", help="where saved overlays and reports go"
    )
    p.add_argument(
        "--trials",
        type=_TRIALS,
        metavar="N",
        help=f"trials of the final figures (default: {DEFAULT_TRIALS:,}; 1,000 above 200 plugins)",
    )
    p.add_argument(
        "--idle-minutes",
        type=_whole(1, 7 * 24 * 60),
        default=30,
        metavar="M",
        help="end a browser's session after M minutes without a connection (default: 30)",
    )
    p.set_defaults(func=_cmd_workshop)

    p = sub.add_parser(
        "calibrate",
        help="calibrate runs, approvals and reach from the organisation's own logs",
        description="Read the logs a deployment already keeps (OpenTelemetry log exports of Claude Code and Cowork "
        "tool calls and permission decisions, connector query audit logs, or any CSV/JSON-lines log through a "
        "mapping file), map each call to a plugin, connector and tool of the inventory, and combine the counts with "
        "the sourced priors: runs per user per day, approvals and human rejections of gated calls and the bound they "
        "put on the gate's catch, how often a call comes near its modelled bound, tool failure rates, each with its "
        "interval and the events behind it. Writes one overlay of the calibrated settings (never the inventory) and "
        "reports shadow access (BR201), calls above the modelled bound (BR202) and rubber-stamped gates (BR203). "
        "See docs/calibration.md.",
    )
    p.add_argument("inventory", type=Path, metavar="DIR", help="inventory directory")
    _overlay_option(p)
    p.add_argument("--logs", type=Path, nargs="+", required=True, metavar="PATH", help="log files or directories")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="the overlay of calibrated settings (YAML)")
    p.add_argument("--mapping", type=Path, metavar="FILE", help="how to read another CSV/JSON-lines log")
    p.add_argument("--since", type=_date, metavar="DATE", help="only events on or after this day (UTC)")
    p.add_argument("--until", type=_date, metavar="DATE", help="only events on or before this day (UTC)")
    p.add_argument("--assumptions", type=Path, metavar="FILE", help="priors over the defaults (docs/simulation.md)")
    p.add_argument(
        "--level", type=_percent, default=90.0, metavar="PCT", help="of every interval, in percent (default: 90)"
    )
    p.add_argument("--table", type=Path, metavar="FILE", help="write the whole calibration table as CSV")
    p.add_argument("--findings", type=Path, metavar="FILE", help="write the findings as SARIF")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of inventory files (for editor validation)",
        description="Print the JSON Schema every inventory file follows. Save it and point your editor at it, "
        "e.g. `blastradius schema > inventory.schema.json` and, in a YAML file, "
        "`# yaml-language-server: $schema=inventory.schema.json`.",
    )
    p.set_defaults(func=_cmd_schema)
    return parser


class _Printable(io.TextIOBase):
    """A text stream that shows control characters as ``\\xNN`` (:func:`~blastradius.textout.printable`).

    Names and descriptions come from inventory files and imported configs:
    a terminal must not obey an escape sequence hidden in one.
    """

    def __init__(self, stream: typing.TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))


#: Commands that analyse and print, then end: the cyclic garbage collector stays off while they run.
#: Nearly everything they build lives to the end and holds no cycle to free (recommend on 4,000 plugins peaks at
#: the same memory either way), while each collection walks the whole growing analysis again: 21% of recommend's
#: CPU at 4,000 plugins, a share that grows with the inventory. Servers, sweeps, imports and the report keep it.
_ONE_SHOT = frozenset(
    {
        _cmd_validate,
        _cmd_graph,
        _cmd_score,
        _cmd_explain,
        _cmd_recommend,
        _cmd_lint,
        _cmd_tiers,
        _cmd_diff_policies,
        _cmd_diff,
        _cmd_export_policy,
        _cmd_export_bom,
        _cmd_runbook,
        _cmd_simulate,
        _cmd_sensitivity,
    }
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = _Printable(out)  # stderr keeps its progress bars; messages there go through printable() below
    paused = args.func in _ONE_SHOT and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return args.func(args)
    except BlastRadiusError as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `blastradius schema | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = out
        if paused:
            gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
