"""One Gymnasium env per setting; each steps the shared `core` model."""
from batterygym.envs.industrial import IndustrialEnv

__all__ = ["IndustrialEnv"]
