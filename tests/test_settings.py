"""The registry of settings: one entry per gym id, every name in it resolves, and every list of settings reads it."""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

import gymnasium as gym
import pytest

import batterygym
from batterygym import settings
from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand
from batterygym.settings import SETTINGS, load

ENTRIES = list(SETTINGS.values())
IDS = [s.env_id for s in ENTRIES]


def test_every_registered_id_has_an_entry_and_every_entry_is_registered():
    registered = sorted(i for i in gym.registry if i.startswith("batterygym/"))
    assert registered == sorted(IDS)
    for s in ENTRIES:
        spec = gym.spec(s.env_id)
        assert spec.entry_point == s.entry_point and spec.vector_entry_point == s.vector_entry_point


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda s: s.name)
def test_every_string_of_an_entry_resolves(entry):
    for field, ref in entry.refs().items():
        if field == "vector_entry_point" and importlib.util.find_spec(ref.partition(":")[0]) is None:
            continue  # no such module: the next test skips it; a module that exists must resolve
        assert load(ref) is not None, f"{entry.name}.{field}: {ref}"
    assert isinstance(load(entry.episode), EpisodeCommand)
    assert callable(load(entry.solver))
    if entry.studies is not None:
        module = importlib.import_module(entry.studies)
        assert callable(module.measure_studies) and callable(module.study_targets)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda s: s.name)
def test_a_missing_vector_env_module_is_the_only_one_allowed(entry):
    module = entry.vector_entry_point.partition(":")[0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"no module {module}: its vector env rows are skipped")
    assert isinstance(load(entry.vector_entry_point), type)


def test_the_lists_the_code_reads_come_from_the_registry():
    from batterygym import baselines
    from batterygym.baselines import mpc, rollout
    from batterygym.benchmarks import episode, speed

    assert batterygym._ENVS == {s.env_id: (s.entry_point, s.vector_entry_point) for s in ENTRIES}
    assert baselines._SOLVERS == {s.scenario: s.solver for s in ENTRIES}
    assert rollout.HEURISTICS == {s.entry_point: s.heuristics for s in ENTRIES}
    assert mpc.MPC_CLASSES == {s.entry_point: s.mpc for s in ENTRIES if s.mpc is not None}
    assert episode.SETTINGS == {s.name: s.episode for s in ENTRIES}
    assert speed.ENV_TARGETS == {s.env_id: s.steps_per_s for s in ENTRIES}
    assert speed.VECTOR_TARGETS == {s.env_id: s.vector_ratio for s in ENTRIES}
    assert speed.MILP_CASES == {c.key: c for s in ENTRIES for c in s.milp_cases}
    assert speed.registered_ids() == sorted(IDS)
    assert speed.VECTOR_TARGETS["batterygym/Industrial-v0"] == 0.30
    assert all(speed.VECTOR_TARGETS[i] == 0.20 for i in IDS if i != "batterygym/Industrial-v0")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda s: s.name)
def test_each_env_finds_its_setting_rungs_mpc_and_solver(entry):
    from batterygym.baselines.mpc import mpc_class
    from batterygym.baselines.rollout import Idle, heuristic_classes

    env = gym.make(entry.env_id)
    env.reset(seed=0)
    assert settings.setting_of_env(env) is entry and settings.setting_of_id(entry.env_id) is entry
    assert settings.setting_of_scenario(env.unwrapped.scenario) is entry
    rungs = heuristic_classes(env)
    assert list(rungs.values()) == [Idle, *(load(h) for h in entry.heuristics)]
    assert list(rungs) == ["idle", *(load(h).name for h in entry.heuristics)]
    assert mpc_class(env) is (load(entry.mpc) if entry.mpc is not None else None)
    env.close()


def test_a_subclass_keeps_its_settings_and_an_unknown_env_has_none():
    from batterygym.baselines import solve_optimal
    from batterygym.baselines.rollout import heuristic_classes

    industrial = SETTINGS["industrial"]
    sub = type("MyIndustrialEnv", (load(industrial.entry_point),), {})
    assert settings.setting_of_env(sub()) is industrial
    cartpole = gym.make("CartPole-v1")
    assert settings.setting_of_env(cartpole) is None
    assert list(heuristic_classes(cartpole)) == ["idle"]
    with pytest.raises(TypeError, match="no optimiser for str; known scenarios"):
        solve_optimal("not a scenario")


def test_episode_commands_own_disjoint_options_and_default_days():
    commands = {s.name: load(s.episode) for s in ENTRIES}
    owned: dict[str, str] = {}
    for name, c in commands.items():
        for dest in c.option_dests():
            assert dest not in owned, f"--{dest} is both {owned.get(dest)}'s and {name}'s"
            owned[dest] = name
    generic = {"setting", "seed", "csv", "days", "time_limit", "json", "plot"}
    assert not generic & set(owned)
    for name, c in commands.items():
        assert all(owned[b] != name for b in c.borrows), f"{name} borrows its own option"
        assert c.examples.strip().startswith(f"batterygym solve {name}")
    for s in ENTRIES:  # a generated episode is as long as the command says by default
        env = gym.make(s.env_id)
        env.reset(seed=0)
        scenario = env.unwrapped.scenario
        assert scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0 == commands[s.name].default_days
        env.close()


def test_each_adapter_is_complete():
    for s in ENTRIES:
        adapter = load(s.episode).adapter()
        assert isinstance(adapter, EpisodeAdapter)
        assert "share_of_optimum" in adapter.columns and adapter.note


def test_the_solve_parser_takes_every_setting_and_refuses_foreign_options():
    from batterygym.benchmarks import episode

    parser = argparse.ArgumentParser()
    episode.add_arguments(parser)
    for s in ENTRIES:
        args = parser.parse_args([s.name])
        episode.refuse_foreign_options(args, s.name)  # nothing given: nothing refused
        for other in ENTRIES:
            if other is s:
                continue
            dest = next(d for d in load(other.episode).option_dests() if d not in load(s.episode).borrows)
            flag = f"--{dest.replace('_', '-')}"
            action = next(a for a in parser._actions if a.dest == dest)
            argv = [s.name, flag] if action.nargs == 0 else [s.name, flag, "1"]
            with pytest.raises(ValueError, match=rf"{flag}: {load(other.episode).owner} option\(s\), not for the "
                                                 rf"{s.name} setting"):
                episode.refuse_foreign_options(parser.parse_args(argv), s.name)


def test_milp_cases_name_their_episodes():
    for s in ENTRIES:
        for case in s.milp_cases:
            assert callable(load(case.scenarios)) and case.seeds and case.target_s > 0
            if case.quick_seeds is not None:
                assert set(case.quick_seeds) <= set(case.seeds)


def test_bad_lookups_are_value_errors():
    with pytest.raises(ValueError, match="'batterygym/Nope-v0' is not a batterygym setting"):
        settings.setting_of_id("batterygym/Nope-v0")
    with pytest.raises(ValueError, match="ref must be 'module:attr'"):
        load("batterygym.settings")
    with pytest.raises(ValueError, match="setting must be one of"):
        from batterygym.benchmarks.episode import command

        command("nope")


def test_importing_the_registry_stays_light():
    """`import batterygym` registers the ids from the registry without importing an env, the model, pyomo,
    torch or ray; the modules that read the registry, and the command line's parser, import none of them either."""
    heavy = ("pyomo", "torch", "ray", "tomli_w", "batterygym.envs.industrial", "batterygym.envs.fleet",
             "batterygym.envs.v2g", "batterygym.envs.microgrid_bss")
    for modules, banned in (("batterygym", ("batterygym.core", *heavy)),
                            ("batterygym.baselines.rollout, batterygym.baselines.mpc, batterygym.benchmarks.episode",
                             heavy),
                            ("batterygym.cli; batterygym.cli.build_parser()", heavy)):
        code = f"import sys, {modules}; print(','.join(m for m in {banned!r} if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "", modules
