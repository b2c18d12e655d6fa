-- delay_line: a WIDTH-bit shift register of DEPTH (>= 1) clock cycles, as delay_line.v
-- (the top writes a plain assignment for a depth of 0). It aligns every seed's bits to
-- the slowest seed and carries the valid/colliding strobes along the pipeline.
-- RESET = 1 clears all stages on a synchronous reset (the strobes, so no stale BX
-- reaches the prescale counters); RESET = 0 leaves the data stages without reset.
library ieee;
use ieee.std_logic_1164.all;

entity delay_line is
    generic (
        WIDTH : positive := 1;
        DEPTH : positive := 1;
        RESET : natural range 0 to 1 := 0
    );
    port (
        clk : in std_logic;
        rst : in std_logic;
        d : in std_logic_vector(WIDTH - 1 downto 0);
        q : out std_logic_vector(WIDTH - 1 downto 0)
    );
end entity delay_line;

architecture rtl of delay_line is
    type stages_t is array (0 to DEPTH - 1) of std_logic_vector(WIDTH - 1 downto 0);
    signal stage : stages_t;
begin
    process (clk)
    begin
        if rising_edge(clk) then
            if RESET /= 0 and rst = '1' then
                stage <= (others => (others => '0'));
            else
                stage(0) <= d;
                for i in 1 to DEPTH - 1 loop
                    stage(i) <= stage(i - 1);
                end loop;
            end if;
        end if;
    end process;

    q <= stage(DEPTH - 1);
end architecture rtl;
