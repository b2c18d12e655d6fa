"""numba kernels of the cut-based seeds, on the hardware's fixed object slots.

Every kernel receives one collection as dense ``(n_bx, slots)`` raw integer arrays
(decreasing pT per row, empty slots not ``valid``) and the integer cut values of a
:class:`emulator.plan.SeedPlan`, and fills one raw score per BX. Lookup tables are
passed in as arrays (numba would freeze globals). ``fill_slots_kernel`` builds the
slots from jagged objects: the top-n by raw pT, exactly what the firmware receives.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray

#: Raw score of a BX in which nothing passes (see emulator.plan.NO_CANDIDATE).
_NONE = -1
#: "no limit" in the pair limit array (see emulator.plan.NO_LIMIT).
_NO_LIMIT = -1


@nb.njit(cache=True)
def fill_slots_kernel(
    offsets: NDArray[np.int64],
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    quality: NDArray[np.int64],
    out_pt: NDArray[np.int64],
    out_eta: NDArray[np.int64],
    out_phi: NDArray[np.int64],
    out_quality: NDArray[np.int64],
    out_valid: NDArray[np.bool_],
    dropped: NDArray[np.int64],
) -> None:
    """Copy the ``slots`` highest raw-pT objects of each record into zeroed slot arrays.

    Order: decreasing raw pT; equal raw pT keep their input order (a stable sort),
    so a record already sorted by pT (as streams deliver them) keeps its first
    ``slots`` objects. ``dropped`` counts the objects left out.
    """
    n_slots = out_pt.shape[1]
    for i in range(offsets.shape[0] - 1):
        start, stop = offsets[i], offsets[i + 1]
        count = stop - start
        kept = min(count, n_slots)
        dropped[i] = count - kept
        ordered = True
        for j in range(start + 1, stop):
            if pt[j] > pt[j - 1]:
                ordered = False
                break
        if ordered:
            for k in range(kept):
                j = start + k
                out_pt[i, k], out_eta[i, k], out_phi[i, k] = pt[j], eta[j], phi[j]
                out_quality[i, k] = quality[j]
                out_valid[i, k] = True
            continue
        taken = np.zeros(count, np.bool_)
        for k in range(kept):
            best = -1
            for j in range(count):  # strict '>' keeps the earliest of equal pT
                if not taken[j] and (best < 0 or pt[start + j] > pt[start + best]):
                    best = j
            taken[best] = True
            j = start + best
            out_pt[i, k], out_eta[i, k], out_phi[i, k] = pt[j], eta[j], phi[j]
            out_quality[i, k] = quality[j]
            out_valid[i, k] = True


@nb.njit(cache=True, inline="always")
def _passes(
    valid: bool, pt: int, eta: int, quality: int, pt_min: int, eta_max: int, min_quality: int
) -> bool:
    """The object cut of emulator.plan.ObjectCut (eta_max = int64 max: no η cut)."""
    return valid and pt >= pt_min and abs(eta) <= eta_max and quality >= min_quality


@nb.njit(cache=True, inline="always")
def _wrapped_dphi(phi_a: int, phi_b: int, half_turn: int) -> int:
    """|Δφ| in counts, folded into [0, half_turn]."""
    d = abs(phi_a - phi_b) % (2 * half_turn)
    if d > half_turn:
        d = 2 * half_turn - d
    return d


@nb.njit(cache=True)
def leading_objects_kernel(
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    quality: NDArray[np.int64],
    valid: NDArray[np.bool_],
    leg_thresholds: NDArray[np.int64],
    eta_max: int,
    min_quality: int,
    scores: NDArray[np.int64],
) -> None:
    """Score = pT of the n-th leading passing object, provided the legs before it pass.

    n = ``len(leg_thresholds)`` (decreasing raw pT thresholds). With the passing
    pT sorted as p1 >= p2 >= ..., the score is p_n when p_k >= t_k for every
    k < n, else -1; the seed fires when the score is >= t_n.
    """
    n_legs = leg_thresholds.shape[0]
    top = np.empty(n_legs, np.int64)
    for i in range(pt.shape[0]):
        found = 0
        for j in range(pt.shape[1]):
            if not _passes(
                valid[i, j], pt[i, j], eta[i, j], quality[i, j], 0, eta_max, min_quality
            ):
                continue
            value = pt[i, j]
            # insertion into the descending top-n list
            if found < n_legs:
                k = found
                found += 1
            elif value > top[n_legs - 1]:
                k = n_legs - 1
            else:
                continue
            while k > 0 and top[k - 1] < value:
                top[k] = top[k - 1]
                k -= 1
            top[k] = value
        score = _NONE
        if found == n_legs:
            score = top[n_legs - 1]
            for k in range(n_legs - 1):
                if top[k] < leg_thresholds[k]:
                    score = _NONE
                    break
        scores[i] = score


@nb.njit(cache=True)
def pair_kernel(
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    quality: NDArray[np.int64],
    valid: NDArray[np.bool_],
    lead_threshold: int,
    eta_max: int,
    min_quality: int,
    cuts: NDArray[np.int64],
    half_turn: int,
    cosh_lut: NDArray[np.int64],
    cos_lut: NDArray[np.int64],
    scores: NDArray[np.int64],
) -> None:
    """Score = max over passing pairs of the sub-leading pT (-1 when no pair passes).

    A pair passes when both objects pass the cut, the harder one has
    ``pT >= lead_threshold`` and the pair conditions hold. ``cuts`` is
    ``PairLimits.as_array()``: [Δη lo, hi, Δφ lo, hi, ΔR² lo, hi, m² lo, hi]
    (-1 = no limit). m² = 2 · pT_a · pT_b · (cosh_lut[|Δη|] - cos_lut[|Δφ|]).
    """
    deta_lo, deta_hi, dphi_lo, dphi_hi = cuts[0], cuts[1], cuts[2], cuts[3]
    dr2_lo, dr2_hi, m2_lo, m2_hi = cuts[4], cuts[5], cuts[6], cuts[7]
    need_mass = m2_lo != _NO_LIMIT or m2_hi != _NO_LIMIT
    last_lut = cosh_lut.shape[0] - 1
    n_slots = pt.shape[1]
    for i in range(pt.shape[0]):
        best = _NONE
        for a in range(n_slots):
            if not _passes(
                valid[i, a], pt[i, a], eta[i, a], quality[i, a], 0, eta_max, min_quality
            ):
                continue
            for b in range(a + 1, n_slots):
                if not _passes(
                    valid[i, b], pt[i, b], eta[i, b], quality[i, b], 0, eta_max, min_quality
                ):
                    continue
                high = max(pt[i, a], pt[i, b])
                low = min(pt[i, a], pt[i, b])
                if high < lead_threshold or low <= best:
                    continue
                deta = abs(eta[i, a] - eta[i, b])
                dphi = _wrapped_dphi(phi[i, a], phi[i, b], half_turn)
                if deta_lo != _NO_LIMIT and deta < deta_lo:
                    continue
                if deta_hi != _NO_LIMIT and deta > deta_hi:
                    continue
                if dphi_lo != _NO_LIMIT and dphi < dphi_lo:
                    continue
                if dphi_hi != _NO_LIMIT and dphi > dphi_hi:
                    continue
                dr2 = deta * deta + dphi * dphi
                if dr2_lo != _NO_LIMIT and dr2 < dr2_lo:
                    continue
                if dr2_hi != _NO_LIMIT and dr2 > dr2_hi:
                    continue
                if need_mass:
                    m2 = 2 * high * low * (cosh_lut[min(deta, last_lut)] - cos_lut[dphi])
                    if m2_lo != _NO_LIMIT and m2 < m2_lo:
                        continue
                    if m2_hi != _NO_LIMIT and m2 > m2_hi:
                        continue
                best = low
        scores[i] = best


@nb.njit(cache=True)
def ht_kernel(
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    quality: NDArray[np.int64],
    valid: NDArray[np.bool_],
    pt_min: int,
    eta_max: int,
    min_quality: int,
    sums: NDArray[np.int64],
) -> None:
    """Scalar sum of the raw pT of the passing objects."""
    for i in range(pt.shape[0]):
        total = 0
        for j in range(pt.shape[1]):
            if _passes(
                valid[i, j], pt[i, j], eta[i, j], quality[i, j], pt_min, eta_max, min_quality
            ):
                total += pt[i, j]
        sums[i] = total


@nb.njit(cache=True)
def vector_sum_kernel(
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    quality: NDArray[np.int64],
    valid: NDArray[np.bool_],
    pt_min: int,
    eta_max: int,
    min_quality: int,
    phi_offset: int,
    cos_lut: NDArray[np.int64],
    sin_lut: NDArray[np.int64],
    px: NDArray[np.int64],
    py: NDArray[np.int64],
) -> None:
    """Accumulate pT·cos φ and pT·sin φ (LUT values with F fraction bits) into px, py."""
    for i in range(pt.shape[0]):
        for j in range(pt.shape[1]):
            if _passes(
                valid[i, j], pt[i, j], eta[i, j], quality[i, j], pt_min, eta_max, min_quality
            ):
                index = phi[i, j] + phi_offset
                px[i] += pt[i, j] * cos_lut[index]
                py[i] += pt[i, j] * sin_lut[index]


@nb.njit(cache=True)
def magnitude_kernel(
    px: NDArray[np.int64], py: NDArray[np.int64], fraction_bits: int, out: NDArray[np.int64]
) -> None:
    """floor(sqrt(x² + y²)) with x, y = floor(px / 2^F), floor(py / 2^F) (exact integers)."""
    for i in range(px.shape[0]):
        x = px[i] >> fraction_bits
        y = py[i] >> fraction_bits
        square = x * x + y * y
        root = np.int64(np.sqrt(np.float64(square)))
        # correct the float estimate to the exact integer square root
        while root * root > square:
            root -= 1
        while (root + 1) * (root + 1) <= square:
            root += 1
        out[i] = root
