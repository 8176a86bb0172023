"""batterygym: battery-dispatch Gymnasium envs, each with its exact perfect-foresight MILP.

Importing registers the ``batterygym/*`` ids; nothing heavy (torch, pyomo) is imported here.
"""
from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

_ENVS = {
    "batterygym/Industrial-v0": ("batterygym.envs.industrial:IndustrialEnv", 168),
    "batterygym/Fleet-v0": ("batterygym.envs.fleet:FleetEnv", 24),
    "batterygym/V2G-v0": ("batterygym.envs.v2g:V2GEnv", 24),
    "batterygym/MicrogridBSS-v0": ("batterygym.envs.microgrid_bss:MicrogridBSSEnv", 24),
}

for _id, (_entry, _steps) in _ENVS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, max_episode_steps=_steps)

__all__ = ["__version__"]
