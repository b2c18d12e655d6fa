`timescale 1 ns / 1 ps

// bx_counter: the LHC bunch-crossing clock, one BX per clock cycle. bx runs 0 ..
// BX_PER_ORBIT-1 (3564 per LHC orbit); orbit (ORBIT_WIDTH bits, wrapping) steps when
// bx wraps. After the synchronous reset the counter holds (START_BX, START_ORBIT):
// the top module starts it LATENCY + 1 BX before (0, 0), so that it labels the BX whose
// results are on the outputs and the first BX sampled after reset is orbit 0, BX 0.
module bx_counter #(
    parameter integer BX_PER_ORBIT = 3564,
    parameter integer BX_WIDTH = 12,
    parameter integer ORBIT_WIDTH = 32,
    parameter integer START_BX = 0,
    parameter [ORBIT_WIDTH-1:0] START_ORBIT = {ORBIT_WIDTH{1'b0}}
) (
    input wire clk,
    input wire rst,
    output reg [BX_WIDTH-1:0] bx,
    output reg [ORBIT_WIDTH-1:0] orbit
);
    localparam [BX_WIDTH-1:0] LAST_BX = BX_PER_ORBIT[BX_WIDTH-1:0] - 1'b1;
    localparam [BX_WIDTH-1:0] FIRST_BX = START_BX[BX_WIDTH-1:0];

    always @(posedge clk) begin
        if (rst) begin
            bx <= FIRST_BX;
            orbit <= START_ORBIT;
        end else if (bx == LAST_BX) begin
            bx <= {BX_WIDTH{1'b0}};
            orbit <= orbit + 1'b1;
        end else begin
            bx <= bx + 1'b1;
        end
    end
endmodule
