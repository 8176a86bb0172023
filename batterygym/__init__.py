"""batterygym: battery-dispatch Gymnasium envs, each with its exact perfect-foresight MILP.

Importing registers the ``batterygym/*`` ids; nothing heavy (torch, pyomo) is imported here.
The ids register no ``max_episode_steps``: every env ends (``terminated``) at its scenario's last
step, so ``gym.make(id, n_days=14)`` runs its 14 days; a ``max_episode_steps`` given to ``gym.make``
still truncates the episode there.
"""
from __future__ import annotations

from gymnasium.envs.registration import register, registry

from batterygym.settings import SETTINGS

__version__ = "0.1.0"

# gym id -> (entry point, vector entry point), one per setting of batterygym.settings
_ENVS = {s.env_id: (s.entry_point, s.vector_entry_point) for s in SETTINGS.values()}

for _id, (_entry, _vector) in _ENVS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, vector_entry_point=_vector)

__all__ = ["__version__"]
