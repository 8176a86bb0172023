"""Finance functions against plain loops and hand-computed textbook values."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from batterygym.core.finance import (
    Appraisal,
    Finance,
    annuity_factor,
    appraise,
    capital_recovery_factor,
    cash_flows,
    discounted_payback,
    irr,
    lcos,
    npv,
    simple_payback,
)


def loop_npv(rate: float, flows: list[float]) -> float:
    total = 0.0
    for i, f in enumerate(flows):
        total += f / (1 + rate) ** i
    return total


def loop_af(rate: float, n: int) -> float:
    total = 0.0
    for k in range(1, n + 1):
        total += 1 / (1 + rate) ** k
    return total


# ---------------------------------------------------------------- Finance and capex


def test_finance_defaults() -> None:
    f = Finance()
    assert (f.pack_price_eur_per_kwh, f.power_price_eur_per_kw, f.fixed_cost_eur) == (80.0, 150.0, 20_000.0)
    assert (f.om_share_per_year, f.discount_rate, f.horizon_years, f.salvage_share) == (0.02, 0.07, 10.0, 0.0)
    with pytest.raises(AttributeError):
        f.discount_rate = 0.1  # type: ignore[misc]


def test_capex_formula() -> None:
    # 80 * 0.8 * 100 + 150 * 50 + 20000 = 6400 + 7500 + 20000 = 33900
    assert Finance().capex(100.0, 50.0, 0.8) == pytest.approx(33_900.0)
    f = Finance(pack_price_eur_per_kwh=100.0, power_price_eur_per_kw=0.0, fixed_cost_eur=5.0)
    assert f.capex(10.0, 3.0, 0.5) == pytest.approx(505.0)


def test_capex_no_battery_is_zero() -> None:
    assert Finance().capex(0.0, 0.0, 0.9) == 0.0
    # power only still pays the fixed cost
    assert Finance().capex(0.0, 10.0, 0.9) == pytest.approx(21_500.0)


@pytest.mark.parametrize(
    ("args", "field"),
    [((-1.0, 1.0, 0.8), "capacity_kwh"), ((1.0, -1.0, 0.8), "power_kw"), ((1.0, 1.0, 1.2), "soh0")],
)
def test_capex_validation(args: tuple[float, float, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Finance().capex(*args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pack_price_eur_per_kwh": -1.0}, "pack_price_eur_per_kwh"),
        ({"pack_price_eur_per_kwh": math.inf}, "pack_price_eur_per_kwh"),
        ({"power_price_eur_per_kw": -0.1}, "power_price_eur_per_kw"),
        ({"power_price_eur_per_kw": math.nan}, "power_price_eur_per_kw"),
        ({"fixed_cost_eur": -5.0}, "fixed_cost_eur"),
        ({"fixed_cost_eur": math.inf}, "fixed_cost_eur"),
        ({"om_share_per_year": -0.01}, "om_share_per_year"),
        ({"discount_rate": 1.5}, r"discount_rate must be in \(-1, 1\), got 1.5"),
        ({"discount_rate": 1.0}, "discount_rate"),
        ({"discount_rate": -1.0}, "discount_rate"),
        ({"discount_rate": math.nan}, "discount_rate"),
        ({"horizon_years": 0.0}, "horizon_years"),
        ({"horizon_years": -2.0}, "horizon_years"),
        ({"horizon_years": math.inf}, "horizon_years"),
        ({"salvage_share": -0.1}, "salvage_share"),
        ({"salvage_share": 1.1}, "salvage_share"),
    ],
)
def test_finance_validation(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Finance(**kwargs)


def test_finance_edge_values_accepted() -> None:
    Finance(pack_price_eur_per_kwh=0.0, power_price_eur_per_kw=0.0, fixed_cost_eur=0.0, om_share_per_year=0.0,
            discount_rate=-0.5, horizon_years=0.5, salvage_share=1.0)


# ---------------------------------------------------------------- annuity factor


def test_annuity_factor_textbook() -> None:
    # 1/1.1 + 1/1.21 + 1/1.331 = 0.909091 + 0.826446 + 0.751315 = 2.486852
    assert annuity_factor(0.1, 3) == pytest.approx(2.4868519909842224, rel=1e-12)
    # CRF(10 %, 3) = 1 / 2.486852 = 0.402115
    assert capital_recovery_factor(0.1, 3) == pytest.approx(0.4021148036253777, rel=1e-12)


@pytest.mark.parametrize("rate", [0.07, 0.1, 0.25, -0.05, -0.3, 1e-12])
@pytest.mark.parametrize("n", [1, 2, 10, 25])
def test_annuity_factor_matches_loop(rate: float, n: int) -> None:
    assert annuity_factor(rate, n) == pytest.approx(loop_af(rate, n), rel=1e-10)
    assert capital_recovery_factor(rate, n) * loop_af(rate, n) == pytest.approx(1.0, rel=1e-10)


def test_annuity_factor_zero_rate_and_fractional() -> None:
    assert annuity_factor(0.0, 7) == 7.0
    assert annuity_factor(0.0, 2.5) == 2.5
    assert capital_recovery_factor(0.0, 4) == 0.25
    # (1 - 1.1^-2.5) / 0.1, 1.1^2.5 = 1.21 * sqrt(1.1) = 1.269059 -> (1 - 0.787986) / 0.1 = 2.120144
    assert annuity_factor(0.1, 2.5) == pytest.approx(2.1201438905322965, rel=1e-10)
    assert loop_af(0.1, 2) < annuity_factor(0.1, 2.5) < loop_af(0.1, 3)
    # negative rate: 0.95^-1 + 0.95^-2 + 0.95^-3 = 1.052632 + 1.108033 + 1.166351 = 3.327016
    assert annuity_factor(-0.05, 3) == pytest.approx(3.3270155999416824, rel=1e-10)
    # continuity at r -> 0
    assert annuity_factor(1e-9, 10) == pytest.approx(10.0, rel=1e-7)


def test_annuity_factor_validation() -> None:
    with pytest.raises(ValueError, match="rate"):
        annuity_factor(-1.0, 3)
    with pytest.raises(ValueError, match="rate"):
        annuity_factor(math.nan, 3)
    with pytest.raises(ValueError, match="years"):
        annuity_factor(0.1, -1)
    with pytest.raises(ValueError, match="years"):
        capital_recovery_factor(0.1, 0)


# ---------------------------------------------------------------- cash flows


def test_cash_flows_whole_years() -> None:
    np.testing.assert_allclose(cash_flows(100.0, 30.0, 3), [-100.0, 30.0, 30.0, 30.0])
    np.testing.assert_allclose(cash_flows(100.0, 30.0, 3.0, salvage=10.0), [-100.0, 30.0, 30.0, 40.0])
    # float noise does not add a near-empty year
    assert cash_flows(100.0, 30.0, 0.1 * 30).size == 4


def test_cash_flows_fractional_years() -> None:
    np.testing.assert_allclose(cash_flows(100.0, 40.0, 2.5, salvage=5.0), [-100.0, 40.0, 40.0, 25.0])
    np.testing.assert_allclose(cash_flows(100.0, 40.0, 0.25), [-100.0, 10.0])
    # the undiscounted sum of savings is annual_net * years
    assert cash_flows(0.0, 12.0, 7.3).sum() == pytest.approx(12.0 * 7.3)


def test_cash_flows_validation() -> None:
    with pytest.raises(ValueError, match="capex"):
        cash_flows(-1.0, 10.0, 3)
    with pytest.raises(ValueError, match="annual_net"):
        cash_flows(1.0, math.nan, 3)
    with pytest.raises(ValueError, match="years"):
        cash_flows(1.0, 10.0, 0)
    with pytest.raises(ValueError, match="salvage"):
        cash_flows(1.0, 10.0, 3, salvage=math.inf)


# ---------------------------------------------------------------- NPV and IRR


def test_npv_textbook_and_loop() -> None:
    # -100 + 60/1.1 + 60/1.21 = -100 + 54.545455 + 49.586777 = 4.132231
    assert npv(0.1, [-100, 60, 60]) == pytest.approx(4.132231404958677, rel=1e-12)
    flows = [-500.0, 120.0, -30.0, 200.0, 250.0, 90.0]
    for rate in (0.0, 0.07, -0.2, 0.5):
        assert npv(rate, flows) == pytest.approx(loop_npv(rate, flows), rel=1e-12)
    assert npv(0.0, flows) == pytest.approx(sum(flows))


def test_npv_validation() -> None:
    with pytest.raises(ValueError, match="rate"):
        npv(-1.5, [1.0, 2.0])
    with pytest.raises(ValueError, match="flows"):
        npv(0.1, [])
    with pytest.raises(ValueError, match="flows"):
        npv(0.1, [1.0, math.nan])


def test_irr_textbook() -> None:
    # 60x^2 + 60x - 100 = 0, x = 1/(1+r) -> x = (-60 + sqrt(27600)) / 120 = 0.884437, r = 0.130662
    value = irr([-100, 60, 60])
    assert value == pytest.approx((120 / (-60 + math.sqrt(27600))) - 1, rel=1e-9)
    assert value == pytest.approx(0.1306623862918075, rel=1e-9)
    assert abs(loop_npv(value, [-100, 60, 60])) < 1e-8


def test_irr_zero_and_negative() -> None:
    assert irr([-100, 50, 50]) == pytest.approx(0.0, abs=1e-10)
    # -100 + 80/(1+r) = 0 -> r = -0.2
    assert irr([-100, 80]) == pytest.approx(-0.2, rel=1e-9)


def test_irr_none_cases() -> None:
    assert irr([-100, -10, -5]) is None
    assert irr([100, 10, 5]) is None
    assert irr([0, 0, 0]) is None
    assert irr([-100]) is None


# ---------------------------------------------------------------- paybacks


def test_simple_payback() -> None:
    assert simple_payback(1000.0, 250.0) == pytest.approx(4.0)
    assert simple_payback(1000.0, 300.0) == pytest.approx(10 / 3)
    assert simple_payback(1000.0, 0.0) is None
    assert simple_payback(1000.0, -5.0) is None
    with pytest.raises(ValueError, match="capex"):
        simple_payback(-1.0, 5.0)
    with pytest.raises(ValueError, match="annual_net"):
        simple_payback(1.0, math.inf)


def test_discounted_payback_interpolates() -> None:
    # r = 0: cumulative -100, -60, -20, +20 -> 2 + 20/40 = 2.5
    assert discounted_payback(0.0, [-100, 40, 40, 40]) == pytest.approx(2.5)
    # r = 10 %: cumulative -100, -54.545, -13.223 (= -16/1.21), +24.343; year-3 flow 50/1.331 = 37.566
    # -> 2 + (16/1.21) / (50/1.331) = 2 + 16*1.1/50 = 2.352
    assert discounted_payback(0.1, [-100, 50, 50, 50]) == pytest.approx(2.352, rel=1e-12)
    # exactly zero at a year end -> that year
    assert discounted_payback(0.0, [-100, 50, 50, 50]) == pytest.approx(2.0)
    # discounting delays payback beyond the simple one
    assert discounted_payback(0.07, [-100, 25, 25, 25, 25, 25, 25]) > simple_payback(100, 25)


def test_discounted_payback_first_crossing_only() -> None:
    # cumulative -10, +10, -20, +10: first crossing is in year 1 at 0 + 10/20 = 0.5
    assert discounted_payback(0.0, [-10, 20, -30, 30]) == pytest.approx(0.5)


def test_discounted_payback_none_and_zero() -> None:
    assert discounted_payback(0.1, [-100, 60, 50]) is None  # npv -4.13 < 0, never repaid
    assert discounted_payback(0.1, [-100, -1]) is None
    assert discounted_payback(0.1, [0.0, 5.0]) == 0.0
    with pytest.raises(ValueError, match="rate"):
        discounted_payback(-2.0, [-1, 2])


# ---------------------------------------------------------------- LCOS


def test_lcos_textbook() -> None:
    # capex 1000, O&M 10/yr, 100 kWh/yr, 10 %, 3 years: (1000 + 10 AF) / (100 AF) = 10/AF + 0.1 = 4.121148
    assert lcos(1000.0, 10.0, 100.0, 0.1, 3) == pytest.approx(4.121148036253777, rel=1e-10)
    # r = 0: (1000 + 10*4 - 200) / (100*4) = 2.1
    assert lcos(1000.0, 10.0, 100.0, 0.0, 4, salvage=200.0) == pytest.approx(2.1)


def test_lcos_matches_loop_with_salvage() -> None:
    rate, n, capex, om, kwh, salvage = 0.07, 10, 50_000.0, 1_000.0, 20_000.0, 5_000.0
    cost = capex + sum(om / (1 + rate) ** k for k in range(1, n + 1)) - salvage / (1 + rate) ** n
    energy = sum(kwh / (1 + rate) ** k for k in range(1, n + 1))
    assert lcos(capex, om, kwh, rate, n, salvage) == pytest.approx(cost / energy, rel=1e-10)


def test_lcos_none_and_validation() -> None:
    assert lcos(1000.0, 10.0, 0.0, 0.1, 3) is None
    with pytest.raises(ValueError, match="annual_discharge_kwh"):
        lcos(1000.0, 10.0, -1.0, 0.1, 3)
    with pytest.raises(ValueError, match="annual_om"):
        lcos(1000.0, -10.0, 1.0, 0.1, 3)
    with pytest.raises(ValueError, match="capex"):
        lcos(-1.0, 10.0, 1.0, 0.1, 3)
    with pytest.raises(ValueError, match="years"):
        lcos(1000.0, 10.0, 1.0, 0.1, 0)


# ---------------------------------------------------------------- appraisal


def test_appraise_fills_every_field() -> None:
    f = Finance(om_share_per_year=0.02, discount_rate=0.1, horizon_years=3.0, salvage_share=0.1)
    a = appraise(f, capex=1000.0, annual_saving=520.0, life_years=8.0, annual_discharge_kwh=100.0)
    # O&M 20/yr, net 500/yr, salvage 100, 3 years (horizon < life)
    flows = [-1000.0, 500.0, 500.0, 600.0]
    assert a.capex_eur == 1000.0
    assert a.annual_saving_eur == 520.0
    assert a.annual_om_eur == pytest.approx(20.0)
    assert a.life_years == 3.0
    assert a.npv_eur == pytest.approx(loop_npv(0.1, flows), rel=1e-12)
    assert abs(loop_npv(a.irr, flows)) < 1e-6
    assert a.simple_payback_years == pytest.approx(2.0)
    # cumulative at 10 %: -1000, -545.45, -132.23 (= -160/1.21); year-3 flow 600/1.331 -> 2 + 160*1.1/600
    assert a.discounted_payback_years == pytest.approx(2 + 176 / 600, rel=1e-12)
    af = loop_af(0.1, 3)
    assert a.lcos_eur_per_kwh == pytest.approx((1000 + 20 * af - 100 / 1.331) / (100 * af), rel=1e-10)


def test_appraise_uses_shorter_life_and_fractional_years() -> None:
    f = Finance(discount_rate=0.0, om_share_per_year=0.0, horizon_years=10.0)
    a = appraise(f, capex=100.0, annual_saving=40.0, life_years=2.5, annual_discharge_kwh=10.0)
    assert a.life_years == 2.5
    assert a.npv_eur == pytest.approx(0.0, abs=1e-12)  # -100 + 40 + 40 + 20
    # cumulative -100, -60, -20, 0: reached at flow index 3 (the half year is booked as year 3)
    assert a.discounted_payback_years == pytest.approx(3.0)
    assert a.lcos_eur_per_kwh == pytest.approx(100 / (10 * 2.5))


def test_appraise_unprofitable() -> None:
    a = appraise(Finance(), capex=50_000.0, annual_saving=500.0, life_years=10.0, annual_discharge_kwh=1_000.0)
    assert a.npv_eur < 0
    assert a.simple_payback_years is None  # 500 - 2 % * 50000 = -500 per year
    assert a.discounted_payback_years is None
    assert a.irr is None  # every flow negative


def test_appraise_no_battery() -> None:
    a = appraise(Finance(), capex=0.0, annual_saving=0.0, life_years=10.0, annual_discharge_kwh=0.0)
    assert a.npv_eur == 0.0
    assert a.irr is None
    assert a.simple_payback_years is None
    assert a.discounted_payback_years is None
    assert a.lcos_eur_per_kwh is None


def test_appraise_validation() -> None:
    with pytest.raises(ValueError, match="capex"):
        appraise(Finance(), -1.0, 10.0, 5.0, 1.0)
    with pytest.raises(ValueError, match="annual_saving"):
        appraise(Finance(), 1.0, math.nan, 5.0, 1.0)
    with pytest.raises(ValueError, match="life_years"):
        appraise(Finance(), 1.0, 10.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="annual_discharge_kwh"):
        appraise(Finance(), 1.0, 10.0, 5.0, -1.0)


def test_appraisal_to_dict_is_json_clean() -> None:
    a = appraise(Finance(), capex=np.float64(40_000.0), annual_saving=np.float64(9_000.0), life_years=12,
                 annual_discharge_kwh=30_000.0)
    d = a.to_dict()
    assert set(d) == {
        "capex_eur", "annual_saving_eur", "annual_om_eur", "life_years", "npv_eur", "irr",
        "simple_payback_years", "discounted_payback_years", "lcos_eur_per_kwh",
    }
    assert all(type(v) is float for v in d.values())
    assert json.loads(json.dumps(d)) == d
    none = appraise(Finance(), 0.0, 0.0, 10.0, 0.0).to_dict()
    assert none["irr"] is None and none["lcos_eur_per_kwh"] is None
    assert json.loads(json.dumps(none)) == none
    assert isinstance(a, Appraisal)
