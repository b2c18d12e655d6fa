-- final_or: masks and the global trigger's final OR, as final_or.v. The L1 candidate is
-- the OR of the prescaled decisions of the N seeds whose MASK bit is 0 (MASK bit i = 1
-- takes seed i out of the OR; its own bits still reach the outputs). MASK is a vector
-- of N bits written most significant (seed N-1) first. Registered; cleared by the
-- synchronous reset.
library ieee;
use ieee.std_logic_1164.all;

entity final_or is
    generic (
        N : positive := 1;
        MASK : std_logic_vector
    );
    port (
        clk : in std_logic;
        rst : in std_logic;
        passed : in std_logic_vector(N - 1 downto 0);
        candidate : out std_logic
    );
end entity final_or;

architecture rtl of final_or is
    -- left to right: the generic's leftmost bit belongs to seed N-1
    constant MASK_BITS : std_logic_vector(N - 1 downto 0) := MASK;
begin
    assert MASK'length = N report "final_or: MASK must have N bits" severity failure;

    process (clk)
    begin
        if rising_edge(clk) then
            if rst = '1' then
                candidate <= '0';
            else
                candidate <= or (passed and not MASK_BITS);
            end if;
        end if;
    end process;
end architecture rtl;
