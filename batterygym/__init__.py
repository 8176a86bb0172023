"""batterygym: battery-dispatch Gymnasium envs, each with its exact perfect-foresight MILP.

Importing registers the ``batterygym/*`` ids; nothing heavy (torch, pyomo) is imported here.
The ids register no ``max_episode_steps``: every env ends (``terminated``) at its scenario's last
step, so ``gym.make(id, n_days=14)`` runs its 14 days; a ``max_episode_steps`` given to ``gym.make``
still truncates the episode there.
"""
from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

_ENVS = {
    "batterygym/Industrial-v0": ("batterygym.envs.industrial:IndustrialEnv",
                                 "batterygym.envs.industrial_vector:IndustrialVectorEnv"),
    "batterygym/Fleet-v0": ("batterygym.envs.fleet:FleetEnv", "batterygym.envs.fleet_vector:FleetVectorEnv"),
    "batterygym/V2G-v0": ("batterygym.envs.v2g:V2GEnv", "batterygym.envs.v2g_vector:V2GVectorEnv"),
    "batterygym/MicrogridBSS-v0": ("batterygym.envs.microgrid_bss:MicrogridBSSEnv",
                                   "batterygym.envs.microgrid_vector:MicrogridBSSVectorEnv"),
}

for _id, (_entry, _vector) in _ENVS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, vector_entry_point=_vector)

__all__ = ["__version__"]
