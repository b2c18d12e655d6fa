"""numba kernels of the cut-based seeds, on quantized integer inputs.

Every kernel receives the raw integers of one collection (jagged: ``offsets``
plus flat arrays) and the integer cut values, and fills one raw score per record.
Lookup tables are passed in as arrays (numba would freeze globals).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray

#: Raw score of a record in which nothing passes (see emulator.menu.NO_CANDIDATE).
_NONE = -1


@nb.njit(cache=True, inline="always")
def _wrapped_dphi(phi_a: int, phi_b: int, half_turn: int) -> int:
    """|Δφ| in counts, folded into [0, half_turn]."""
    d = abs(phi_a - phi_b) % (2 * half_turn)
    if d > half_turn:
        d = 2 * half_turn - d
    return d


@nb.njit(cache=True)
def leading_objects_kernel(
    offsets: NDArray[np.int64],
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    quality: NDArray[np.int32],
    leg_thresholds: NDArray[np.int64],
    eta_max: int,
    min_quality: int,
    scores: NDArray[np.int64],
) -> None:
    """Score = pT of the n-th leading passing object, provided the legs before it pass.

    n = ``len(leg_thresholds)`` (decreasing raw pT thresholds). An object passes
    when ``|eta| <= eta_max`` and ``quality >= min_quality``. With the passing
    pT sorted as p1 >= p2 >= ..., the score is p_n when p_k >= t_k for every
    k < n, else -1; the seed fires when the score is >= t_n.
    """
    n_legs = leg_thresholds.shape[0]
    top = np.empty(n_legs, np.int64)
    for i in range(offsets.shape[0] - 1):
        found = 0
        for j in range(offsets[i], offsets[i + 1]):
            if abs(eta[j]) > eta_max or quality[j] < min_quality:
                continue
            value = pt[j]
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
    offsets: NDArray[np.int64],
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    quality: NDArray[np.int32],
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

    A pair passes when both objects pass the |η| and quality cuts, the harder one
    has ``pT >= lead_threshold`` and the pair conditions hold. ``cuts`` holds the
    integer limits [Δη min, Δη max, Δφ min, Δφ max, ΔR² min, ΔR² max, m² min, m² max]
    in counts, counts², and pT-LSB² · 2^-F for the mass (-1 = no cut). The mass is
    m² = 2 · pT_a · pT_b · (cosh_lut[|Δη|] - cos_lut[|Δφ|]), all integers.
    """
    deta_lo, deta_hi, dphi_lo, dphi_hi = cuts[0], cuts[1], cuts[2], cuts[3]
    dr2_lo, dr2_hi, m2_lo, m2_hi = cuts[4], cuts[5], cuts[6], cuts[7]
    need_mass = m2_lo >= 0 or m2_hi >= 0
    last_lut = cosh_lut.shape[0] - 1
    for i in range(offsets.shape[0] - 1):
        best = _NONE
        start, stop = offsets[i], offsets[i + 1]
        for a in range(start, stop):
            if abs(eta[a]) > eta_max or quality[a] < min_quality:
                continue
            for b in range(a + 1, stop):
                if abs(eta[b]) > eta_max or quality[b] < min_quality:
                    continue
                high = max(pt[a], pt[b])
                low = min(pt[a], pt[b])
                if high < lead_threshold or low <= best:
                    continue
                deta = abs(eta[a] - eta[b])
                dphi = _wrapped_dphi(phi[a], phi[b], half_turn)
                if deta_lo >= 0 and deta < deta_lo:
                    continue
                if deta_hi >= 0 and deta > deta_hi:
                    continue
                if dphi_lo >= 0 and dphi < dphi_lo:
                    continue
                if dphi_hi >= 0 and dphi > dphi_hi:
                    continue
                dr2 = deta * deta + dphi * dphi
                if dr2_lo >= 0 and dr2 < dr2_lo:
                    continue
                if dr2_hi >= 0 and dr2 > dr2_hi:
                    continue
                if need_mass:
                    m2 = 2 * high * low * (cosh_lut[min(deta, last_lut)] - cos_lut[dphi])
                    if m2_lo >= 0 and m2 < m2_lo:
                        continue
                    if m2_hi >= 0 and m2 > m2_hi:
                        continue
                best = low
        scores[i] = best


@nb.njit(cache=True)
def ht_kernel(
    offsets: NDArray[np.int64],
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    pt_min: int,
    eta_max: int,
    sums: NDArray[np.int64],
) -> None:
    """Scalar sum of the raw pT of objects with pT >= pt_min and |η| <= eta_max."""
    for i in range(offsets.shape[0] - 1):
        total = 0
        for j in range(offsets[i], offsets[i + 1]):
            if pt[j] >= pt_min and abs(eta[j]) <= eta_max:
                total += pt[j]
        sums[i] = total


@nb.njit(cache=True)
def vector_sum_kernel(
    offsets: NDArray[np.int64],
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    pt_min: int,
    eta_max: int,
    phi_offset: int,
    cos_lut: NDArray[np.int64],
    sin_lut: NDArray[np.int64],
    px: NDArray[np.int64],
    py: NDArray[np.int64],
) -> None:
    """Accumulate pT·cos φ and pT·sin φ (LUT values with F fraction bits) into px, py."""
    for i in range(offsets.shape[0] - 1):
        for j in range(offsets[i], offsets[i + 1]):
            if pt[j] >= pt_min and abs(eta[j]) <= eta_max:
                index = phi[j] + phi_offset
                px[i] += pt[j] * cos_lut[index]
                py[i] += pt[j] * sin_lut[index]


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
