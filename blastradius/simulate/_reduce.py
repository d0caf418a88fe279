"""Compiled reductions behind the summaries: stored columns summed into group totals, and order statistics.

:mod:`blastradius.simulate.summaries` reads every figure off these two
routines; nothing here is public. Both give exactly the numbers of the plain
numpy expressions they replace (the tests hold them to it):

- :func:`group_totals` sums a field's stored columns (and, for recoverable
  figures, its permanent part's) into the totals of plugins, departments or
  the enterprise in one pass over the trials, eight trials at a time, capping
  each level at what it can touch. A plugin's classes are added in class
  order, as ``np.add.reduceat`` does, and so are a department's plugins (in
  plugin order, as numpy sums the columns of ``totals[:, members]``); the
  enterprise's departments by :func:`pairwise_sum`, as ``ndarray.sum`` does
  along a row.
- :func:`row_statistics` reads, per group (a row of ``(groups, trials)``),
  the mean over trials, added one trial after another as numpy's
  ``mean(axis=0)`` adds the rows of a ``(trials, groups)`` table, and the
  values ``np.sort`` would put at a few ranks, by a radix selection rather
  than a sort.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# numba's cache directory is chosen where the simulation kernel is defined: import it first so these
# functions are cached beside it
from blastradius.simulate import _kernel as _kernel

__all__ = ["group_totals", "group_totals_serial", "pairwise_sum", "row_statistics", "row_statistics_serial"]


@njit(cache=True, inline="always")
def _block_sum(a, start, n):
    """numpy's pairwise summation of at most 128 values: eight running sums combined as a tree, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    r0 = a[start]
    r1 = a[start + 1]
    r2 = a[start + 2]
    r3 = a[start + 3]
    r4 = a[start + 4]
    r5 = a[start + 5]
    r6 = a[start + 6]
    r7 = a[start + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[start + i]
        r1 += a[start + i + 1]
        r2 += a[start + i + 2]
        r3 += a[start + i + 3]
        r4 += a[start + i + 4]
        r5 += a[start + i + 5]
        r6 += a[start + i + 6]
        r7 += a[start + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a, start, n):
    """``a[start:start + n]`` summed in the order of numpy's pairwise summation (``ndarray.sum`` along a row).

    Up to 128 values by :func:`_block_sum`; beyond, the two halves (cut at a
    multiple of 8) separately, then added. Without recursion (numba's cache
    does not keep recursive functions): a stack of ranges to sum, and of
    "add the last two sums" markers (``n`` = -1).
    """
    todo = np.empty((128, 2), dtype=np.int64)
    sums = np.empty(64)
    todo[0, 0], todo[0, 1] = start, n
    pending, done = 1, 0
    while pending > 0:
        pending -= 1
        first, count = todo[pending, 0], todo[pending, 1]
        if count < 0:
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
        elif count <= 128:
            sums[done] = _block_sum(a, first, count)
            done += 1
        else:
            half = count // 2
            half -= half % 8
            todo[pending, 0], todo[pending, 1] = 0, -1  # then add the two halves, left + right
            todo[pending + 1, 0], todo[pending + 1, 1] = first + half, count - half
            todo[pending + 2, 0], todo[pending + 2, 1] = first, half
            pending += 3
    return sums[0]


#: Trials read together (their rows lie on few memory pages, and every plugin's partial sums stay in cache);
#: by plugin, trials per task: each plugin's row of the output is written in runs that long.
_TILE = 8
_TILE_BY_PLUGIN = 256
#: Groups each thread reads at a time; the buckets of a selection's histogram, and how many values of a row
#: (at most) set their span.
_ROWS_PER_TASK = 8
_BUCKETS = 4096
_SAMPLE = 512
#: Below this many values, a range is finished by insertion sort.
_SMALL = 16


@njit(cache=True, inline="always")
def _plugin_tile(values, offsets, picked, k, t0, m, caps, out):
    """``out[p, u]``: plugin ``p``'s chosen columns of trial ``t0 + u`` summed in order (float64), capped.

    :data:`_TILE` trials at a time: the rows read at once stay on few memory pages.
    """
    n_plugins = caps.shape[0]
    for s0 in range(0, m, _TILE):
        n = min(_TILE, m - s0)
        for p in range(n_plugins):
            for u in range(s0, s0 + n):
                out[p, u] = 0.0
            for j in range(offsets[k * n_plugins + p], offsets[k * n_plugins + p + 1]):
                c = picked[j]
                for u in range(n):
                    out[p, s0 + u] += values[t0 + s0 + u, c]
            for u in range(s0, s0 + n):
                out[p, u] = min(out[p, u], caps[p])


@njit(cache=True, inline="always")
def _part_tile(values, whole, offsets, picked, k, t0, m, caps, out):
    """:func:`_plugin_tile` of a permanent part: a picked column ``-1 - c`` is column ``c`` of the ``whole`` figure
    (where nothing can be undone the part is the figure itself, and has no column of its own)."""
    n_plugins = caps.shape[0]
    for s0 in range(0, m, _TILE):
        n = min(_TILE, m - s0)
        for p in range(n_plugins):
            for u in range(s0, s0 + n):
                out[p, u] = 0.0
            for j in range(offsets[k * n_plugins + p], offsets[k * n_plugins + p + 1]):
                c = picked[j]
                if c >= 0:
                    for u in range(n):
                        out[p, s0 + u] += values[t0 + s0 + u, c]
                else:
                    for u in range(n):
                        out[p, s0 + u] += whole[t0 + s0 + u, -1 - c]
            for u in range(s0, s0 + n):
                out[p, u] = min(out[p, u], caps[p])


@njit(cache=True, inline="always")
def _department_tile(plugin, members, bounds, caps, m, out):
    """``out[d, u]``: department ``d``'s plugin totals added one after another (in member order), capped."""
    for d in range(bounds.shape[0] - 1):
        for u in range(m):
            out[d, u] = 0.0
        for i in range(bounds[d], bounds[d + 1]):
            q = members[i]
            for u in range(m):
                out[d, u] += plugin[q, u]
        for u in range(m):
            out[d, u] = min(out[d, u], caps[d])


@njit(cache=True, inline="always")
def _write_tile(total, permanent, slots, k, t0, m, out):
    """``out[slots[.], k, g, t0:t0 + m]``: each group's total, permanent part and their difference, as wanted."""
    for g in range(total.shape[0]):
        if slots[0] >= 0:
            for u in range(m):
                out[slots[0], k, g, t0 + u] = total[g, u]
        if slots[1] >= 0:
            for u in range(m):
                out[slots[1], k, g, t0 + u] = permanent[g, u]
        if slots[2] >= 0:
            for u in range(m):
                out[slots[2], k, g, t0 + u] = total[g, u] - permanent[g, u]


@njit(cache=True, inline="always")
def _totals_of_tile(
    tile,
    values,
    offsets,
    picked,
    permanent_values,
    permanent_offsets,
    permanent_picked,
    slots,
    plugin_caps,
    members,
    bounds,
    department_caps,
    enterprise_cap,
    level,
    out,
):
    """The trials of one tile of :func:`group_totals`."""
    trials = values.shape[0]
    choices = out.shape[1]
    n_plugins = plugin_caps.shape[0]
    n_departments = bounds.shape[0] - 1
    both = slots[1] >= 0 or slots[2] >= 0
    size = _TILE_BY_PLUGIN if level == 0 else _TILE
    t0 = tile * size
    m = min(size, trials - t0)
    plugin = np.empty((n_plugins, size))
    plugin_permanent = np.empty((n_plugins, size))
    department = np.empty((n_departments, size))
    department_permanent = np.empty((n_departments, size))
    column = np.empty(n_departments)
    for k in range(choices):
        _plugin_tile(values, offsets, picked, k, t0, m, plugin_caps, plugin)
        if both:
            _part_tile(
                permanent_values, values, permanent_offsets, permanent_picked, k, t0, m, plugin_caps, plugin_permanent
            )
        if level == 0:
            _write_tile(plugin, plugin_permanent, slots, k, t0, m, out)
            continue
        _department_tile(plugin, members, bounds, department_caps, m, department)
        if both:
            _department_tile(plugin_permanent, members, bounds, department_caps, m, department_permanent)
        if level == 1:
            _write_tile(department, department_permanent, slots, k, t0, m, out)
            continue
        for u in range(m):
            for d in range(n_departments):
                column[d] = department[d, u]
            whole = min(pairwise_sum(column, 0, n_departments), enterprise_cap)
            whole_permanent = 0.0
            if both:
                for d in range(n_departments):
                    column[d] = department_permanent[d, u]
                whole_permanent = min(pairwise_sum(column, 0, n_departments), enterprise_cap)
            if slots[0] >= 0:
                out[slots[0], k, 0, t0 + u] = whole
            if slots[1] >= 0:
                out[slots[1], k, 0, t0 + u] = whole_permanent
            if slots[2] >= 0:
                out[slots[2], k, 0, t0 + u] = whole - whole_permanent


@njit(cache=True, inline="always")
def _tiles(values, level):
    size = _TILE_BY_PLUGIN if level == 0 else _TILE
    return (values.shape[0] + size - 1) // size


@njit(cache=True, parallel=True)
def group_totals(
    values,
    offsets,
    picked,
    permanent_values,
    permanent_offsets,
    permanent_picked,
    slots,
    plugin_caps,
    members,
    bounds,
    department_caps,
    enterprise_cap,
    level,
    out,
):
    """Fill ``out[s, k, g, t]``: totals of group ``g`` in trial ``t`` over the ``k``-th choice of columns.

    ``values`` is a stored field, ``(trials, columns)``; plugin ``p``'s columns
    in choice ``k`` are ``picked[offsets[k * P + p]:offsets[k * P + p + 1]]``;
    ``permanent_*`` likewise for the field's permanent part (a picked ``-1 - c``
    is column ``c`` of ``values``: no damage there can be undone). ``slots`` says
    where each total goes: ``slots[0]`` the field's, ``slots[1]`` its
    permanent part's, ``slots[2]`` their difference (recoverable); -1 where
    it is not wanted. Totals are capped at each level (``plugin_caps``,
    ``department_caps``, ``enterprise_cap``; infinite where a figure has no
    ceiling); a department's plugins are ``members[bounds[d]:bounds[d + 1]]``.
    ``level`` 0, 1 or 2 writes plugins, departments or the enterprise.
    """
    for tile in prange(_tiles(values, level)):
        _totals_of_tile(
            tile,
            values,
            offsets,
            picked,
            permanent_values,
            permanent_offsets,
            permanent_picked,
            slots,
            plugin_caps,
            members,
            bounds,
            department_caps,
            enterprise_cap,
            level,
            out,
        )


@njit(cache=True)
def group_totals_serial(
    values,
    offsets,
    picked,
    permanent_values,
    permanent_offsets,
    permanent_picked,
    slots,
    plugin_caps,
    members,
    bounds,
    department_caps,
    enterprise_cap,
    level,
    out,
):
    """:func:`group_totals` on this thread: for small work, where waking the thread pool costs more than it saves."""
    for tile in range(_tiles(values, level)):
        _totals_of_tile(
            tile,
            values,
            offsets,
            picked,
            permanent_values,
            permanent_offsets,
            permanent_picked,
            slots,
            plugin_caps,
            members,
            bounds,
            department_caps,
            enterprise_cap,
            level,
            out,
        )


@njit(cache=True, inline="always")
def _insertion_sort(a, lo, hi):
    for i in range(lo + 1, hi):
        x = a[i]
        j = i - 1
        while j >= lo and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@njit(cache=True, inline="always")
def _select(a, ranks, first, last, out, offset):
    """``out[r]``: the ``ranks[r] - offset``-th smallest of ``a``, for ``r`` in ``first..last - 1`` (``ranks`` sorted).

    Quickselect for several ranks at once with a three-way partition (ties,
    common in counts, settle at once), reordering ``a``; short ranges are
    sorted.
    """
    # every range waiting on the stack holds at least one of the ranks, and no two share one
    stack = np.empty((last - first + 1, 4), dtype=np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, a.shape[0], first, last
    top = 1
    while top > 0:
        top -= 1
        lo, hi, r0, r1 = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if hi - lo <= _SMALL:
            _insertion_sort(a, lo, hi)
            for r in range(r0, r1):
                out[r] = a[ranks[r] - offset]
            continue
        x, y, z = a[lo], a[(lo + hi) // 2], a[hi - 1]
        pivot = max(min(x, y), min(max(x, y), z))  # the median of three
        # [lo, lt) < pivot, [lt, gt) == pivot, [gt, hi) > pivot
        lt, i, gt = lo, lo, hi
        while i < gt:
            v = a[i]
            if v < pivot:
                a[i] = a[lt]
                a[lt] = v
                lt += 1
                i += 1
            elif v > pivot:
                gt -= 1
                a[i] = a[gt]
                a[gt] = v
            else:
                i += 1
        r = r0
        while r < r1 and ranks[r] - offset < lt:
            r += 1
        below = r
        while r < r1 and ranks[r] - offset < gt:
            out[r] = pivot
            r += 1
        if r < r1:
            stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = gt, hi, r, r1
            top += 1
        if below > r0:
            stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = lo, lt, r0, below
            top += 1


@njit(cache=True, inline="always")
def _key(bits):
    """A float64's bits as an unsigned integer that sorts as the floats do (negative values first)."""
    sign = np.uint64(0x8000000000000000)
    return ~bits if bits & sign else bits | sign


@njit(cache=True, inline="always")
def _order_statistics(x, ranks, out, g, buckets, counts, slot, gathered):
    """``out[:, g]``: the values of ``x`` at ``ranks`` once sorted (``ranks`` sorted and unique); ``x`` is left as is.

    A radix selection: each value's bits as an unsigned key that sorts as the
    values do (:func:`_key`), a histogram of the keys' leading bits over
    :data:`_BUCKETS` buckets spanning a sample of the row (values beyond it
    fall in the first or last bucket), then only the buckets holding a wanted
    rank are gathered and selected on (:func:`_select`). A row holding NaN
    gives NaN, as ``np.quantile`` does.
    """
    n = x.shape[0]
    wanted = ranks.shape[0]
    bits = x.view(np.uint64)
    low = high = _key(bits[0])
    for i in range(0, n, max(1, n // _SAMPLE)):
        low = min(low, _key(bits[i]))
        high = max(high, _key(bits[i]))
    if low == high:  # the sample holds one value: span the row itself
        for i in range(n):
            low = min(low, _key(bits[i]))
            high = max(high, _key(bits[i]))
    shift = np.uint64(0)
    while ((high - low) >> shift) >= _BUCKETS:
        shift += np.uint64(1)
    last = np.int64((high - low) >> shift)
    counts[: last + 1] = 0
    nan = False
    for i in range(n):
        nan |= x[i] != x[i]
        key = _key(bits[i])
        bucket = min(np.int64((key - low) >> shift), last) if key >= low else np.int64(0)
        buckets[i] = bucket
        counts[bucket] += 1
    if nan:
        out[:, g] = np.nan
        return
    if low == high:  # one value (an idle plugin: all zero)
        out[:, g] = x[0]
        return
    used = last + 1
    # the buckets holding a wanted rank: where each starts among the sorted values, its first rank, its size
    base = np.empty(wanted, dtype=np.int64)
    first_rank = np.empty(wanted + 1, dtype=np.int64)
    start = np.zeros(wanted + 1, dtype=np.int64)
    below = 0
    r = 0
    found = 0
    for b in range(used):
        c = counts[b]
        if r < wanted and ranks[r] < below + c:
            slot[b] = found
            base[found] = below
            first_rank[found] = r
            start[found + 1] = start[found] + c
            found += 1
            while r < wanted and ranks[r] < below + c:
                r += 1
        below += c
        if r == wanted:
            break
    first_rank[found] = wanted
    # without a branch: a value of no wanted bucket goes to a spare place, overwritten each time, through one of
    # eight slots in turn (so that each write does not wait for the one before)
    fill = np.empty(wanted + 8, dtype=np.int64)
    fill[:found] = start[:found]
    fill[wanted:] = n
    for b in range(used):
        if slot[b] < 0:
            slot[b] = wanted
    for i in range(n):
        j = slot[buckets[i]]
        j = j if j != wanted else wanted + (i & 7)
        gathered[fill[j]] = x[i]
        fill[j] += j < wanted
    values = np.empty(wanted)
    for j in range(found):
        _select(gathered[start[j] : start[j + 1]], ranks, first_rank[j], first_rank[j + 1], values, base[j])
    slot[:used] = -1  # the bucket slots empty for the next row
    for r in range(wanted):
        out[r, g] = values[r]


@njit(cache=True, inline="always")
def _statistics_of_task(task, rows, ranks, means, out):
    """The rows of one task of :func:`row_statistics`."""
    groups, trials = rows.shape
    buckets = np.empty(trials, dtype=np.int32)
    counts = np.empty(_BUCKETS, dtype=np.int32)
    slot = np.full(_BUCKETS, -1, dtype=np.int64)
    gathered = np.empty(trials + 1)
    g0 = task * _ROWS_PER_TASK
    g1 = min(groups, g0 + _ROWS_PER_TASK)
    _means(rows, g0, g1, means)
    for g in range(g0, g1):
        _order_statistics(rows[g], ranks, out, g, buckets, counts, slot, gathered)


@njit(cache=True, inline="always")
def _means(rows, g0, g1, means):
    """``means[g]`` of rows ``g0..g1 - 1``: each adds its trials one after another from 0, then divides.

    Four rows at a time, so that four chains of additions run side by side.
    """
    trials = rows.shape[1]
    g = g0
    while g + 4 <= g1:
        s0 = s1 = s2 = s3 = 0.0
        for t in range(trials):
            s0 += rows[g, t]
            s1 += rows[g + 1, t]
            s2 += rows[g + 2, t]
            s3 += rows[g + 3, t]
        means[g], means[g + 1], means[g + 2], means[g + 3] = s0 / trials, s1 / trials, s2 / trials, s3 / trials
        g += 4
    while g < g1:
        s0 = 0.0
        for t in range(trials):
            s0 += rows[g, t]
        means[g] = s0 / trials
        g += 1


@njit(cache=True, parallel=True)
def row_statistics(rows, ranks, means, out):
    """Per row ``g`` of ``rows`` (``(groups, trials)``): ``means[g]``, and ``out[r, g]`` its ``ranks[r]``-th smallest.

    The mean adds the trials one after another from 0, then divides by their
    number (numpy's ``mean(axis=0)`` of a ``(trials, groups)`` table of
    several groups); ``ranks`` are sorted, unique, 0-based.
    """
    for task in prange((rows.shape[0] + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        _statistics_of_task(task, rows, ranks, means, out)


@njit(cache=True)
def row_statistics_serial(rows, ranks, means, out):
    """:func:`row_statistics` on this thread: for small work, where waking the thread pool costs more than it saves."""
    for task in range((rows.shape[0] + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        _statistics_of_task(task, rows, ranks, means, out)
