-- prescale: the CMS global trigger's fractional prescale counter for one seed, as
-- prescale.v and bit for bit as emulator.rules.PrescaleState. FACTOR_X100 is the
-- prescale times 100 (150 = prescale 1.5; 0 = seed disabled, it never passes). On a
-- valid BX where the seed fires, the counter grows by 100; when it reaches FACTOR_X100
-- the BX passes and FACTOR_X100 is subtracted. The counter starts at 0 after reset and
-- does not move on invalid BX or on BX where the seed does not fire. Outputs,
-- registered together: fired (fire and valid) and passed (the prescaled decision).
library ieee;
use ieee.std_logic_1164.all;

entity prescale is
    generic (
        FACTOR_X100 : natural := 100
    );
    port (
        clk : in std_logic;
        rst : in std_logic;
        valid : in std_logic;
        fire : in std_logic;
        fired : out std_logic;
        passed : out std_logic
    );
end entity prescale;

architecture rtl of prescale is
    constant STEP : natural := 100;
begin
    g_disabled : if FACTOR_X100 = 0 generate
        process (clk)
        begin
            if rising_edge(clk) then
                fired <= not rst and valid and fire;
                passed <= '0';
            end if;
        end process;
    end generate;

    g_counter : if FACTOR_X100 /= 0 generate
        -- the counter stays below FACTOR_X100, so FACTOR_X100 + 99 is the largest sum
        signal count : natural range 0 to FACTOR_X100 + STEP - 1;
    begin
        process (clk)
            variable grown : natural range 0 to FACTOR_X100 + STEP - 1;
        begin
            if rising_edge(clk) then
                if rst = '1' then
                    count <= 0;
                    fired <= '0';
                    passed <= '0';
                else
                    fired <= valid and fire;
                    passed <= '0';
                    if valid = '1' and fire = '1' then
                        grown := count + STEP;
                        if grown >= FACTOR_X100 then
                            count <= grown - FACTOR_X100;
                            passed <= '1';
                        else
                            count <= grown;
                        end if;
                    end if;
                end if;
            end if;
        end process;
    end generate;
end architecture rtl;
