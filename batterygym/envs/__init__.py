"""One Gymnasium env per setting; each steps the shared `core` model."""
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.industrial import IndustrialEnv
from batterygym.envs.microgrid_bss import MicrogridBSSEnv
from batterygym.envs.v2g import V2GEnv

__all__ = ["FleetEnv", "IndustrialEnv", "MicrogridBSSEnv", "V2GEnv"]
