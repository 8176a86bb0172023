"""Reports on episodes, the speed benchmark, the regret benchmark and their plots.

``regret(policy, env_id, seeds)`` scores any policy against the optimum of each held-out episode.
"""
from batterygym.benchmarks.regret import RegretError, evaluate_policies, regret, summarize

__all__ = ["RegretError", "evaluate_policies", "regret", "summarize"]
