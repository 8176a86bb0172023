"""The per-item PPO policy: one set of weights for every charger, so permuting chargers permutes actions."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import batterygym  # noqa: F401 - registers the ids
from batterygym.agents.per_item import PerItemPolicy
from batterygym.agents.train import resolve_policy


def make_policy(n_evs: int = 5) -> tuple[gym.Env, PerItemPolicy]:
    env = gym.make("batterygym/V2G-v0", n_evs=n_evs, lookahead=4)
    policy = PerItemPolicy(env.observation_space, env.action_space, lambda _: 3e-4, hidden=16, latent=8)
    return env, policy


def test_permuting_chargers_permutes_their_actions():
    env, policy = make_policy()
    torch.manual_seed(0)
    for p in policy.action_net.parameters():  # away from the near-zero initial head
        torch.nn.init.normal_(p)
    obs, _ = env.reset(seed=1)
    for _ in range(9):
        obs, *_ = env.step(env.action_space.sample())
    perm = np.array([3, 0, 4, 1, 2])
    shuffled = obs.copy()
    for block in range(4):
        shuffled[block * 5:(block + 1) * 5] = obs[block * 5:(block + 1) * 5][perm]
    with torch.no_grad():
        a = policy.get_distribution(torch.as_tensor(obs[None])).distribution.mean.numpy().reshape(5, 3)
        b = policy.get_distribution(torch.as_tensor(shuffled[None])).distribution.mean.numpy().reshape(5, 3)
    np.testing.assert_allclose(b, a[perm], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[0], a[1])  # different chargers, different actions


def test_the_same_weights_serve_any_number_of_chargers():
    _, small = make_policy(5)
    _, large = make_policy(40)
    n_small = sum(p.numel() for p in small.mlp_extractor.parameters())
    n_large = sum(p.numel() for p in large.mlp_extractor.parameters())
    assert n_small == n_large
    env, policy = make_policy(40)
    obs, _ = env.reset(seed=0)
    action, _ = policy.predict(obs, deterministic=True)
    assert action.shape == (120,) and env.action_space.contains(action)


def test_bad_layouts_and_policy_names_fail_clearly():
    env = gym.make("batterygym/Industrial-v0")
    with pytest.raises(ValueError, match="not groups of action_per_item=3"):
        PerItemPolicy(env.observation_space, env.action_space, lambda _: 3e-4)
    assert resolve_policy("MlpPolicy") == "MlpPolicy"
    assert resolve_policy("batterygym.agents.per_item:PerItemPolicy") is PerItemPolicy
    with pytest.raises(ValueError, match="cannot be imported"):
        resolve_policy("batterygym.agents.per_item:Nope")
