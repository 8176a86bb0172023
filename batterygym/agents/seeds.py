"""The split of episode seeds: training and evaluation never share an episode.

Evaluation (held-out) episodes use seeds ``EVAL_SEED_BASE + i``; training run ``seed`` uses
``TRAIN_SEED_BASE * seed + k``; hyper-parameter searches score on validation seeds
``VALIDATION_SEED_BASE + i``. The three ranges are disjoint for every run seed up to ``MAX_RUN_SEED``
and fewer than ``MAX_EVAL_EPISODES`` held-out or validation episodes.
"""
from __future__ import annotations

EVAL_SEED_BASE = 1_000_000_000
TRAIN_SEED_BASE = 1_000_000
MAX_RUN_SEED = 999
VALIDATION_SEED_BASE = 1_500_000_000
MAX_EVAL_EPISODES = VALIDATION_SEED_BASE - EVAL_SEED_BASE


def eval_seeds(n: int, offset: int = 0) -> list[int]:
    """The held-out episode seeds used by every evaluation and benchmark."""
    if offset < 0 or offset + n > MAX_EVAL_EPISODES:
        raise ValueError(f"held-out episodes: offset + n must be in [0, {MAX_EVAL_EPISODES:,}], got {offset + n}")
    return [EVAL_SEED_BASE + offset + i for i in range(n)]


def train_seed_range(run_seed: int) -> tuple[int, int]:
    """Half-open range ``[lo, hi)`` of the episode seeds a training run with ``run_seed`` may use."""
    if not 0 <= run_seed <= MAX_RUN_SEED:
        raise ValueError(f"seed must be in [0, {MAX_RUN_SEED}], got {run_seed!r}")
    lo = TRAIN_SEED_BASE * run_seed
    return lo, lo + TRAIN_SEED_BASE


def is_eval_seed(seed: int) -> bool:
    return seed >= EVAL_SEED_BASE


def validation_seeds(n: int) -> list[int]:
    """The episode seeds a hyper-parameter search scores on: neither training's nor held out."""
    if not 0 <= n <= MAX_EVAL_EPISODES:
        raise ValueError(f"validation episodes must be in [0, {MAX_EVAL_EPISODES:,}], got {n}")
    return [VALIDATION_SEED_BASE + i for i in range(n)]
