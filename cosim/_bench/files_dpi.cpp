// File access of the l1sim bench for Verilator (DPI-C), compiled into Verilator
// builds (cosim.runner.VerilatorRunner.DPI_FILES; the bench calls it when
// L1SIM_DPI_FILES is defined). Icarus keeps $fread/$fwrite (see bench.sv.in).
//
// * Stimulus: Verilator's $fread takes one locked fgetc() per byte; on a design
//   with a few hundred input bytes per clock that was about a third of the run
//   time. Here one fread() per record fills the bench's record register (same file
//   layout: each record big-endian, first port in the top bytes).
// * Outputs: the same text lines as $fwrite("%h %h ...\n") (Verilator formats
//   them by parsing the format string every clock), written into a large buffer.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
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

namespace {
std::FILE* outputs = nullptr;
std::vector<int> widths;  // output ports in order, first port in the top bits
int total_bits = 0;
std::string line;
const char hex_digits[] = "0123456789abcdef";

// ``count`` (1..4) bits of ``vec`` from bit ``lsb`` (svBitVecVal: 32-bit words, LSB first).
unsigned bits_at(const svBitVecVal* vec, int lsb, int count) {
    const int word = lsb / 32;
    const int shift = lsb % 32;
    unsigned value = vec[word] >> shift;
    if (shift + count > 32) value |= vec[word + 1] << (32 - shift);
    return value & ((1u << count) - 1u);
}
}  // namespace

// Open the output file; ``port_widths`` lists the output ports' widths ("1 12 32").
extern "C" int l1sim_out_open(const char* path, const char* port_widths) {
    if (outputs != nullptr) std::fclose(outputs);
    outputs = std::fopen(path, "w");
    if (outputs == nullptr) return 0;
    std::setvbuf(outputs, nullptr, _IOFBF, 1 << 20);
    widths.clear();
    total_bits = 0;
    for (const char* p = port_widths; *p != '\0';) {
        char* end = nullptr;
        const long width = std::strtol(p, &end, 10);
        if (end == p) break;
        widths.push_back(static_cast<int>(width));
        total_bits += static_cast<int>(width);
        p = end;
    }
    return widths.empty() ? 0 : 1;
}

// One line of the output file, exactly as $fwrite's "%h %h ...\n" writes it: each
// port in (width + 3) / 4 hex digits, most significant first, separated by spaces.
extern "C" void l1sim_out_write(const svBitVecVal* values) {
    if (outputs == nullptr) return;
    line.clear();
    int top = total_bits;  // one past the current port's most significant bit
    for (size_t p = 0; p < widths.size(); ++p) {
        const int width = widths[p];
        const int lsb = top - width;
        for (int digit = (width + 3) / 4 - 1; digit >= 0; --digit) {
            const int at = lsb + 4 * digit;
            line += hex_digits[bits_at(values, at, std::min(4, lsb + width - at))];
        }
        line += p + 1 < widths.size() ? ' ' : '\n';
        top = lsb;
    }
    std::fwrite(line.data(), 1, line.size(), outputs);
}

extern "C" void l1sim_out_close() {
    if (outputs != nullptr) std::fclose(outputs);
    outputs = nullptr;
}
