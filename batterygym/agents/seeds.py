"""The split of episode seeds: training and evaluation never share an episode.

Evaluation (held-out) episodes use seeds ``EVAL_SEED_BASE + i``; training run ``seed`` uses
``TRAIN_SEED_BASE * seed + k``. Both ranges are disjoint for every run seed below ``MAX_RUN_SEED``.
"""
from __future__ import annotations

EVAL_SEED_BASE = 1_000_000_000
TRAIN_SEED_BASE = 1_000_000
MAX_RUN_SEED = 999


def eval_seeds(n: int, offset: int = 0) -> list[int]:
    """The held-out episode seeds used by every evaluation and benchmark."""
    return [EVAL_SEED_BASE + offset + i for i in range(n)]


def train_seed_range(run_seed: int) -> tuple[int, int]:
    """Half-open range ``[lo, hi)`` of the episode seeds a training run with ``run_seed`` may use."""
    if not 0 <= run_seed <= MAX_RUN_SEED:
        raise ValueError(f"seed must be in [0, {MAX_RUN_SEED}], got {run_seed!r}")
    lo = TRAIN_SEED_BASE * run_seed
    return lo, lo + TRAIN_SEED_BASE


def is_eval_seed(seed: int) -> bool:
    return seed >= EVAL_SEED_BASE
