"""Running a sweep: scenarios evaluated in batches (here or on Dask), written as they finish, read back on resume.

:func:`evaluate_scenarios` is the engine shared by :func:`run_sweep` and
:func:`blastradius.simulate.sensitivity`; :func:`run_sweep` adds the grid,
the part files an interrupted sweep resumes from, and the results table.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blastradius import __version__
from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from blastradius.errors import BlastRadiusError, import_extra
from blastradius.model import Inventory
from blastradius.settings.files import Document
from blastradius.sweep.execute import Cluster, batches, connect, dask_outcomes, local_outcomes, pack
from blastradius.sweep.grid import Grid, expand_grid, load_grid
from blastradius.sweep.scenarios import COLLATERAL_COLUMNS, Outcome, Scenario

__all__ = [
    "REDUCTION_METRICS",
    "REDUCTION_STATISTICS",
    "SweepResult",
    "evaluate_scenarios",
    "run_sweep",
    "summary_lines",
]

#: Figures whose reduction against the baseline the table gives (``M_S_reduction`` and ``M_S_reduction_pct``).
REDUCTION_METRICS = ("records", "people", "records_permanent", "people_permanent")
REDUCTION_STATISTICS = ("mean", "p50", "p95", "p99")
#: What a reduction is a percentage of, in words (the table's ``attrs``, sweep.json and docs/sweeps.md say it).
REDUCTION_OF = (
    "percent of the same figure (the enterprise's total per period, at the same statistic) in the scenario's "
    "baseline: the scenario with the same assumption settings and every lever off"
)


def _root(seed: int | np.random.Generator | None) -> int:
    """The one door for randomness: an int is used as is; anything else draws one, once, from default_rng."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if not 0 <= seed < 2**64:
            raise BlastRadiusError(f"seed must be from 0 to 2**64 - 1, got {seed}")
        return int(seed)
    return int(np.random.default_rng(seed).integers(0, 2**63 - 1))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_token(analysis: Analysis, *, trials: int, seed: int, common_random_numbers: bool) -> str:
    """A hash of everything a scenario's figures depend on but the scenario: the inventory, settings, trials,
    seed, and the package's version."""
    inv = analysis.inventory
    parts = {
        "version": __version__,
        "inventory": _digest(inv.model_dump_json(exclude={"origins", "warnings", "source"})),
        "weights": _digest(analysis.weights.model_dump_json()),
        "assumptions": _digest(analysis.assumptions.model_dump_json()),
        "trials": trials,
        "seed": seed,
        "common_random_numbers": common_random_numbers,
    }
    return _digest(json.dumps(parts, sort_keys=True))


def scenario_hash(token: str, scenario: Scenario) -> str:
    """The run's token and what the scenario does: a part file's row is reused on resume only if this matches."""
    what = {
        "run": token,
        "key": scenario.key,
        "levers": [asdict(s) for s in scenario.levers],
        "settings": [asdict(s) for s in scenario.settings],
    }
    return _digest(json.dumps(what, sort_keys=True, default=str))


def evaluate_scenarios(
    source: Inventory | Analysis,
    scenarios: Sequence[Scenario],
    *,
    trials: int,
    seed: int,
    common_random_numbers: bool = True,
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[list[Outcome]], Any] | None = None,
    on_cluster: Callable[[Cluster], Any] | None = None,
) -> dict[str, Outcome]:
    """Every scenario simulated: in this process, or on Dask with ``scheduler`` or ``workers`` given.

    The engine of :func:`run_sweep` and :func:`blastradius.simulate.sensitivity`. The numbers depend on the
    scenario, ``trials`` and ``seed`` only: not on where, in which batch or on how many workers they run.

    Returns
    -------
    dict
        Scenario key -> :class:`~blastradius.sweep.scenarios.Outcome` (its figures, or its error).
    """
    analysis = analysis_of(source)
    token = run_token(analysis, trials=trials, seed=seed, common_random_numbers=common_random_numbers)
    on_dask = scheduler is not None or bool(workers)  # workers=0: no cluster, as the command line's --workers 0
    payload = pack(
        analysis, token=token, trials=trials, seed=seed, common_random_numbers=common_random_numbers, inventory=on_dask
    )
    keys = [s.key for s in scenarios]
    if len(set(keys)) != len(keys):
        raise BlastRadiusError("two scenarios share a key: every scenario needs its own")
    out: dict[str, Outcome] = {}

    def collect(done: Iterator[tuple[int, list[Outcome]]]) -> None:
        for _, outcomes in done:
            for o in outcomes:
                out[o.key] = o
            if on_batch is not None:
                on_batch(outcomes)

    if not on_dask:
        collect(local_outcomes(analysis, payload, batches(scenarios, workers=1, size=batch_size)))
        return out
    cluster = connect(scheduler, workers)
    try:
        if on_cluster is not None:
            on_cluster(cluster)
        collect(dask_outcomes(cluster, payload, batches(scenarios, workers=cluster.workers, size=batch_size)))
    finally:
        cluster.close()
    return out


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    """A sweep's results: the table, its Pareto front, the scenarios that failed, and where they were written."""

    table: pd.DataFrame
    front: pd.DataFrame
    failures: pd.DataFrame
    scenarios: int
    resumed: int
    seconds: float
    files: tuple[Path, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return self.failures.empty


_FRONT_COLUMNS = ("world", "scenario", "risk_removed", "uses_lost", "tools_gated", "collateral")


def _table(scenarios: Sequence[Scenario], outcomes: Mapping[str, Outcome], *, front: str, token: str) -> pd.DataFrame:
    rows = []
    for s in scenarios:
        o = outcomes.get(s.key)
        if o is None or o.row is None:
            continue
        rows.append({"scenario": s.key, "world": s.world, "levers_set": bool(s.levers), **s.labels, **o.row})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    baselines = {s.world: s.key for s in scenarios if not s.levers}
    df.insert(2, "baseline", df.world.map(baselines))
    base = df.set_index("scenario")
    for metric in REDUCTION_METRICS:
        for stat in REDUCTION_STATISTICS:
            column = f"{metric}_{stat}"
            reference = df.baseline.map(base[column]) if column in base else np.nan
            reduction = reference - df[column]
            df[f"{column}_reduction"] = reduction
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = np.where(reference > 0, 100 * reduction / reference, np.where(reduction == 0, 0.0, np.nan))
            df[f"{column}_reduction_pct"] = pct
    from blastradius.decision import pareto_front

    df["risk_removed"] = df.baseline.map(base[front]) - df[front]
    df["on_front"] = False
    for _, index in df.groupby("world", sort=False).groups.items():
        part = df.loc[index]
        ok = part[part.risk_removed.notna()]
        if not ok.empty:
            df.loc[ok.index, "on_front"] = pareto_front(ok, risk="risk_removed", cost="uses_lost")
    df = df.drop(columns=["levers_set"])
    first = ["scenario", "world", "baseline", *[c for c in df.columns if c.startswith(("lever:", "assumption:"))]]
    lead = [*first, "seed", "risk_removed", "on_front", *COLLATERAL_COLUMNS]
    df = df[[*lead, *[c for c in df.columns if c not in lead]]]
    df.attrs.update(front=front, reduction_of=REDUCTION_OF, token=token)
    return df


def _front(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table
    front = table[table.on_front]
    front = front.sort_values(["world", "uses_lost", "risk_removed"], ascending=[True, True, False], kind="mergesort")
    return front.reset_index(drop=True)


def _parquet() -> Any:
    return import_extra("pyarrow.parquet", extra="sweep", purpose="writing a sweep's Parquet files")


def _write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    tmp.replace(path)


def _write_part(parts_dir: Path, outcomes: Sequence[Outcome], hashes: Mapping[str, str]) -> Path | None:
    done = [o for o in outcomes if o.row is not None]
    if not done:
        return None
    pq = _parquet()
    import pyarrow as pa

    frame = pd.DataFrame([{"scenario": o.key, "scenario_hash": hashes[o.key], **(o.row or {})} for o in done])
    name = "part-" + _digest("\n".join(sorted(hashes[o.key] for o in done)))[:20] + ".parquet"
    path = parts_dir / name
    _write_atomic(path, lambda p: pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), p))
    return path


def _read_parts(parts_dir: Path, wanted: Mapping[str, str]) -> tuple[dict[str, Outcome], int]:
    """Rows of earlier runs whose scenario hash is wanted (hash -> key), and how many rows were not."""
    if not parts_dir.is_dir():
        return {}, 0
    pq = _parquet()
    found: dict[str, Outcome] = {}
    stale = 0
    for path in sorted(parts_dir.glob("part-*.parquet")):
        try:
            frame = pq.read_table(path).to_pandas()
        except Exception:
            continue
        for row in frame.to_dict("records"):
            key = wanted.get(str(row.pop("scenario_hash", "")))
            row.pop("scenario", None)
            if key is None:
                stale += 1
                continue
            found[key] = Outcome(key=key, row=row, error=None, seconds=0.0)
    return found, stale


def _check_out(out: Path, inventory: Path | None, inputs: Sequence[Path | None]) -> None:
    if out.exists() and not out.is_dir():
        raise BlastRadiusError(f"{out} is a file: --out names a directory the sweep writes its tables into")
    if inventory is not None:
        root, target = inventory.resolve(), out.resolve()
        if target == root or root in target.parents:
            raise BlastRadiusError(
                f"refusing to write {out} inside the inventory {inventory}: it would become part of the input; "
                "choose a directory outside it, e.g. reports/sweep"
            )
    for given in inputs:
        if given is not None and out.resolve() == given.resolve():
            raise BlastRadiusError(f"refusing to write into {out}: it is an input of this command")


class _Progress:
    """A tqdm bar on standard error (silent when it is not a terminal), or a caller's ``progress(done, total)``."""

    def __init__(self, progress: bool | Callable[[int, int], Any], total: int, done: int):
        self.total, self.done = total, done
        self.call = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="scenario", file=sys.stderr, disable=None, leave=False)

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.call is not None:
            self.call(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(
    source: Inventory | Analysis | str | Path,
    grid: Grid | Mapping[str, Any] | str | Path,
    *,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    trials: int | None = None,
    seed: int | np.random.Generator | None = None,
    assumptions: Any = None,
    weights: WeightsLike = None,
    batch_size: int | None = None,
    progress: bool | Callable[[int, int], Any] = False,
    on_cluster: Callable[[Cluster], Any] | None = None,
) -> SweepResult:
    """Every scenario of ``grid`` simulated on ``source``, as one table with its Pareto front.

    Parameters
    ----------
    source : Inventory, Analysis, or an inventory's directory
    grid : Grid, mapping, or a grid file (YAML or JSON; docs/sweeps.md)
    out : directory, optional
        Where to write ``results.parquet``, ``results.csv``, ``front.csv``, ``failures.csv`` (if any failed)
        and ``sweep.json``; each finished batch is written to ``parts/`` as it completes, and a rerun with the
        same grid, inventory, settings, trials and seed skips the scenarios found there.
    scheduler : str, optional
        A running Dask scheduler (``tcp://host:8786``).
    workers : int, optional
        Without ``scheduler``: a local Dask cluster of this many processes. Neither given (or 0): in this
        process.
    trials, seed : optional
        Per scenario; the grid's own when not given, else :data:`~blastradius.defaults.DEFAULT_TRIALS` and
        :data:`~blastradius.defaults.DEFAULT_SEED` (a sweep is always seeded, so that it can resume; a
        Generator draws one seed, once). Every scenario uses the same seed (common random numbers) unless the grid says
        ``common_random_numbers: false``; either way a scenario's figures depend on the seed and its key only.
    assumptions, weights : optional
        Laid over the defaults and the inventory's sections, as for :func:`blastradius.simulate.simulate_failures`.
    batch_size : int, optional
        Scenarios per task (default: about four batches per worker, at most 32 scenarios each).
    progress : bool or callable
        True: a progress bar on standard error (silent when it is not a terminal); a callable is called as
        ``progress(done, total)`` in scenarios.

    Returns
    -------
    SweepResult
        ``table``: one row per scenario that ran: ``scenario`` (its key), ``world`` (its assumption settings),
        ``baseline`` (the key of the scenario it is compared with: same world, every lever off), a column per
        dimension (``lever:NAME``: off, on or the value; ``assumption:KEY``: the number, empty where as in
        use), ``seed``, ``risk_removed`` (the grid's ``front`` figure, by default the P95 of records, less than
        in the baseline), ``on_front``, the levers' collateral (:func:`blastradius.decision.collateral`:
        ``uses_lost`` is the front's cost), then every figure of :func:`blastradius.simulate.summarize` for
        the enterprise (``records_p95``, with ``_low`` and ``_high``: its 95% Monte Carlo interval), and
        ``M_S_reduction`` and ``M_S_reduction_pct`` (:data:`REDUCTION_OF`). ``front``: the rows on the front.
        ``failures``: ``scenario`` and ``error`` of each that failed.

    Raises
    ------
    ConfigError
        A bad grid file: every problem with its file, line, key path and a hint.
    InventoryError
        A bad inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> grid = {"levers": {"gate-pay": {"kind": "gate", "plugin": "ap-autopilot", "actions": ["pay"]}}}
    >>> r = run_sweep(load_inventory("inventories/acme"), grid, trials=300, seed=1)
    >>> r.table.scenario.tolist()
    ['baseline', 'gate-pay=on']
    >>> bool(r.table.set_index("scenario").loc["gate-pay=on", "risk_removed"] >= 0)
    True
    """
    start = time.perf_counter()
    directory: Path | None = None
    if isinstance(source, str | Path):
        from blastradius.loader import load_inventory

        directory = Path(source)
        source = load_inventory(directory)
    document: Document | None = None
    grid_file: Path | None = None
    if isinstance(grid, str | Path):
        grid_file = Path(grid)
        grid, document = load_grid(grid_file)
    elif not isinstance(grid, Grid):
        from blastradius.sweep.grid import _validated

        grid = _validated(grid)
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        inputs = [grid_file, *(Path(x) for x in (assumptions, weights) if isinstance(x, str | Path))]
        _check_out(out_dir, directory, inputs)
        _parquet()  # before any work: the extra that writes the table is there
    analysis = analysis_of(source, weights=weights, assumptions=assumptions)
    from blastradius.simulate.engine import _check_trials

    n_trials = _check_trials(trials if trials is not None else grid.trials or DEFAULT_TRIALS)
    root = _root(seed if seed is not None else grid.seed if grid.seed is not None else DEFAULT_SEED)
    scenarios = expand_grid(grid, analysis, document=document)
    crn = grid.common_random_numbers
    token = run_token(analysis, trials=n_trials, seed=root, common_random_numbers=crn)
    hashes = {s.key: scenario_hash(token, s) for s in scenarios}
    done: dict[str, Outcome] = {}
    stale = 0
    parts_dir = out_dir / "parts" if out_dir is not None else None
    if parts_dir is not None:
        done, stale = _read_parts(parts_dir, {h: k for k, h in hashes.items()})
        parts_dir.mkdir(parents=True, exist_ok=True)
    todo = [s for s in scenarios if s.key not in done]
    bar = _Progress(progress, len(scenarios), len(done))
    outcomes = dict(done)

    def finished(batch: list[Outcome]) -> None:
        if parts_dir is not None:
            _write_part(parts_dir, batch, hashes)
        bar.advance(len(batch))

    try:
        if todo:
            outcomes.update(
                evaluate_scenarios(
                    analysis,
                    todo,
                    trials=n_trials,
                    seed=root,
                    common_random_numbers=crn,
                    scheduler=scheduler,
                    workers=workers,
                    batch_size=batch_size,
                    on_batch=finished,
                    on_cluster=on_cluster,
                )
            )
    finally:
        bar.close()
    table = _table(scenarios, outcomes, front=grid.front, token=token)
    failures = pd.DataFrame(
        [{"scenario": s.key, "error": outcomes[s.key].error} for s in scenarios if outcomes[s.key].row is None],
        columns=["scenario", "error"],
    )
    front = _front(table)
    seconds = time.perf_counter() - start
    table.attrs.update(trials=n_trials, seed=root, common_random_numbers=crn, expand=grid.expand)
    files: tuple[Path, ...] = ()
    if out_dir is not None:
        files = _write_outputs(
            out_dir,
            table,
            front,
            failures,
            manifest={
                "inventory": str(directory) if directory is not None else analysis.inventory.source,
                "grid": str(grid_file) if grid_file is not None else None,
                "expand": grid.expand,
                "trials": n_trials,
                "seed": root,
                "common_random_numbers": crn,
                "front": {"risk": f"{grid.front} reduction", "cost": "uses_lost"},
                "reduction_of": REDUCTION_OF,
                "scenarios": len(scenarios),
                "done": len(table),
                "failed": len(failures),
                "resumed": len(done),
                "ignored_rows_of_other_runs": stale,
                "scheduler": scheduler,
                "workers": workers,
                "seconds": round(seconds, 3),
                "scenario_seconds": round(sum(o.seconds for o in outcomes.values()), 3),
                "version": __version__,
                "token": token,
            },
        )
    return SweepResult(
        table=table,
        front=front,
        failures=failures,
        scenarios=len(scenarios),
        resumed=len(done),
        seconds=seconds,
        files=files,
    )


def _to_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def _write_outputs(
    out: Path, table: pd.DataFrame, front: pd.DataFrame, failures: pd.DataFrame, *, manifest: dict[str, Any]
) -> tuple[Path, ...]:
    pq = _parquet()
    import pyarrow as pa

    out.mkdir(parents=True, exist_ok=True)
    written = []
    results = out / "results.parquet"
    frame = table.copy()
    frame.attrs = {}
    _write_atomic(results, lambda p: pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), p))
    written.append(results)
    for name, df in (("results.csv", table), ("front.csv", front)):
        _write_atomic(out / name, partial(_to_csv, df))
        written.append(out / name)
    failed = out / "failures.csv"
    if not failures.empty:
        _write_atomic(failed, partial(_to_csv, failures))
        written.append(failed)
    elif failed.exists():
        failed.unlink()  # an earlier run's failures, now done
    summary = out / "sweep.json"
    _write_atomic(summary, lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8"))
    written.append(summary)
    return tuple(written)


def summary_lines(result: SweepResult, *, top: int = 10) -> list[str]:
    """What a sweep gave, in words: how many scenarios ran, and the Pareto front of the inventory as it is.

    The front is listed for the world ``as in use`` (every assumption as in use), or the first world the
    grid has; every world's front is in the table (``on_front``) and ``front.csv``.
    """
    table = result.table
    lines = [
        f"{result.scenarios:,} scenarios: {len(table):,} done"
        + (f" ({result.resumed:,} read back from an earlier run)" if result.resumed else "")
        + (f", {len(result.failures):,} failed" if not result.failures.empty else "")
        + f", in {result.seconds:,.1f} s"
        + (f", {table.attrs.get('trials', 0):,} trials each, seed {table.attrs.get('seed')}" if len(table) else "")
    ]
    if not table.empty:
        worlds = list(dict.fromkeys(table.world))
        world = "as in use" if "as in use" in worlds else worlds[0]
        front = result.front[result.front.world == world]
        figure = str(table.attrs.get("front", "records_p95"))
        lines.append(
            f"Pareto front ({world}): risk removed = reduction of {figure} against the baseline; "
            "cost = uses lost (tool uses stopped, tables and recipient lists no longer reachable)"
        )
        for row in front.head(top).itertuples():
            pct = getattr(row, f"{figure}_reduction_pct", math.nan) if f"{figure}_reduction_pct" in front else math.nan
            share = f" ({pct:.1f}%)" if math.isfinite(pct) else ""
            removed = f"{row.risk_removed:,.0f}{share} removed"
            lines.append(f"  {row.scenario}: {removed}, {row.uses_lost:,} uses lost; {row.collateral}")
        if len(front) > top:
            lines.append(f"  ... and {len(front) - top:,} more in front.csv")
    for row in result.failures.itertuples():
        lines.append(f"failed: {row.scenario}: {row.error}")
    return lines
