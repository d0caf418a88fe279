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
- each stage (events caught, damaging, magnitudes, faults) has its own
  stream, so changing one control leaves the draws of the others alone.

**Controls never add risk, trial by trial.** Every figure of a trial is a
non-decreasing function of what a control lowers (an event rate, a bound, a
cap, a detection or halt time) for the same random numbers, so a control
that only removes access or adds oversight can lower a simulated percentile
but never raise one. This is why counts are drawn by inversion of a single
uniform (:func:`_poisson_inv`), and the magnitudes of a path's events from
the order statistics of their uniforms (:func:`_sizes`): fewer events, or a
smaller bound, give a smaller sum from the same numbers.

Samplers (docs/simulation.md §9): Poisson counts by inversion below a mean of
:data:`INVERSION_BELOW`, above it from the Cornish–Fisher expansion of the
Poisson quantile (error below one count), never below the exact count at
that mean; magnitudes by the quantile function of a lognormal bounded by the
path's bound (Wichura's AS241 for the normal quantile); the largest
:data:`EXACT` magnitudes of a path in a trial exactly, the rest by their
conditional mean (their total varies far less than the largest few), for
every trial of a path at once so that the loop runs in SIMD lanes
(:func:`_exact_rows`, with the branch-free :func:`_vexp`, :func:`_vlog` and
:func:`_ndtri`);
normal deviates by Box–Muller for the shared rate draws; caught events (not
a measure of damage) by Hörmann's transformed rejection above a mean of 12.

Nothing here is public: the layout of the arrays is private to
:mod:`blastradius.simulate`. :func:`magnitude_moments` is the one
implementation of the moments of an event's magnitude: compiled here, and
called as plain Python by :func:`blastradius.simulate.failure_paths` for its
closed-form expectations.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic


def cache_dir() -> Path:
    """Where the compiled kernel is kept: ``$BLASTRADIUS_CACHE_DIR``, else the user's cache directory.

    Never the installed package (which may be read-only or shared) nor the
    current directory. numba's own ``NUMBA_CACHE_DIR``, when set, wins.
    """
    chosen = os.environ.get("BLASTRADIUS_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blastradius" / "numba"


_config: Any = numba.config  # its settings are read from the environment: no static attributes to type
if not _config.CACHE_DIR:  # read by every cache=True function below, when it is defined
    _config.CACHE_DIR = str(cache_dir())

__all__ = [
    "EXACT",
    "magnitude_moments",
    "magnitude_quantile",
    "partial_mean",
    "path_constants",
    "simulate_block",
    "stream_key",
]

#: The largest this many magnitudes of one path in one trial are drawn exactly; the rest by their conditional mean.
EXACT = 8
#: Poisson counts are drawn by exact inversion below this mean, by the Cornish–Fisher quantile above.
INVERSION_BELOW = 64.0
#: Caught events are drawn by inversion below this mean, by transformed rejection above.
PTRS_ABOVE = 12.0

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
P_CAP_RECORDS = 17  # distinct records and people the plugin can touch in a period
P_CAP_PEOPLE = 18
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
F_MU = 10  # the magnitude's lognormal: log-median, log-sd, and the share of events that touch the whole bound
F_SIGMA = 11
F_FULL = 12
PATH_COLUMNS = 13
PATH_CONSTANTS = 10  # what :func:`path_constants` computes once per path

# Columns of the per-path int array.
I_CLASS = 0  # 0 wrong action, 1 data leakage, 2 wrong output (the systematic class is 3)
I_FIXED = 1  # one event always touches its whole bound
I_AUDIT = 2
PATH_INT_COLUMNS = 3  # paths that reach nothing are left out of the plan's tables

# Fields of the result (the last axis of the accumulators).
R_RECORDS = 0  # distinct records affected (recoverable: records - records_permanent)
R_RECORDS_PERMANENT = 1
R_PEOPLE = 2
R_PEOPLE_PERMANENT = 3
R_INCIDENTS = 4
R_CAUGHT = 5
R_RUNS_AFFECTED = 6
RESULT_FIELDS = 7

_SYSTEMATIC = 3
_CLASSES = 4
_COUNT_MAX = 2_147_483_647.0  # counts are stored as int32: one beyond the largest saturates there, never wraps
_PROBABILITY_CLASSES = 3  # failure rates are probabilities: draws above 1 count as 1

# Stages: each draws from its own stream.
_S_CAUGHT = 1
_S_EVENTS = 2
_S_SIZES = 4
_S_FAULTS = 6
_S_FAULT = 7
_S_GLOBAL = 8

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
_TWO_PI = 2.0 * math.pi
_TABLE = 256
_INVERSION_STEPS = 1000  # far beyond any count of a mean below INVERSION_BELOW (P < 1e-300)
_RECIPROCAL = 1.0 / np.maximum(np.arange(_TABLE, dtype=np.float64), 1.0)  # 1/k: a product is faster than a quotient


def stream_key(plugin_key: int, path_key: int) -> int:
    """The 64-bit name of one path's streams, from the 32-bit keys of its plugin and path."""
    return ((plugin_key & 0xFFFFFFFF) << 32) | (path_key & 0xFFFFFFFF)


@njit(cache=True, error_model="numpy", inline="always")
def _mix(z):  # SplitMix64's finaliser (Stafford's mix 13)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, error_model="numpy", inline="always")
def _keyed(root, key):
    """The streams of one key (a path, a plugin): the first half of :func:`_stream`."""
    return _mix(_mix(key) ^ root)


@njit(cache=True, error_model="numpy", inline="always")
def _counter(trial, stage):
    return _mix(np.uint64(trial) * _TRIAL + np.uint64(stage) * _STAGE)


@njit(cache=True, error_model="numpy", inline="always")
def _stream(root, key, trial, stage):
    """The first state of the stream named by (root, key, trial, stage)."""
    return _mix(_keyed(root, key) ^ _counter(trial, stage))


@njit(cache=True, error_model="numpy", inline="always")
def _sub(state, tag):
    return _mix(state ^ (np.uint64(tag) * _STAGE))


@njit(cache=True, error_model="numpy", inline="always")
def _uniform(state):
    """Next state and a uniform in (0, 1), never 0 or 1."""
    state = state + _GOLDEN
    return state, ((_mix(state) >> _S11) + 0.5) * _TWO_53


@njit(cache=True, error_model="numpy")
def _normal(state):
    state, u1 = _uniform(state)
    state, u2 = _uniform(state)
    return state, math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True, error_model="numpy", inline="always")
def _uniform_at(state, n):
    """The n-th uniform of a stream (n = 0, 1, ...): a draw at a fixed place, whether or not others are drawn."""
    return ((_mix(state + np.uint64(n + 1) * _GOLDEN) >> _S11) + 0.5) * _TWO_53


@njit(cache=True, error_model="numpy", inline="always")
def _normal_at(state, n):
    """A standard normal from uniforms n and n + 1 of a stream (Box–Muller)."""
    return math.sqrt(-2.0 * math.log(_uniform_at(state, n))) * math.cos(_TWO_PI * _uniform_at(state, n + 1))


def _poisson_cdf(mean: float, size: int) -> np.ndarray:
    """``P(N <= k)`` for k = 0 .. size - 1 of a Poisson count of ``mean`` (plain Python: a constant of the kernel)."""
    out = np.empty(size)
    term = math.exp(-mean)
    total = 0.0
    for k in range(size):
        total += term
        out[k] = total
        term *= mean / (k + 1)
    return out


#: The Poisson CDF at the mean where inversion hands over to the Cornish–Fisher quantile.
_HANDOVER_CDF = _poisson_cdf(INVERSION_BELOW, 256)


@njit(cache=True, error_model="numpy", inline="always")
def _ndtr(x):
    """The standard normal CDF."""
    return 0.5 * math.erfc(-x * 0.7071067811865476)


# --- the same functions, written so that a loop over trials runs them in SIMD lanes -----------------------
#
# libm's log and exp are calls the compiler cannot vectorise. These are fdlibm's algorithms in plain arithmetic
# (within one unit in the last place of libm's), for the loop that draws the largest events of every trial of a
# path at once (:func:`_exact_rows`); branches are replaced by choosing between values computed for every lane.


def _bitcast(source: Any, target: Any) -> Any:
    """A compiled function that reinterprets the bits of a ``source`` value as a ``target`` (no conversion)."""

    def typer(typingctx: Any, x: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.bitcast(args[0], context.get_value_type(target))

        return target(source), codegen

    return intrinsic(typer)


_bits = _bitcast(types.float64, types.int64)  # the bits of a float64 as an int64
_from_bits = _bitcast(types.int64, types.float64)  # the float64 of those bits


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: added to a float64 below 2**51, rounds it to an integer in its low bits
_SQRT_HALF_BITS = 0x3FE6A09E00000000  # the high word of sqrt(2)/2


@njit(cache=True, error_model="numpy", inline="always")
def _vexp(x):
    """``exp(x)``: x = k ln2 + r (fdlibm's reduction), exp(r) by its Taylor series to r**13 (below a unit in the
    last place on |r| <= ln2/2, and no division), times 2**k. ``x`` is clamped to [-708, 709], where the result
    is normal (beyond, libm gives 0 or inf, which the clamps that follow treat alike)."""
    x = min(max(x, -708.0), 709.0)
    kd = x * 1.44269504088896338700 + _ROUND
    k = kd - _ROUND
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # Horner's rule on the series' coefficients 1/k!, k = 13 down to 2 (written out, as in :func:`_ndtri`)
    q = 1.6059043836821613e-10
    q = 2.08767569878681e-09 + r * q
    q = 2.505210838544172e-08 + r * q
    q = 2.755731922398589e-07 + r * q
    q = 2.7557319223985893e-06 + r * q
    q = 2.48015873015873e-05 + r * q
    q = 0.0001984126984126984 + r * q
    q = 0.001388888888888889 + r * q
    q = 0.008333333333333333 + r * q
    q = 0.041666666666666664 + r * q
    q = 0.16666666666666666 + r * q
    q = 0.5 + r * q
    y = 1.0 + (r + r * r * q)
    return _from_bits(_bits(y) + (_bits(kd) << 52))  # the low bits of kd hold k: adds k to y's exponent


@njit(cache=True, error_model="numpy", inline="always")
def _vlog(x):
    """``log(x)`` of a normal positive ``x`` (fdlibm's e_log.c, with the mantissa taken to [sqrt(2)/2, sqrt(2)))."""
    bits = _bits(x) + (0x3FF0000000000000 - _SQRT_HALF_BITS)
    k = float((bits >> 52) - 0x3FF)
    f = _from_bits((bits & 0x000FFFFFFFFFFFFF) + _SQRT_HALF_BITS) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    t2 = z * (
        6.666666666666735130e-01
        + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01))
    )
    return s * (hfsq + t1 + t2) + k * _LN2_LO - hfsq + f + k * _LN2_HI


#: AS241's coefficients, constant term first, for the centre, the near tail and the far tail of the quantile.
_NDTRI_NUM = (
    (3.387132872796366608, 1.42343711074968357734, 6.6579046435011037772),
    (133.14166789178437745, 4.6303378461565452959, 5.4637849111641143699),
    (1971.5909503065514427, 5.7694972214606914055, 1.7848265399172913358),
    (13731.693765509461125, 3.64784832476320460504, 0.29656057182850489123),
    (45921.953931549871457, 1.27045825245236838258, 0.026532189526576123093),
    (67265.770927008700853, 0.24178072517745061177, 0.0012426609473880784386),
    (33430.575583588128105, 0.0227238449892691845833, 2.71155556874348757815e-5),
    (2509.0809287301226727, 7.7454501427834140764e-4, 2.01033439929228813265e-7),
)
_NDTRI_DEN = (
    (1.0, 1.0, 1.0),
    (42.313330701600911252, 2.05319162663775882187, 0.59983220655588793769),
    (687.1870074920579083, 1.6763848301838038494, 0.13692988092273580531),
    (5394.1960214247511077, 0.68976733498510000455, 0.0148753612908506148525),
    (21213.794301586595867, 0.14810397642748007459, 7.868691311456132591e-4),
    (39307.89580009271061, 0.0151986665636164571966, 1.8463183175100546818e-5),
    (28729.085735721942674, 5.475938084995344946e-4, 1.4215117583164458887e-7),
    (5226.495278852545925, 1.05075007164441684324e-9, 2.04426310338993978564e-15),
)


@njit(cache=True, error_model="numpy", inline="always")
def _pick(which, coefficients):
    return coefficients[0] if which == 0 else (coefficients[1] if which == 1 else coefficients[2])


@njit(cache=True, error_model="numpy", inline="always")
def _ndtri(p):
    """The standard normal quantile of ``0 < p < 1`` (Wichura 1988, AS241: relative error about 1e-16).

    Without branches, so that a loop over trials runs it in SIMD lanes: the rational function of the centre or
    of a tail is chosen lane by lane, coefficient by coefficient (one division); the tails' log is :func:`_vlog`.
    """
    q = p - 0.5
    tail = math.sqrt(-_vlog(max(p if q <= 0.0 else 1.0 - p, 1e-300)))
    which = 0 if abs(q) <= 0.425 else (1 if tail <= 5.0 else 2)
    v = 0.180625 - q * q if which == 0 else (tail - 1.6 if which == 1 else tail - 5.0)
    # Horner's rule, written out: a loop here would keep the loop over trials from running in SIMD lanes
    num = _pick(which, _NDTRI_NUM[7])
    den = _pick(which, _NDTRI_DEN[7])
    num = num * v + _pick(which, _NDTRI_NUM[6])
    den = den * v + _pick(which, _NDTRI_DEN[6])
    num = num * v + _pick(which, _NDTRI_NUM[5])
    den = den * v + _pick(which, _NDTRI_DEN[5])
    num = num * v + _pick(which, _NDTRI_NUM[4])
    den = den * v + _pick(which, _NDTRI_DEN[4])
    num = num * v + _pick(which, _NDTRI_NUM[3])
    den = den * v + _pick(which, _NDTRI_DEN[3])
    num = num * v + _pick(which, _NDTRI_NUM[2])
    den = den * v + _pick(which, _NDTRI_DEN[2])
    num = num * v + _pick(which, _NDTRI_NUM[1])
    den = den * v + _pick(which, _NDTRI_DEN[1])
    num = num * v + _pick(which, _NDTRI_NUM[0])
    den = den * v + _pick(which, _NDTRI_DEN[0])
    scale = q if which == 0 else (-1.0 if q < 0.0 else 1.0)
    return scale * num / den


@njit(cache=True, error_model="numpy")
def _poisson_inv(u, mean):
    """The Poisson count of ``mean`` at uniform ``u`` (its quantile): a larger mean never gives a smaller count.

    Exact inversion below :data:`INVERSION_BELOW`; above, the Cornish–Fisher
    quantile with continuity correction (within one count of the exact one),
    never below the exact count at :data:`INVERSION_BELOW` for the same ``u``,
    so the handover keeps the order too.
    """
    return _poisson_from(u, mean, _vexp(-mean))


@njit(cache=True, error_model="numpy", inline="always")
def _poisson_from(u, mean, p0):
    """:func:`_poisson_inv` given ``p0 = _vexp(-mean)``, the chance of no event, where inversion starts: computed
    for every trial of a path at once, in SIMD lanes (the one ``exp`` of the kernel's counts)."""
    if not mean > 0.0:
        return np.int64(0)
    if mean < INVERSION_BELOW:
        term = p0
        cdf = term
        k = 0
        while u > cdf and k < _INVERSION_STEPS:  # the bound only stops a sum that rounding keeps just below u
            k += 1
            term *= mean * _RECIPROCAL[k] if k < _TABLE else mean / k
            cdf += term
        return np.int64(k)
    z = _ndtri(u)
    root = math.sqrt(mean)
    x = mean + root * z + (z * z - 1.0) / 6.0 + (z - z * z * z) / (72.0 * root)
    k = max(math.ceil(x - 0.5), 0.0)
    floor = np.searchsorted(_HANDOVER_CDF, u)
    return np.int64(max(k, float(floor)))


@njit(cache=True, error_model="numpy", inline="always")
def _poisson_small(state, mean, p0):
    """Next state and a Poisson count by inversion, given ``p0 = exp(-mean)``."""
    state, u = _uniform(state)
    if u <= p0:
        return state, np.int64(0)
    p = p0
    cdf = p0
    k = 0
    while u > cdf and k < _INVERSION_STEPS:
        k += 1
        p *= mean * _RECIPROCAL[k] if k < _TABLE else mean / k
        cdf += p
    return state, np.int64(k)


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _poisson(state, mean):
    """Next state and a Poisson count, for counts that measure no damage (caught events): fast, not ordered."""
    if not mean > 0.0:
        return state, np.int64(0)
    if mean < PTRS_ABOVE:
        return _poisson_small(state, mean, math.exp(-mean))
    return _ptrs(state, mean)


# --- magnitudes --------------------------------------------------------------------------------
#
# One event touches m = B with probability f (its whole bound: a bulk send to the whole list),
# and otherwise X ~ lognormal(mu, sigma) clamped to [min(1, B), B]. The quantile function of m
# at u is the one place this law is written down; its moments and partial means follow from it.


@njit(cache=True, error_model="numpy")
def magnitude_quantile(u, bound, mu, sigma, full):
    """What one event touches at uniform ``u``: the whole ``bound`` above ``1 - full``, else the clamped lognormal.

    ``mu`` and ``sigma`` are the log-median and log-sd of the lognormal, which
    is clamped to [1, bound]; a bound of at most 1 is always touched whole.

    Examples
    --------
    >>> round(magnitude_quantile(0.5, 1000.0, math.log(30.0), 1.0, 0.1), 6)
    34.498218
    >>> magnitude_quantile(0.95, 1000.0, math.log(30.0), 1.0, 0.1), magnitude_quantile(0.5, 0.0, 0.0, 1.0, 0.1)
    (1000.0, 0.0)
    """
    if bound <= 0.0:
        return 0.0
    if u >= 1.0 - full or bound <= 1.0:
        return bound
    x = math.exp(mu + sigma * _ndtri(u / (1.0 - full))) if sigma > 0.0 else math.exp(mu)
    return min(max(x, 1.0), bound)


@njit(cache=True, error_model="numpy")
def _clamped_partial(zt, bound, mu, sigma):
    """``E[clamp(X); Z < zt]`` for ``X = exp(mu + sigma Z)`` clamped to [1, bound] (bound above 1, sigma above 0)."""
    za = -mu / sigma
    zb = (math.log(bound) - mu) / sigma
    below = _ndtr(min(za, zt))
    middle = 0.0
    top = min(zb, zt)
    if top > za:
        middle = math.exp(mu + 0.5 * sigma * sigma) * (_ndtr(top - sigma) - _ndtr(za - sigma))
    above = bound * max(_ndtr(zt) - _ndtr(zb), 0.0)
    return below + middle + above


@njit(cache=True, error_model="numpy")
def partial_mean(tau, bound, mu, sigma, full):
    """``∫₀^tau Q(u) du`` for Q = :func:`magnitude_quantile`: ``tau`` times the mean of the events below quantile tau.

    At ``tau = 1`` it is the mean of one event (:func:`magnitude_moments`).

    Examples
    --------
    >>> b, mu = 1000.0, math.log(30.0)
    >>> abs(partial_mean(1.0, b, mu, 1.0, 0.1) - magnitude_moments(b, mu, 1.0, 0.1)[0]) < 1e-9
    True
    """
    if bound <= 0.0 or tau <= 0.0:
        return 0.0
    if bound <= 1.0:
        return tau * bound
    edge = 1.0 - full
    if sigma <= 0.0:
        x = min(max(math.exp(mu), 1.0), bound)
        return min(tau, edge) * x + max(tau - edge, 0.0) * bound
    if tau >= edge:
        return edge * _clamped_partial(math.inf, bound, mu, sigma) + (tau - edge) * bound
    return edge * _clamped_partial(_ndtri(tau / edge), bound, mu, sigma)


@njit(cache=True, error_model="numpy")
def magnitude_moments(bound, mu, sigma, full):
    """Mean and variance of what one event touches (:func:`magnitude_quantile`).

    The one implementation: the kernel calls it compiled, and
    :func:`blastradius.simulate.failure_paths` from Python for its closed-form
    expectations.

    Examples
    --------
    >>> mean, var = magnitude_moments(100.0, math.log(10.0), 1.0, 0.0)
    >>> round(mean, 3), var > 0
    (15.966, True)
    >>> magnitude_moments(100.0, 0.0, 1.0, 1.0)
    (100.0, 0.0)
    """
    if bound <= 0.0:
        return 0.0, 0.0
    if bound <= 1.0:
        return bound, 0.0
    if sigma <= 0.0:
        x = min(max(math.exp(mu), 1.0), bound)
        m1 = x
        m2 = x * x
    else:
        za = -mu / sigma
        zb = (math.log(bound) - mu) / sigma
        tail = 1.0 - _ndtr(zb)
        m1 = _ndtr(za) + math.exp(mu + 0.5 * sigma * sigma) * (_ndtr(zb - sigma) - _ndtr(za - sigma)) + bound * tail
        m2 = _ndtr(za) + math.exp(2.0 * mu + 2.0 * sigma * sigma) * (_ndtr(zb - 2.0 * sigma) - _ndtr(za - 2.0 * sigma))
        m2 += bound * bound * tail
    mean = full * bound + (1.0 - full) * m1
    second = full * bound * bound + (1.0 - full) * m2
    return mean, max(second - mean * mean, 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def _clamp(x, bound):
    """``x`` clamped to [1, bound]; a bound of at most 1 is always touched whole."""
    if bound <= 1.0:
        return max(bound, 0.0)
    return min(max(x, 1.0), bound)


@njit(cache=True, error_model="numpy")
def path_constants(bound_r, bound_p, mu, sigma):
    """The parts of :func:`partial_mean` of a path's records and people that do not change from trial to trial.

    ``(Φ(z₁), e^{μ+σ²/2} Φ(z₁ − σ), Φ(z_r), e^{μ+σ²/2} Φ(z_r − σ), Φ(z_p), e^{μ+σ²/2} Φ(z_p − σ), z₁, z_r, z_p,
    e^{μ+σ²/2})`` with ``z₁ = −μ/σ`` (the clamp at 1) and ``z_r``, ``z_p`` the standardised logs of the
    bounds; zeros where the law is not a lognormal (σ = 0) or a bound is at most 1 (:func:`_bulk` then calls
    :func:`partial_mean`).
    """
    out = np.zeros(PATH_CONSTANTS)
    if sigma <= 0.0:
        return out
    scale = math.exp(mu + 0.5 * sigma * sigma)
    za = -mu / sigma
    out[0] = _ndtr(za)
    out[1] = scale * _ndtr(za - sigma)
    out[6] = za
    out[9] = scale
    for j in range(2):
        bound = bound_r if j == 0 else bound_p
        if bound > 1.0:
            zb = (math.log(bound) - mu) / sigma
            out[2 + 2 * j] = _ndtr(zb)
            out[3 + 2 * j] = scale * _ndtr(zb - sigma)
            out[7 + j] = zb
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _clamped_partial_fast(zt, phi_t, scaled_t, bound, phi_a, scaled_a, phi_b, scaled_b, za, zb):
    """:func:`_clamped_partial` with its trial-independent parts given (:func:`path_constants`), and
    ``Φ(zt)`` and ``e^{μ+σ²/2} Φ(zt − σ)`` (computed once for records and people)."""
    below = min(phi_a, phi_t)
    middle = 0.0
    if zt > za:
        top = scaled_b if zb <= zt else scaled_t
        middle = top - scaled_a
    return below + middle + bound * max(phi_t - phi_b, 0.0)


@njit(cache=True, error_model="numpy")
def _bulk(tau, bound_r, bound_p, mu, sigma, full, c):
    """:func:`partial_mean` of records and people at once, with a path's constants ``c`` (:func:`path_constants`)."""
    edge = 1.0 - full
    if sigma <= 0.0 or bound_r <= 1.0 or bound_p <= 1.0 or tau >= edge:
        return partial_mean(tau, bound_r, mu, sigma, full), partial_mean(tau, bound_p, mu, sigma, full)
    zt = _ndtri(tau / edge)
    phi_t = _ndtr(zt)
    za, zb_r, zb_p = c[6], c[7], c[8]
    scaled_t = c[9] * _ndtr(zt - sigma) if zt > za and (zb_r > zt or zb_p > zt) else 0.0
    r = _clamped_partial_fast(zt, phi_t, scaled_t, bound_r, c[0], c[1], c[2], c[3], za, zb_r)
    p = _clamped_partial_fast(zt, phi_t, scaled_t, bound_p, c[0], c[1], c[4], c[5], za, zb_p)
    return edge * r, edge * p


@njit(cache=True, error_model="numpy", inline="always")
def _whole(state, n, bound_r, bound_p, recovery):
    """:func:`_sizes` of events that each touch their whole bound: the same figures, without drawing any size.

    The :data:`EXACT` largest events draw whether they are undone (uniforms 1, 3, 5 ... of the stream, as in
    :func:`_sizes`); the others count at the share not undone.
    """
    mr = max(bound_r, 0.0)
    mp = max(bound_p, 0.0)
    kept = float(n)
    if recovery > 0.0:
        exact = min(n, EXACT)
        kept = (n - exact) * (1.0 - recovery)
        for j in range(exact):
            if _uniform_at(state, 2 * j + 1) >= recovery:
                kept += 1.0
    return n * mr, kept * mr, n * mp, kept * mp


@njit(cache=True, error_model="numpy")
def _sizes(state, n, bound_r, bound_p, mu, sigma, full, recovery, c):
    """Records and people touched by n events of one path, in total and for good: ``(r, r_permanent, p, p_permanent)``.

    The events' uniforms are drawn as order statistics from the largest down
    (the largest of n is ``V**(1/n)``, the next that times ``V'**(1/(n-1))``
    ...), so the j-th largest grows with n; the :data:`EXACT` largest are
    drawn, each with its own recovery draw, and the others count at their
    conditional mean below the smallest of those. One uniform sets an event's
    records and its people (:func:`_event`: :func:`magnitude_quantile` written
    out so that both share one normal quantile). One trial; the simulation
    draws every trial of a path at once with the same :func:`_event`
    (:func:`_exact_rows`), to the same bits.
    """
    if n <= 0:
        return 0.0, 0.0, 0.0, 0.0
    if not _by_rows(bound_r, bound_p, full):  # every event touches its whole bound: only what is undone is drawn
        return _whole(state, n, bound_r, bound_p, recovery)
    r = 0.0
    rp = 0.0
    p = 0.0
    pp = 0.0
    top = 1.0
    for j in range(min(n, EXACT)):
        top, mr, mp, kept = _event(state, j, n, top, full, mu, sigma, bound_r, bound_p, recovery)
        r += mr
        p += mp
        rp += mr if kept else 0.0
        pp += mp if kept else 0.0
    return _with_rest(n, top, r, rp, p, pp, bound_r, bound_p, mu, sigma, full, recovery, c)


@njit(cache=True, error_model="numpy", inline="always")
def _event(state, j, n, above, full, mu, sigma, bound_r, bound_p, recovery):
    """The j-th largest of n events of a stream (``above``: the uniform of the (j-1)-th, 1 for the first): its
    uniform, the records and people it touches, and whether they stay touched for good (not undone).

    Without branches (the loop over trials of :func:`_exact_rows` runs it in SIMD lanes): ``exp``, ``log`` and
    the normal quantile are :func:`_vexp`, :func:`_vlog` and :func:`_ndtri`.
    """
    edge = 1.0 - full
    u = above * _vexp(_vlog(_uniform_at(state, 2 * j)) / float(n - j))
    x = _vexp(mu + sigma * _ndtri(u / edge))  # the lognormal below the edge (sigma 0: its median)
    whole = u >= edge  # above it, the whole bound; a bound of at most 1 is always touched whole (:func:`_clamp`)
    mr = max(bound_r, 0.0) if whole or bound_r <= 1.0 else min(max(x, 1.0), bound_r)
    mp = max(bound_p, 0.0) if whole or bound_p <= 1.0 else min(max(x, 1.0), bound_p)
    kept = _uniform_at(state, 2 * j + 1) >= recovery  # always with no recovery: a uniform is above 0
    return u, mr, mp, kept


@njit(cache=True, error_model="numpy", inline="always")
def _with_rest(n, top, r, rp, p, pp, bound_r, bound_p, mu, sigma, full, recovery, c):
    """The figures of the :data:`EXACT` largest of n events (``top``: the uniform of the smallest of them) with
    the others added at their conditional mean below it."""
    if n > EXACT:
        rest = (n - EXACT) / top
        br, bp = _bulk(top, bound_r, bound_p, mu, sigma, full, c)
        br *= rest
        bp *= rest
        r += br
        p += bp
        rp += br * (1.0 - recovery)
        pp += bp * (1.0 - recovery)
    return r, rp, p, pp


@njit(cache=True, error_model="numpy", inline="always")
def _lognormal(median, sigma, z):
    return median * math.exp(sigma * z)


@njit(cache=True, error_model="numpy", inline="always")
def _add_one_off(r, rp, p, pp, n, pf, k, cls, acc, row):
    """A path's one-off figures of one trial added to ``acc[row, field, cls]``, each capped at what the path
    reaches in a period."""
    cap_r = pf[k, F_CAP_RECORDS]
    cap_p = pf[k, F_CAP_PEOPLE]
    acc[row, R_RECORDS, cls] += min(r, cap_r)
    acc[row, R_RECORDS_PERMANENT, cls] += min(rp, cap_r)
    acc[row, R_PEOPLE, cls] += min(p, cap_p)
    acc[row, R_PEOPLE_PERMANENT, cls] += min(pp, cap_p)
    acc[row, R_INCIDENTS, cls] += n


@njit(cache=True, error_model="numpy", inline="always")
def _by_rows(bound_r, bound_p, full):
    """Whether a path's events have sizes to draw (:func:`_exact_rows`); else each touches its whole bound
    (:func:`_whole`)."""
    return full < 1.0 and not (bound_r <= 1.0 and bound_p <= 1.0)


@njit(cache=True, error_model="numpy")
def _exact_rows(
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
):
    """:func:`_sizes`' loop over the :data:`EXACT` largest events, for every trial of one path at once.

    Trial ``t`` has ``counts[t]`` events drawn from the stream ``states[t]``. The trials with events are put in
    ``order`` (most events first), and position ``s`` of ``top, r, rp, p, pp`` is left at the uniform of the
    smallest event drawn of trial ``order[s]`` and the records and people of those drawn, in total and for good;
    returns how many trials have events. Each pass draws the j-th largest event of the trials that have one (a
    prefix of ``order``): the same operations in the same order as :func:`_sizes`, trial by trial, with no branch
    and over one-dimensional arrays, so that the pass runs in SIMD lanes (:func:`_vexp`, :func:`_vlog`,
    :func:`_ndtri`). A path's law is one where :func:`_by_rows` holds.
    """
    rows = counts.shape[0]
    # trials by their number of exact draws, most first (a counting sort: 0 .. EXACT)
    start = np.zeros(EXACT + 2, dtype=np.int64)
    for t in range(rows):
        start[EXACT - min(counts[t], EXACT) + 1] += 1
    for b in range(1, EXACT + 2):
        start[b] += start[b - 1]
    for t in range(rows):
        b = EXACT - min(counts[t], EXACT)
        order[start[b]] = t
        start[b] += 1
    # start[b] is now the number of trials with more than EXACT - 1 - b events
    with_events = start[EXACT - 1]
    for s in range(with_events):
        drawing_counts[s] = counts[order[s]]
        drawing_states[s] = states[order[s]]
        top[s] = 1.0
        r[s] = 0.0
        rp[s] = 0.0
        p[s] = 0.0
        pp[s] = 0.0
    for j in range(EXACT):
        drawing = start[EXACT - 1 - j]  # trials with more than j events
        for s in range(drawing):
            now, mr, mp, kept = _event(
                drawing_states[s], j, drawing_counts[s], top[s], full, mu, sigma, bound_r, bound_p, recovery
            )
            top[s] = now
            r[s] += mr
            p[s] += mp
            rp[s] += mr if kept else 0.0
            pp[s] += mp if kept else 0.0
    return with_events


@njit(cache=True, error_model="numpy", inline="always")
def _systematic(base, u, onsets, none, plug, i, pf, pi, k, hours, acc, row):
    """Systematic faults starting on one path in one trial (``u``: the uniform of their count; ``none`` the
    plugin's chance of none in the trial, ``_vexp(-onsets)``): each repeats until detected and halted.

    Faulty runs arrive at ``rate`` per working hour; each is stopped by a
    human check with probability ``catch`` (which raises the alarm) and
    does damage with probability ``(1 - catch) * escape``. The fault is
    halted ``halt`` hours after the alarm: the first of a human check, an
    anomaly alert, the audit log and a person noticing.
    """
    if not onsets > 0.0 or u <= none:  # no fault: what :func:`_poisson_inv` finds first
        return
    faults = _poisson_from(u, onsets, none)
    if faults == 0:
        return
    fault_base = _sub(base, _S_FAULT)
    br = pf[k, F_BOUND_RECORDS]
    bp = pf[k, F_BOUND_PEOPLE]
    mu = pf[k, F_MU]
    sigma = pf[k, F_SIGMA]
    full = pf[k, F_FULL]
    fixed = pi[k, I_FIXED] != 0
    catch = pf[k, F_CATCH]
    harm = (1.0 - catch) * pf[k, F_ESCAPE]  # a faulty run does damage
    rate = plug[i, P_RUNS] / hours * plug[i, P_SHARE]  # faulty runs per working hour
    records = 0.0
    records_permanent = 0.0
    people = 0.0
    people_permanent = 0.0
    for f in range(faults):
        # each draw of a fault has its place in the fault's stream: one not needed is not drawn, and moves no other
        state = _sub(fault_base, f + 1)
        # what one run of the fault touches: drawn once, the same on every run
        u = _uniform_at(state, 0)
        m_r = br if fixed else magnitude_quantile(u, br, mu, sigma, full)
        m_p = bp if fixed else magnitude_quantile(u, bp, mu, sigma, full)
        # the size the faulty run asks for, before the scope and row limit bound what it gets: what an alert watches
        asked = math.exp(mu + sigma * _ndtri(u)) if sigma > 0.0 else math.exp(mu)
        # detection: the fastest channel that applies; a person eventually notices, within the period at most
        t_detect = min(hours, _lognormal(plug[i, P_UNAIDED_MEDIAN], plug[i, P_UNAIDED_SIGMA], _normal_at(state, 6)))
        over = asked > pf[k, F_ALERT_RECORDS] or asked > pf[k, F_ALERT_PEOPLE]
        if over and _uniform_at(state, 1) < plug[i, P_ALERT_FIRES]:
            t_detect = min(t_detect, _lognormal(plug[i, P_ALERT_MEDIAN], plug[i, P_ALERT_SIGMA], _normal_at(state, 2)))
        if pi[k, I_AUDIT]:
            t_detect = min(t_detect, _lognormal(plug[i, P_AUDIT_MEDIAN], plug[i, P_AUDIT_SIGMA], _normal_at(state, 4)))
        # the first run: stopped by a human check (the alarm is raised at once), or damaging, or neither
        first = _uniform_at(state, 8)
        if first < catch:
            t_caught = 0.0
        elif catch > 0.0 and rate > 0.0:  # later runs: the first one a check stops, in working hours
            t_caught = -math.log(_uniform_at(state, 10)) / (rate * catch)
        else:
            t_caught = math.inf
        window = min(min(t_detect, t_caught) + pf[k, F_HALT_HOURS], hours)
        damaging = (1 if first > 1.0 - harm else 0) + _poisson_inv(_uniform_at(state, 11), rate * harm * window)
        records += damaging * m_r
        people += damaging * m_p
        if _uniform_at(state, 9) >= pf[k, F_RECOVERY]:
            records_permanent += damaging * m_r
            people_permanent += damaging * m_p
        if damaging > 0:
            acc[row, R_INCIDENTS, _SYSTEMATIC] += 1
        if t_caught < t_detect:
            acc[row, R_CAUGHT, _SYSTEMATIC] += 1
        acc[row, R_RUNS_AFFECTED, _SYSTEMATIC] += damaging
    # the faults of one path in one period touch at most what the path reaches
    cap_r = pf[k, F_CAP_RECORDS]
    cap_p = pf[k, F_CAP_PEOPLE]
    acc[row, R_RECORDS, _SYSTEMATIC] += min(records, cap_r)
    acc[row, R_RECORDS_PERMANENT, _SYSTEMATIC] += min(records_permanent, cap_r)
    acc[row, R_PEOPLE, _SYSTEMATIC] += min(people, cap_p)
    acc[row, R_PEOPLE_PERMANENT, _SYSTEMATIC] += min(people_permanent, cap_p)


@njit(cache=True, error_model="numpy", parallel=True)
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
    records,
    records_permanent,
    people,
    people_permanent,
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
    non-zero figure there sets ``lost[row]``). Records and people are capped
    at what the plugin can touch in a period. The permanent part of records
    and people has a column only where some path can be undone: elsewhere it
    is the figure itself, to the bit (a value that differs sets ``lost``).
    ``runs_affected`` is
    ``(trials, plugins)``, the systematic class only (for one-off classes it
    equals ``incidents``).
    """
    n_plugins = plugins.shape[0]
    n = stop - start
    # what each path's partial means need that does not change from trial to trial
    constants = np.empty((path_f.shape[0], PATH_CONSTANTS))
    for k in range(path_f.shape[0]):
        constants[k] = path_constants(
            path_f[k, F_BOUND_RECORDS], path_f[k, F_BOUND_PEOPLE], path_f[k, F_MU], path_f[k, F_SIGMA]
        )
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
        counts = np.empty(n, dtype=np.int64)  # a path's events, their streams and sizes, trial by trial
        states = np.empty(n, dtype=np.uint64)
        top = np.empty(n)
        order = np.empty(n, dtype=np.int64)
        drawing_counts = np.empty(n, dtype=np.int64)
        drawing_states = np.empty(n, dtype=np.uint64)
        drawn = (np.empty(n), np.empty(n), np.empty(n), np.empty(n))  # records, for good, people, for good
        rates = np.empty((n, _PROBABILITY_CLASSES))
        onsets = np.empty(n)
        none = np.empty(n)
        bases = np.empty(n, dtype=np.uint64)  # a path's stream, trial by trial
        means = np.empty(n)  # its damaging events' mean count,
        firsts = np.empty(n)  # the chance of none,
        events = np.empty(n)  # the uniform of their count,
        faults = np.empty(n)  # and that of its systematic faults' count
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
        for row in range(n):
            # the chance of no fault, where counts are drawn by inversion (its first step); else none is skipped
            none[row] = _vexp(-onsets[row]) if onsets[row] < INVERSION_BELOW else -1.0
        for k in range(path_start[i], path_start[i + 1]):
            cls = path_i[k, I_CLASS]
            keyed = _keyed(root, keys[k])
            bound_r = path_f[k, F_BOUND_RECORDS]
            bound_p = path_f[k, F_BOUND_PEOPLE]
            mu = path_f[k, F_MU]
            sigma = path_f[k, F_SIGMA]
            full = path_f[k, F_FULL]
            recovery = path_f[k, F_RECOVERY]
            rows = _by_rows(bound_r, bound_p, full)
            catch = path_f[k, F_CATCH]
            escape = path_f[k, F_ESCAPE]
            # every trial's streams and the uniforms and means of its counts, in SIMD lanes (no branch)
            for row in range(n):
                base = _mix(keyed ^ counters[row])  # = _stream(root, keys[k], start + row, 0)
                bases[row] = base
                states[row] = _sub(base, _S_SIZES)
                # of a path's wrong calls (Poisson), those no human check stops and that get out do damage
                # (thinning keeps them Poisson)
                mean = runs * rates[row, cls] * (1.0 - catch) * escape
                means[row] = mean
                firsts[row] = _vexp(-mean)
                events[row] = _uniform_at(_sub(base, _S_EVENTS), 0)
                faults[row] = _uniform_at(_sub(base, _S_FAULTS), 0)
            for row in range(n):
                count = _poisson_from(events[row], means[row], firsts[row])
                if rows:  # the events' sizes are drawn below, for every trial at once
                    counts[row] = count
                elif count > 0:
                    r, rp, p, pp = _whole(states[row], count, bound_r, bound_p, recovery)
                    _add_one_off(r, rp, p, pp, count, path_f, k, cls, acc, row)
                _systematic(
                    bases[row], faults[row], onsets[row], none[row], plugins, i, path_f, path_i, k, hours, acc, row
                )
            if rows:
                with_events = _exact_rows(
                    counts,
                    states,
                    order,
                    drawing_counts,
                    drawing_states,
                    top,
                    *drawn,
                    bound_r,
                    bound_p,
                    mu,
                    sigma,
                    full,
                    recovery,
                )
                for s in range(with_events):
                    row = order[s]
                    r, rp, p, pp = _with_rest(
                        drawing_counts[s],
                        top[s],
                        drawn[0][s],
                        drawn[1][s],
                        drawn[2][s],
                        drawn[3][s],
                        bound_r,
                        bound_p,
                        mu,
                        sigma,
                        full,
                        recovery,
                        constants[k],
                    )
                    _add_one_off(r, rp, p, pp, drawing_counts[s], path_f, k, cls, acc, row)
        cap_r = plugins[i, P_CAP_RECORDS]
        cap_p = plugins[i, P_CAP_PEOPLE]
        for row in range(n):
            for j in range(_CLASSES):
                _store(records, row, columns[R_RECORDS, i, j], min(acc[row, R_RECORDS, j], cap_r), lost)
                _store_part(
                    records_permanent,
                    row,
                    columns[R_RECORDS_PERMANENT, i, j],
                    min(acc[row, R_RECORDS_PERMANENT, j], cap_r),
                    min(acc[row, R_RECORDS, j], cap_r),
                    lost,
                )
                _store(people, row, columns[R_PEOPLE, i, j], min(acc[row, R_PEOPLE, j], cap_p), lost)
                _store_part(
                    people_permanent,
                    row,
                    columns[R_PEOPLE_PERMANENT, i, j],
                    min(acc[row, R_PEOPLE_PERMANENT, j], cap_p),
                    min(acc[row, R_PEOPLE, j], cap_p),
                    lost,
                )
                _store(incidents, row, columns[R_INCIDENTS, i, j], min(acc[row, R_INCIDENTS, j], _COUNT_MAX), lost)
                _store(caught, row, columns[R_CAUGHT, i, j], min(acc[row, R_CAUGHT, j], _COUNT_MAX), lost)
            runs_affected[row, i] = np.int64(min(acc[row, R_RUNS_AFFECTED, _SYSTEMATIC], _COUNT_MAX))


@njit(cache=True, error_model="numpy", inline="always")
def _store(out, row, column, value, lost):
    if column >= 0:
        out[row, column] = value
    elif value != 0.0:
        lost[row] = 1


@njit(cache=True, error_model="numpy", inline="always")
def _store_part(out, row, column, value, whole, lost):
    """A permanent part: stored where it has a column; elsewhere nothing can be undone, so it must be ``whole``."""
    if column >= 0:
        out[row, column] = value
    elif value != whole:
        lost[row] = 1
