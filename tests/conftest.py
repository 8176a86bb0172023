"""Fixtures shared by test files: a local Ray of at most 2 CPUs, started once for the session."""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def local_ray():
    """A local Ray cluster of 2 CPUs (CI has 2 cores); the code under test finds it already up. Its workers
    can import the test modules, so a test may hand them its own functions."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error",
                 runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
    yield "local"
    if started:
        ray.shutdown()
