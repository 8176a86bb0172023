"""Stable-baselines3 agents: training with tuned defaults per env id, and trained runs as policies.

Importing this package does not import torch; ``train`` and ``SB3Policy.load`` do.
"""
from batterygym.agents.hyperparams import load_hyperparams
from batterygym.agents.policy import SB3Policy, read_run
from batterygym.agents.seeds import eval_seeds, train_seed_range
from batterygym.agents.train import train

__all__ = ["SB3Policy", "eval_seeds", "load_hyperparams", "read_run", "train", "train_seed_range"]
