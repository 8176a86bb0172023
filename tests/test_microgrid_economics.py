"""``batterygym economics microgrid``: the year of days, its cash flows against a hand computation, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from batterygym.benchmarks.microgrid_year import YearRun, appraise_year, mode_config, run_year
from batterygym.cli import main
from batterygym.core.finance import Finance
from batterygym.core.microgrid_generator import MicrogridConfig, fixed_storage
from batterygym.core.microgrid_life import LifeCounts

KEYS = ("capex_eur", "annual_profit_eur", "simple_payback_years", "npv_eur", "irr", "storage_share",
        "renewable_share", "swaps_served_share", "depleted_packs")


def _run(cfg: MicrogridConfig, days: int, totals: dict[str, float], bought_kwh: float) -> YearRun:
    return YearRun("integrated", "rule", "uniform", days, cfg, totals, LifeCounts(1, 1, 0, 0, bought_kwh),
                   np.ones((days + 1, 12)), np.ones((days + 1, 4)))


def test_cash_flows_against_a_hand_computation():
    cfg = MicrogridConfig()
    fin = Finance(discount_rate=0.05, om_share_per_year=0.01)
    totals = {"swap_revenue_eur": 40_000.0, "resident_revenue_eur": 100_000.0, "grid_cost_eur": 30_000.0,
              "storage_discharge_mwh": 0.5, "storage_share": 0.06, "renewable_share": 0.7,
              "swaps_served_share": 0.9, "swaps_served": 90.0, "swaps_requested": 100.0, "grid_mwh": 1.0}
    totals |= {k: 1.0 for k in ("lost_penalty_eur", "unserved_cost_eur", "pack_wear_eur", "fast_charge_eur",
                                "storage_wear_eur", "terminal_eur")}
    r = appraise_year(_run(cfg, 73, totals, bought_kwh=40.0), fin, 3)  # 73 days: a year is 5 runs
    packs = fixed_storage(cfg)
    station_kwh = 3 * 24 + 3 * 40 + 4 * 52 + 2 * 75
    storage = 80.0 * sum(b.soh0 * 75.0 for b in packs) + 150.0 * 37.5 * len(packs) + 20_000.0
    capex = 500 * 724.0 + 500 * 1_120.0 + 150_000.0 + 200.0 * station_kwh + 128.0 * station_kwh + storage
    profit = 5 * (40_000.0 + 100_000.0 - 30_000.0) - 5 * 128.0 * 40.0 - 0.01 * capex
    assert r["capex_eur"] == pytest.approx(capex, rel=1e-12)
    assert r["annual_profit_eur"] == pytest.approx(profit, rel=1e-12)
    assert r["simple_payback_years"] == pytest.approx(capex / profit, rel=1e-12)
    assert r["npv_eur"] == pytest.approx(-capex + sum(profit / 1.05 ** y for y in (1, 2, 3)), rel=1e-12)
    assert r["cash_flows_eur"] == pytest.approx([-capex, profit, profit, profit], rel=1e-12)
    irr = r["irr"]
    assert -capex + sum(profit / (1 + irr) ** y for y in (1, 2, 3)) == pytest.approx(0.0, abs=1e-6 * capex)
    assert r["annual_cost_eur"]["new_packs_eur"] == pytest.approx(5 * 128.0 * 40.0)


def test_a_project_that_never_pays_back_says_so():
    cfg = MicrogridConfig()
    totals = {"swap_revenue_eur": 1.0, "resident_revenue_eur": 0.0, "grid_cost_eur": 10.0,
              "storage_discharge_mwh": 0.0, "storage_share": 0.0, "renewable_share": 0.0,
              "swaps_served_share": 1.0, "swaps_served": 1.0, "swaps_requested": 1.0, "grid_mwh": 0.0}
    totals |= {k: 0.0 for k in ("lost_penalty_eur", "unserved_cost_eur", "pack_wear_eur", "fast_charge_eur",
                                "storage_wear_eur", "terminal_eur")}
    r = appraise_year(_run(cfg, 365, totals, 0.0), Finance(), 20)
    assert r["annual_profit_eur"] < 0 and r["simple_payback_years"] is None and r["irr"] is None


def test_standalone_is_the_same_env_without_plants_storage_or_residents():
    cfg = mode_config(MicrogridConfig(), "standalone")
    assert (cfg.pv_kwp, cfg.wind_rated_kw, cfg.n_storage, cfg.load_peak_kw) == (0.0, 0.0, 0, 0.0)
    run = run_year(MicrogridConfig(), days=2, mode="standalone")
    assert run.totals["renewable_share"] == 0.0 and run.totals["storage_share"] == 0.0
    assert run.totals["resident_revenue_eur"] == 0.0 and run.storage_soh.shape[1] == 0
    with pytest.raises(ValueError, match="needs renewables"):
        mode_config(MicrogridConfig(pv_kwp=0.0, wind_rated_kw=0.0), "integrated")


def test_the_discharge_order_changes_which_storage_packs_wear():
    """Uneven order discharges the weakest pack first: it ends the month more worn than under uniform order."""
    runs = {o: run_year(MicrogridConfig(), days=30, discharge_order=o) for o in ("uniform", "uneven")}
    weakest = int(np.argmin(runs["uniform"].storage_soh[0]))
    assert runs["uniform"].storage_soh[0, weakest] == runs["uneven"].storage_soh[0, weakest]
    assert runs["uneven"].storage_soh[-1, weakest] < runs["uniform"].storage_soh[-1, weakest]


def test_the_days_optimum_earns_at_least_the_rule_on_the_first_day():
    kw = dict(days=1, mode="standalone", seed=3)
    rule = run_year(MicrogridConfig(), **kw)
    milp = run_year(MicrogridConfig(), policy="milp", discharge_order=None, **kw)
    assert milp.daily_profit_eur[0] >= rule.daily_profit_eur[0] - 1e-6
    assert milp.unproven_days == 0
    with pytest.raises(ValueError, match="chooses its own order"):
        run_year(MicrogridConfig(), policy="milp", discharge_order="uneven", days=1)


def test_cli_writes_each_mode_under_its_name_and_plots(tmp_path, capsys):
    out, fig = tmp_path / "eco.json", tmp_path / "eco.png"
    assert main(["economics", "microgrid", "--days", "3", "--json", str(out), "--plot", str(fig)]) == 0
    text = capsys.readouterr().out
    assert "simple payback" in text and "integrated" in text and "standalone" in text
    data = json.loads(out.read_text())
    for mode in ("integrated", "standalone"):
        assert all(k in data[mode] for k in KEYS), sorted(data[mode])
    assert data["integrated"]["capex_eur"] > data["standalone"]["capex_eur"]
    assert data["standalone"]["renewable_share"] == 0.0
    assert fig.stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["--days", "0"], "--days must be a positive integer, got 0"),
    (["--discount-rate", "1.5"], "--discount-rate"),
    (["--pv-eur-per-kw", "-1"], "--pv-eur-per-kw"),
    (["--station-fixed-eur", "-5"], "--station-fixed-eur"),
    (["--mode", "integrated", "--pv-kwp", "0", "--wind-rated-kw", "0"], "needs renewables"),
    (["--n-packs", "3,3"], "--n-packs"),
    (["--n-packs", "0,0,0,0"], "--n-packs"),
    (["--n-packs", "3,x,4,2"], "--n-packs"),
    (["--n-storage", "-1"], "--n-storage"),
    (["--years", "0"], "--years"),
    (["--policy", "milp", "--discharge-order", "uneven"], "--discharge-order uneven"),
    (["--storage-cycle-life", "0"], "--storage-cycle-life"),
])
def test_bad_options_are_one_line_errors(argv, message, capsys):
    assert main(["economics", "microgrid", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
