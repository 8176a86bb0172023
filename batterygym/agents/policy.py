"""A trained run as a plain policy: ``policy(obs) -> action``, deterministic, with frozen statistics."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


class SB3Policy:
    """Wraps an SB3 model (and the observation normalisation it was trained with) as a callable."""

    def __init__(self, model: Any, obs_mean: np.ndarray | None = None, obs_var: np.ndarray | None = None,
                 clip_obs: float = 10.0, epsilon: float = 1e-8, name: str = "sb3") -> None:
        self.model = model
        self.name = name
        self._mean = None if obs_mean is None else np.asarray(obs_mean, dtype=np.float64)
        self._std = None if obs_var is None else np.sqrt(np.asarray(obs_var, dtype=np.float64) + epsilon)
        self._clip = clip_obs

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs)
        if self._mean is not None:
            x = np.clip((x - self._mean) / self._std, -self._clip, self._clip).astype(np.float32)
        action, _ = self.model.predict(x, deterministic=True)
        return action

    @classmethod
    def load(cls, run_dir: str | Path, checkpoint: str | Path | None = None) -> SB3Policy:
        """Load ``run_dir/model.zip`` (or a checkpoint) with its saved normalisation statistics."""
        import pickle

        from batterygym.agents.recipes import algo_class

        run_dir = Path(run_dir)
        info = read_run(run_dir)
        cls_ = algo_class(info["algo"])
        model = cls_.load(Path(checkpoint) if checkpoint else run_dir / "model.zip", device="cpu")
        mean = var = None
        clip_obs, eps = 10.0, 1e-8
        stats = run_dir / "vecnormalize.pkl"
        if checkpoint:  # CheckpointCallback names them <algo>_<n>_steps.zip / <algo>_vecnormalize_<n>_steps.pkl
            ck = Path(checkpoint)
            prefix, _, rest = ck.stem.partition("_")
            stats = ck.with_name(f"{prefix}_vecnormalize_{rest}.pkl")
        if stats.exists():
            with open(stats, "rb") as f:
                vn = pickle.load(f)
            if vn.norm_obs:
                mean, var = vn.obs_rms.mean, vn.obs_rms.var
            clip_obs, eps = vn.clip_obs, vn.epsilon
        return cls(model, mean, var, clip_obs, eps, name=info["algo"])


def load_agent(run_dir: str | Path, env: Any) -> Any:
    """A training run as a policy of the plain ``env``: its model, played through its agent's recipe."""
    from batterygym.agents.recipes import recipe

    info = read_run(run_dir)
    return recipe(info["env_id"], info.get("agent", "plain")).policy(env, SB3Policy.load(run_dir))


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The ``run.json`` record of a training run, with a clear error if it is not one."""
    path = Path(run_dir) / "run.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a training run (no run.json); train one with `batterygym train`")
    return json.loads(path.read_text())
