"""The settings of the suite, each declared once: what every listing of settings reads.

A :class:`Setting` names its gym id, its env and vector env, its scenario type, its perfect-foresight
solver, its heuristic rungs, its MPC, its ``batterygym solve`` adapter, its speed targets and its MILP
speed cases. Code is named by ``"module:attr"`` strings, imported only when :func:`load` resolves one,
so ``import batterygym`` (which registers the ids from here) stays light: no pyomo, no torch.

Adding a setting means its own modules, one entry in :data:`SETTINGS` and its tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MilpSpeedCase:
    """A MILP row of ``batterygym benchmark speed``: episodes of ``n_days`` drawn with ``seeds`` (``quick_seeds``
    under ``--quick``) by ``scenarios`` (``"module:attr"``, a function ``(n_days, seeds) -> scenarios``), and the
    build + solve seconds (median) its target allows. ``ratio_target``: the most the whole ``solve_optimal``
    call may take over HiGHS's own runs (``Plan.solver_seconds``), measured in the same run (None: no
    target). ``long`` cases are skipped by ``--quick``."""

    key: str  # the case's key in the report's JSON
    label: str
    scenarios: str
    n_days: int
    seeds: tuple[int, ...]
    target_s: float
    target_name: str
    quick_seeds: tuple[int, ...] | None = None  # None: ``seeds``
    long: bool = False
    ratio_target: float | None = None

    def seeds_for(self, quick: bool = False) -> tuple[int, ...]:
        """The seeds of the case's episodes (``quick_seeds`` under ``--quick`` when it has them)."""
        return self.quick_seeds if quick and self.quick_seeds is not None else self.seeds

    def episodes(self, quick: bool = False) -> list[Any]:
        """The case's scenarios, one per seed of :meth:`seeds_for`."""
        return list(load(self.scenarios)(self.n_days, self.seeds_for(quick)))


@dataclass(frozen=True)
class Setting:
    """One setting of the suite; ``name``, ``env_id`` and ``studies`` (a module) aside, each string is
    ``"module:attr"``."""

    name: str  # the word ``batterygym solve`` takes
    env_id: str
    entry_point: str  # the scalar env class
    vector_entry_point: str  # the native vector env class (``gym.make_vec(..., "vector_entry_point")``)
    scenario: str  # the scenario class the env steps and the solver reads
    solver: str  # ``solve(scenario, **options) -> Plan``
    heuristics: tuple[str, ...]  # rung classes taking the env, weakest first (idle comes before all)
    mpc: str | None  # the MPC policy class (rungs ``mpc_noisy``, ``mpc_perfect``), or None
    episode: str  # the ``batterygym solve`` adapter (an ``EpisodeCommand``)
    steps_per_s: float  # target: env steps/s through ``gym.make``, the slowest fixed action
    vector_ratio: float  # target: vector env battery-steps/s over the bare battery vector env's, at 1024 envs
    milp_cases: tuple[MilpSpeedCase, ...] = ()
    studies: str | None = None  # a module with ``measure_studies(progress)`` and ``study_targets(m, target)``
    agents: tuple[str, ...] = ()  # learned agents beside the plain algorithms (``AgentRecipe`` objects)
    learned_target: float = 0.90  # target: the best learned rung's share of the optimum's gain, full benchmark
    quick_learned_target: float | None = None  # the same under ``benchmark --quick`` (None: no target)

    def refs(self) -> dict[str, str]:
        """Every ``"module:attr"`` string of the entry, by field (heuristics and cases numbered)."""
        out = {f: getattr(self, f) for f in ("entry_point", "vector_entry_point", "scenario", "solver", "episode")}
        out.update({f"heuristics[{i}]": h for i, h in enumerate(self.heuristics)})
        if self.mpc is not None:
            out["mpc"] = self.mpc
        out.update({f"milp_cases[{c.key}]": c.scenarios for c in self.milp_cases})
        out.update({f"agents[{i}]": a for i, a in enumerate(self.agents)})
        return out


def _industrial_cases() -> tuple[MilpSpeedCase, ...]:
    scen = "batterygym.benchmarks.industrial_episode:speed_scenarios"
    return (MilpSpeedCase("week", "Industrial, default week", scen, 7, (0, 1, 2, 3, 4), 0.3,
                          "Industrial MILP, default 7-day episode, build + solve (median)", quick_seeds=(0, 1, 2),
                          ratio_target=1.5),
            MilpSpeedCase("year", "Industrial, full year hourly", scen, 365, (0,), 10.0,
                          "Industrial MILP, 8,760 hourly steps, build + solve", long=True))


def _v2g_cases() -> tuple[MilpSpeedCase, ...]:
    scen = "batterygym.benchmarks.v2g_episode:speed_scenarios"
    return (MilpSpeedCase("v2g_day", "V2G, 100 EVs, one day", scen, 1, (0, 1, 2), 1.0,
                          "V2G MILP, 100 EVs, default day, build + solve (median)", quick_seeds=(0,),
                          ratio_target=1.5),
            MilpSpeedCase("v2g_quarter", "V2G, 100 EVs, 92-day quarter", scen, 92, (0,), 60.0,
                          "V2G MILP, 100 EVs, 92 days, build + solve", long=True, ratio_target=1.5))


def _microgrid_cases() -> tuple[MilpSpeedCase, ...]:
    scen = "batterygym.benchmarks.microgrid_episode:speed_scenarios"
    return (MilpSpeedCase("microgrid_day", "MicrogridBSS, default day", scen, 1, (0, 1, 2), 2.0,
                          "MicrogridBSS MILP, default day, build + solve (median)", quick_seeds=(0,)),
            MilpSpeedCase("microgrid_heavy_day", "MicrogridBSS, heavy day (72 swaps)",
                          "batterygym.benchmarks.microgrid_episode:heavy_scenarios", 1, (0, 1, 2), 10.0,
                          "MicrogridBSS MILP, heavy day (swaps_per_day=72), build + solve (median)", quick_seeds=(0,)),
            MilpSpeedCase("microgrid_week", "MicrogridBSS, 7 days", scen, 7, (0, 1, 2), 30.0,
                          "MicrogridBSS MILP, 7-day episode, build + solve (median)", long=True))


_ENTRIES = (
    Setting(
        name="industrial", env_id="batterygym/Industrial-v0",
        entry_point="batterygym.envs.industrial:IndustrialEnv",
        vector_entry_point="batterygym.envs.industrial_vector:IndustrialVectorEnv",
        scenario="batterygym.core.industrial:IndustrialScenario", solver="batterygym.baselines.industrial:solve",
        heuristics=("batterygym.baselines.industrial_heuristics:IndustrialRule",
                    "batterygym.baselines.industrial_heuristics:WaterFillingCap"),
        mpc="batterygym.baselines.industrial_mpc:IndustrialMPC",
        episode="batterygym.benchmarks.industrial_episode:COMMAND",
        steps_per_s=50_000.0, vector_ratio=0.30, milp_cases=_industrial_cases(),
        studies="batterygym.benchmarks.speed_studies", agents=("batterygym.agents.recipes:INDUSTRIAL_CAP",),
        learned_target=0.95, quick_learned_target=0.85,
    ),
    Setting(
        name="fleet", env_id="batterygym/Fleet-v0",
        entry_point="batterygym.envs.fleet:FleetEnv",
        vector_entry_point="batterygym.envs.fleet_vector:FleetVectorEnv",
        scenario="batterygym.core.fleet:FleetScenario", solver="batterygym.baselines.fleet:solve",
        heuristics=("batterygym.baselines.fleet_heuristics:FleetRule",), mpc=None,
        episode="batterygym.benchmarks.fleet_episode:COMMAND",
        steps_per_s=50_000.0, vector_ratio=0.20, agents=("batterygym.agents.recipes:FLEET_ITEM",),
    ),
    Setting(
        name="v2g", env_id="batterygym/V2G-v0",
        entry_point="batterygym.envs.v2g:V2GEnv",
        vector_entry_point="batterygym.envs.v2g_vector:V2GVectorEnv",
        scenario="batterygym.core.v2g:V2GScenario", solver="batterygym.baselines.v2g:solve",
        heuristics=("batterygym.baselines.v2g_heuristics:ChargeOnArrival",
                    "batterygym.baselines.v2g_heuristics:V2GRule"),
        mpc=None, episode="batterygym.benchmarks.v2g_episode:COMMAND",
        steps_per_s=20_000.0, vector_ratio=0.20, milp_cases=_v2g_cases(),
        agents=("batterygym.agents.recipes:V2G_ITEM",),
    ),
    Setting(
        name="microgrid", env_id="batterygym/MicrogridBSS-v0",
        entry_point="batterygym.envs.microgrid_bss:MicrogridBSSEnv",
        vector_entry_point="batterygym.envs.microgrid_vector:MicrogridBSSVectorEnv",
        scenario="batterygym.core.microgrid:MicrogridScenario", solver="batterygym.baselines.microgrid_bss:solve",
        heuristics=("batterygym.baselines.microgrid_heuristics:MicrogridRule",
                    "batterygym.baselines.microgrid_heuristics:MicrogridLookahead"), mpc=None,
        episode="batterygym.benchmarks.microgrid_episode:COMMAND",
        steps_per_s=20_000.0, vector_ratio=0.20, milp_cases=_microgrid_cases(),
        agents=("batterygym.agents.recipes:MICROGRID_KNOBS",),
    ),
)

# setting name -> its entry, in the order reports list them
SETTINGS: dict[str, Setting] = {s.name: s for s in _ENTRIES}


def _check_unique() -> None:
    for field in ("name", "env_id", "entry_point", "vector_entry_point", "scenario", "episode"):
        values = [getattr(s, field) for s in _ENTRIES]
        if len(set(values)) != len(values):
            raise ValueError(f"settings: two entries share a {field}: {values}")
    keys = [c.key for s in _ENTRIES for c in s.milp_cases]
    if len(set(keys)) != len(keys):
        raise ValueError(f"settings: two MILP speed cases share a key: {keys}")


_check_unique()


def load(ref: str) -> Any:
    """The object ``"module:attr"`` names (``attr`` may be dotted), importing its module now."""
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"ref must be 'module:attr', got {ref!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def ref_of(cls: type) -> str:
    """The ``"module:attr"`` string of a class, as the entries write them."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _by_class(obj: Any, field: str) -> Setting | None:
    by_ref = {getattr(s, field): s for s in _ENTRIES}
    for cls in type(obj).__mro__:
        hit = by_ref.get(ref_of(cls))
        if hit is not None:
            return hit
    return None


def setting_of_env(env: Any) -> Setting | None:
    """The setting whose env class ``env.unwrapped`` is (or derives from); None for another env."""
    return _by_class(getattr(env, "unwrapped", env), "entry_point")


def setting_of_scenario(scenario: Any) -> Setting | None:
    """The setting whose scenario class ``scenario`` is (or derives from); None for another object."""
    return _by_class(scenario, "scenario")


def setting_of_id(env_id: str) -> Setting:
    """The setting registered as ``env_id``; ValueError naming the known ids otherwise."""
    for s in _ENTRIES:
        if s.env_id == env_id:
            return s
    raise ValueError(f"env_id {env_id!r} is not a batterygym setting; known: {[s.env_id for s in _ENTRIES]}")


__all__ = ["MilpSpeedCase", "SETTINGS", "Setting", "load", "ref_of", "setting_of_env", "setting_of_id",
           "setting_of_scenario"]
