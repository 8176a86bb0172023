"""The learned rungs' targets, checked on a benchmark's summary and printed beside its table.

Per env (:class:`~batterygym.settings.Setting`): the best learned rung captures at least its
``learned_target`` share of the optimum's gain over idle (``quick_learned_target`` under ``--quick``,
where a setting has one) and beats the best heuristic rung; the best SAC-family rung (SAC, TQC) is within
:data:`SAC_FAMILY_GAP` of the best PPO rung. The quick benchmark of every env stays under
:data:`QUICK_WALL_S`. A target missed is reported as missed, never dropped.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SAC_FAMILY_GAP = 0.10  # the best SAC or TQC rung within 10 points of the best PPO rung
SAC_FAMILY = ("sac", "tqc")
QUICK_WALL_S = 15 * 60.0  # the quick benchmark of the four envs, on 2 CPU cores


def _target(name: str, op: str, target: float, measured: float, unit: str) -> dict[str, Any]:
    ok = bool(np.isfinite(measured)) and (measured >= target if op == ">=" else measured < target)
    return {"name": name, "op": op, "target": target, "measured": measured, "unit": unit, "pass": ok}


def agent_targets(summary: pd.DataFrame, quick: bool, wall_seconds: float, all_envs: bool) -> list[dict[str, Any]]:
    """The targets of the learned rungs in ``summary`` (a benchmark's, with ``kind``), as measured."""
    from batterygym.settings import setting_of_id

    out = []
    for env_id, rows in summary.groupby("env_id", sort=False):
        setting = setting_of_id(env_id)
        learned = rows[rows["kind"] == "learned"]
        if learned.empty:
            continue
        best = float(learned["captured"].max())
        target = setting.quick_learned_target if quick else setting.learned_target
        if target is not None:
            out.append(_target(f"{env_id}: best learned rung's gain captured", ">=", target, best, "share"))
        if quick:
            continue
        heuristic = rows[(rows["kind"] == "heuristic") & (rows["policy"] != "idle")]
        if not heuristic.empty:
            out.append(_target(f"{env_id}: best learned over best heuristic", ">=", 0.0,
                               best - float(heuristic["captured"].max()) - 1e-12, "share"))
        family = learned["policy"].str.split("-").str[0]
        ppo, sac = learned[family == "ppo"], learned[family.isin(SAC_FAMILY)]
        if not ppo.empty and not sac.empty:
            out.append(_target(f"{env_id}: best SAC-family rung to best PPO rung", ">=", -SAC_FAMILY_GAP,
                               float(sac["captured"].max()) - float(ppo["captured"].max()), "share"))
    if quick and all_envs:
        out.append(_target("quick benchmark of every env, wall", "<", QUICK_WALL_S, wall_seconds, "s"))
    return out


def format_targets(targets: list[dict[str, Any]]) -> str:
    """One line per target: PASS or MISS, measured against the bar."""
    lines = []
    for t in targets:
        lines.append(f"{'PASS' if t['pass'] else 'MISS'}  {t['name']}: {_value(t, t['measured'])} "
                     f"(target {t['op']} {_value(t, t['target'])})")
    return "\n".join(lines)


def _value(t: dict[str, Any], v: float) -> str:
    """Seconds, a share in percent, or a difference of shares in points (targets at or below zero)."""
    if t["unit"] == "s":
        return f"{v:,.0f} s"
    return f"{100 * v:+.1f} pts" if t["target"] <= 0 else f"{100 * v:.1f} %"
