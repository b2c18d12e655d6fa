// Plain Verilator C++ main around the l1sim bench: no Python, no VPI. It is the
// native ceiling that the cocotb runs are measured against. It only toggles
// l1sim_bench.clk until the bench raises done; the bench reads the stimulus and
// writes the outputs itself (plusargs +l1sim_stim, +l1sim_out, +l1sim_cycles).
#include <memory>

#include "Vl1sim_bench.h"
#include "verilated.h"

int main(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> context{new VerilatedContext};
    context->commandArgs(argc, argv);
    const std::unique_ptr<Vl1sim_bench> bench{new Vl1sim_bench{context.get()}};
    bench->clk = 0;
    bench->eval();
    while (!bench->done && !context->gotFinish()) {
        context->timeInc(5);
        bench->clk = 1;
        bench->eval();
        context->timeInc(5);
        bench->clk = 0;
        bench->eval();
    }
    bench->final();
    return bench->done ? 0 : 1;
}
