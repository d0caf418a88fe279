"""The simulation's samplers draw the distributions they claim, from streams that do not interfere."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from numba import njit

from blastradius import load_inventory
from blastradius.simulate import _kernel as kernel
from blastradius.simulate import simulate_failures

from conftest import ACME

N = 200_000


@njit
def _poissons(mean, n, seed):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        _, out[i] = kernel._poisson(kernel._stream(np.uint64(seed), np.uint64(7), i, 1), mean)
    return out


@njit
def _binomials(trials, p, n, seed):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        _, out[i] = kernel._binomial(kernel._stream(np.uint64(seed), np.uint64(7), i, 2), trials, p)
    return out


@njit
def _geometrics(p, n, seed):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        u = kernel._uniform_at(kernel._stream(np.uint64(seed), np.uint64(7), i, 3), 0)
        out[i] = kernel._geometric(u, p, math.log1p(-p) if p < 1 else 0.0)
    return out


@njit
def _normals(n, seed):
    out = np.empty(n)
    for i in range(n):
        _, out[i] = kernel._normal(kernel._stream(np.uint64(seed), np.uint64(7), i, 4))
    return out


@njit
def _sums(events, q, bound, n, seed):
    out = np.empty(n)
    for i in range(n):
        state = kernel._stream(np.uint64(seed), np.uint64(7), i, 5)
        out[i], _ = kernel._sizes(state, events, q, bound, 1.0, math.log(bound), 0.0, False)
    return out


def chi_square_ok(counts: np.ndarray, pmf: np.ndarray) -> bool:
    """Goodness of fit: the statistic over cells expecting at least 5 is within 5 standard deviations of its df."""
    expected = pmf * counts.sum()
    keep = expected >= 5
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] < 5:  # fold the tail into the last kept cell
        observed[-2] += observed[-1]
        expected[-2] += expected[-1]
        observed, expected = observed[:-1], expected[:-1]
    stat = float(((observed - expected) ** 2 / expected).sum())
    df = len(observed) - 1
    return stat < df + 5 * math.sqrt(2 * df)


def poisson_pmf(mean: float, top: int) -> np.ndarray:
    k = np.arange(top + 1)
    return np.exp(k * math.log(mean) - mean - np.array([math.lgamma(x + 1) for x in k]))


@pytest.mark.parametrize("mean", [0.05, 0.7, 4.0, 11.9, 12.0, 30.0, 250.0])
def test_poisson_counts_follow_the_poisson_law(mean: float) -> None:
    draws = _poissons(mean, N, 11)
    assert draws.mean() == pytest.approx(mean, rel=5 * math.sqrt(1 / (mean * N)) + 1e-9)
    assert draws.var() == pytest.approx(mean, rel=0.02)
    top = int(draws.max())
    assert chi_square_ok(np.bincount(draws, minlength=top + 1).astype(float), poisson_pmf(mean, top))


def test_a_poisson_count_is_zero_for_no_mean_and_exact_streams_repeat() -> None:
    assert (_poissons(0.0, 100, 1) == 0).all()
    assert np.array_equal(_poissons(3.0, 1000, 5), _poissons(3.0, 1000, 5))
    assert not np.array_equal(_poissons(3.0, 1000, 5), _poissons(3.0, 1000, 6))


def test_below_the_inversion_limit_a_smaller_mean_never_draws_more() -> None:
    # the coupling that makes a control's effect show trial by trial on common random numbers
    low, high = _poissons(2.0, N, 3), _poissons(kernel.INVERSION_BELOW - 0.5, N, 3)
    assert (low <= high).all()


@pytest.mark.parametrize(("trials", "p"), [(40, 0.3), (40, 0.85), (500, 0.02), (20_000, 0.3)])
def test_binomial_counts_follow_the_binomial_law(trials: int, p: float) -> None:
    draws = _binomials(trials, p, N, 13)
    mean, var = trials * p, trials * p * (1 - p)
    assert draws.mean() == pytest.approx(mean, abs=5 * math.sqrt(var / N))
    assert draws.var() == pytest.approx(var, rel=0.03)
    assert draws.min() >= 0 and draws.max() <= trials
    if var < kernel.NORMAL_ABOVE:  # drawn exactly: the whole law
        k = np.arange(trials + 1)
        log_pmf = [math.lgamma(trials + 1) - math.lgamma(x + 1) - math.lgamma(trials - x + 1) for x in k]
        pmf = np.exp(np.array(log_pmf) + k * math.log(p) + (trials - k) * math.log1p(-p))
        assert chi_square_ok(np.bincount(draws, minlength=trials + 1).astype(float), pmf)


def test_binomial_edges() -> None:
    assert (_binomials(0, 0.5, 10, 1) == 0).all()
    assert (_binomials(10, 0.0, 10, 1) == 0).all()
    assert (_binomials(10, 1.0, 10, 1) == 10).all()


@pytest.mark.parametrize("p", [1.0, 0.9, 0.25, 0.01])
def test_geometric_waits_have_mean_one_over_p(p: float) -> None:
    draws = _geometrics(p, N, 17)
    assert draws.min() >= 1
    assert draws.mean() == pytest.approx(1 / p, rel=5 * math.sqrt((1 - p) / N) + 1e-9)
    assert (draws == 1).mean() == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / N) + 1e-9)


@njit
def _normals_at(n, seed):
    out = np.empty(n)
    for i in range(n):
        out[i] = kernel._normal_at(kernel._stream(np.uint64(seed), np.uint64(7), i, 4), 2)
    return out


@pytest.mark.parametrize("draw", [_normals, _normals_at])
def test_normal_deviates_have_the_standard_quantiles(draw) -> None:
    z = draw(N, 19)
    assert z.mean() == pytest.approx(0, abs=0.01) and z.std() == pytest.approx(1, abs=0.01)
    assert np.quantile(z, [0.05, 0.5, 0.95]) == pytest.approx([-1.645, 0, 1.645], abs=0.02)


@pytest.mark.parametrize("events", [1, 5, kernel.EXACT, kernel.EXACT + 1, 200])
def test_summed_magnitudes_have_the_exact_mean_and_variance(events: int) -> None:
    bound, q = 1e5, 0.1
    log = math.log(bound)
    m1, m2 = (bound - 1) / log, (bound * bound - 1) / (2 * log)
    mean = q * bound + (1 - q) * m1
    var = q * bound * bound + (1 - q) * m2 - mean * mean
    sums = _sums(events, q, bound, N, 23)
    assert sums.mean() == pytest.approx(events * mean, rel=5 * math.sqrt(var / (events * N)) / mean)
    assert sums.var() == pytest.approx(events * var, rel=0.05)
    assert sums.min() >= events and sums.max() <= events * bound * (1 + 1e-12)


def test_the_numbers_do_not_depend_on_the_number_of_threads() -> None:
    acme = load_inventory(ACME)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_failures(acme, trials=600, seed=4)
    finally:
        numba.set_num_threads(threads)
    many = simulate_failures(acme, trials=600, seed=4)
    for name in ("records_permanent", "people_recoverable", "incidents", "caught", "systematic_runs_affected"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name


@pytest.mark.parametrize(("bound", "q"), [(1.5, 0.0), (100.0, 0.3), (2_310.0, 0.05), (1e7, 0.9), (1e7, 1.0)])
def test_the_magnitude_moments_are_one_function_compiled_and_plain(bound: float, q: float) -> None:
    # failure_paths' closed-form expectations call it as plain Python; the kernel runs it compiled
    args = (bound, math.log(bound), q)
    assert kernel._moments(*args) == pytest.approx(kernel.magnitude_moments(*args), rel=1e-15)
    assert kernel._moments.py_func is kernel.magnitude_moments
