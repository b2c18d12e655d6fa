"""Build and run a C++ harness over the real ap_types headers (the oracle).

Not a test module: ``test_fixed_headers.py`` imports it by path. It turns a list
of cases (quantize, cast, arithmetic, to_double) into one C++ file that
instantiates every type combination, compiles it once with g++ against the
headers shipped in the hls4ml wheel (cached by source hash), runs it, and
returns the raw bits the headers produced.

Each case runs in a forked child so a header ``assert`` (the headers abort on a
few exotic type pairs) marks that case as aborted instead of killing the run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emulator.fixed import FixedType

# Words written per arithmetic element: sum, difference, product patterns.
ARITH_OPS = ("add", "sub", "mul")
HEADER_WORDS = 16


def ap_types_dir() -> Path | None:
    """The ap_types include directory of the installed hls4ml wheel, or None."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
    return path if (path / "ap_fixed.h").is_file() else None


def cxx_spelling(t: FixedType) -> str:
    """Full C++ spelling with explicit modes (never relies on defaults)."""
    name = "ap_fixed" if t.signed else "ap_ufixed"
    return f"{name}<{t.width},{t.integer},AP_{t.rounding.value},AP_{t.overflow.value}>"


@dataclass
class Case:
    """One type combination and its inputs.

    kind: ``quantize`` (double → dst), ``cast`` (src → dst), ``arith``
    (a, b → a+b, a-b, a*b), ``shift`` (a, int s → a << s, a >> s, same type)
    or ``to_double`` (src → double).
    """

    kind: str
    dst: FixedType | None = None
    src: FixedType | None = None
    b: FixedType | None = None
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values_b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Filled by run():
    aborted: bool = False
    out: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    header: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        return len(self.values)

    def out_words(self) -> int:
        per_value = {"arith": len(ARITH_OPS), "shift": 2}.get(self.kind, 1)
        return HEADER_WORDS + self.n * per_value

    def input_words(self) -> int:
        return self.n * (2 if self.kind in ("arith", "shift") else 1)


_PRELUDE = r"""
#include <ap_fixed.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static const uint64_t* g_in;
static uint64_t* g_out;

template <class D> void quantize_case(long in_off, long out_off, long n) {
  for (long i = 0; i < n; ++i) {
    double x; std::memcpy(&x, &g_in[in_off + i], 8);
    D d = x;
    g_out[out_off + 16 + i] = d.V.to_uint64();
  }
}

template <class S, class D> void cast_case(long in_off, long out_off, long n) {
  for (long i = 0; i < n; ++i) {
    S s; s.setBits(g_in[in_off + i]);
    D d = s;
    g_out[out_off + 16 + i] = d.V.to_uint64();
  }
}

template <class S> void to_double_case(long in_off, long out_off, long n) {
  for (long i = 0; i < n; ++i) {
    S s; s.setBits(g_in[in_off + i]);
    double x = s.to_double();
    std::memcpy(&g_out[out_off + 16 + i], &x, 8);
  }
}

template <class T> void describe(uint64_t* h) {
  T t; t.setBits(~0ULL);
  h[0] = T::width; h[1] = (uint64_t)(int64_t)T::iwidth; h[2] = (t < 0) ? 1 : 0;
}

template <class A, class B> void arith_case(long in_off, long out_off, long n) {
  typedef decltype(A() + B()) Sum;
  typedef decltype(A() - B()) Diff;
  typedef decltype(A() * B()) Prod;
  uint64_t* h = &g_out[out_off];
  describe<Sum>(h); describe<Diff>(h + 3); describe<Prod>(h + 6);
  for (long i = 0; i < n; ++i) {
    A a; a.setBits(g_in[in_off + 2 * i]);
    B b; b.setBits(g_in[in_off + 2 * i + 1]);
    uint64_t* o = &g_out[out_off + 16 + 3 * i];
    if constexpr (Sum::width <= 64) { Sum s = a + b; o[0] = s.V.to_uint64(); }
    if constexpr (Diff::width <= 64) { Diff d = a - b; o[1] = d.V.to_uint64(); }
    if constexpr (Prod::width <= 64) { Prod p = a * b; o[2] = p.V.to_uint64(); }
  }
}

template <class A> void shift_case(long in_off, long out_off, long n) {
  for (long i = 0; i < n; ++i) {
    A a; a.setBits(g_in[in_off + 2 * i]);
    int sh = (int)(int64_t)g_in[in_off + 2 * i + 1];
    A l = a << sh; A r = a >> sh;
    g_out[out_off + 16 + 2 * i] = l.V.to_uint64();
    g_out[out_off + 16 + 2 * i + 1] = r.V.to_uint64();
  }
}

typedef void (*case_fn)(long, long, long);
struct Entry { case_fn fn; long in_off, out_off, n, words; };
"""

_MAIN = r"""
int main(int argc, char** argv) {
  if (argc != 3) { std::fprintf(stderr, "usage: harness IN OUT\n"); return 2; }
  const long n_cases = sizeof(kCases) / sizeof(kCases[0]);
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) { std::perror(argv[1]); return 2; }
  std::fseek(f, 0, SEEK_END); long bytes = std::ftell(f); std::fseek(f, 0, SEEK_SET);
  uint64_t* in = (uint64_t*)std::malloc(bytes + 8);
  if (std::fread(in, 1, bytes, f) != (size_t)bytes) { std::perror("read"); return 2; }
  std::fclose(f);
  g_in = in;
  int fd = open(argv[2], O_RDWR);
  if (fd < 0) { std::perror(argv[2]); return 2; }
  for (long c = 0; c < n_cases; ++c) {
    const Entry& e = kCases[c];
    pid_t pid = fork();
    if (pid == 0) {
      long words = e.words;
      g_out = (uint64_t*)std::calloc(words, 8);
      long base = e.out_off;
      Entry local = e; local.out_off = 0;
      local.fn(local.in_off, 0, local.n);
      g_out[15] = 1;  // completed
      long written = pwrite(fd, g_out, words * 8, base * 8);
      _exit(written == words * 8 ? 0 : 3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
  close(fd);
  return 0;
}
"""


def generate_source(cases: list[Case]) -> str:
    """C++ source instantiating every case (offsets are baked in)."""
    entries = []
    in_off = 0
    out_off = 0
    for case in cases:
        if case.kind == "quantize":
            assert case.dst is not None
            fn = f"quantize_case<{cxx_spelling(case.dst)} >"
        elif case.kind == "cast":
            assert case.dst is not None
            assert case.src is not None
            fn = f"cast_case<{cxx_spelling(case.src)}, {cxx_spelling(case.dst)} >"
        elif case.kind == "to_double":
            assert case.src is not None
            fn = f"to_double_case<{cxx_spelling(case.src)} >"
        elif case.kind == "shift":
            assert case.src is not None
            fn = f"shift_case<{cxx_spelling(case.src)} >"
        elif case.kind == "arith":
            assert case.src is not None
            assert case.b is not None
            fn = f"arith_case<{cxx_spelling(case.src)}, {cxx_spelling(case.b)} >"
        else:
            raise ValueError(case.kind)
        entries.append(f"  {{ &{fn}, {in_off}L, {out_off}L, {case.n}L, {case.out_words()}L }},")
        in_off += case.input_words()
        out_off += case.out_words()
    table = "static const Entry kCases[] = {\n" + "\n".join(entries) + "\n};\n"
    return _PRELUDE + table + _MAIN


def _input_words(case: Case) -> np.ndarray:
    if case.kind == "quantize":
        return np.ascontiguousarray(case.values, dtype=np.float64).view(np.uint64)
    raws = np.ascontiguousarray(case.values, dtype=np.int64).view(np.uint64)
    if case.kind not in ("arith", "shift"):
        return raws
    pairs = np.empty(2 * case.n, dtype=np.uint64)
    pairs[0::2] = raws
    pairs[1::2] = np.ascontiguousarray(case.values_b, dtype=np.int64).view(np.uint64)
    return pairs


def compile_harness(source: str, cache_dir: Path, include: Path) -> Path:
    """Compile (or reuse) the harness binary for ``source``; return its path."""
    compiler = shutil.which("g++")
    if compiler is None:
        raise FileNotFoundError("g++")
    flags = ["-std=c++17", "-O0", f"-I{include}", "-w"]  # -O0: compiles fastest, runs in < 1 s
    key = hashlib.sha256(" ".join([source, compiler, *flags]).encode()).hexdigest()[:20]
    binary = cache_dir / f"harness-{key}"
    if binary.is_file():
        return binary
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Drop binaries of earlier campaigns (never this key: a parallel worker may be using it).
    for stale in cache_dir.glob("harness-*"):
        if stale.name != binary.name:
            stale.unlink(missing_ok=True)
    work = cache_dir / f"build-{key}-{os.getpid()}"  # private to this process
    work.mkdir(exist_ok=True)
    src_path = work / "harness.cpp"
    src_path.write_text(source)
    tmp_binary = work / "harness.tmp"
    build = subprocess.run(
        [compiler, *flags, str(src_path), "-o", str(tmp_binary)],
        check=False,
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        msg = f"g++ failed on the header harness {src_path}:\n{build.stderr[-4000:]}"
        raise RuntimeError(msg)
    tmp_binary.replace(binary)  # atomic: readers see the old state or a whole binary
    shutil.rmtree(work, ignore_errors=True)
    return binary


def run(cases: list[Case], binary: Path, work: Path) -> None:
    """Run the harness and fill ``out``/``header``/``aborted`` of every case."""
    inputs = [_input_words(c) for c in cases]
    in_path = work / "in.bin"
    out_path = work / "out.bin"
    np.concatenate(inputs or [np.zeros(1, dtype=np.uint64)]).tofile(in_path)
    total_out = sum(c.out_words() for c in cases)
    np.zeros(total_out, dtype=np.uint64).tofile(out_path)
    subprocess.run([str(binary), str(in_path), str(out_path)], check=True, timeout=600)
    out = np.fromfile(out_path, dtype=np.uint64)
    offset = 0
    for case in cases:
        words = case.out_words()
        block = out[offset : offset + words]
        case.header = block[:HEADER_WORDS].view(np.int64)
        case.aborted = int(block[15]) != 1
        case.out = block[HEADER_WORDS:]
        offset += words


def sign_extend(pattern: np.ndarray, t: FixedType) -> np.ndarray:
    """Header bit patterns → the emulator's raw convention for type ``t``."""
    bits = np.asarray(pattern, dtype=np.uint64).view(np.int64)
    width = t.width
    if width == 64:
        return bits
    if t.signed:
        shift = np.int64(64 - width)
        return (bits << shift) >> shift
    return bits & np.int64((1 << width) - 1)
