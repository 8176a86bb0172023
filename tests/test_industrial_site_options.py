"""Industrial site options: battery overrides and demand-charge billing in the generator, the CSV loader and
``batterygym solve industrial``; seeded 7-day episodes unchanged by the defaults."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from batterygym.benchmarks.site_options import BILLING_CHOICES
from batterygym.cli import main
from batterygym.core import BatteryParams, IndustrialSiteConfig, TOUTariff, generate_industrial, load_industrial_csv
from batterygym.core.industrial_io import write_example_csv
from batterygym.core.tariff import BILLING_MODES, DAYS_PER_MONTH

NEW_BATTERY_FIELDS = ("eta_charge", "eta_discharge", "soc_min", "soc_max", "soh_end_of_life", "calendar_fade_per_day")


def months_and_shares(s) -> tuple[int, list[float]]:
    """Calendar months an episode touches and the share of each it covers, counted independently."""
    ts = s.timestamps
    months = pd.Series(ts.to_period("M")).unique()
    shares = [float((ts.to_period("M") == m).sum()) * s.dt_h / 24.0 / m.days_in_month for m in months]
    return len(months), shares


def generated(seed: int, **site) -> object:
    return generate_industrial(np.random.default_rng(seed), IndustrialSiteConfig(**site))


# ------------------------------------------------------------------------------------------ defaults
def test_new_defaults_are_the_battery_defaults():
    cfg, params = IndustrialSiteConfig(), BatteryParams()
    assert cfg.billing == "auto"
    for name in NEW_BATTERY_FIELDS:
        assert getattr(cfg, name) == getattr(params, name), name
    before = BatteryParams.second_life(capacity_kwh=500.0, power_kw=200.0, price_eur_per_kwh=80.0, cycle_life=3000.0,
                                       max_cycles_per_day=1.0, soc0=0.5, soh0=0.8)  # the call before the fields
    assert cfg.battery() == before


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_seeded_week_is_unchanged(seed):
    s = generated(seed)
    explicit = generated(seed, billing="auto", **{k: getattr(BatteryParams(), k) for k in NEW_BATTERY_FIELDS})
    for name in ("load_kw", "price_import", "pv_kw", "price_export", "billing_period", "billing_share"):
        np.testing.assert_array_equal(getattr(s, name), getattr(explicit, name), err_msg=name)
    assert s.battery == explicit.battery == IndustrialSiteConfig().battery()
    assert s.demand_charge_eur_per_kw == TOUTariff().demand_charge_for(7)  # one pro-rated peak, as always
    assert s.n_periods == 1 and s.billing_share.tolist() == [1.0]
    # the start is the same draw as before: the first Monday plus rng.integers(0, 365 - 7)
    first_monday = np.datetime64("2025-01-06")
    day = int(np.random.default_rng(seed).integers(0, 358))
    assert s.start == f"{first_monday + np.timedelta64(day, 'D')}T00:00"


def test_battery_overrides_reach_the_pack():
    site = dict(eta_charge=0.9, eta_discharge=0.92, soc_min=0.05, soc_max=0.95, soh_end_of_life=0.5,
                calendar_fade_per_day=1e-5)
    b = generated(1, n_days=2, **site).battery
    for name, value in site.items():
        assert getattr(b, name) == value, name
    assert b.fade_per_cycle == pytest.approx((0.8 - 0.5) / 3000)


def test_bad_billing_names_the_field():
    with pytest.raises(ValueError, match=r"billing must be one of .*'yearly'"):
        IndustrialSiteConfig(billing="yearly")
    assert BILLING_CHOICES == BILLING_MODES


# ------------------------------------------------------------------------------------------ generated billing
@pytest.mark.parametrize(("days", "seed"), [(60, 0), (60, 5), (60, 11), (365, 0), (365, 3)])
def test_long_episodes_are_billed_per_calendar_month(days, seed):
    s = generated(seed, n_days=days)
    months, shares = months_and_shares(s)
    assert s.n_periods == months >= 2
    np.testing.assert_allclose(s.billing_share, shares, rtol=1e-12)
    assert s.demand_charge_eur_per_kw == TOUTariff().demand_charge_eur_per_kw_month
    assert np.all(s.billing_share[1:-1] == 1.0)  # whole months in between
    assert 0 < s.billing_share[0] <= 1 and 0 < s.billing_share[-1] <= 1
    # periods follow the calendar: a new one exactly where the month changes
    ts = s.timestamps
    changes = np.flatnonzero(np.diff(s.billing_period)) + 1
    assert all(ts[t].day == 1 and ts[t].hour == 0 for t in changes)


def test_year_starts_on_the_first_monday_with_random_start():
    s = generated(4, n_days=365, random_start=True)
    assert s.start == "2025-01-06T00:00"
    assert s.n_periods == 13  # 6 Jan 2025 .. 5 Jan 2026
    assert s.billing_share[0] == pytest.approx(26 / 31) and s.billing_share[-1] == pytest.approx(5 / 31)
    fixed = generated(4, n_days=365, random_start=False)
    np.testing.assert_array_equal(s.load_kw, fixed.load_kw)  # nothing drawn for the start
    assert generated(4, n_days=400).start == "2025-01-06T00:00"


def test_season_follows_the_calendar_over_a_year():
    s = generated(2, n_days=365, pv_kwp=100.0)
    by_month = pd.Series(s.pv_kw, index=s.timestamps).resample("MS").max()
    assert by_month["2025-06"].iloc[0] > 1.5 * by_month["2025-12"].iloc[0]


def test_forced_billing_modes():
    week = generated(0, billing="month", random_start=False)  # 6-12 Jan: 7 of 31 days
    assert week.n_periods == 1 and week.billing_share[0] == pytest.approx(7 / 31)
    assert week.demand_charge_eur_per_kw == 10.0
    two_months = generated(0, n_days=60, billing="episode")
    assert two_months.n_periods == 1
    assert two_months.demand_charge_eur_per_kw == pytest.approx(10.0 * 60 / DAYS_PER_MONTH)


# ------------------------------------------------------------------------------------------ CSV billing
def test_forty_day_csv_has_two_monthly_periods(tmp_path):
    path = tmp_path / "site.csv"
    written = write_example_csv(path, seed=2, days=40, random_start=False)  # 6 Jan .. 14 Feb
    loaded = load_industrial_csv(path, connection_kw=written.connection_kw)
    assert loaded.n_periods == 2
    np.testing.assert_allclose(loaded.billing_share, [26 / 31, 14 / 28])
    assert loaded.demand_charge_eur_per_kw == 10.0
    np.testing.assert_array_equal(loaded.billing_period, written.billing_period)
    np.testing.assert_array_equal(loaded.billing_share, written.billing_share)
    # a given rate is the monthly rate on the same periods; billed per episode it is the episode's rate
    given = load_industrial_csv(path, connection_kw=written.connection_kw, demand_charge_eur_per_kw=7.0)
    assert given.demand_charge_eur_per_kw == 7.0 and given.n_periods == 2
    np.testing.assert_array_equal(given.billing_share, loaded.billing_share)
    once = load_industrial_csv(path, connection_kw=written.connection_kw, demand_charge_eur_per_kw=7.0,
                               billing="episode")
    assert once.n_periods == 1 and once.demand_charge_eur_per_kw == 7.0
    default_once = load_industrial_csv(path, connection_kw=written.connection_kw, billing="episode")
    assert default_once.demand_charge_eur_per_kw == pytest.approx(TOUTariff().demand_charge_for(40))


def test_week_csv_billed_per_month_pays_its_share(tmp_path):
    path = tmp_path / "week.csv"
    written = write_example_csv(path, seed=3, days=7)
    month_days = written.timestamps[0].days_in_month
    month = load_industrial_csv(path, billing="month")
    months, shares = months_and_shares(month)
    assert month.n_periods == months
    np.testing.assert_allclose(month.billing_share, shares)
    if months == 1:
        assert month.billing_share[0] == pytest.approx(7 / month_days)
    auto = load_industrial_csv(path)  # unchanged: one peak at the pro-rated rate
    assert auto.n_periods == 1 and auto.demand_charge_eur_per_kw == TOUTariff().demand_charge_for(7)
    fixed = write_example_csv(tmp_path / "jan.csv", seed=3, days=7, random_start=False)
    jan = load_industrial_csv(tmp_path / "jan.csv", connection_kw=fixed.connection_kw, billing="month")
    assert jan.n_periods == 1 and jan.billing_share[0] == pytest.approx(7 / 31)


def test_csv_bad_billing(tmp_path):
    path = tmp_path / "site.csv"
    write_example_csv(path, seed=0, days=1)
    with pytest.raises(ValueError, match="billing must be one of"):
        load_industrial_csv(path, billing="weekly")


# ------------------------------------------------------------------------------------------ CLI
def solve(tmp_path, *argv: str) -> dict:
    out = tmp_path / "out.json"
    assert main(["solve", "industrial", *argv, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_cli_battery_and_billing_options_reach_the_scenario(tmp_path, capsys):
    report = solve(tmp_path, "--seed", "1", "--days", "2", "--max-cycles-per-day", "none", "--eta-charge", "0.9",
                   "--eta-discharge", "0.92", "--soc-min", "0.2", "--soc-max", "0.85", "--calendar-fade-per-day",
                   "1e-5", "--billing", "month", "--demand-charge-eur-per-kw-month", "12",
                   "--pack-price-eur-per-kwh", "60")
    out = capsys.readouterr().out
    scenario, b = report["scenario"], report["scenario"]["battery"]
    assert (b["eta_charge"], b["eta_discharge"], b["soc_min"], b["soc_max"]) == (0.9, 0.92, 0.2, 0.85)
    assert b["calendar_fade_per_day"] == 1e-5 and b["max_cycles_per_day"] is None
    assert scenario["charge_budget_kwh"] is None  # no cap: inf, written as null
    expected = BatteryParams.second_life(price_eur_per_kwh=60.0).degradation_cost_per_kwh
    assert b["degradation_cost_per_kwh"] == pytest.approx(expected)
    assert scenario["demand_charge_eur_per_kw"] == 12.0
    billing = TOUTariff().billing(scenario["start"], scenario["n_steps"], scenario["dt_h"], "month")
    assert scenario["billing_periods"] == len(billing["billing_share"])
    assert scenario["billing_share"] == pytest.approx(billing["billing_share"].tolist())
    assert "demand charge 12.000 EUR/kW per month" in out and "no cycle cap" in out
    assert report["solver"]["status"] == "optimal"


def test_cli_cycle_cap_and_auto_billing(tmp_path, capsys):
    report = solve(tmp_path, "--seed", "2", "--days", "2", "--max-cycles-per-day", "0.5",
                   "--demand-charge-eur-per-kw-month", "20")
    scenario = report["scenario"]
    assert scenario["battery"]["max_cycles_per_day"] == 0.5
    assert scenario["charge_budget_kwh"] == pytest.approx(0.5 * 2 * 0.8 * 500)
    assert scenario["demand_charge_eur_per_kw"] == pytest.approx(20 * 2 / DAYS_PER_MONTH)
    assert scenario["billing_periods"] == 1 and scenario["billing_share"] == [1.0]
    assert "EUR/kW for the episode's peak" in capsys.readouterr().out


def test_cli_csv_takes_battery_and_billing_options(tmp_path, capsys):
    site = tmp_path / "site.csv"
    written = write_example_csv(site, seed=4, days=2, random_start=False)  # 6-7 Jan
    report = solve(tmp_path, "--csv", str(site), "--connection-kw", str(written.connection_kw), "--eta-charge",
                   "0.9", "--soc-max", "0.8", "--max-cycles-per-day", "2", "--billing", "month",
                   "--demand-charge-eur-per-kw-month", "15", "--pack-price-eur-per-kwh", "100")
    scenario, b = report["scenario"], report["scenario"]["battery"]
    assert (b["eta_charge"], b["soc_max"], b["max_cycles_per_day"]) == (0.9, 0.8, 2.0)
    assert b["degradation_cost_per_kwh"] == pytest.approx(
        BatteryParams.second_life(price_eur_per_kwh=100.0).degradation_cost_per_kwh)
    assert scenario["demand_charge_eur_per_kw"] == 15.0
    assert scenario["billing_share"] == pytest.approx([2 / 31])
    assert "15.000 EUR/kW per month, 1 period (1 partial, pro-rated)" in capsys.readouterr().out
    # per episode, the given monthly rate is pro-rated to the CSV's two days
    once = solve(tmp_path, "--csv", str(site), "--connection-kw", str(written.connection_kw), "--billing", "episode",
                 "--demand-charge-eur-per-kw-month", "15")
    assert once["scenario"]["demand_charge_eur_per_kw"] == pytest.approx(15 * 2 / DAYS_PER_MONTH)


BAD_VALUES = [
    (["--eta-charge", "1.5"], "--eta-charge"),
    (["--eta-charge", "abc"], "--eta-charge"),
    (["--eta-discharge", "0"], "--eta-discharge"),
    (["--soc-min", "0.95"], "--soc-min"),
    (["--soc-max", "0.05"], "--soc-max"),
    (["--soc-max", "0.4"], "--soc-max"),  # below the initial SoC
    (["--calendar-fade-per-day", "-1"], "--calendar-fade-per-day"),
    (["--calendar-fade-per-day", "nan"], "--calendar-fade-per-day"),
    (["--billing", "yearly"], "--billing"),
    (["--demand-charge-eur-per-kw-month", "-1"], "--demand-charge-eur-per-kw-month"),
    (["--demand-charge-eur-per-kw-month", "inf"], "--demand-charge-eur-per-kw-month"),
    (["--pack-price-eur-per-kwh", "-5"], "--pack-price-eur-per-kwh"),
    (["--max-cycles-per-day", "-1"], "--max-cycles-per-day"),
    (["--max-cycles-per-day", "lots"], "--max-cycles-per-day"),
    (["--max-cycles-per-day", "inf"], "--max-cycles-per-day"),
]


@pytest.mark.parametrize(("argv", "option"), BAD_VALUES)
def test_bad_values_exit_2_naming_the_option(capsys, argv, option):
    assert main(["solve", "industrial", "--days", "1", *argv]) == 2
    captured = capsys.readouterr()
    assert option in captured.err and len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""


@pytest.mark.parametrize(("argv", "option"), BAD_VALUES[::3])
def test_bad_values_with_csv_exit_2_naming_the_option(tmp_path, capsys, argv, option):
    site = tmp_path / "site.csv"
    write_example_csv(site, seed=0, days=1)
    assert main(["solve", "industrial", "--csv", str(site), *argv]) == 2
    err = capsys.readouterr().err
    assert option in err and len(err.strip().splitlines()) == 1


NEW_OPTIONS = [("--max-cycles-per-day", "none"), ("--eta-charge", "0.9"), ("--eta-discharge", "0.9"),
               ("--soc-min", "0.2"), ("--soc-max", "0.8"), ("--calendar-fade-per-day", "0"), ("--billing", "month"),
               ("--demand-charge-eur-per-kw-month", "5"), ("--pack-price-eur-per-kwh", "50")]


@pytest.mark.parametrize("setting", ["fleet", "v2g", "microgrid"])
@pytest.mark.parametrize(("option", "value"), NEW_OPTIONS)
def test_industrial_options_are_refused_elsewhere(capsys, setting, option, value):
    assert main(["solve", setting, option, value]) == 2
    err = capsys.readouterr().err
    assert option in err and "industrial" in err and len(err.strip().splitlines()) == 1


def test_site_fields_stay_json_clean():
    """What ``solve`` passes to gym.make: plain numbers and strings (the env spec is JSON)."""
    from argparse import Namespace

    from batterygym.benchmarks.site_options import industrial_site as _industrial_site

    args = Namespace(pv_kwp=None, capacity_kwh=None, power_kw=None, connection_kw=None, days=3, no_export=False,
                     max_cycles_per_day="none", eta_charge="0.9", eta_discharge=None, soc_min=None, soc_max=None,
                     calendar_fade_per_day=None, pack_price_eur_per_kwh="70", billing="month",
                     demand_charge_eur_per_kw_month="8")
    site = _industrial_site(args)
    assert json.loads(json.dumps(site)) == site
    assert site == {"n_days": 3, "max_cycles_per_day": None, "eta_charge": 0.9, "pack_price_eur_per_kwh": 70.0,
                    "billing": "month", "tariff": {"demand_charge_eur_per_kw_month": 8.0}}
    assert dataclasses.asdict(IndustrialSiteConfig.from_kwargs(**site))["tariff"]["demand_charge_eur_per_kw_month"] == 8


def test_calendar_fade_past_zero_is_refused_by_name(capsys):
    """A calendar fade that would age the pack to nothing within the episode is one line naming it."""
    from batterygym.cli import main

    assert main(["solve", "industrial", "--calendar-fade-per-day", "0.3", "--no-export"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--calendar-fade-per-day" in err[0]
