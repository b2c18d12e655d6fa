"""Fixed-point conversion throughput: emulator.fixed beside its peers.

Run: ``.venv/bin/python benchmarks/fixed_point.py [--n 10000000]``.

For every rounding x overflow mode, quantize float64 → ``ap_fixed<16,6,Q,O>``
and cast ``ap_fixed<24,8>`` → ``ap_fixed<16,6,Q,O>`` on the same inputs, with

- emulator.fixed (numba, one thread: ``NUMBA_NUM_THREADS=1``),
- apytypes (``APyFixedArray.from_float`` — RND_INF + WRAP only, so other modes
  use ``from_float`` to an exact wide type then ``.cast``; ``.cast`` for the cast),
- fxpmath (``Fxp(...)`` and ``Fxp.equal`` for the cast; on ``--fxp-n`` values
  because it is slow; no SAT_ZERO / SAT_SYM),
- numfi when it imports (its 0.5 release uses Python 3.12 syntax),
- the ap_types headers from the hls4ml wheel in a compiled C++ loop (g++ -O3).

Prints medians of ``--reps`` runs in million values per second, the ratio
l1sim / peer, and whether each peer's raws equal ours (all of them for the C++
headers, compared through an order-sensitive checksum).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported
# Running this file puts benchmarks/ first on sys.path, where benchmarks/streams.py
# would shadow the streams package; drop it so the project packages resolve.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import contextlib
import importlib.util
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from emulator.fixed import FixedType, Overflow, Rounding

DST = FixedType(16, 6)
SRC = FixedType(24, 8)

APY_Q = {r: r.value for r in Rounding}
APY_O = {Overflow.WRAP: "WRAP", Overflow.SAT: "SAT"}
FXP_Q = {
    Rounding.TRN: "SC_TRN",
    Rounding.TRN_ZERO: "SC_TRN_ZERO",
    Rounding.RND: "SC_RND",
    Rounding.RND_ZERO: "SC_RND_ZERO",
    Rounding.RND_INF: "SC_RND_INF",
    Rounding.RND_MIN_INF: "SC_RND_MIN_INF",
    Rounding.RND_CONV: "SC_RND_CONV",
}
FXP_O = {Overflow.WRAP: "wrap", Overflow.SAT: "saturate"}


def median_rate(fn: Callable[[], Any], n: int, reps: int) -> tuple[float, Any]:
    """Median values/s over ``reps`` runs (after one warm-up) and the last result."""
    result = fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times), result


def checksum(raw: np.ndarray) -> int:
    """Order-sensitive checksum: sum(raw_i * (2i + 1)) mod 2**64."""
    weights = np.arange(1, 2 * raw.size, 2, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return int(np.sum(raw.astype(np.int64).view(np.uint64) * weights, dtype=np.uint64))


def sign_extend(bits: np.ndarray, t: FixedType) -> np.ndarray:
    """Bit patterns (as returned by apytypes) → signed raws."""
    values = np.asarray(bits).astype(np.uint64).view(np.int64)
    shift = np.int64(64 - t.width)
    return (values << shift) >> shift if t.signed else values


# ------------------------------------------------------------------ C++ peer
CPP = r"""
#include <ap_fixed.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

static std::vector<double> X; static std::vector<int64_t> R, OUT;

template <class D> void quantize() {
  const long n = X.size();
  for (long i = 0; i < n; ++i) { D d = X[i]; OUT[i] = d.V.to_int64(); }
}
template <class S, class D> void cast() {
  const long n = R.size();
  for (long i = 0; i < n; ++i) { S s; s.setBits(R[i]); D d = s; OUT[i] = d.V.to_int64(); }
}
static unsigned long long checksum() {
  unsigned long long h = 0;
  for (size_t i = 0; i < OUT.size(); ++i) h += (unsigned long long)OUT[i] * (2ull * i + 1);
  return h;
}
static void timed(const char* name, void (*fn)(), int reps) {
  std::vector<double> t;
  fn();
  for (int r = 0; r < reps; ++r) {
    auto a = std::chrono::steady_clock::now(); fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  std::printf("%s %.9f %llu\n", name, t[t.size() / 2], checksum());
}
int main(int argc, char** argv) {
  long n = std::atol(argv[1]); int reps = std::atoi(argv[2]);
  X.resize(n); R.resize(n); OUT.resize(n);
  FILE* f = std::fopen(argv[3], "rb"); std::fread(X.data(), 8, n, f); std::fclose(f);
  f = std::fopen(argv[4], "rb"); std::fread(R.data(), 8, n, f); std::fclose(f);
"""


def cpp_peer(
    modes: list[tuple[Rounding, Overflow]], x: np.ndarray, raws: np.ndarray, reps: int
) -> dict[tuple[str, str, str], tuple[float, int]] | str:
    """Run the header loops; ``{(op, q, o): (values/s, checksum)}`` or a reason string."""
    spec = importlib.util.find_spec("hls4ml")
    compiler = shutil.which("g++")
    if spec is None or spec.origin is None or compiler is None:
        return "needs hls4ml and g++"
    include = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
    lines = [CPP]
    src = f"ap_fixed<{SRC.width},{SRC.integer}>"
    for q, o in modes:
        dst = f"ap_fixed<{DST.width},{DST.integer},AP_{q.value},AP_{o.value}>"
        lines.append(f'  timed("quantize:{q.value}:{o.value}", &quantize<{dst} >, reps);')
        lines.append(f'  timed("cast:{q.value}:{o.value}", &cast<{src}, {dst} >, reps);')
    lines.append("  return 0;\n}\n")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench.cpp").write_text("\n".join(lines))
        x.tofile(work / "x.bin")
        raws.tofile(work / "r.bin")
        subprocess.run(
            [compiler, "-O3", "-std=c++17", "-w", f"-I{include}", "bench.cpp", "-o", "bench"],
            cwd=work,
            check=True,
        )
        run = subprocess.run(
            ["./bench", str(x.size), str(reps), "x.bin", "r.bin"],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        )
    results = {}
    for line in run.stdout.splitlines():
        name, seconds, digest = line.split()
        op, q, o = name.split(":")
        results[(op, q, o)] = (x.size / float(seconds), int(digest))
    return results


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="values per conversion")
    parser.add_argument("--fxp-n", type=int, default=200_000, help="values for fxpmath")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions (median)")
    parser.add_argument("--no-cpp", action="store_true", help="skip the C++ header loops")
    parser.add_argument("--quick", action="store_true", help="a few modes only")
    args = parser.parse_args()

    rng = np.random.default_rng(2024)
    x = rng.normal(0.0, 12.0, args.n)
    # Exact ties at half an LSB of the destination, to exercise the tie rules.
    x[::7] = (np.floor(x[::7] * 2**DST.frac) + 0.5) / 2**DST.frac
    src_raw = SRC.quantize(x)
    modes = [(q, o) for q in Rounding for o in Overflow]
    if args.quick:
        modes = [(Rounding.TRN, Overflow.WRAP), (Rounding.RND_CONV, Overflow.SAT)]

    apy: Any = None
    with contextlib.suppress(ImportError):
        import apytypes as apy
    fxp: Any = None
    with contextlib.suppress(ImportError):
        import fxpmath as fxp
    numfi_note = "numfi: not run ("
    try:
        import numfi  # noqa: F401  # only probing whether it imports

        numfi_note += "imports, but no adapter written)"
    except (ImportError, SyntaxError) as error:
        numfi_note += f"does not import on this Python: {type(error).__name__})"

    cpp = {} if args.no_cpp else cpp_peer(modes, x, src_raw, args.reps)
    if isinstance(cpp, str):
        print(f"C++ headers: skipped ({cpp})")
        cpp = {}

    fx = x[: args.fxp_n]
    fraw = src_raw[: args.fxp_n]
    if apy is not None:
        # Signed int64 raws: apytypes misreads uint64 bit-pattern arrays.
        apy_src = apy.APyFixedArray(src_raw, int_bits=SRC.integer, frac_bits=SRC.frac)
    rows = []
    for q, o in modes:
        dst = DST.with_modes(q, o)
        for op in ("quantize", "cast"):
            buffer = np.empty(x.size, dtype=np.int64)
            if op == "quantize":
                ours, raw = median_rate(lambda dst=dst: dst.quantize(x), x.size, args.reps)
                ours_out, _ = median_rate(
                    lambda dst=dst, b=buffer: dst.quantize(x, out=b), x.size, args.reps
                )
            else:
                ours, raw = median_rate(lambda dst=dst: dst.cast(src_raw, SRC), x.size, args.reps)
                ours_out, _ = median_rate(
                    lambda dst=dst, b=buffer: dst.cast(src_raw, SRC, out=b), x.size, args.reps
                )
            np.testing.assert_array_equal(buffer, raw)
            row: dict[str, Any] = {
                "op": op,
                "mode": f"{q.value}+{o.value}",
                "ours": ours,
                "ours_out": ours_out,
            }
            # apytypes
            if apy is None:
                row["apy"] = "not installed"
            elif o not in APY_O:
                row["apy"] = "no mode"
            else:
                qm = getattr(apy.QuantizationMode, APY_Q[q])
                om = getattr(apy.OverflowMode, APY_O[o])
                if op == "quantize" and (q, o) == (Rounding.RND_INF, Overflow.WRAP):
                    fn = lambda: apy.APyFixedArray.from_float(
                        x, int_bits=DST.integer, frac_bits=DST.frac
                    )
                elif op == "quantize":
                    fn = lambda qm=qm, om=om: apy.APyFixedArray.from_float(
                        x, int_bits=12, frac_bits=60
                    ).cast(DST.integer, DST.frac, qm, om)
                else:
                    fn = lambda qm=qm, om=om: apy_src.cast(DST.integer, DST.frac, qm, om)
                rate, result = median_rate(fn, x.size, args.reps)
                same = np.array_equal(sign_extend(result.to_bits(), dst), raw)
                row["apy"] = (rate, same)
            # fxpmath
            if fxp is None:
                row["fxp"] = "not installed"
            elif o not in FXP_O:
                row["fxp"] = "no mode"
            else:
                kw = {"rounding": FXP_Q[q], "overflow": FXP_O[o]}
                if op == "quantize":
                    fn = lambda kw=kw: fxp.Fxp(fx, True, DST.width, DST.frac, **kw)
                else:
                    source = fxp.Fxp(None, True, SRC.width, SRC.frac)
                    source.set_val(fraw, raw=True)

                    def fn(kw: dict[str, str] = kw, source: Any = source) -> Any:
                        return fxp.Fxp(None, True, DST.width, DST.frac, **kw).equal(source)

                rate, result = median_rate(fn, fx.size, args.reps)
                got = np.asarray(result.val).astype(np.int64).reshape(-1)
                row["fxp"] = (rate, np.array_equal(got, raw[: args.fxp_n]))
            # C++ headers
            key = (op, q.value, o.value)
            if key in cpp:
                rate, digest = cpp[key]
                row["cpp"] = (rate, digest == checksum(raw))
            else:
                row["cpp"] = "not run"
            rows.append(row)

    print_table(rows, args)
    print(
        "apytypes quantize: from_float does RND_INF + WRAP only; other modes are timed as "
        "from_float to an exact ap_fixed<72,12> then .cast (two steps). apytypes and "
        "fxpmath have no SAT_ZERO / SAT_SYM."
    )
    print(numfi_note)


def _cell(value: Any, ours: float) -> tuple[str, str, str]:
    if isinstance(value, str):
        return value, "", ""
    rate, same = value
    return f"{rate / 1e6:8.1f}", f"{ours / rate:7.1f}x", "yes" if same else "NO"


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nfixed-point conversions, {args.n:,} values ({args.fxp_n:,} for fxpmath), "
        f"median of {args.reps}, one thread, M values/s; ratio = l1sim / peer; "
        "eq = identical raws; out= is l1sim writing into a preallocated array "
        "(no page faults), not used for the ratios\n"
        f"quantize: float64 -> {DST} with the mode; cast: {SRC} -> {DST} with the mode\n"
    )
    header = (
        f"{'op':8} {'mode':20} {'l1sim':>8} {'out=':>6} | {'apytypes':>13} {'ratio':>8} {'eq':>3} | "
        f"{'fxpmath':>13} {'ratio':>8} {'eq':>3} | {'C++ ap_types':>13} {'ratio':>8} {'eq':>3}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = [_cell(row[k], row["ours"]) for k in ("apy", "fxp", "cpp")]
        text = " | ".join(f"{a:>13} {b:>8} {c:>3}" for a, b, c in cells)
        print(
            f"{row['op']:8} {row['mode']:20} {row['ours'] / 1e6:8.1f} "
            f"{row['ours_out'] / 1e6:6.0f} | {text}"
        )


if __name__ == "__main__":
    main()
