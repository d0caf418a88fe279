"""Posteriors of the calibration: Beta for shares, Gamma for rates, with their quantiles in pure Python.

A share (how often a human rejects a gated call, how often a query returns
everything it may) is a Beta posterior: a Beta prior fitted to the
setting's sourced value and range, updated with ``k`` of ``n`` events. A
rate (runs per user per working day) is a Gamma posterior: a Gamma prior
centred on the inventory's figure, updated with ``n`` runs over an
exposure of user-days. Little data moves little; every estimate keeps the
number of events behind it.

Intervals are central (90% by default). One more event never widens one
on the scale the estimate lives on: the log-odds of a share (the logit of a
Beta variable is a difference of log-gamma variables, each less dispersed as
its shape grows) and the log of a rate (a Gamma's quantile ratio depends on
its shape alone). On the natural scale an event that contradicts the prior
can move an interval towards 0.5 and widen it: that is the data speaking.

The quantile functions follow Press et al., *Numerical Recipes* (3rd ed.
2007), §6.2 and §6.4 (``invgammp``, ``invbetai``): an initial guess refined
by Halley steps on the regularised incomplete functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "BetaPosterior",
    "GammaPosterior",
    "beta_cdf",
    "beta_prior",
    "beta_quantile",
    "gamma_cdf",
    "gamma_quantile",
    "logit",
]

_EPS = 1e-15
_FPMIN = 1e-300
_MAX_ITER = 100_000

#: Strength of a prior given as a plain value with no range: worth this many events.
WEAK_PRIOR_EVENTS = 2.0


def logit(p: float) -> float:
    """``log(p / (1 - p))``, finite for ``0 < p < 1``.

    Examples
    --------
    >>> logit(0.5)
    0.0
    """
    return math.log(p) - math.log1p(-p)


def _betacf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _FPMIN else _FPMIN)
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _FPMIN else _FPMIN)
        c = 1.0 + aa / c
        c = c if abs(c) > _FPMIN else _FPMIN
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _FPMIN else _FPMIN)
        c = 1.0 + aa / c
        c = c if abs(c) > _FPMIN else _FPMIN
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function ``I_x(a, b)``: P(X <= x) for X ~ Beta(a, b).

    Examples
    --------
    >>> round(beta_cdf(0.3, 1.0, 1.0), 12), round(beta_cdf(0.5, 3.0, 3.0), 12)
    (0.3, 0.5)
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    """The ``p`` quantile of Beta(a, b).

    Examples
    --------
    >>> round(beta_quantile(0.25, 1.0, 1.0), 9), round(beta_quantile(0.5, 2.0, 2.0), 9)
    (0.25, 0.5)
    >>> round(beta_quantile(0.9, 1.0, 3.0), 9)  # 1 - 0.1 ** (1/3)
    0.535841117
    """
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    a1, b1 = a - 1.0, b - 1.0
    if a >= 1.0 and b >= 1.0:
        pp = p if p < 0.5 else 1.0 - p
        t = math.sqrt(-2.0 * math.log(pp))
        x = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        if p < 0.5:
            x = -x
        al = (x * x - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0))
        w = (x * math.sqrt(al + h) / h) - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (
            al + 5.0 / 6.0 - 2.0 / (3.0 * h)
        )
        x = a / (a + b * math.exp(min(2.0 * w, 700.0)))
    else:
        lna, lnb = math.log(a / (a + b)), math.log(b / (a + b))
        t, u = math.exp(a * lna) / a, math.exp(b * lnb) / b
        w = t + u
        x = (a * w * p) ** (1.0 / a) if p < t / w else 1.0 - (b * w * (1.0 - p)) ** (1.0 / b)
    afac = -math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b)
    for j in range(100):
        if x <= 0.0 or x >= 1.0:
            return min(max(x, 0.0), 1.0)
        err = beta_cdf(x, a, b) - p
        t = math.exp(a1 * math.log(x) + b1 * math.log1p(-x) + afac)
        if t == 0.0:
            break
        u = err / t
        t = u / (1.0 - 0.5 * min(1.0, u * (a1 / x - b1 / (1.0 - x))))
        x -= t
        if x <= 0.0:
            x = 0.5 * (x + t)
        if x >= 1.0:
            x = 0.5 * (x + t + 1.0)
        if abs(t) < 1e-12 * x and j > 0:
            break
    return x


def _gser(a: float, x: float) -> float:
    ap, total = a, 1.0 / a
    delta = total
    for _ in range(_MAX_ITER):
        ap += 1.0
        delta *= x / ap
        total += delta
        if abs(delta) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gcf(a: float, x: float) -> float:
    b = x + 1.0 - a
    c, d = 1.0 / _FPMIN, 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = d if abs(d) > _FPMIN else _FPMIN
        c = b + an / c
        c = c if abs(c) > _FPMIN else _FPMIN
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def gamma_cdf(x: float, a: float) -> float:
    """The regularised lower incomplete gamma function ``P(a, x)``: P(X <= x) for X ~ Gamma(shape a, rate 1).

    Examples
    --------
    >>> round(gamma_cdf(1.0, 1.0), 12) == round(1 - math.exp(-1), 12)
    True
    """
    if x <= 0.0:
        return 0.0
    return _gser(a, x) if x < a + 1.0 else 1.0 - _gcf(a, x)


def gamma_quantile(p: float, a: float) -> float:
    """The ``p`` quantile of Gamma(shape ``a``, rate 1); divide by the rate for another.

    Examples
    --------
    >>> round(gamma_quantile(0.5, 1.0), 9) == round(math.log(2), 9)
    True
    """
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return math.inf
    gln, a1 = math.lgamma(a), a - 1.0
    lna1 = math.log(a1) if a > 1.0 else 0.0
    afac = math.exp(a1 * (lna1 - 1.0) - gln) if a > 1.0 else 0.0
    if a > 1.0:
        pp = p if p < 0.5 else 1.0 - p
        t = math.sqrt(-2.0 * math.log(pp))
        x = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        if p < 0.5:
            x = -x
        x = max(1e-3, a * (1.0 - 1.0 / (9.0 * a) - x / (3.0 * math.sqrt(a))) ** 3)
    else:
        t = 1.0 - a * (0.253 + a * 0.12)
        x = (p / t) ** (1.0 / a) if p < t else 1.0 - math.log1p(-(p - t) / (1.0 - t))
    for _ in range(100):
        if x <= 0.0:
            return 0.0
        err = gamma_cdf(x, a) - p
        if a > 1.0:
            t = afac * math.exp(-(x - a1) + a1 * (math.log(x) - lna1))
        else:
            t = math.exp(-x + a1 * math.log(x) - gln)
        if t == 0.0:
            break
        u = err / t
        t = u / (1.0 - 0.5 * min(1.0, u * ((a - 1.0) / x - 1.0)))
        x -= t
        if x <= 0.0:
            x = 0.5 * (x + t)
        if abs(t) < 1e-12 * x:
            break
    return x


@dataclass(frozen=True, kw_only=True)
class BetaPosterior:
    """Beta(a, b) after ``k`` of ``n`` events: a share with its interval."""

    a: float
    b: float
    k: int = 0
    n: int = 0

    def update(self, k: int, n: int) -> BetaPosterior:
        """After ``k`` more events of ``n`` more trials."""
        return BetaPosterior(a=self.a + k, b=self.b + n - k, k=self.k + k, n=self.n + n)

    @property
    def median(self) -> float:
        return beta_quantile(0.5, self.a, self.b)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        tail = (1.0 - level) / 2.0
        return beta_quantile(tail, self.a, self.b), beta_quantile(1.0 - tail, self.a, self.b)


@dataclass(frozen=True, kw_only=True)
class GammaPosterior:
    """Gamma(shape, rate) after ``n`` events over ``exposure``: a rate per unit of exposure."""

    shape: float
    rate: float
    n: int = 0
    exposure: float = 0.0

    def update(self, n: int, exposure: float) -> GammaPosterior:
        return GammaPosterior(
            shape=self.shape + n, rate=self.rate + exposure, n=self.n + n, exposure=self.exposure + exposure
        )

    @property
    def median(self) -> float:
        return gamma_quantile(0.5, self.shape) / self.rate

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        tail = (1.0 - level) / 2.0
        return gamma_quantile(tail, self.shape) / self.rate, gamma_quantile(1.0 - tail, self.shape) / self.rate


def _logit_width(a: float, b: float, level: float) -> float:
    tail = (1.0 - level) / 2.0
    low, high = beta_quantile(tail, a, b), beta_quantile(1.0 - tail, a, b)
    low, high = min(max(low, 1e-300), 1 - 1e-16), min(max(high, 1e-300), 1 - 1e-16)
    return logit(high) - logit(low)


@lru_cache(maxsize=1024)
def beta_prior(
    value: float, low: float | None = None, high: float | None = None, *, level: float = 0.9
) -> BetaPosterior:
    """A Beta prior with mean ``value`` whose central ``level`` interval is as wide, in log-odds, as ``[low, high]``.

    A value with no range is a weak prior, worth :data:`WEAK_PRIOR_EVENTS` events.

    Examples
    --------
    >>> prior = beta_prior(0.8, 0.5, 0.95)
    >>> round(prior.a / (prior.a + prior.b), 6)
    0.8
    >>> [round(x, 2) for x in prior.interval()]
    [0.57, 0.96]
    """
    value = min(max(value, 1e-6), 1 - 1e-6)
    if low is None or high is None or not 0 < low < high < 1:
        return BetaPosterior(a=value * WEAK_PRIOR_EVENTS, b=(1 - value) * WEAK_PRIOR_EVENTS)
    target = logit(high) - logit(low)
    lo, hi = math.log(1e-2), math.log(1e8)
    for _ in range(60):  # the log-odds width falls as the prior grows stronger
        mid = 0.5 * (lo + hi)
        kappa = math.exp(mid)
        if _logit_width(value * kappa, (1 - value) * kappa, level) > target:
            lo = mid
        else:
            hi = mid
    kappa = math.exp(0.5 * (lo + hi))
    return BetaPosterior(a=value * kappa, b=(1 - value) * kappa)
