-- bx_counter: the LHC bunch-crossing clock, one BX per clock cycle, as bx_counter.v.
-- bx runs 0 .. BX_PER_ORBIT-1 (3564 per LHC orbit); orbit (ORBIT_WIDTH bits, wrapping)
-- steps when bx wraps. After the synchronous reset the counter holds (START_BX,
-- START_ORBIT): the top starts it LATENCY + 1 BX before (0, 0), so that it labels the
-- BX whose results are on the outputs. START_ORBIT is a vector of ORBIT_WIDTH bits,
-- most significant bit first (an orbit number may not fit a VHDL integer).
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

entity bx_counter is
    generic (
        BX_PER_ORBIT : positive := 3564;
        BX_WIDTH : positive := 12;
        ORBIT_WIDTH : positive := 32;
        START_BX : natural := 0;
        START_ORBIT : std_logic_vector
    );
    port (
        clk : in std_logic;
        rst : in std_logic;
        bx : out std_logic_vector(BX_WIDTH - 1 downto 0);
        orbit : out std_logic_vector(ORBIT_WIDTH - 1 downto 0)
    );
end entity bx_counter;

architecture rtl of bx_counter is
    constant LAST_BX : unsigned(BX_WIDTH - 1 downto 0) := to_unsigned(BX_PER_ORBIT - 1, BX_WIDTH);
    constant FIRST_BX : unsigned(BX_WIDTH - 1 downto 0) := to_unsigned(START_BX, BX_WIDTH);
    -- left to right: the generic's leftmost bit is the orbit's most significant bit
    constant FIRST_ORBIT : unsigned(ORBIT_WIDTH - 1 downto 0) := unsigned(START_ORBIT);
    signal bx_q : unsigned(BX_WIDTH - 1 downto 0);
    signal orbit_q : unsigned(ORBIT_WIDTH - 1 downto 0);
begin
    assert START_ORBIT'length = ORBIT_WIDTH
        report "bx_counter: START_ORBIT must have ORBIT_WIDTH bits" severity failure;

    process (clk)
    begin
        if rising_edge(clk) then
            if rst = '1' then
                bx_q <= FIRST_BX;
                orbit_q <= FIRST_ORBIT;
            elsif bx_q = LAST_BX then
                bx_q <= (others => '0');
                orbit_q <= orbit_q + 1;
            else
                bx_q <= bx_q + 1;
            end if;
        end if;
    end process;

    bx <= std_logic_vector(bx_q);
    orbit <= std_logic_vector(orbit_q);
end architecture rtl;
