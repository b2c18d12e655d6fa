`timescale 1 ns / 1 ps

// prescale: the CMS global trigger's fractional prescale counter for one seed, bit for
// bit as emulator.rules.PrescaleState. FACTOR_X100 is the prescale times 100 (150 =
// prescale 1.5; 0 = seed disabled, it never passes). On a valid BX where the seed
// fires, the counter grows by 100; when it reaches FACTOR_X100 the BX passes and
// FACTOR_X100 is subtracted. The counter starts at 0 after reset and does not move on
// invalid BX or on BX where the seed does not fire (colliding or not: the emulator
// applies no colliding condition either). Outputs, registered together: fired (the
// raw decision of a valid BX, fire & valid) and passed (the prescaled decision).
module prescale #(
    parameter integer FACTOR_X100 = 100
) (
    input wire clk,
    input wire rst,
    input wire valid,
    input wire fire,
    output reg fired,
    output reg passed
);
    localparam integer STEP = 100;

    generate
        if (FACTOR_X100 == 0) begin : g_disabled
            always @(posedge clk) begin
                fired <= ~rst & valid & fire;
                passed <= 1'b0;
            end
        end else begin : g_counter
            // the counter stays below FACTOR_X100, so FACTOR_X100 + 99 is the largest sum
            localparam integer CW = $clog2(FACTOR_X100 + STEP);
            localparam [CW-1:0] FACTOR = FACTOR_X100[CW-1:0];
            localparam [CW-1:0] INCREMENT = STEP[CW-1:0];

            reg [CW-1:0] count;
            wire [CW-1:0] grown = count + INCREMENT;

            always @(posedge clk) begin
                if (rst) begin
                    count <= {CW{1'b0}};
                    fired <= 1'b0;
                    passed <= 1'b0;
                end else begin
                    fired <= valid & fire;
                    passed <= 1'b0;
                    if (valid && fire) begin
                        if (grown >= FACTOR) begin
                            count <= grown - FACTOR;
                            passed <= 1'b1;
                        end else begin
                            count <= grown;
                        end
                    end
                end
            end
        end
    endgenerate
endmodule
