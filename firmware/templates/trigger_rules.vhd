-- trigger_rules: the L1 trigger rules "at most MAX_ACCEPTS(r) accepts in any WINDOWS(r)
-- consecutive BX" and their veto, as trigger_rules.v and bit for bit as
-- emulator.rules.TriggerRuleState (CMS: 1 in 3, 2 in 25, 3 in 100, 4 in 240). One clock
-- cycle = one BX, whether a BX is valid or not. Rule r is element r of MAX_ACCEPTS and
-- WINDOWS (N_RULES elements each, indexed from 0). age(j) counts the BX since the
-- (j+1)-th most recent accept, saturated at the longest window (after reset: no accept
-- yet). The BX is dead when age(MAX_ACCEPTS(r) - 1) < WINDOWS(r) for some rule;
-- accept = candidate and not dead. Both outputs registered.
library ieee;
use ieee.std_logic_1164.all;

entity trigger_rules is
    generic (
        N_RULES : positive := 4;
        MAX_ACCEPTS : integer_vector := (0 => 1, 1 => 2, 2 => 3, 3 => 4);
        WINDOWS : integer_vector := (0 => 3, 1 => 25, 2 => 100, 3 => 240)
    );
    port (
        clk : in std_logic;
        rst : in std_logic;
        candidate : in std_logic;
        accept : out std_logic;
        dead : out std_logic
    );
end entity trigger_rules;

architecture rtl of trigger_rules is
    -- largest element of a rule vector (at least 1)
    function field_max(values : integer_vector) return positive is
        variable result : positive := 1;
    begin
        for r in values'range loop
            if values(r) > result then
                result := values(r);
            end if;
        end loop;
        return result;
    end function;

    constant DEPTH : positive := field_max(MAX_ACCEPTS);
    constant AGE_MAX : positive := field_max(WINDOWS);
    type ages_t is array (0 to DEPTH - 1) of natural range 0 to AGE_MAX;
    signal age : ages_t;

    -- one BX older, saturating
    function older(a : natural) return natural is
    begin
        if a = AGE_MAX then
            return a;
        end if;
        return a + 1;
    end function;

    signal dead_now : std_logic;
begin
    assert MAX_ACCEPTS'length = N_RULES and WINDOWS'length = N_RULES
        report "trigger_rules: MAX_ACCEPTS and WINDOWS must have N_RULES elements"
        severity failure;

    process (age)
        variable v : std_logic;
    begin
        v := '0';
        for r in 0 to N_RULES - 1 loop
            if age(MAX_ACCEPTS(MAX_ACCEPTS'low + r) - 1) < WINDOWS(WINDOWS'low + r) then
                v := '1';
            end if;
        end loop;
        dead_now <= v;
    end process;

    process (clk)
    begin
        if rising_edge(clk) then
            if rst = '1' then
                age <= (others => AGE_MAX);
                accept <= '0';
                dead <= '0';
            else
                dead <= dead_now;
                accept <= candidate and not dead_now;
                if candidate = '1' and dead_now = '0' then
                    age(0) <= older(0);
                    for j in 1 to DEPTH - 1 loop
                        age(j) <= older(age(j - 1));
                    end loop;
                else
                    for j in 0 to DEPTH - 1 loop
                        age(j) <= older(age(j));
                    end loop;
                end if;
            end if;
        end if;
    end process;
end architecture rtl;
