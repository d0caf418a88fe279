"""The compiled Monte Carlo kernel behind :func:`blastradius.simulate.simulate_failures`.

:mod:`blastradius.simulate.engine` turns the plan of an inventory
(:mod:`blastradius.simulate.plan`) into flat arrays (one row per plugin, one
per failure path) and :mod:`blastradius.simulate.result` reads figures off
what it fills in; this module only samples. It is compiled with numba: a trial of a
large enterprise draws tens of thousands of event counts and hundreds of
thousands of magnitudes, which numpy can only vectorise at the cost of
memory or exactness.

Random numbers are counter-based: every draw is a SplitMix64 output of a
stream named by (seed, plugin, path, trial, stage), so

- the same seed gives the same numbers on any number of threads;
- trial ``t`` is the same whether 100 or 100,000 trials are simulated;
- a path's draws do not depend on any other path: two inventories that
  share a plugin's path share its random numbers (common random numbers),
  which is what makes :func:`blastradius.simulate.compare` measure a
  control's effect rather than noise;
- each stage (events caught, damaging, recovered, magnitudes, faults) has its
  own stream, so changing one control leaves the draws of the others alone.

Samplers (docs/simulation.md §9): Poisson counts by inversion below a mean of
12 (so that a smaller mean never draws a larger count from the same numbers)
and by Hörmann's transformed rejection (PTRS, as numpy) above; geometric
waits by inversion; normal deviates by Box–Muller; binomial counts by
geometric waiting times — all exact. Two approximations: the sum of more
than :data:`EXACT` event magnitudes of one path in one trial is drawn from a
gamma with the sum's exact mean and variance (Wilson–Hilferty), and a
binomial count of variance above :data:`NORMAL_ABOVE` from the normal with
continuity correction.

Nothing here is public: the layout of the arrays is private to
:mod:`blastradius.simulate`. :func:`magnitude_moments` is the one
implementation of the moments of an event's magnitude: compiled here, and
called as plain Python by :func:`blastradius.simulate.failure_paths` for its
closed-form expectations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["EXACT", "magnitude_moments", "simulate_block", "stream_key"]

#: Up to this many events of one path in one trial, magnitudes are drawn one by one.
EXACT = 16
#: Poisson counts are drawn by inversion below this mean, by transformed rejection above.
INVERSION_BELOW = 12.0
#: Binomial counts of a variance above this are drawn from the normal approximation.
NORMAL_ABOVE = 100.0

# Columns of the per-plugin float array.
P_RUNS = 0
P_RATE_MEDIAN = 1  # 3 columns: wrong action, data leakage, wrong output
P_RATE_SIGMA = 4  # 3 columns
P_ONSET_MEDIAN = 7
P_ONSET_SIGMA = 8
P_SHARE = 9  # share of runs a systematic fault hits
P_ALERT_FIRES = 10
P_ALERT_MEDIAN = 11
P_ALERT_SIGMA = 12
P_AUDIT_MEDIAN = 13
P_AUDIT_SIGMA = 14
P_UNAIDED_MEDIAN = 15
P_UNAIDED_SIGMA = 16
P_FULL_SHARE = 17  # 3 columns: share of events that touch their whole bound, per class
P_CATCH = 20  # 3 columns: sum over the plugin's paths of each class of their catch rates
PLUGIN_COLUMNS = 23

# Columns of the per-path float array.
F_CATCH = 0
F_ESCAPE = 1
F_RECOVERY = 2
F_BOUND_RECORDS = 3
F_BOUND_PEOPLE = 4
F_CAP_RECORDS = 5
F_CAP_PEOPLE = 6
F_ALERT_RECORDS = 7
F_ALERT_PEOPLE = 8
F_HALT_HOURS = 9
F_LOG_RECORDS = 10  # log of the bounds (0 for a bound of at most 1) and of 1 - catch: computed once
F_LOG_PEOPLE = 11
F_LOG_MISS = 12
PATH_COLUMNS = 13

# Columns of the per-path int array.
I_CLASS = 0  # 0 wrong action, 1 data leakage, 2 wrong output (the systematic class is 3)
I_FIXED = 1  # one event always touches its whole bound
I_AUDIT = 2
PATH_INT_COLUMNS = 3  # paths that reach nothing are left out of the plan's tables

# Fields of the result (the last axis of the accumulators).
R_RECORDS_PERMANENT = 0
R_RECORDS_RECOVERABLE = 1
R_PEOPLE_PERMANENT = 2
R_PEOPLE_RECOVERABLE = 3
R_INCIDENTS = 4
R_CAUGHT = 5
R_RUNS_AFFECTED = 6
RESULT_FIELDS = 7

_SYSTEMATIC = 3
_CLASSES = 4
_PROBABILITY_CLASSES = 3  # failure rates are probabilities: draws above 1 count as 1

# Stages: each draws from its own stream.
_S_CAUGHT = 1
_S_PERMANENT = 2
_S_RECOVERED = 3
_S_SIZE_PERMANENT = 4
_S_SIZE_RECOVERED = 5
_S_FAULTS = 6
_S_FAULT = 7
_S_GLOBAL = 8
# Sub-streams of one systematic fault.
_F_DETECT = 1
_F_HALT = 2
_F_ESCAPE = 3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STAGE = np.uint64(0xD1B54A32D192ED03)
_TRIAL = np.uint64(0x8CB92BA72F3D8DD7)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_53 = 1.0 / 9007199254740992.0
_NEVER = np.int64(2**62)
_TWO_PI = 2.0 * math.pi
_TABLE = 256
_INVERSION_STEPS = 1000  # far beyond any count of a mean below INVERSION_BELOW (P < 1e-300)
_RECIPROCAL = 1.0 / np.maximum(np.arange(_TABLE, dtype=np.float64), 1.0)  # 1/k: a product is faster than a quotient


def stream_key(plugin_key: int, path_key: int) -> int:
    """The 64-bit name of one path's streams, from the 32-bit keys of its plugin and path."""
    return ((plugin_key & 0xFFFFFFFF) << 32) | (path_key & 0xFFFFFFFF)


@njit(cache=True, inline="always")
def _mix(z):  # SplitMix64's finaliser (Stafford's mix 13)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _keyed(root, key):
    """The streams of one key (a path, a plugin): the first half of :func:`_stream`."""
    return _mix(_mix(key) ^ root)


@njit(cache=True, inline="always")
def _counter(trial, stage):
    return _mix(np.uint64(trial) * _TRIAL + np.uint64(stage) * _STAGE)


@njit(cache=True, inline="always")
def _stream(root, key, trial, stage):
    """The first state of the stream named by (root, key, trial, stage)."""
    return _mix(_keyed(root, key) ^ _counter(trial, stage))


@njit(cache=True, inline="always")
def _sub(state, tag):
    return _mix(state ^ (np.uint64(tag) * _STAGE))


@njit(cache=True, inline="always")
def _uniform(state):
    """Next state and a uniform in (0, 1), never 0 or 1."""
    state = state + _GOLDEN
    return state, ((_mix(state) >> _S11) + 0.5) * _TWO_53


@njit(cache=True)
def _normal(state):
    state, u1 = _uniform(state)
    state, u2 = _uniform(state)
    return state, math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True, inline="always")
def _uniform_at(state, n):
    """The n-th uniform of a stream (n = 0, 1, ...): a draw at a fixed place, whether or not others are drawn."""
    return ((_mix(state + np.uint64(n + 1) * _GOLDEN) >> _S11) + 0.5) * _TWO_53


@njit(cache=True, inline="always")
def _normal_at(state, n):
    """A standard normal from uniforms n and n + 1 of a stream (Box–Muller)."""
    return math.sqrt(-2.0 * math.log(_uniform_at(state, n))) * math.cos(_TWO_PI * _uniform_at(state, n + 1))


@njit(cache=True, inline="always")
def _poisson(state, mean):
    """Next state and a Poisson count: inversion below a mean of 12, PTRS (Hörmann 1993) above."""
    if not mean > 0.0:
        return state, np.int64(0)
    if mean < INVERSION_BELOW:
        return _poisson_small(state, mean, math.exp(-mean))
    return _ptrs(state, mean)


@njit(cache=True, inline="always")
def _poisson_small(state, mean, p0):
    """Poisson count by inversion, given ``p0 = exp(-mean)``: a larger mean never draws a smaller count."""
    state, u = _uniform(state)
    if u <= p0:
        return state, np.int64(0)
    p = p0
    cdf = p0
    k = 0
    while u > cdf and k < _INVERSION_STEPS:  # the bound only stops a sum that rounding keeps just below u
        k += 1
        p *= mean * _RECIPROCAL[k] if k < _TABLE else mean / k
        cdf += p
    return state, np.int64(k)


@njit(cache=True)
def _ptrs(state, mean):
    """Poisson count by Hörmann's transformed rejection with squeeze (PTRS), for a mean of 10 or more."""
    slam = math.sqrt(mean)
    loglam = math.log(mean)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        state, u = _uniform(state)
        state, v = _uniform(state)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return state, np.int64(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -mean + k * loglam - math.lgamma(k + 1.0):
            return state, np.int64(k)


@njit(cache=True, inline="always")
def _geometric(u, p, log_miss):
    """Trials up to and including the first success of probability p, by inversion.

    ``0 < p``; ``log_miss`` is ``log(1 - p)``.
    """
    if p >= 1.0:
        return np.int64(1)
    return np.int64(max(1.0, math.ceil(math.log(u) / log_miss)))


@njit(cache=True)
def _binomial(state, n, p):
    """Successes in n trials of probability p: by geometric waiting times (exact), normal above a variance of 100."""
    if n <= 0 or p <= 0.0:
        return state, np.int64(0)
    if p >= 1.0:
        return state, np.int64(n)
    if n * p * (1.0 - p) >= NORMAL_ABOVE:  # the normal approximation, with continuity correction
        state, z = _normal(state)
        x = math.floor(n * p + z * math.sqrt(n * p * (1.0 - p)) + 0.5)
        return state, np.int64(min(max(x, 0.0), n))
    flip = p > 0.5
    q = 1.0 - p if flip else p
    log_miss = math.log1p(-q)
    count = np.int64(0)
    position = 0.0
    while True:
        state, u = _uniform(state)
        position += max(1.0, math.ceil(math.log(u) / log_miss))
        if position > n:
            break
        count += 1
    return state, (n - count) if flip else count


def magnitude_moments(bound: float, log_bound: float, q: float) -> tuple[float, float]:
    """Mean and variance of one magnitude: ``bound`` with probability q, else log-uniform on [1, bound].

    ``log_bound`` is ``log(bound)``, for a bound above 1. Plain Python, compiled
    below for the kernel.

    Examples
    --------
    >>> mean, var = magnitude_moments(100.0, math.log(100.0), 0.0)
    >>> round(mean, 4), var > 0
    (21.4976, True)
    >>> magnitude_moments(100.0, math.log(100.0), 1.0)
    (100.0, 0.0)
    """
    m1 = (bound - 1.0) / log_bound
    m2 = (bound * bound - 1.0) / (2.0 * log_bound)
    mean = q * bound + (1.0 - q) * m1
    second = q * bound * bound + (1.0 - q) * m2
    return mean, max(second - mean * mean, 0.0)


_moments = njit(cache=True)(magnitude_moments)


@njit(cache=True)
def _large_sum(n, bound, log_bound, q, z):
    """Sum of n > EXACT magnitudes: n plus a gamma excess with the exact mean and variance (Wilson–Hilferty)."""
    mean, var = _moments(bound, log_bound, q)
    if var <= 0.0:
        return n * mean
    mean_excess = n * (mean - 1.0)
    var_excess = n * var
    k = mean_excess * mean_excess / var_excess
    cube = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * math.sqrt(k))
    excess = mean_excess * max(cube, 0.0) ** 3
    return n + min(excess, n * (bound - 1.0))


@njit(cache=True, inline="always")
def _sizes(state, n, q, bound_r, bound_p, log_r, log_p, fixed):
    """Records and people touched by n events of one path (one magnitude draw serves both; ``log_*``: of the bounds)."""
    if n <= 0:
        return 0.0, 0.0
    if fixed or (bound_r <= 1.0 and bound_p <= 1.0):
        return n * max(bound_r, 0.0), n * max(bound_p, 0.0)
    if n > EXACT:
        state, z = _normal(state)
        r = _large_sum(n, bound_r, log_r, q, z) if bound_r > 1.0 else n * max(bound_r, 0.0)
        p = _large_sum(n, bound_p, log_p, q, z) if bound_p > 1.0 else n * max(bound_p, 0.0)
        return r, p
    r = 0.0
    p = 0.0
    floor_r = max(bound_r, 0.0)  # a bound of at most 1 is always touched whole
    floor_p = max(bound_p, 0.0)
    same = bound_r == bound_p
    partial = 1.0 - q
    for _ in range(n):
        state, u = _uniform(state)
        if u >= partial:  # the whole bound
            r += floor_r
            p += floor_p
            continue
        v = u / partial
        m = math.exp(v * log_r) if bound_r > 1.0 else floor_r
        r += m
        p += m if same else (math.exp(v * log_p) if bound_p > 1.0 else floor_p)
    return r, p


@njit(cache=True, inline="always")
def _lognormal(median, sigma, z):
    return median * math.exp(sigma * z)


@njit(cache=True, inline="always")
def _capped(permanent, recoverable, cap):
    """Scale both down together so that their sum never exceeds the path's reach in the period."""
    total = permanent + recoverable
    if total > cap:
        factor = cap / total
        return permanent * factor, recoverable * factor
    return permanent, recoverable


@njit(cache=True, inline="always")
def _one_off(base, rate, q, runs, pf, pi, k, acc, row):
    """One path's damaging one-off failures in one trial (``base``: its stream), added to ``acc[row, field, class]``.

    Of a path's wrong calls (Poisson), those a human check stops, those that
    do damage and are undone, and those that do damage for good are
    independent Poisson counts (thinning); the caught ones are drawn per
    plugin and class, summed over paths, in :func:`simulate_block`.
    """
    cls = pi[k, I_CLASS]
    lam = runs * rate
    catch = pf[k, F_CATCH]
    damaging = lam * (1.0 - catch) * pf[k, F_ESCAPE]
    recovery = pf[k, F_RECOVERY]
    _, permanent = _poisson(_sub(base, _S_PERMANENT), damaging * (1.0 - recovery))
    recovered = np.int64(0)
    if recovery > 0.0:
        _, recovered = _poisson(_sub(base, _S_RECOVERED), damaging * recovery)
    if permanent + recovered == 0:
        return
    fixed = pi[k, I_FIXED] != 0
    br = pf[k, F_BOUND_RECORDS]
    bp = pf[k, F_BOUND_PEOPLE]
    lr = pf[k, F_LOG_RECORDS]
    lp = pf[k, F_LOG_PEOPLE]
    rp, pp = _sizes(_sub(base, _S_SIZE_PERMANENT), permanent, q, br, bp, lr, lp, fixed)
    rr, pr = _sizes(_sub(base, _S_SIZE_RECOVERED), recovered, q, br, bp, lr, lp, fixed)
    rp, rr = _capped(rp, rr, pf[k, F_CAP_RECORDS])
    pp, pr = _capped(pp, pr, pf[k, F_CAP_PEOPLE])
    acc[row, R_RECORDS_PERMANENT, cls] += rp
    acc[row, R_RECORDS_RECOVERABLE, cls] += rr
    acc[row, R_PEOPLE_PERMANENT, cls] += pp
    acc[row, R_PEOPLE_RECOVERABLE, cls] += pr
    acc[row, R_INCIDENTS, cls] += permanent + recovered


@njit(cache=True, inline="always")
def _systematic(base, onsets, none, q, plug, i, pf, pi, k, hours, acc, row):
    """Systematic faults starting on one path in trial t: each repeats until detected and halted.

    ``none`` is ``exp(-onsets)``, the probability of no fault.
    """
    if not onsets > 0.0:
        return
    if onsets < INVERSION_BELOW:
        _, faults = _poisson_small(_sub(base, _S_FAULTS), onsets, none)
    else:
        _, faults = _ptrs(_sub(base, _S_FAULTS), onsets)
    if faults == 0:
        return
    fault_base = _sub(base, _S_FAULT)
    br = pf[k, F_BOUND_RECORDS]
    bp = pf[k, F_BOUND_PEOPLE]
    fixed = pi[k, I_FIXED] != 0
    catch = pf[k, F_CATCH]
    rate = plug[i, P_RUNS] / hours * plug[i, P_SHARE]  # faulty runs per working hour
    for f in range(faults):
        # each draw of a fault has its place in the fault's stream: one not needed is not drawn, and moves no other
        state = _sub(fault_base, f + 1)
        # what one run of the fault touches: drawn once, the same on every run
        u = _uniform_at(state, 0)
        v = 1.0 if fixed or u >= 1.0 - q else u / (1.0 - q)
        m_r = math.exp(v * pf[k, F_LOG_RECORDS]) if br > 1.0 else max(br, 0.0)
        m_p = math.exp(v * pf[k, F_LOG_PEOPLE]) if bp > 1.0 else max(bp, 0.0)
        # detection: the fastest channel that applies; a person eventually notices, within the period at most
        t_detect = min(hours, _lognormal(plug[i, P_UNAIDED_MEDIAN], plug[i, P_UNAIDED_SIGMA], _normal_at(state, 6)))
        over = m_r > pf[k, F_ALERT_RECORDS] or m_p > pf[k, F_ALERT_PEOPLE]
        if over and _uniform_at(state, 1) < plug[i, P_ALERT_FIRES]:
            t_detect = min(t_detect, _lognormal(plug[i, P_ALERT_MEDIAN], plug[i, P_ALERT_SIGMA], _normal_at(state, 2)))
        if pi[k, I_AUDIT]:
            t_detect = min(t_detect, _lognormal(plug[i, P_AUDIT_MEDIAN], plug[i, P_AUDIT_SIGMA], _normal_at(state, 4)))
        _, extra = _poisson(_sub(state, _F_DETECT), rate * t_detect)
        runs_to_detect = 1 + extra  # the first run, then those until it is noticed
        # a human check (gate, review) that stops one of its runs raises the alarm at once
        first_caught = _geometric(_uniform_at(state, 8), catch, pf[k, F_LOG_MISS]) if catch > 0.0 else _NEVER
        passed = min(first_caught - 1, runs_to_detect)
        halt = max(min(pf[k, F_HALT_HOURS], hours - t_detect), 0.0)
        _, slipped = _poisson(
            _sub(state, _F_HALT), rate * halt * (1.0 - catch)
        )  # runs before the halt no check stopped
        passed += slipped
        damaging = passed
        if pf[k, F_ESCAPE] < 1.0:
            _, damaging = _binomial(_sub(state, _F_ESCAPE), passed, pf[k, F_ESCAPE])
        records = min(damaging * m_r, pf[k, F_CAP_RECORDS])
        people = min(damaging * m_p, pf[k, F_CAP_PEOPLE])
        if _uniform_at(state, 9) < pf[k, F_RECOVERY]:
            acc[row, R_RECORDS_RECOVERABLE, _SYSTEMATIC] += records
            acc[row, R_PEOPLE_RECOVERABLE, _SYSTEMATIC] += people
        else:
            acc[row, R_RECORDS_PERMANENT, _SYSTEMATIC] += records
            acc[row, R_PEOPLE_PERMANENT, _SYSTEMATIC] += people
        if damaging > 0:
            acc[row, R_INCIDENTS, _SYSTEMATIC] += 1
        if first_caught <= runs_to_detect:
            acc[row, R_CAUGHT, _SYSTEMATIC] += 1
        acc[row, R_RUNS_AFFECTED, _SYSTEMATIC] += damaging


@njit(cache=True, parallel=True)
def simulate_block(
    root,
    global_key,
    start,
    stop,
    plugins,
    plugin_keys,
    path_start,
    keys,
    path_f,
    path_i,
    hours,
    columns,
    records_permanent,
    records_recoverable,
    people_permanent,
    people_recoverable,
    incidents,
    caught,
    runs_affected,
    lost,
):
    """Simulate trials ``start`` to ``stop`` of every plugin, writing rows ``0 .. stop - start`` of the outputs.

    ``plugins`` is the per-plugin float array, ``plugin_keys`` their stream
    keys, ``path_start`` the first path of each plugin (plus one past the
    last), ``keys`` each path's stream key, ``path_f``/``path_i`` its float
    and int columns. Each output but ``runs_affected`` has one column per
    (plugin, class) that can be non-zero: ``columns[field, plugin, class]``
    is its index, -1 where the plan says the figure is always zero (a
    non-zero figure there sets ``lost[row]``). ``runs_affected`` is
    ``(trials, plugins)``, the systematic class only (for one-off classes it
    equals ``incidents``).
    """
    n_plugins = plugins.shape[0]
    n = stop - start
    # uncertainty about failure rates is shared by every plugin of a trial: one draw per class and trial
    z = np.empty((n, _CLASSES))
    counters = np.empty(n, dtype=np.uint64)
    for row in range(n):
        counters[row] = _counter(start + row, 0)
        state = _stream(root, global_key, start + row, _S_GLOBAL)
        for j in range(_CLASSES):
            state, z[row, j] = _normal(state)
    # plugins in parallel, each over the block's trials: a path's parameters stay in registers
    for i in prange(n_plugins):
        runs = plugins[i, P_RUNS]
        if not runs > 0.0:
            continue
        acc = np.zeros((n, RESULT_FIELDS, _CLASSES))
        rates = np.empty((n, _PROBABILITY_CLASSES))
        onsets = np.empty(n)
        none = np.empty(n)
        for row in range(n):
            t = start + row
            for j in range(_PROBABILITY_CLASSES):
                rates[row, j] = min(
                    _lognormal(plugins[i, P_RATE_MEDIAN + j], plugins[i, P_RATE_SIGMA + j], z[row, j]), 1.0
                )
                # wrong calls a human check stopped, on every path of the class at once (a sum of Poissons)
                stopped = runs * rates[row, j] * plugins[i, P_CATCH + j]
                if stopped > 0.0:
                    _, acc[row, R_CAUGHT, j] = _poisson(
                        _stream(root, plugin_keys[i], t, _S_CAUGHT + _CLASSES * j), stopped
                    )
            onsets[row] = _lognormal(plugins[i, P_ONSET_MEDIAN], plugins[i, P_ONSET_SIGMA], z[row, _SYSTEMATIC])
            none[row] = math.exp(-onsets[row])  # no fault starts on a path: the same for every path of the plugin
        for k in range(path_start[i], path_start[i + 1]):
            cls = path_i[k, I_CLASS]
            q = plugins[i, P_FULL_SHARE + cls]
            keyed = _keyed(root, keys[k])
            for row in range(n):
                base = _mix(keyed ^ counters[row])  # = _stream(root, keys[k], start + row, 0)
                _one_off(base, rates[row, cls], q, runs, path_f, path_i, k, acc, row)
                _systematic(base, onsets[row], none[row], q, plugins, i, path_f, path_i, k, hours, acc, row)
        for row in range(n):
            for j in range(_CLASSES):
                _store(
                    records_permanent, row, columns[R_RECORDS_PERMANENT, i, j], acc[row, R_RECORDS_PERMANENT, j], lost
                )
                _store(
                    records_recoverable,
                    row,
                    columns[R_RECORDS_RECOVERABLE, i, j],
                    acc[row, R_RECORDS_RECOVERABLE, j],
                    lost,
                )
                _store(people_permanent, row, columns[R_PEOPLE_PERMANENT, i, j], acc[row, R_PEOPLE_PERMANENT, j], lost)
                _store(
                    people_recoverable,
                    row,
                    columns[R_PEOPLE_RECOVERABLE, i, j],
                    acc[row, R_PEOPLE_RECOVERABLE, j],
                    lost,
                )
                _store(incidents, row, columns[R_INCIDENTS, i, j], acc[row, R_INCIDENTS, j], lost)
                _store(caught, row, columns[R_CAUGHT, i, j], acc[row, R_CAUGHT, j], lost)
            runs_affected[row, i] = np.int64(acc[row, R_RUNS_AFFECTED, _SYSTEMATIC])


@njit(cache=True, inline="always")
def _store(out, row, column, value, lost):
    if column >= 0:
        out[row, column] = value
    elif value != 0.0:
        lost[row] = 1
