`timescale 1 ns / 1 ps

// final_or: masks and the global trigger's final OR. The L1 candidate is the OR of
// the prescaled decisions of the N seeds whose MASK bit is 0 (MASK bit i = 1 takes
// seed i out of the OR, as a masked seed in the menu; its own bits still reach the
// outputs). Registered; cleared by the synchronous reset.
module final_or #(
    parameter integer N = 1,
    parameter [N-1:0] MASK = {N{1'b0}}
) (
    input wire clk,
    input wire rst,
    input wire [N-1:0] passed,
    output reg candidate
);
    always @(posedge clk) begin
        if (rst) candidate <= 1'b0;
        else candidate <= |(passed & ~MASK);
    end
endmodule
