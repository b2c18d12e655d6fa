`timescale 1 ns / 1 ps

// trigger_rules: the L1 trigger rules "at most MAX_ACCEPTS[r] accepts in any WINDOWS[r]
// consecutive BX" and their veto, bit for bit as emulator.rules.TriggerRuleState (CMS:
// 1 in 3, 2 in 25, 3 in 100, 4 in 240). One clock cycle = one BX, whether a BX is
// valid or not. Rule r sits in bits [32r +: 32] of MAX_ACCEPTS and WINDOWS. age[j]
// counts the BX since the (j+1)-th most recent accept, saturated at the longest
// window (after reset: no accept yet). The BX is dead when age[MAX_ACCEPTS[r] - 1] <
// WINDOWS[r] for some rule; accept = candidate & ~dead. Both outputs registered.
module trigger_rules #(
    parameter integer N_RULES = 4,
    parameter [32*N_RULES-1:0] MAX_ACCEPTS = {32'd4, 32'd3, 32'd2, 32'd1},
    parameter [32*N_RULES-1:0] WINDOWS = {32'd240, 32'd100, 32'd25, 32'd3}
) (
    input wire clk,
    input wire rst,
    input wire candidate,
    output reg accept,
    output reg dead
);
    // largest 32-bit field of a rule vector (at least 1)
    function automatic integer field_max(input [32*N_RULES-1:0] values);
        integer r;
        begin
            field_max = 1;
            for (r = 0; r < N_RULES; r = r + 1)
                if (values[32*r +: 32] > field_max) field_max = values[32*r +: 32];
        end
    endfunction

    localparam integer DEPTH = field_max(MAX_ACCEPTS);
    localparam integer AGE_MAX = field_max(WINDOWS);
    localparam integer AW = $clog2(AGE_MAX + 1);
    localparam [AW-1:0] SATURATED = AGE_MAX[AW-1:0];

    reg [AW-1:0] age [0:DEPTH-1];

    // one BX older, saturating
    function automatic [AW-1:0] older(input [AW-1:0] a);
        older = (a == SATURATED) ? a : a + 1'b1;
    endfunction

    reg dead_now;
    integer r;
    always @* begin
        dead_now = 1'b0;
        for (r = 0; r < N_RULES; r = r + 1)
            if ({{(32-AW){1'b0}}, age[MAX_ACCEPTS[32*r +: 32] - 1]} < WINDOWS[32*r +: 32])
                dead_now = 1'b1;
    end

    integer j;
    always @(posedge clk) begin
        if (rst) begin
            for (j = 0; j < DEPTH; j = j + 1) age[j] <= SATURATED;
            accept <= 1'b0;
            dead <= 1'b0;
        end else begin
            dead <= dead_now;
            accept <= candidate & ~dead_now;
            if (candidate && !dead_now) begin
                age[0] <= older({AW{1'b0}});
                for (j = 1; j < DEPTH; j = j + 1) age[j] <= older(age[j - 1]);
            end else begin
                for (j = 0; j < DEPTH; j = j + 1) age[j] <= older(age[j]);
            end
        end
    end
endmodule
