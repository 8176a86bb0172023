"""The microgrid's battery life cycle between days: fade, retirement, the circular transfer, and the counts."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from batterygym.baselines.microgrid_bss import solve
from batterygym.core.microgrid import simulate
from batterygym.core.microgrid_generator import MicrogridConfig, fixed_storage, generate_microgrid
from batterygym.core.microgrid_life import (
    LifeParams,
    check_life,
    day_scenario,
    end_of_day,
    max_fade,
    start_life,
    station_soh,
)
from batterygym.envs.microgrid_bss import MicrogridBSSEnv

# fast ageing, so that a few days see packs retire, move and get spent
FAST = LifeParams(station_cycle_life=40.0, storage_cycle_life=60.0)
CFG = MicrogridConfig(n_storage=3)


def _days(n: int, life: LifeParams, seed: int = 0, actions: str = "random"):
    """Yield (scenario, state before, schedule, state after) for ``n`` days of random or idle actions."""
    rng = np.random.default_rng(seed)
    s0 = generate_microgrid(np.random.default_rng(seed), CFG, fixed_storage(CFG))
    state = start_life(s0, rng, life, CFG.storage_price_eur_per_kwh)
    for d in range(n):
        drawn = s0 if d == 0 else generate_microgrid(np.random.default_rng([seed, d]), CFG, state.storage)
        s = day_scenario(drawn, state)
        a = rng.uniform(-1, 1, (s.n_steps, s.action_dim)) if actions == "random" else np.zeros((s.n_steps,
                                                                                                s.action_dim))
        schedule = simulate(s, a)
        after = end_of_day(s, state, schedule)
        yield s, state, schedule, after
        state = after


def test_life_cycle_invariants_hold_every_day_and_every_event_happens():
    """No pack below its threshold, places respected, packs conserved (storage = initial + transferred -
    depleted, shelf = retired - transferred), and with fast ageing each kind of event occurs."""
    last = None
    for s, before, schedule, after in _days(12, FAST):
        check_life(after, CFG.n_storage)
        # within the day too: every hour's SoH stays at or above its threshold
        charge = schedule[[f"charge_kw:{n}" for n in s.slot_names]].to_numpy()
        assert station_soh(s, np.array(before.slot_soh), charge, FAST).min() >= FAST.first_life_end
        for k in range(s.n_storage):
            assert schedule[f"soh:s{k}"].min() >= FAST.second_life_end
        # counts only grow, and bought capacity follows the retired packs
        assert after.counts.retired >= before.counts.retired
        assert after.counts.bought_kwh >= before.counts.bought_kwh
        last = after
    c = last.counts
    assert c.retired > 0 and c.transferred > 0 and c.depleted > 0


def test_station_fade_is_linear_in_the_energy_stored():
    s, before, schedule, after = next(_days(1, LifeParams()))
    charge = schedule[[f"charge_kw:{n}" for n in s.slot_names]].to_numpy()
    stored = charge.sum(axis=0) * s.pack_eta
    expect = np.array(before.slot_soh) - 0.2 * stored / (2000.0 * np.array(s.slot_pack_kwh))
    kept = np.array(after.slot_soh) < 1.0  # not replaced by a new pack
    assert np.allclose(np.array(after.slot_soh)[kept], expect[kept], rtol=0, atol=1e-12)


def test_a_retired_pack_is_replaced_by_a_new_full_one_and_moves_to_an_empty_place():
    life = LifeParams()
    s = generate_microgrid(np.random.default_rng(0), CFG, fixed_storage(CFG))
    state = start_life(s, np.random.default_rng(0), life, CFG.storage_price_eur_per_kwh)
    # slot 0 at the threshold, and a spent storage pack: the pack must retire and fill the freed place
    worn = dataclasses.replace(state.storage[0], soh0=0.6 + max_fade(state.storage[0], 24.0) / 2)
    state = dataclasses.replace(state, slot_soh=(0.8005,) + (0.95,) * (s.n_slots - 1),
                                storage=(worn,) + state.storage[1:], shelf=())
    day = day_scenario(s, state)
    after = end_of_day(day, state, simulate(day, np.zeros((s.n_steps, s.action_dim))))
    assert after.slot_soh[0] == 1.0 and after.slot_energy_kwh[0] == s.slot_pack_kwh[0]
    assert after.counts.retired == state.counts.retired + 1 and after.counts.depleted == state.counts.depleted + 1
    assert after.counts.transferred == state.counts.transferred + 1
    moved = after.storage[-1]
    assert moved.capacity_kwh == s.slot_pack_kwh[0] and moved.soh0 == pytest.approx(0.8005, abs=1e-6)
    assert moved.soc0 == moved.soc_min and len(after.storage) == len(state.storage)
    assert after.counts.bought_kwh == state.counts.bought_kwh + s.slot_pack_kwh[0]


def test_env_and_milp_agree_on_a_day_with_aged_and_transferred_packs():
    """The day after transfers is an ordinary scenario: the optimum replays in the env to its objective and
    beats the idle policy."""
    for _s, _, _, after in _days(6, FAST):
        if after.counts.transferred:
            break
    else:
        pytest.fail("no transfer happened")
    nxt = day_scenario(generate_microgrid(np.random.default_rng(99), CFG, after.storage), after)
    assert any(b.capacity_kwh != CFG.storage_kwh for b in nxt.storage)  # a transferred station pack serves
    plan = solve(nxt, time_limit=60)
    assert plan.status == "optimal"
    env = MicrogridBSSEnv(scenario=nxt)
    env.reset(seed=0)
    total = sum(float(env.step(a)[1]) for a in plan.actions)
    assert total == pytest.approx(plan.objective, rel=1e-9, abs=1e-9)
    assert plan.objective >= float(simulate(nxt, np.zeros_like(plan.actions))["reward"].sum()) - 1e-9


def test_bad_life_parameters_name_the_field():
    with pytest.raises(ValueError, match="second_life_end"):
        LifeParams(second_life_end=0.9)
    with pytest.raises(ValueError, match="station_cycle_life"):
        LifeParams(station_cycle_life=0)
    with pytest.raises(ValueError, match="station_soh_min"):
        LifeParams(station_soh_min=0.7)


def test_the_env_carries_the_packs_as_the_schedule_does():
    """``reset(options={"packs": ...})`` and the last step's ``info["packs"]`` give the state ``end_of_day``
    computes from the same day's :func:`simulate` record, day after day."""
    env = MicrogridBSSEnv(**{"n_storage": CFG.n_storage})
    env.reset(seed=5)
    life = start_life(env.scenario, np.random.default_rng(1), FAST)
    rng = np.random.default_rng(2)
    for _ in range(4):
        env.reset(options={"packs": life})
        s = env.scenario
        actions = rng.uniform(-1, 1, (s.n_steps, s.action_dim)).astype(np.float32)
        for a in actions:
            *_, info = env.step(a)
        expect = end_of_day(s, life, simulate(s, actions.astype(np.float64)))
        got = info["packs"]
        assert got.counts == expect.counts and got.shelf == expect.shelf
        assert np.allclose(got.slot_soh, expect.slot_soh, rtol=0, atol=1e-12)
        assert np.allclose(got.slot_energy_kwh, expect.slot_energy_kwh, rtol=0, atol=1e-9)
        assert [b.soh0 for b in got.storage] == pytest.approx([b.soh0 for b in expect.storage], abs=1e-12)
        life = got
    with pytest.raises(ValueError, match="packs must be a PackLife"):
        env.reset(options={"packs": "worn"})
