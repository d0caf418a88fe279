"""Where a sweep's scenarios run: in this process, or on a Dask cluster (``dask.distributed``).

Either way the same function, :func:`run_batch`, evaluates a batch of
scenarios (:func:`blastradius.sweep.scenarios.evaluate`), so the numbers do
not depend on where they were computed. On Dask:

- the inventory and the settings travel once, scattered to every worker
  (:class:`Payload`); each worker keeps the analysis built from them in a
  worker-level cache (:data:`_CONTEXTS`), so what is derived from the
  inventory (scopes, reach) is computed once per worker, not once per task;
- scenarios go in batches, one task each, so a task is seconds of work and not
  milliseconds of overhead;
- the compiled kernel is loaded from numba's on-disk cache
  (``$BLASTRADIUS_CACHE_DIR``, see :func:`blastradius.simulate._kernel.cache_dir`):
  a local cluster's workers inherit this process's cache directory, and this
  process compiles the kernel first if it is not there yet;
- each worker process gets an equal share of the cores for the kernel's
  threads (``NUMBA_NUM_THREADS``), so two workers on two cores do not fight
  over them.
"""

from __future__ import annotations

import math
import os
import pickle
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blastradius.analysis import Analysis
from blastradius.errors import BlastRadiusError, import_extra
from blastradius.model import Inventory
from blastradius.settings import Assumptions, Weights
from blastradius.sweep.scenarios import Outcome, Scenario, _Levers, evaluate

__all__ = [
    "Cluster",
    "Payload",
    "batches",
    "connect",
    "dask_outcomes",
    "local_outcomes",
    "pack",
    "run_batch",
    "warm_kernel",
]

#: Batches per worker a sweep is cut into by default: enough to balance the load, few enough that a task's
#: overhead (tens of milliseconds) stays small beside its work.
BATCHES_PER_WORKER = 4
#: Most scenarios in one batch by default: a batch is written as soon as it is done, and resumed as a whole.
MAX_BATCH = 32


@dataclass(frozen=True, kw_only=True)
class Payload:
    """What every worker needs once: the inventory (as plain fields), the settings, and the run's options."""

    token: str
    inventory: bytes  # the inventory's fields, pickled and compressed (pack); empty for a run in this process
    weights: Weights
    assumptions: Assumptions
    trials: int
    seed: int
    common_random_numbers: bool


def pack(
    analysis: Analysis, *, token: str, trials: int, seed: int, common_random_numbers: bool, inventory: bool = True
) -> Payload:
    """The analysis as a payload for workers: the inventory pickled and compressed once, here.

    A worker receives bytes (cheap to send and to copy between workers) and unpickles them once, when its
    first task needs them. ``inventory=False`` leaves it out, for a run in this process.
    """
    blob = b""
    if inventory:
        inv = analysis.inventory
        fields = {}
        for name in type(inv).model_fields:
            value = getattr(inv, name)
            fields[name] = dict(value) if name in ("origins", "settings") else value  # read-only mappings do not pickle
        blob = zlib.compress(pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL), 1)
    return Payload(
        token=token,
        inventory=blob,
        weights=analysis.weights,
        assumptions=analysis.assumptions,
        trials=trials,
        seed=seed,
        common_random_numbers=common_random_numbers,
    )


def _unpack(payload: Payload) -> Analysis:
    if not payload.inventory:
        raise BlastRadiusError("internal error: a payload without its inventory reached a worker; please report it")
    fields = pickle.loads(zlib.decompress(payload.inventory))  # our own bytes, packed by pack()
    inv = Inventory.model_construct(**fields)
    return Analysis(inv, weights=payload.weights, assumptions=payload.assumptions)


#: A worker's analyses, by the payload's token (one sweep at a time, the previous one kept in case it resumes).
_CONTEXTS: dict[str, _Levers] = {}


def _context(payload: Payload) -> _Levers:
    hit = _CONTEXTS.get(payload.token)
    if hit is None:
        while len(_CONTEXTS) >= 2:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        hit = _CONTEXTS[payload.token] = _Levers(_unpack(payload))
    return hit


def run_batch(payload: Payload, scenarios: Sequence[Scenario]) -> list[Outcome]:
    """Evaluate ``scenarios`` on a worker (or here): one outcome each, a failure caught with its key."""
    context = _context(payload)
    return [
        evaluate(
            context,
            s,
            trials=payload.trials,
            seed=payload.seed,
            common_random_numbers=payload.common_random_numbers,
        )
        for s in scenarios
    ]


def _longest_run(scenarios: Sequence[Scenario]) -> int:
    """The most consecutive scenarios sharing their levers (one world each): a batch that holds them all
    derives their changed inventory once."""
    best = run = 0
    previous: object = None
    for s in scenarios:
        run = run + 1 if s.levers == previous else 1
        previous = s.levers
        best = max(best, run)
    return best


def batches(scenarios: Sequence[Scenario], *, workers: int, size: int | None = None) -> list[list[Scenario]]:
    """``scenarios`` cut in order into batches: ``size`` each, or by default about
    :data:`BATCHES_PER_WORKER` per worker, rounded to whole runs of scenarios that share one set of levers
    (the worlds of one lever combination), and at most :data:`MAX_BATCH` scenarios each.

    Scenarios sharing their levers stay together where they can (the grid lists them together), so a worker
    derives each changed inventory once.
    """
    if size is None:
        size = max(1, math.ceil(len(scenarios) / max(1, workers * BATCHES_PER_WORKER)))
        run = max(1, _longest_run(scenarios))
        if run <= MAX_BATCH:  # whole runs per batch, so a batch boundary never splits a lever combination
            size = min(math.ceil(size / run) * run, (MAX_BATCH // run) * run)
        else:
            size = min(size, MAX_BATCH)
    return [list(scenarios[i : i + size]) for i in range(0, len(scenarios), size)]


def local_outcomes(
    analysis: Analysis, payload: Payload, parts: Sequence[list[Scenario]]
) -> Iterator[tuple[int, list[Outcome]]]:
    """Each batch evaluated in this process, in order, on ``analysis`` (what it has derived is reused)."""
    context = _CONTEXTS.get(payload.token)
    if context is None or context.base is not analysis:
        context = _Levers(analysis)
        _CONTEXTS[payload.token] = context
    for i, batch in enumerate(parts):
        yield i, run_batch(payload, batch)


def warm_kernel() -> float:
    """Load (or compile, once) the simulation kernel in this process; the seconds it took."""
    import tempfile

    from blastradius.loader import load_inventory
    from blastradius.simulate import simulate_failures
    from blastradius.synth import write_enterprise

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="blastradius-warm-") as tmp:  # the smallest enterprise synth writes
        path = write_enterprise(Path(tmp) / "inv", people=10, plugins=1, connectors=1, systems=1, datasets=1, seed=0)
        simulate_failures(load_inventory(path), trials=2, seed=0)
    return time.perf_counter() - start


def _threads(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@dataclass
class Cluster:
    """A Dask client, and the local cluster it started (None for a running cluster it joined)."""

    client: Any
    local: Any
    workers: int
    kernel_seconds: dict[str, float] = field(default_factory=dict)  # per worker, filled by prepare()

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def connect(scheduler: str | None = None, workers: int | None = None) -> Cluster:
    """A client of the cluster at ``scheduler`` (``tcp://host:8786``), or of a new local cluster of ``workers``
    processes (default: one per core), each with one task thread and an equal share of the cores for the kernel.

    Raises
    ------
    MissingExtraError
        Dask is not installed (the ``sweep`` extra).
    BlastRadiusError
        The scheduler cannot be reached.
    """
    distributed = import_extra("distributed", extra="sweep", purpose="a sweep on Dask")
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise BlastRadiusError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}; start one with `dask scheduler` "
                "and its workers with `dask worker ADDRESS`, or leave out --scheduler for a local cluster"
            ) from None
        count = len(client.scheduler_info().get("workers", {}))
        if count == 0:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                client.close()
                raise BlastRadiusError(
                    f"no worker joined the Dask scheduler at {scheduler} within 60 s: start them with "
                    f"`dask worker {scheduler}`"
                ) from None
            count = len(client.scheduler_info().get("workers", {}))
        cluster = Cluster(client=client, local=None, workers=max(1, count))
        try:
            prepare(cluster)
        except BaseException:
            cluster.close()
            raise
        return cluster
    n = workers or (os.cpu_count() or 1)
    if n < 1:
        raise BlastRadiusError(f"a local cluster needs at least 1 worker, got {n}")
    from blastradius.simulate._kernel import cache_dir

    warm_kernel()  # compiled here, once, if numba's cache lacks it: the workers then load it from disk
    env = {"NUMBA_NUM_THREADS": str(_threads(n)), "BLASTRADIUS_CACHE_DIR": str(cache_dir())}
    import logging

    local = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: never the one another cluster holds
        silence_logs=logging.ERROR,
        env=env,
    )
    cluster = Cluster(client=distributed.Client(local), local=local, workers=n)
    try:
        prepare(cluster)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _worker_ready() -> tuple[str, float]:
    """On a worker: the blastradius version it runs, and the seconds it took to load the kernel."""
    from blastradius import __version__

    return __version__, warm_kernel()


def prepare(cluster: Cluster) -> dict[str, float]:
    """Check every worker runs this blastradius version, and load the kernel there before any task.

    Returns the seconds each worker took to load (or compile) the kernel.

    Raises
    ------
    BlastRadiusError
        A worker cannot import blastradius, or runs another version.
    """
    from blastradius import __version__

    try:
        ready = cluster.client.run(_worker_ready)
    except Exception as exc:
        raise BlastRadiusError(
            f"the Dask workers cannot run blastradius ({type(exc).__name__}: {exc}); install "
            f"blastradius[sweep]=={__version__} in the workers' environment (docs/sweeps.md)"
        ) from None
    other = {w: v for w, (v, _) in ready.items() if v != __version__}
    if other:
        worker, version = next(iter(other.items()))
        raise BlastRadiusError(
            f"{len(other)} Dask worker(s) run blastradius {version} (e.g. {worker}), this machine {__version__}: "
            "the same version everywhere gives the same numbers; install it on the workers (docs/sweeps.md)"
        )
    cluster.kernel_seconds = {w: s for w, (_, s) in ready.items()}
    return cluster.kernel_seconds


def dask_outcomes(
    cluster: Cluster, payload: Payload, parts: Sequence[list[Scenario]]
) -> Iterator[tuple[int, list[Outcome]]]:
    """Each batch evaluated on the cluster, yielded as it completes (in any order).

    The payload is scattered to every worker once; a batch whose task fails as a whole (a worker lost twice)
    yields a failure for each of its scenarios, with the cause, and the others go on.
    """
    distributed = import_extra("distributed", extra="sweep", purpose="a sweep on Dask")
    client = cluster.client
    shared = client.scatter(payload, broadcast=True, hash=False)
    futures = {
        client.submit(run_batch, shared, batch, key=f"blastradius-sweep-{payload.token[:12]}-{i}", retries=1): i
        for i, batch in enumerate(parts)
    }
    try:
        for future in distributed.as_completed(futures):
            i = futures[future]
            try:
                outcomes = future.result()
            except Exception as exc:
                message = f"the task failed on the cluster: {type(exc).__name__}: {exc}"
                outcomes = [Outcome(key=s.key, row=None, error=message, seconds=0.0) for s in parts[i]]
            yield i, outcomes
    finally:
        for future in futures:
            future.cancel()
        del shared
