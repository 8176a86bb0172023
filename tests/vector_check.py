"""The check every native vector env passes: its trajectories equal those of ``num_envs`` scalar envs.

``assert_matches_scalar`` steps ``gym.make_vec(id, n, vectorization_mode="vector_entry_point")`` and the
same id's ``SyncVectorEnv`` over scalar envs side by side, with the same seeds and the same random
actions (some beyond [-1, 1], so the clipping is compared too), across autoresets, and compares
observations (to float32 rounding), rewards, terminations, truncations and the infos' money keys
(1e-9 relative).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import batterygym  # noqa: F401 - registers the ids


def assert_matches_scalar(env_id: str, n: int, seed: int | list[int], steps: int, money: Sequence[str],
                          action_seed: int = 0, spread: float = 1.2, autoreset_mode: str = "NextStep",
                          **kwargs: Any) -> dict[str, Any]:
    """Step both for ``steps`` steps; return counts (episodes ended) so callers can assert coverage."""
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point",
                       autoreset_mode=autoreset_mode, **kwargs)
    ref = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode(autoreset_mode)}, **kwargs)
    assert vec.single_observation_space == ref.single_observation_space
    assert vec.single_action_space == ref.single_action_space
    assert vec.metadata["autoreset_mode"] == ref.metadata["autoreset_mode"]
    obs_v, _ = vec.reset(seed=seed)
    obs_r, _ = ref.reset(seed=seed)
    np.testing.assert_allclose(obs_v, obs_r, rtol=1e-6, atol=1e-6)
    assert obs_v.dtype == obs_r.dtype
    rng = np.random.default_rng(action_seed)
    ended = 0
    for t in range(steps):
        a = rng.uniform(-spread, spread, size=vec.action_space.shape).astype(vec.action_space.dtype)
        ov, rv, tv, uv, iv = vec.step(a)
        orf, rr, tr, ur, ir = ref.step(a)
        where = f"step {t}"
        np.testing.assert_allclose(rv, rr, rtol=1e-9, atol=1e-9, err_msg=where)
        np.testing.assert_array_equal(tv, tr, err_msg=where)
        np.testing.assert_array_equal(uv, ur, err_msg=where)
        np.testing.assert_allclose(ov, orf, rtol=1e-6, atol=1e-6, err_msg=where)
        assert vec.observation_space.contains(ov), where
        for key in money:
            mask = ir.get(f"_{key}", np.zeros(n, dtype=bool))
            np.testing.assert_array_equal(iv.get(f"_{key}", np.zeros(n, dtype=bool)), mask, err_msg=f"{where} _{key}")
            if mask.any():
                got, want = np.asarray(iv[key], dtype=float)[mask], np.asarray(ir[key], dtype=float)[mask]
                np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=f"{where} {key}")
        if "final_obs" in ir:
            for i in np.flatnonzero(ir["_final_obs"]):
                np.testing.assert_allclose(iv["final_obs"][i], ir["final_obs"][i], rtol=1e-6, atol=1e-6)
        ended += int((tv | uv).sum())
    vec.close()
    ref.close()
    return {"ended": ended}
