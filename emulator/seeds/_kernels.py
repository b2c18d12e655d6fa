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
    charge: NDArray[np.int64],
    isolation: NDArray[np.int64],
    out_pt: NDArray[np.int64],
    out_eta: NDArray[np.int64],
    out_phi: NDArray[np.int64],
    out_quality: NDArray[np.int64],
    out_charge: NDArray[np.int64],
    out_isolation: NDArray[np.int64],
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
                out_charge[i, k], out_isolation[i, k] = charge[j], isolation[j]
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
            out_charge[i, k], out_isolation[i, k] = charge[j], isolation[j]
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
                if _pair_passes(
                    pt[i, a], eta[i, a], phi[i, a], pt[i, b], eta[i, b], phi[i, b],
                    cuts, half_turn, cosh_lut, cos_lut,
                ):  # fmt: skip
                    best = low
        scores[i] = best


@nb.njit(cache=True, inline="always")
def _outside(value: int, lo: int, hi: int) -> bool:
    """Whether ``value`` breaks the limits ``lo``/``hi`` (-1: no limit on that side)."""
    return (lo != _NO_LIMIT and value < lo) or (hi != _NO_LIMIT and value > hi)


@nb.njit(cache=True, inline="always")
def _pair_passes(
    pt_a: int,
    eta_a: int,
    phi_a: int,
    pt_b: int,
    eta_b: int,
    phi_b: int,
    cuts: NDArray[np.int64],
    half_turn: int,
    cosh_lut: NDArray[np.int64],
    cos_lut: NDArray[np.int64],
) -> bool:
    """The pair conditions of ``PairLimits.as_array()`` on two objects (see pair_kernel)."""
    deta = abs(eta_a - eta_b)
    dphi = _wrapped_dphi(phi_a, phi_b, half_turn)
    if _outside(deta, cuts[0], cuts[1]) or _outside(dphi, cuts[2], cuts[3]):
        return False
    if _outside(deta * deta + dphi * dphi, cuts[4], cuts[5]):
        return False
    if cuts[6] != _NO_LIMIT or cuts[7] != _NO_LIMIT:
        last_lut = cosh_lut.shape[0] - 1
        m2 = 2 * pt_a * pt_b * (cosh_lut[min(deta, last_lut)] - cos_lut[dphi])
        if _outside(m2, cuts[6], cuts[7]):
            return False
    return True


@nb.njit(cache=True, inline="always")
def _charges_pass(charges: NDArray[np.int64], n_legs: int, rule: int) -> bool:
    """Charge correlation (emulator.plan.ChargeRule: 0 any, 1 like, 2 opposite)."""
    if rule == 0:
        return True
    total = 0
    for k in range(n_legs):
        if charges[k] == 0:
            return False  # unknown charge never passes a correlation
        total += charges[k]
    alike = abs(total) == n_legs
    if rule == 1:
        return alike
    if n_legs == 4:
        return total == 0
    return not alike


@nb.njit(cache=True, inline="always")
def _free(leg_collection: NDArray[np.int64], chosen: NDArray[np.int64], k: int, j: int) -> bool:
    """Whether slot j of leg k's collection is not already taken by legs 0..k-1."""
    for m in range(k):  # noqa: SIM110  (numba compiles no generator inside all())
        if leg_collection[m] == leg_collection[k] and chosen[m] == j:
            return False
    return True


@nb.njit(cache=True)
def condition_kernel(
    pt: NDArray[np.int64],
    eta: NDArray[np.int64],
    phi: NDArray[np.int64],
    charge: NDArray[np.int64],
    leg_collection: NDArray[np.int64],
    passes: NDArray[np.bool_],
    cuts: NDArray[np.int64],
    use_pair: bool,
    charge_rule: int,
    half_turn: int,
    cosh_lut: NDArray[np.int64],
    cos_lut: NDArray[np.int64],
    scores: NDArray[np.int64],
) -> None:
    """Object condition score per BX: max leg-0 pT over valid assignments (-1: none).

    ``pt``, ``eta``, ``phi``, ``charge``: (collections, n_bx, slots) raw values;
    ``leg_collection[k]``: which collection leg k (of 1-4) reads; ``passes[k, i, j]``:
    whether slot j passes leg k's own cuts (leg 0 without its pT threshold). Legs
    get distinct objects (distinct slots when they read the same collection); legs
    0 and 1 must pass the pair ``cuts`` when ``use_pair``; the charges the rule.
    Unused legs of the four nested loops run once (index 0) and are ignored.
    """
    n_legs = leg_collection.shape[0]
    n_slots = pt.shape[2]
    chosen = np.zeros(4, np.int64)
    charges = np.zeros(4, np.int64)
    c0 = leg_collection[0]
    c1 = leg_collection[min(1, n_legs - 1)]
    for i in range(pt.shape[1]):
        best = _NONE
        for a in range(n_slots):
            if not passes[0, i, a] or pt[c0, i, a] <= best:
                continue
            chosen[0] = a
            found = False
            for b in range(n_slots if n_legs > 1 else 1):
                if n_legs > 1:
                    if not passes[1, i, b] or not _free(leg_collection, chosen, 1, b):
                        continue
                    if use_pair and not _pair_passes(
                        pt[c0, i, a], eta[c0, i, a], phi[c0, i, a], pt[c1, i, b],
                        eta[c1, i, b], phi[c1, i, b], cuts, half_turn, cosh_lut, cos_lut,
                    ):  # fmt: skip
                        continue
                chosen[1] = b
                for c in range(n_slots if n_legs > 2 else 1):
                    if n_legs > 2 and (
                        not passes[2, i, c] or not _free(leg_collection, chosen, 2, c)
                    ):
                        continue
                    chosen[2] = c
                    for d in range(n_slots if n_legs > 3 else 1):
                        if n_legs > 3 and (
                            not passes[3, i, d] or not _free(leg_collection, chosen, 3, d)
                        ):
                            continue
                        chosen[3] = d
                        for m in range(n_legs):
                            charges[m] = charge[leg_collection[m], i, chosen[m]]
                        if _charges_pass(charges, n_legs, charge_rule):
                            found = True
                            break
                    if found:
                        break
                if found:
                    break
            if found:
                best = pt[c0, i, a]
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
