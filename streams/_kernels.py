"""numba kernels of the streams layer, behind small typed wrappers.

Kernels take every table as an argument (numba freezes globals) and are compiled
with ``cache=True``. They work on the flat jagged arrays of :class:`Objects`. Kernel
bodies are left unannotated (numba infers their types from the arrays it is given);
the thin wrappers around them carry the types. numba does not check bounds, so every
kernel sizes its outputs before writing and skips zero-capacity slots explicitly.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "group_order_desc",
    "overlay_records",
    "segment_order_desc",
    "unpack_particle_rows",
]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sort_segments_desc(order, offsets, pt):  # type: ignore[no-untyped-def]
    # within each segment of ``order``, sort its indices by decreasing pt[index];
    # insertion sort: records hold a handful of objects; stable for equal pT
    for s in range(offsets.shape[0] - 1):
        lo = offsets[s]
        hi = offsets[s + 1]
        for i in range(lo + 1, hi):
            cur = order[i]
            key = pt[cur]
            j = i - 1
            while j >= lo and pt[order[j]] < key:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = cur


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _segment_order_desc(offsets, pt):  # type: ignore[no-untyped-def]
    order = np.arange(pt.shape[0])
    _sort_segments_desc(order, offsets, pt)
    return order


def segment_order_desc(offsets: NDArray[np.int64], pt: NDArray[np.float32]) -> NDArray[np.int64]:
    """Permutation of the flat arrays that sorts every record by decreasing pT (stable)."""
    result: NDArray[np.int64] = _segment_order_desc(offsets, pt)
    return result


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _group_order_desc(event, n, pt):  # type: ignore[no-untyped-def]
    counts = np.zeros(n, np.int64)
    for e in event:
        counts[e] += 1
    offsets = np.zeros(n + 1, np.int64)
    for i in range(n):
        offsets[i + 1] = offsets[i] + counts[i]
    fill = offsets[:-1].copy()
    order = np.empty(event.shape[0], np.int64)
    for i in range(event.shape[0]):  # counting sort: stable grouping by event
        order[fill[event[i]]] = i
        fill[event[i]] += 1
    _sort_segments_desc(order, offsets, pt)
    return offsets, order


def group_order_desc(
    event: NDArray[np.int64], n: int, pt: NDArray[np.float32]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Offsets (n + 1) and the permutation grouping objects by event, by decreasing pT.

    ``event[i]`` (0..n-1) owns object ``i``; ties keep their input order.
    """
    out: tuple[NDArray[np.int64], NDArray[np.int64]] = _group_order_desc(event, n, pt)
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _insert(out_pt, out_eta, out_phi, out_q, base, k, m, p, e, f, q):  # type: ignore[no-untyped-def]
    # insert one object into the pT-sorted buffer out[base : base + k] holding m objects
    j = m if m < k else k - 1
    while j > 0 and out_pt[base + j - 1] < p:
        out_pt[base + j] = out_pt[base + j - 1]
        out_eta[base + j] = out_eta[base + j - 1]
        out_phi[base + j] = out_phi[base + j - 1]
        out_q[base + j] = out_q[base + j - 1]
        j -= 1
    out_pt[base + j] = p
    out_eta[base + j] = e
    out_phi[base + j] = f
    out_q[base + j] = q
    return m + 1 if m < k else k


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _overlay(  # type: ignore[no-untyped-def]
    hs_off,
    hs_pt,
    hs_eta,
    hs_phi,
    hs_q,
    hs_met_pt,
    hs_met_phi,
    pool_off,
    pool_pt,
    pool_eta,
    pool_phi,
    pool_q,
    pool_mask,
    pool_px,
    pool_py,
    pu_offsets,
    pu_events,
    cap_off,
    target,
):
    n_coll = hs_off.shape[0]
    n = hs_off.shape[1] - 1
    size = cap_off[n_coll - 1, n]
    out_pt = np.empty(size, np.float32)
    out_eta = np.empty(size, np.float32)
    out_phi = np.empty(size, np.float32)
    out_q = np.empty(size, np.int32)
    counts = np.zeros((n_coll, n), np.int64)
    met_pt = hs_met_pt.copy()
    met_phi = hs_met_phi.copy()
    for r in range(n):
        for c in range(n_coll):
            base = cap_off[c, r]
            k = cap_off[c, r + 1] - base
            m = 0
            if k == 0:
                continue  # counts[c, r] stays 0
            for i in range(hs_off[c, r], hs_off[c, r + 1]):
                if m == k and hs_pt[i] <= out_pt[base + k - 1]:
                    break  # sorted input: nothing further can enter
                m = _insert(
                    out_pt,
                    out_eta,
                    out_phi,
                    out_q,
                    base,
                    k,
                    m,
                    hs_pt[i],
                    hs_eta[i],
                    hs_phi[i],
                    hs_q[i],
                )
            counts[c, r] = m
        if not target[r]:
            continue
        px = np.float64(hs_met_pt[r]) * np.cos(np.float64(hs_met_phi[r]))
        py = np.float64(hs_met_pt[r]) * np.sin(np.float64(hs_met_phi[r]))
        for u in range(pu_offsets[r], pu_offsets[r + 1]):
            ev = pu_events[u]
            px += pool_px[ev]
            py += pool_py[ev]
            mask = pool_mask[ev]
            if mask == 0:
                continue
            for c in range(n_coll):
                if not (mask >> c) & 1:
                    continue
                base = cap_off[c, r]
                k = cap_off[c, r + 1] - base
                if k == 0:
                    continue
                m = counts[c, r]
                for i in range(pool_off[c, ev], pool_off[c, ev + 1]):
                    if m == k and pool_pt[i] <= out_pt[base + k - 1]:
                        break
                    m = _insert(
                        out_pt,
                        out_eta,
                        out_phi,
                        out_q,
                        base,
                        k,
                        m,
                        pool_pt[i],
                        pool_eta[i],
                        pool_phi[i],
                        pool_q[i],
                    )
                counts[c, r] = m
        met_pt[r] = np.sqrt(px * px + py * py)
        met_phi[r] = np.arctan2(py, px)
    return out_pt, out_eta, out_phi, out_q, counts, met_pt, met_phi


Jagged = tuple[
    NDArray[np.int64],
    NDArray[np.float32],
    NDArray[np.float32],
    NDArray[np.float32],
    NDArray[np.int32],
]


def overlay_records(
    hard: Jagged,
    hard_met: tuple[NDArray[np.float32], NDArray[np.float32]],
    pool: Jagged,
    pool_extra: tuple[NDArray[np.uint32], NDArray[np.float64], NDArray[np.float64]],
    pu_offsets: NDArray[np.int64],
    pu_events: NDArray[np.int32],
    cap_offsets: NDArray[np.int64],
    target: NDArray[np.bool_],
) -> tuple[
    NDArray[np.float32],
    NDArray[np.float32],
    NDArray[np.float32],
    NDArray[np.int32],
    NDArray[np.int64],
    NDArray[np.float32],
    NDArray[np.float32],
]:
    """Merge pile-up into records, all collections in one pass.

    ``hard`` and ``pool`` hold C collections in one set of flat arrays: their offsets
    are (C, n + 1) global positions, each record sorted by decreasing pT. Record ``r``
    takes pool events ``pu_events[pu_offsets[r]:pu_offsets[r + 1]]`` when ``target[r]``.
    Collection ``c`` of record ``r`` keeps at most ``cap_offsets[c, r + 1] -
    cap_offsets[c, r]`` objects (the highest pT; ties keep the hard scatter first),
    written from ``cap_offsets[c, r]``. ``pool_extra`` is a bit mask per pool event
    (bit c: it has objects of collection c) and its MET px, py. Returns the padded
    pt/eta/phi/quality, counts (C, n) and MET pt/phi (vector sum in double precision).
    """
    out: tuple[
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.int32],
        NDArray[np.int64],
        NDArray[np.float32],
        NDArray[np.float32],
    ] = _overlay(*hard, *hard_met, *pool, *pool_extra, pu_offsets, pu_events, cap_offsets, target)
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _unpack_particle_rows(table, first, rows, class_id):  # type: ignore[no-untyped-def]
    n = table.shape[0]
    counts = np.zeros(n, np.int64)
    total = 0
    bad_row = -1
    bad_slot = -1
    for i in range(n):
        for j in range(first, first + rows):
            pt = table[i, j, 0]
            ok = np.isfinite(pt) and np.isfinite(table[i, j, 1]) and np.isfinite(table[i, j, 2])
            if not ok or pt < 0 or (pt > 0 and table[i, j, 3] != class_id):
                if bad_row < 0:
                    bad_row = i
                    bad_slot = j
            elif pt > 0:
                counts[i] += 1
                total += 1
    if bad_row >= 0:
        total = 0  # the caller raises; fill nothing
    out_pt = np.empty(total, np.float32)
    out_eta = np.empty(total, np.float32)
    out_phi = np.empty(total, np.float32)
    if bad_row >= 0:
        return counts, out_pt, out_eta, out_phi, bad_row, bad_slot
    k = 0
    for i in range(n):
        for j in range(first, first + rows):
            pt = table[i, j, 0]
            if pt > 0:  # every slot is valid here
                out_pt[k] = pt
                out_eta[k] = table[i, j, 1]
                out_phi[k] = table[i, j, 2]
                k += 1
    return counts, out_pt, out_eta, out_phi, bad_row, bad_slot


def unpack_particle_rows(
    table: NDArray[np.float32], first: int, rows: int, class_id: float
) -> tuple[
    NDArray[np.int64], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32], int, int
]:
    """Objects of rows ``first … first+rows-1`` of an (n, slots, 4) particle table.

    A slot is an object when pT > 0. Returns per-record counts, flat pt/eta/phi, and the
    first bad (record, slot) — non-finite values, pT < 0, or a class other than
    ``class_id`` on an object — or (-1, -1).
    """
    counts, pt, eta, phi, bad_row, bad_slot = _unpack_particle_rows(
        table, first, rows, np.float32(class_id)
    )
    return counts, pt, eta, phi, int(bad_row), int(bad_slot)
