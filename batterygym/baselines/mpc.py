"""The MPC rungs of the baseline ladder: each setting's rolling-horizon MPC class, from :mod:`batterygym.settings`.

An MPC re-solves the setting's own MILP over a look-ahead window every step (rungs ``mpc_noisy`` and
``mpc_perfect``); e.g. :class:`batterygym.baselines.industrial_mpc.IndustrialMPC`.
"""
from __future__ import annotations

import gymnasium as gym

from batterygym.settings import SETTINGS, load, setting_of_env

# env class ("module:attr") -> its setting's MPC class ("module:attr"; rungs "mpc_noisy" and "mpc_perfect")
MPC_CLASSES: dict[str, str] = {s.entry_point: s.mpc for s in SETTINGS.values() if s.mpc is not None}


def mpc_class(env: gym.Env) -> type | None:
    """The MPC policy class of ``env``'s setting, or None if the setting has none."""
    setting = setting_of_env(env)
    ref = MPC_CLASSES.get(setting.entry_point) if setting is not None else None
    return load(ref) if ref is not None else None
