`timescale 1 ns / 1 ps

// delay_line: a WIDTH-bit shift register of DEPTH >= 1 clock cycles (where no delay
// is needed, the top writes a plain assign instead). The top module uses it to align
// every seed's bits to the slowest seed and to carry the valid/colliding strobes along
// the pipeline. RESET = 1 clears all stages on a synchronous reset (used for the
// strobes, so no stale BX reaches the prescale counters); RESET = 0 leaves the data
// stages without reset (shift-register friendly).
module delay_line #(
    parameter integer WIDTH = 1,
    parameter integer DEPTH = 1,
    parameter integer RESET = 0
) (
    input wire clk,
    input wire rst,
    input wire [WIDTH-1:0] d,
    output wire [WIDTH-1:0] q
);
    reg [WIDTH-1:0] stage [0:DEPTH-1];
    integer i;
    always @(posedge clk) begin
        if (RESET != 0 && rst) begin
            for (i = 0; i < DEPTH; i = i + 1) stage[i] <= {WIDTH{1'b0}};
        end else begin
            stage[0] <= d;
            for (i = 1; i < DEPTH; i = i + 1) stage[i] <= stage[i - 1];
        end
    end
    assign q = stage[DEPTH - 1];
endmodule
