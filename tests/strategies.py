"""Hypothesis strategies the industrial tests share."""
from __future__ import annotations

from hypothesis import strategies as st

from batterygym.core.battery import BatteryParams


def site_battery(draw, calendar_fade: float = 1e-3, min_cycles: float = 1e-3) -> BatteryParams:
    """A random site battery: ratings up to 2C, efficiencies 0.6-1, a SoC window with soc_min > 0,
    calendar fade ``calendar_fade`` (or 0) and a cycle cap (none, 0, or from ``min_cycles`` up to 2 a day)."""
    cap = draw(st.floats(10.0, 1000.0))
    soc_min = draw(st.floats(0.01, 0.4))
    soc_max = draw(st.floats(soc_min + 0.05, 1.0))
    return BatteryParams(
        capacity_kwh=cap, p_charge_kw=draw(st.floats(0.0, 2.0)) * cap, p_discharge_kw=draw(st.floats(0.0, 2.0)) * cap,
        eta_charge=draw(st.floats(0.6, 1.0)), eta_discharge=draw(st.floats(0.6, 1.0)), soc_min=soc_min,
        soc_max=soc_max, soc0=draw(st.floats(soc_min, soc_max)), soh0=draw(st.floats(0.5, 1.0)),
        degradation_cost_per_kwh=draw(st.floats(0.0, 0.05)), fade_per_cycle=draw(st.floats(0.0, 0.005)),
        calendar_fade_per_day=draw(st.sampled_from([0.0, 0.0, calendar_fade])),
        max_cycles_per_day=draw(st.one_of(st.none(), st.just(0.0), st.floats(min_cycles, 2.0))),
    )
