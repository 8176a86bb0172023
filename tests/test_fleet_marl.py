"""The fleet as a PettingZoo parallel env: PettingZoo's API test, the same money as ``Fleet-v0``, lazy import."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pettingzoo")  # the `marl` extra (in `dev`, so CI has it)

from pettingzoo.test import parallel_api_test  # noqa: E402

from batterygym.envs.fleet import FleetEnv  # noqa: E402
from batterygym.envs.fleet_marl import FleetParallelEnv, parallel_env  # noqa: E402


@pytest.mark.parametrize("kwargs", [dict(), dict(n_assets=3, n_markets=2, lookahead=4)])
def test_parallel_api(kwargs):
    parallel_api_test(parallel_env(**kwargs), num_cycles=60)


def test_agents_rewards_add_up_to_the_fleet_reward():
    marl, single = FleetParallelEnv(terminal_value_eur_per_mwh=30.0), FleetEnv(terminal_value_eur_per_mwh=30.0)
    rng = np.random.default_rng(0)
    obs, infos = marl.reset(seed=4)
    single.reset(seed=4)
    assert marl.agents == [f"asset_{i}" for i in range(5)] and set(infos) == set(marl.agents)
    assert all(marl.observation_space(a).contains(o) for a, o in obs.items())
    steps = 0
    while marl.agents:
        actions = {a: rng.uniform(-1, 1, 4).astype(np.float32) for a in marl.agents}
        obs, rewards, terms, truncs, _ = marl.step(actions)
        _, reward, terminated, _, _ = single.step(np.concatenate([actions[a] for a in marl.possible_agents]))
        assert sum(rewards.values()) == pytest.approx(reward, rel=1e-9, abs=1e-9)
        assert all(marl.observation_space(a).contains(o) for a, o in obs.items())
        assert all(terms.values()) == terminated
        steps += 1
    assert steps == 24 and marl.scenario is marl.fleet_env.scenario


def test_missing_agents_idle_and_unknown_agents_are_refused():
    env = FleetParallelEnv()
    env.reset(seed=0)
    _, rewards, *_ = env.step({})
    assert all(r == 0.0 for r in rewards.values())
    with pytest.raises(ValueError, match="unknown agent"):
        env.step({"asset_9": np.zeros(4, dtype=np.float32)})


def test_import_batterygym_does_not_import_pettingzoo():
    code = "import sys, batterygym, batterygym.envs, gymnasium; gymnasium.make('batterygym/Fleet-v0'); " \
           "print('pettingzoo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
