"""One Gymnasium env per setting; each steps the shared `core` model."""
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.industrial import IndustrialEnv
from batterygym.envs.v2g import V2GEnv

__all__ = ["FleetEnv", "IndustrialEnv", "V2GEnv"]
