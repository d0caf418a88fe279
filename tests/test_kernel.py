"""The simulation's samplers draw the distributions they claim, from streams that do not interfere."""

from __future__ import annotations

import itertools
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
def _inverted(mean, n, seed):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = kernel._poisson_inv(kernel._uniform_at(kernel._stream(np.uint64(seed), np.uint64(7), i, 2), 0), mean)
    return out


@njit
def _normals(n, seed):
    out = np.empty(n)
    for i in range(n):
        _, out[i] = kernel._normal(kernel._stream(np.uint64(seed), np.uint64(7), i, 4))
    return out


@njit
def _sums(events, bound, mu, sigma, full, recovery, n, seed):
    out = np.empty((n, 4))
    for i in range(n):
        state = kernel._stream(np.uint64(seed), np.uint64(7), i, 5)
        out[i] = kernel._sizes(
            state, events, bound, bound, mu, sigma, full, recovery, kernel.path_constants(bound, bound, mu, sigma)
        )
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


@pytest.mark.parametrize(
    "mean", [0.05, 4.0, 30.0, kernel.INVERSION_BELOW - 0.1, kernel.INVERSION_BELOW, 250.0, 5_000.0]
)
def test_inverted_poisson_counts_follow_the_poisson_law(mean: float) -> None:
    draws = _inverted(mean, N, 13)
    assert draws.mean() == pytest.approx(mean, rel=5 * math.sqrt(1 / (mean * N)) + 1e-9)
    assert draws.var() == pytest.approx(mean, rel=0.02)
    lo, top = int(draws.min()), int(draws.max())
    counts = np.bincount(draws - lo, minlength=top - lo + 1).astype(float)
    pmf = poisson_pmf(mean, top)[lo:]
    assert chi_square_ok(counts, pmf / pmf.sum())


def test_an_inverted_poisson_count_never_falls_as_its_mean_rises() -> None:
    # the coupling behind "a control never adds risk": fewer expected events, never more events, for the same u
    means = np.concatenate([np.geomspace(1e-3, 1e5, 400), [kernel.INVERSION_BELOW - 1e-9, kernel.INVERSION_BELOW]])
    means.sort()
    for u in np.concatenate([np.linspace(1e-6, 1 - 1e-6, 301), [1e-12, 1 - 1e-12]]):
        counts = [kernel._poisson_inv(u, m) for m in means]
        assert all(a <= b for a, b in itertools.pairwise(counts)), u


def test_the_normal_quantile_is_as241() -> None:
    from statistics import NormalDist

    for p in [1e-300, 1e-20, 1e-5, 0.02425, 0.3, 0.5, 0.7, 0.97575, 1 - 1e-9]:
        assert kernel._ndtri(p) == pytest.approx(NormalDist().inv_cdf(p), rel=1e-12, abs=1e-12)


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


LAWS = [
    (1e5, math.log(30.0), 1.4, 0.02),
    (500.0, math.log(10.0), 1.4, 0.05),
    (3.0, 0.0, 1.0, 0.1),
    (1e4, 5.0, 0.0, 0.0),
]


@pytest.mark.parametrize("law", LAWS)
def test_one_magnitude_has_the_closed_form_mean_and_variance(law) -> None:
    bound, mu, sigma, full = law
    u = (np.arange(N) + 0.5) / N  # a fine grid of quantiles: the quantile function integrates to the moments
    m = np.array([kernel.magnitude_quantile(x, bound, mu, sigma, full) for x in u])
    mean, var = kernel.magnitude_moments(bound, mu, sigma, full)
    assert m.mean() == pytest.approx(mean, rel=2e-3)
    assert m.var() == pytest.approx(var, rel=2e-2, abs=1e-9)
    assert m.min() >= min(1.0, bound) and m.max() <= bound
    for tau in (0.1, 0.5, 0.97, 0.999):
        assert kernel.partial_mean(tau, bound, mu, sigma, full) == pytest.approx(m[u < tau].sum() / N, rel=5e-3)


@pytest.mark.parametrize("events", [1, 5, kernel.EXACT, kernel.EXACT + 1, 200, 5_000])
@pytest.mark.parametrize("law", LAWS[:2])
def test_summed_magnitudes_have_the_exact_mean(events: int, law) -> None:
    # the largest EXACT are drawn, the rest count at their conditional mean: the sum's mean stays exact
    mean, var = kernel.magnitude_moments(*law)
    sums = _sums(events, *law, 0.0, N // 4, 23)
    assert sums[:, 0].mean() == pytest.approx(events * mean, rel=6 * math.sqrt(var / (events * N / 4)) / mean)
    if events <= kernel.EXACT:  # drawn one by one: the exact variance too
        assert sums[:, 0].var() == pytest.approx(events * var, rel=0.1)
    assert (sums[:, 0] >= events * min(1.0, law[0]) - 1e-9).all() and (sums[:, 0] <= events * law[0] * 1.000001).all()
    assert np.array_equal(sums[:, 0], sums[:, 2]) and np.array_equal(
        sums[:, 0], sums[:, 1]
    )  # no recovery: all for good


def test_recovered_magnitudes_are_a_share_of_the_total() -> None:
    law = LAWS[1]
    sums = _sums(40, *law, 0.9, N // 4, 29)
    assert (sums[:, 1] <= sums[:, 0] + 1e-9).all()
    assert sums[:, 1].sum() / sums[:, 0].sum() == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize("bound", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("events", [1, kernel.EXACT, 40])
def test_a_bound_of_at_most_one_is_touched_whole_by_every_event_whatever_the_law(bound: float, events: int) -> None:
    # one record (or none) reachable: each event touches exactly that, with no size to draw
    sums = _sums(events, bound, math.log(20.0), 1.5, 0.05, 0.0, 1_000, 31)
    assert (sums == events * bound).all()
    undone = _sums(events, bound, math.log(20.0), 1.5, 0.05, 0.5, 1_000, 31)
    assert (undone[:, 0] == events * bound).all() and (undone[:, 1] <= undone[:, 0]).all()


@njit
def _sizes_grid(events, bounds, law, seed):
    out = np.empty((events.shape[0], bounds.shape[0], 2))
    state = kernel._stream(np.uint64(seed), np.uint64(3), 1, 5)
    for a in range(events.shape[0]):
        for b in range(bounds.shape[0]):
            c = kernel.path_constants(bounds[b], bounds[b], law[0], law[1])
            r, rp, _, _ = kernel._sizes(state, events[a], bounds[b], bounds[b], law[0], law[1], law[2], law[3], c)
            out[a, b, 0] = r
            out[a, b, 1] = rp
    return out


@pytest.mark.parametrize("seed", range(40))
def test_more_events_or_a_wider_bound_never_touch_less_on_the_same_numbers(seed: int) -> None:
    events = np.array([0, 1, 2, 3, 7, 15, 16, 17, 18, 40, 200, 5000], dtype=np.int64)
    bounds = np.array([0.0, 0.5, 1.0, 2.0, 10.0, 99.0, 1e3, 1e6])
    grid = _sizes_grid(events, bounds, np.array([math.log(20.0), 1.5, 0.05, 0.3]), seed)
    assert (np.diff(grid, axis=0) >= -1e-9 * (1 + grid[1:])).all()  # more events
    assert (np.diff(grid, axis=1) >= -1e-9 * (1 + grid[:, 1:])).all()  # a wider bound


@njit
def _vector_math(x, y, z):
    out = np.empty((3, x.shape[0]))
    for i in range(x.shape[0]):
        out[0, i] = kernel._vexp(x[i])
        out[1, i] = kernel._vlog(y[i])
        out[2, i] = kernel._ndtri(z[i])
    return out


def test_the_vectorisable_exp_log_and_normal_quantile_are_within_a_few_units_in_the_last_place() -> None:
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-40, 40, 100_000), [0.0, -1e-300, 1e-12, -708.0, 709.0]])
    y = np.concatenate([np.exp(rng.uniform(-700, 0, 100_000)), [1.0, 1 - 2**-53, 2**-1022]])
    z = np.concatenate(
        [rng.random(100_000), 1 - np.exp(rng.uniform(-37, 0, 50_000)), np.exp(rng.uniform(-700, 0, 50_000))]
    )
    got = _vector_math(x, np.resize(y, x.shape[0]), np.resize(z, x.shape[0]))
    ulps = np.abs(got[0] - np.exp(x)) / np.spacing(np.exp(x))
    assert ulps.max() <= 1
    y = np.resize(y, x.shape[0])
    ulps = np.abs(got[1] - np.log(y)) / np.spacing(np.maximum(np.abs(np.log(y)), 1e-300))
    assert ulps.max() <= 1
    from statistics import NormalDist

    z = np.resize(z, x.shape[0])
    sample = rng.choice(z.shape[0], 2_000, replace=False)
    exact = np.array([NormalDist().inv_cdf(float(v)) for v in z[sample]])
    assert np.abs(got[2][sample] - exact).max() <= 1e-12 * np.abs(exact).max()
    assert (np.diff(got[2][np.argsort(z)]) >= 0).all()  # never falls as p rises


@njit
def _all_trials(counts, seed, law):
    n = counts.shape[0]
    states = np.empty(n, dtype=np.uint64)
    for t in range(n):
        states[t] = kernel._stream(np.uint64(seed), np.uint64(9), t, 5)
    order = np.empty(n, dtype=np.int64)
    drawing_counts = np.empty(n, dtype=np.int64)
    drawing_states = np.empty(n, dtype=np.uint64)
    top, r, rp, p, pp = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    bound_r, bound_p, mu, sigma, full, recovery = law
    c = kernel.path_constants(bound_r, bound_p, mu, sigma)
    with_events = kernel._exact_rows(
        counts,
        states,
        order,
        drawing_counts,
        drawing_states,
        top,
        r,
        rp,
        p,
        pp,
        bound_r,
        bound_p,
        mu,
        sigma,
        full,
        recovery,
    )
    rows = np.zeros((n, 4))
    for s in range(with_events):
        t = order[s]
        rows[t] = kernel._with_rest(
            drawing_counts[s], top[s], r[s], rp[s], p[s], pp[s], bound_r, bound_p, mu, sigma, full, recovery, c
        )
    one = np.empty((n, 4))
    for t in range(n):
        one[t] = kernel._sizes(states[t], counts[t], bound_r, bound_p, mu, sigma, full, recovery, c)
    return rows, one


@pytest.mark.parametrize(
    "law",
    [
        (1e5, 1e4, math.log(30.0), 1.5, 0.05, 0.3),
        (50.0, 1e6, math.log(20.0), 2.0, 0.0, 0.0),
        (1e3, 0.0, math.log(2.0), 0.0, 0.2, 0.9),  # a fixed size (sigma 0)
        (1.0, 400.0, math.log(20.0), 1.0, 0.5, 0.0),
    ],
)
def test_every_trial_of_a_path_at_once_draws_what_one_trial_at_a_time_draws(law) -> None:
    # the loop that runs in SIMD lanes, over trials sorted by their events, is _sizes trial by trial, to the bit
    counts = np.random.default_rng(5).poisson(6.0, 3_000).astype(np.int64)
    counts[:40] = np.arange(40) * 7  # none, a few, and far more than EXACT
    rows, one = _all_trials(counts, 17, np.array(law))
    assert np.array_equal(rows, one)
    assert (rows[counts == 0] == 0).all() and (rows[counts > 0, 0] > 0).all()


def test_the_numbers_do_not_depend_on_the_number_of_threads() -> None:
    acme = load_inventory(ACME)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_failures(acme, trials=600, seed=4)
    finally:
        numba.set_num_threads(threads)
    many = simulate_failures(acme, trials=600, seed=4)
    for name in ("records", "people_recoverable", "incidents", "caught", "systematic_runs_affected"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name


def test_the_magnitude_law_is_one_function_compiled_and_called_from_python() -> None:
    # failure_paths' closed-form expectations call the kernel's own compiled function
    from blastradius.simulate import plan

    source = open(plan.__file__, encoding="utf-8").read()
    assert "kernel.magnitude_moments(" in source and "def magnitude_moments" not in source
