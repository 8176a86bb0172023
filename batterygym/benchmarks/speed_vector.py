"""The vector rows of ``batterygym benchmark speed``: native vector envs beside a numpy-batched bare battery.

Every setting whose vector entry point imports is made with ``gym.make_vec(id, num_envs,
vectorization_mode="vector_entry_point")`` (1024 sub-envs by default) and stepped with a fixed action,
autoresets included; a setting whose vector env does not import gets a row that says so. The
reference, :class:`BareBatteryVectorEnv`, steps ``num_envs`` bare batteries as numpy arrays, round-robin
with the envs, so a rate is read as a ratio of battery-steps/s (env steps/s x ``batteries_per_env``)
measured in the same run. ``reset_us`` is one ``reset()`` of every sub-env over ``num_envs``: the time
a scenario takes to draw and set up. The sync rows compare the native vector env with
``vectorization_mode="sync"`` (that many scalar envs) at a small ``num_envs``.

A timed block runs for at least ``seconds`` and until an autoreset has happened in it; its rate is
steps over the time. Rates are medians over ``repeats`` blocks.
"""
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

NUM_ENVS = 1024
SYNC_ENVS = 16
TARGET_RESET_US = 50.0  # per scenario, in the vector env
REFERENCE = "bare battery"


class BareBatteryVectorEnv(VectorEnv):
    """The reference of the vector rows: ``num_envs`` batteries on an hourly price, stepped as arrays.

    250 kWh of 500 at the start, 200 kW both ways, 95 % each way, a 10-90 % window; 168-step episodes
    that all end together and reset at the next step (``NEXT_STEP``, reward 0), as lean as a vector env
    gets in numpy: the floor real vector envs are compared with.
    """

    batteries_per_env = 1
    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = NUM_ENVS, n_steps: int = 168) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs, self.n_steps = num_envs, n_steps
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.price = 0.1 + 0.1 * (np.arange(n_steps) % 24 >= 8)
        self._e = np.full(num_envs, 250.0)
        self._t, self._ended = 0, False
        self._no = np.zeros(num_envs, dtype=bool)
        self._yes = np.ones(num_envs, dtype=bool)

    def _observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, 2), dtype=np.float32)
        obs[:, 0] = self._e * (1.0 / 500.0)
        obs[:, 1] = self.price[min(self._t, self.n_steps - 1)]
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._e[:] = 250.0
        self._t, self._ended = 0, False
        return self._observe(), {}

    def step(self, actions: np.ndarray):
        if self._ended:  # every episode ended last step: this one resets them
            self._e[:] = 250.0
            self._t, self._ended = 0, False
            return self._observe(), np.zeros(self.num_envs), self._no, self._no, {}
        e = self._e
        p = np.clip(np.asarray(actions, dtype=np.float64)[:, 0] * 200.0, -np.minimum(200.0, (e - 50.0) * 0.95),
                    np.minimum(200.0, (450.0 - e) / 0.95))
        self._e = e + np.where(p > 0.0, 0.95 * p, p / 0.95)
        reward = -self.price[self._t] * p
        self._t += 1
        self._ended = self._t >= self.n_steps
        return self._observe(), reward, self._yes if self._ended else self._no, self._no, {}


def batteries_per_env(env: Any) -> int:
    """How many batteries one sub-env of ``env`` steps (its own attribute or its unwrapped env's)."""
    for obj in (env, getattr(env, "unwrapped", env)):
        n = getattr(obj, "batteries_per_env", None)
        if n is not None:
            return int(n)
    raise ValueError(f"{type(env).__name__} has no batteries_per_env")


class _VectorMeter:
    """One vector env, stepped with fixed actions in timed blocks; rates and reset times per action."""

    def __init__(self, env: Any, values: dict[str, float], seconds: float, seed: int = 0) -> None:
        from batterygym.benchmarks.speed import fixed_action

        self.env, self.seconds = env, seconds
        self.num_envs = int(env.num_envs)
        self.actions = {label: np.stack([fixed_action(env.single_action_space, v)] * self.num_envs)
                        for label, v in values.items()}
        self.rates: dict[str, list[float]] = {label: [] for label in values}
        self.reset_s: list[float] = []
        env.reset(seed=seed)
        for action in self.actions.values():  # warm-up: caches, first-step paths
            for _ in range(3):
                env.step(action)

    def measure(self, label: str) -> None:
        env, action, perf = self.env, self.actions[label], time.perf_counter
        t0 = perf()
        env.reset()
        self.reset_s.append((perf() - t0) / self.num_envs)
        steps, resets, ended = 0, 0, False
        t0 = perf()
        while True:
            _, _, terminated, truncated, _ = env.step(action)
            steps += 1
            resets += ended  # this step reset the sub-envs that ended the step before
            ended = bool(np.any(terminated) or np.any(truncated))
            elapsed = perf() - t0
            if elapsed >= self.seconds and (resets or elapsed >= 20.0 * self.seconds):
                break
        self.rates[label].append(steps / elapsed)

    def median(self, label: str) -> float:
        return statistics.median(self.rates[label])

    @property
    def reset_us(self) -> float:
        return 1e6 * statistics.median(self.reset_s)


def vector_env(env_id: str, num_envs: int, ref: str, mode: str = "vector_entry_point") -> tuple[Any, str | None]:
    """``gym.make_vec(env_id, num_envs, mode)``, or None and why when the vector entry point ``ref`` does not
    import (no such module, or it fails to import)."""
    from batterygym.settings import load

    if mode == "vector_entry_point":
        try:
            load(ref)
        except (ImportError, AttributeError) as exc:
            return None, f"{ref} does not import ({type(exc).__name__}: {exc})"
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode), None


def measure_vector(entries: Sequence[tuple[str, str]], values: dict[str, float], num_envs: int = NUM_ENVS,
                   seconds: float = 1.0, repeats: int = 3, sync_envs: int = SYNC_ENVS, progress: bool = False,
                   make_reference: Callable[[int], Any] = BareBatteryVectorEnv) -> dict[str, Any]:
    """The vector rows for ``entries`` (``(env_id, vector entry point)`` pairs) and the bare battery reference.

    Every env is stepped with each of ``values`` (fixed action values), all round-robin; ``sync_envs = 0``
    skips the sync rows.
    """
    from tqdm.auto import tqdm

    meters: dict[str, _VectorMeter] = {REFERENCE: _VectorMeter(make_reference(num_envs), values, seconds)}
    skipped: dict[str, str] = {}
    sync: dict[str, tuple[_VectorMeter, _VectorMeter]] = {}
    for env_id, ref in entries:
        env, why = vector_env(env_id, num_envs, ref)
        if env is None:
            skipped[env_id] = why or "does not import"
            continue
        meters[env_id] = _VectorMeter(env, values, seconds)
        if sync_envs > 0:
            native, _ = vector_env(env_id, sync_envs, ref)
            plain, _ = vector_env(env_id, sync_envs, ref, mode="sync")
            sync[env_id] = (_VectorMeter(native, values, seconds), _VectorMeter(plain, values, seconds))
    every = [*meters.values(), *(m for pair in sync.values() for m in pair)]
    with tqdm(total=repeats * len(every) * len(values), desc="vector env steps", unit="block",
              disable=not progress, file=sys.stderr, leave=False) as bar:
        for _ in range(repeats):
            for label in values:
                for m in every:
                    m.measure(label)
                    bar.update()

    ref_meter = meters.pop(REFERENCE)
    reference, envs, sync_rows = [], [], []
    for label, value in values.items():
        ref_rate = ref_meter.median(label) * ref_meter.num_envs
        reference.append({"name": REFERENCE, "action": value, "env_steps_per_s": ref_rate,
                          "battery_steps_per_s": ref_rate, "reset_us": ref_meter.reset_us})
        for env_id, m in meters.items():
            rate = m.median(label) * m.num_envs
            per = batteries_per_env(m.env)
            envs.append({"env_id": env_id, "status": "ok", "action": value, "batteries_per_env": per,
                         "env_steps_per_s": rate, "battery_steps_per_s": rate * per,
                         "ratio": rate * per / ref_rate, "reset_us": m.reset_us})
        for env_id, (native, plain) in sync.items():
            fast, slow = native.median(label) * sync_envs, plain.median(label) * sync_envs
            sync_rows.append({"env_id": env_id, "action": value, "num_envs": sync_envs,
                              "vector_env_steps_per_s": fast, "sync_env_steps_per_s": slow, "speedup": fast / slow})
    for env_id, why in skipped.items():
        envs.append({"env_id": env_id, "status": "skipped", "reason": why})
    for env in [ref_meter.env, *(m.env for m in meters.values()), *(m.env for pair in sync.values() for m in pair)]:
        env.close()
    return {"num_envs": num_envs, "seconds": seconds, "repeats": repeats, "sync_envs": sync_envs,
            "reference": reference, "envs": envs, "sync": sync_rows}


def vector_targets(vector: dict[str, Any], ratio_targets: dict[str, float],
                   target: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """PASS/MISS rows: each measured vector env's slowest battery-steps/s ratio against its target, and its
    reset time per scenario against :data:`TARGET_RESET_US`."""
    out = []
    n = vector["num_envs"]
    for env_id, goal in ratio_targets.items():
        rows = [e for e in vector["envs"] if e["env_id"] == env_id and e["status"] == "ok"]
        if rows:
            out.append(target(f"{env_id} vector env, {n} envs, battery-steps/s over the bare battery's (slowest)",
                              ">=", goal, min(e["ratio"] for e in rows), "ratio"))
            out.append(target(f"{env_id} vector env, reset per scenario", "<=", TARGET_RESET_US,
                              rows[0]["reset_us"], "us"))
    return out


def format_vector(vector: dict[str, Any]) -> list[str]:
    """The printed lines of the vector rows."""
    lines = ["", f"Vector envs, {vector['num_envs']:,} sub-envs (gym.make_vec, vector_entry_point; fixed action, "
                 f"autoresets included; ratio: battery-steps/s / the bare battery's)"]
    head = (f"{'vector env':<34}{'action':>7}{'env steps/s':>14}{'x batteries':>12}{'battery steps/s':>17}"
            f"{'ratio':>8}{'reset us':>10}")
    lines += [head, "-" * len(head)]
    for e in vector["envs"]:
        if e["status"] != "ok":
            lines.append(f"{e['env_id']:<34}  skipped: {e['reason']}")
            continue
        lines.append(f"{e['env_id']:<34}{e['action']:>7g}{e['env_steps_per_s']:>14,.0f}{e['batteries_per_env']:>12}"
                     f"{e['battery_steps_per_s']:>17,.0f}{e['ratio']:>8.3f}{e['reset_us']:>10.1f}")
    for r in vector["reference"]:
        lines.append(f"{'reference: ' + r['name']:<34}{r['action']:>7g}{r['env_steps_per_s']:>14,.0f}{1:>12}"
                     f"{r['battery_steps_per_s']:>17,.0f}{1:>8.3f}{r['reset_us']:>10.1f}")
    if vector["sync"]:
        lines += ["", f"Native vector env against vectorization_mode=\"sync\", {vector['sync_envs']} sub-envs "
                      f"(env steps/s)"]
        head = f"{'env':<34}{'action':>7}{'vector env':>12}{'sync':>12}{'speedup':>9}"
        lines += [head, "-" * len(head)]
        for r in vector["sync"]:
            lines.append(f"{r['env_id']:<34}{r['action']:>7g}{r['vector_env_steps_per_s']:>12,.0f}"
                         f"{r['sync_env_steps_per_s']:>12,.0f}{r['speedup']:>8.1f}x")
    return lines
