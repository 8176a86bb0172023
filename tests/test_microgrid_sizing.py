"""The microgrid's storage-sizing integer programme: brute force, constraints, bad input, CLI, env."""
from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401  (registers the envs)
from batterygym.baselines.microgrid_sizing import SizingProblem, brute_force, mean_day, solve_sizing
from batterygym.cli import main
from batterygym.core.microgrid_generator import MicrogridConfig, generate_episodes


def _small(seed: int, shares: bool) -> SizingProblem:
    rng = np.random.default_rng(seed)
    hours = 6
    return SizingProblem(
        categories=("A", "B", "C"), pack_kwh=tuple(rng.uniform(10, 60, 3).round(1).tolist()),
        soh=tuple(rng.uniform(0.6, 0.8, 3).round(3).tolist()),
        deficit_kw=tuple(rng.uniform(0, 30, hours).round(1).tolist()),
        surplus_kw=tuple(rng.uniform(0, 40, hours).round(1).tolist()),
        price_eur_per_kwh=float(rng.uniform(40, 150)), gap_value_eur_per_kwh=float(rng.uniform(0.05, 0.4)),
        daily_cost_factor=float(rng.uniform(2e-4, 2e-3)), c_rate=float(rng.uniform(0.3, 1.0)), max_count=5,
        orderings=(("C", "B"),), shares=(0.3, 0.3, 0.4) if shares else (), share_slack=1.0)


def _meets(p: SizingProblem, counts: dict[str, int]) -> bool:
    if any(counts[a] <= counts[b] for a, b in p.orderings):
        return False
    total = sum(counts.values())
    return not p.shares or all(abs(counts[c] - x * total) <= p.share_slack + 1e-9
                               for c, x in zip(p.categories, p.shares, strict=True))


@pytest.mark.parametrize("seed, shares", [(s, sh) for s in range(6) for sh in (False, True)])
def test_integer_programme_equals_brute_force(seed: int, shares: bool) -> None:
    p = _small(seed, shares)
    values = [p.objective(dict(zip(p.categories, n, strict=True)))
              for n in itertools.product(range(p.max_count + 1), repeat=3)
              if _meets(p, dict(zip(p.categories, n, strict=True)))]
    r = solve_sizing(p)
    assert r.status == "optimal"
    assert r.objective_eur_per_day == pytest.approx(min(values), rel=1e-9, abs=1e-9)
    assert brute_force(p)[1] == pytest.approx(min(values), rel=1e-12)
    assert _meets(p, r.counts) and all(0 <= n <= p.max_count for n in r.counts.values())


def test_covered_energy_by_hand() -> None:
    p = SizingProblem(categories=("A",), pack_kwh=(20.0,), soh=(0.5,), deficit_kw=(10.0, 0.0, 4.0),
                      surplus_kw=(0.0, 30.0, 0.0), c_rate=0.5, window=0.8, eta_charge=1.0, eta_discharge=1.0)
    # one pack: 10 kW, 0.8 * 0.5 * 20 = 8 kWh usable; the deficit 10 + 4 at most 10 + 4 kW; the surplus 10 kWh
    assert p.covered_kwh({"A": 1}) == pytest.approx(min(min(10.0, 10.0) + 4.0, 0.8 * 0.5 * 20.0, min(30.0, 10.0)))
    # three packs: 30 kW, 24 kWh usable: the whole deficit 14 kWh, limited by nothing
    assert p.covered_kwh({"A": 3}) == pytest.approx(10.0 + 4.0)
    q = dataclasses.replace(p, eta_charge=0.9, eta_discharge=0.9)
    assert q.covered_kwh({"A": 1}) == pytest.approx(min(14.0, 0.9 * 8.0, 0.81 * 10.0))


def test_default_sizing_meets_orderings_and_shares() -> None:
    cfg = MicrogridConfig()
    p = SizingProblem.from_config(cfg)
    assert ("C", "B") in p.orderings  # the source's n_C > n_B
    r = solve_sizing(p)
    assert r.status == "optimal"
    assert all(r.counts[a] > r.counts[b] for a, b in p.orderings)
    total = sum(r.counts.values())
    for c, share in zip(cfg.categories, cfg.demand_shares, strict=True):
        assert abs(r.counts[c] - share * total) <= p.share_slack + 1e-9
    assert r.covered_kwh <= sum(p.deficit_kw) + 1e-9
    assert r.objective_eur_per_day == pytest.approx(p.objective(r.counts))


def test_mean_day_matches_the_generator() -> None:
    cfg = MicrogridConfig()
    day = mean_day(cfg, margin=0.0)
    ep = generate_episodes([np.random.default_rng(s) for s in range(300)], cfg)
    assert ep.pv_kw.mean(axis=0).sum() == pytest.approx(day.pv_kw.sum(), rel=0.02)
    assert ep.wind_kw.mean() == pytest.approx(day.wind_kw.mean(), rel=0.05)
    assert ep.load_kw.mean(axis=0) == pytest.approx(day.load_kw, rel=0.02)
    # the energy the swapped packs take, per day, against the drawn requests
    taken = np.array(cfg.pack_kwh)[ep.swap_category] * (1.0 - ep.swap_soc) / cfg.pack_eta
    assert taken.sum() / ep.n == pytest.approx(day.station_kw.sum(), rel=0.05)
    assert day.deficit_kw - day.surplus_kw == pytest.approx(day.demand_kw - day.pv_kw - day.wind_kw)


@pytest.mark.parametrize("change, named", [
    (dict(max_count=-1), "max_count"),
    (dict(orderings=(("C", "Z"),)), "'Z'"),
    (dict(soh=(0.7, 0.7)), "soh"),
    (dict(soh=(0.7, 1.5, 0.7)), "soh"),
    (dict(shares=(0.5, 0.2, 0.2)), "shares"),
    (dict(categories=("A", "A", "C")), "categories"),
    (dict(max_count=0), "max_count"),  # the ordering C > B needs a pack
])
def test_bad_input_names_the_field(change: dict, named: str) -> None:
    base = dataclasses.asdict(_small(0, False))
    with pytest.raises(ValueError, match=named):
        SizingProblem(**(base | change))


def test_cli_json_and_bad_input(tmp_path: Path, capsys) -> None:
    out = tmp_path / "size.json"
    assert main(["size", "microgrid", "--max-count", "12", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {"counts", "pack_kwh", "soh", "nominal_kwh", "remaining_kwh", "capex_eur", "objective_eur_per_day",
            "deficit_kwh", "surplus_kwh", "covered_kwh", "orderings", "status", "env_kwargs", "finance"} <= set(data)
    assert set(data["counts"]) == {"A", "B", "C", "D"} and data["status"] == "optimal"
    assert data["env_kwargs"]["n_storage"] == sum(data["counts"].values())
    printed = capsys.readouterr().out
    assert all(f"{c} " in printed for c in "ABCD") and "n_storage=" in printed
    for argv, named in ((["--max-count", "-1"], "--max-count"), (["--days", "3"], "--days"),
                        (["--soh", "0"], "--soh"), (["--wind-rated-kw", "-1"], "--wind-rated-kw")):
        never = tmp_path / "never.json"
        assert main(["size", "microgrid", *argv, "--json", str(never)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and named in err[0] and not never.exists()


def test_chosen_storage_builds_a_working_env() -> None:
    r = solve_sizing(SizingProblem.from_config(max_count=8))
    kw = r.env_kwargs()
    assert kw["n_storage"] == sum(r.counts.values())
    assert kw["n_storage"] * kw["storage_kwh"] == pytest.approx(r.nominal_kwh)
    env = gym.make("batterygym/MicrogridBSS-v0", **kw)
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    assert u.n_storage == kw["n_storage"] and env.observation_space.contains(obs)
    for _ in range(3):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(obs)
    env.close()
