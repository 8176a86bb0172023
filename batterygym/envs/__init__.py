"""One Gymnasium env per setting; each steps the shared `core` model."""
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.industrial import IndustrialEnv

__all__ = ["FleetEnv", "IndustrialEnv"]
