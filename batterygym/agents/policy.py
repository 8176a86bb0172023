"""A trained run as a plain policy: ``policy(obs) -> action``, deterministic, with frozen statistics."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
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

        import torch

        from batterygym.agents.recipes import algo_class

        run_dir = Path(run_dir)
        info = read_run(run_dir)
        # One thread, as in training and in a Ray task: a float32 network's output then does not depend on
        # where it runs (more threads split the sums differently), and a batch of one gains nothing from more.
        torch.set_num_threads(1)
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


@dataclass(frozen=True)
class PackedRun:
    """A training run's files as bytes (relative path -> content): a run that travels to another machine.

    A Ray task that trains returns one and the command unpacks it into its runs directory; an evaluation
    task receives one and plays it from a private copy, so no node needs the driver's disk."""

    name: str
    files: dict[str, bytes]

    @classmethod
    def of(cls, run_dir: str | Path, top_only: bool = False) -> PackedRun:
        """Every file of ``run_dir`` (only those at its top, enough to play it, with ``top_only``)."""
        run_dir = Path(run_dir)
        read_run(run_dir)
        paths = run_dir.iterdir() if top_only else run_dir.rglob("*")
        return cls(run_dir.name, {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted(paths)
                                  if p.is_file()})

    def unpack(self, run_dir: str | Path) -> Path:
        """Write the files under ``run_dir`` (replacing those of the same names); returns it."""
        run_dir = Path(run_dir)
        for rel, data in self.files.items():
            path = run_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return run_dir

    def local_dir(self) -> Path:
        """A private copy in this process's temporary directory, written once."""
        import hashlib
        import tempfile

        digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(self.files.items()))).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / "batterygym-runs" / f"{self.name}-{digest}"
        if not (path / "run.json").exists():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            self.unpack(tmp)
            try:
                tmp.rename(path)
            except OSError:  # another worker on this node got there first
                shutil.rmtree(tmp, ignore_errors=True)
        return path
