"""The small registered design the runner and resource tests share (``adder2``).

A 70-bit input (wider than one 64-bit word), a two-stage pipelined adder
(``sum = a + b``, latency 2), a cycle counter that starts at reset release and a
register that is never reset: 70 + 16 input registers, a 71-bit sum, an 8-bit
counter and an 8-bit register.
"""

ADDER = """\
// Two-stage pipelined adder: sum = a + b, LATENCY = 2 clock cycles.
module adder2 (
    input  wire        clk,
    input  wire        rst_n,
    input  wire [69:0] a,
    input  wire [15:0] b,
    output reg  [70:0] sum,
    output reg  [7:0]  count,
    output reg  [7:0]  late
);
    reg [69:0] a_q;
    reg [15:0] b_q;
    always @(posedge clk) begin
        if (!rst_n) begin
            a_q <= 70'd0;
            b_q <= 16'd0;
            sum <= 71'd0;
            count <= 8'd0;
        end else begin
            a_q <= a;
            b_q <= b;
            sum <= a_q + b_q;
            count <= count + 8'd1;
        end
    end
    // Never reset: unknown (x) on Icarus until the first running edge.
    always @(posedge clk) if (rst_n) late <= a[7:0];
endmodule
"""
