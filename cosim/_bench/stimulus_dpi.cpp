// Stimulus reader of the l1sim bench for Verilator (DPI-C), compiled into Verilator
// builds (cosim.runner.VerilatorRunner.DPI_STIMULUS; the bench uses it when
// L1SIM_DPI_STIMULUS is defined). Verilator's $fread takes one locked fgetc() per byte: on a
// design with a few hundred input bytes per clock that was about a third of the
// run time. Here one fread() per record fills the bench's record register (the
// file layout is the same: each record big-endian, first port in the top bytes).
// Icarus keeps $fread (see bench.sv.in).
#include <cstdio>
#include <vector>

#include "svdpi.h"

namespace {
std::FILE* stimulus = nullptr;
int record_bytes = 0;
std::vector<unsigned char> buffer;
}  // namespace

extern "C" int l1sim_stim_open(const char* path, int bytes) {
    if (stimulus != nullptr) std::fclose(stimulus);
    stimulus = std::fopen(path, "rb");
    if (stimulus == nullptr || bytes < 1) return 0;
    std::setvbuf(stimulus, nullptr, _IOFBF, 1 << 20);
    record_bytes = bytes;
    buffer.assign(static_cast<size_t>(bytes), 0);
    return 1;
}

// One record into ``record`` (svBitVecVal words, least significant first);
// returns the bytes read: record_bytes, or less at the end of the file.
extern "C" int l1sim_stim_read(svBitVecVal* record) {
    if (stimulus == nullptr) return 0;
    const size_t got = std::fread(buffer.data(), 1, buffer.size(), stimulus);
    if (got != buffer.size()) return static_cast<int>(got);
    const int words = (record_bytes + 3) / 4;
    for (int w = 0; w < words; ++w) record[w] = 0;
    for (int i = 0; i < record_bytes; ++i) {
        const int j = record_bytes - 1 - i;  // byte j counted from the least significant
        record[j / 4] |= static_cast<svBitVecVal>(buffer[static_cast<size_t>(i)]) << (8 * (j % 4));
    }
    return record_bytes;
}

extern "C" void l1sim_stim_close() {
    if (stimulus != nullptr) std::fclose(stimulus);
    stimulus = nullptr;
}
