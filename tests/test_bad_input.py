"""Bad input is refused with one clear line: a ValueError naming the field (or the action's shape, the option) and
the value, at construction, reset or step; exit status 2 from the CLI. Never a traceback, never silently accepted."""
from __future__ import annotations

import json
import math
import re

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.cli import main
from batterygym.core.fleet_generator import FleetConfig
from batterygym.core.industrial_generator import IndustrialSiteConfig
from batterygym.core.microgrid_generator import MicrogridConfig
from batterygym.core.v2g_generator import MAX_EPISODE_BYTES, V2GConfig, episode_bytes
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.industrial import IndustrialEnv
from batterygym.envs.microgrid_bss import MicrogridBSSEnv
from batterygym.envs.v2g import V2GEnv

SMALL = {  # the cheapest episode of each env
    "Industrial-v0": dict(n_days=1),
    "Fleet-v0": dict(n_assets=2, n_markets=2),
    "V2G-v0": dict(n_evs=2),
    "MicrogridBSS-v0": dict(),
}
ENV_CLASSES = {"Industrial-v0": IndustrialEnv, "Fleet-v0": FleetEnv, "V2G-v0": V2GEnv,
               "MicrogridBSS-v0": MicrogridBSSEnv}


def one_line(text: str) -> str:
    """The one line the CLI printed (no traceback)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# ------------------------------------------------------------------------------ 1. types of config fields
@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (IndustrialSiteConfig, dict(allow_export="no"), r"allow_export must be a bool, got 'no'"),
        (IndustrialSiteConfig, dict(random_start=1), r"random_start must be a bool, got 1"),
        (IndustrialSiteConfig, dict(n_days=True), r"n_days must be a positive integer, got True"),
        (IndustrialSiteConfig, dict(year="2025"), r"year must be an integer, got '2025'"),
        (IndustrialSiteConfig, dict(year=2025.0), r"year must be an integer, got 2025\.0"),
        (IndustrialSiteConfig, dict(pv_kwp=True), r"pv_kwp must be a number, got True"),
        (IndustrialSiteConfig, dict(max_cycles_per_day="1"), r"max_cycles_per_day must be a number or None, got '1'"),
        (IndustrialSiteConfig, dict(tariff={"peak_start": "8"}), r"tariff\.peak_start must be an integer, got '8'"),
        (IndustrialSiteConfig, dict(tariff={"peak_start": 8.0}), r"tariff\.peak_start must be an integer, got 8\.0"),
        (FleetConfig, dict(year="2025"), r"year must be an integer, got '2025'"),
        (FleetConfig, dict(capacity_fade="no"), r"capacity_fade must be a bool, got 'no'"),
        (FleetConfig, dict(random_start="yes"), r"random_start must be a bool, got 'yes'"),
        (FleetConfig, dict(layout_seed=True), r"layout_seed must be an integer or None, got True"),
        (FleetConfig, dict(directions=4), r"directions must be a list or None, got 4"),
        (FleetConfig, dict(n_markets=2, directions=["up", 1]), r"directions\[1\] must be a string, got 1"),
        (V2GConfig, dict(random_start="no"), r"random_start must be a bool, got 'no'"),
        (V2GConfig, dict(arrival_hours=7), r"arrival_hours must be a list, got 7"),
        (MicrogridConfig, dict(terminal_value="no"), r"terminal_value must be a bool, got 'no'"),
        (MicrogridConfig, dict(random_start=0), r"random_start must be a bool, got 0"),
        (MicrogridConfig, dict(pack_kwh=24.0), r"pack_kwh must be a list, got 24\.0"),
    ],
)
def test_config_fields_must_match_their_types(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "match"),
    [
        ("Industrial-v0", dict(allow_export="no"), r"allow_export must be a bool, got 'no'"),
        ("Industrial-v0", dict(n_days=True), r"n_days must be a positive integer, got True"),
        ("Industrial-v0", dict(year="2025"), r"year must be an integer, got '2025'"),
        ("Fleet-v0", dict(year="2025"), r"year must be an integer, got '2025'"),
        ("V2G-v0", dict(random_start="no"), r"random_start must be a bool, got 'no'"),
        ("MicrogridBSS-v0", dict(terminal_value="no"), r"terminal_value must be a bool, got 'no'"),
    ],
)
def test_env_kwargs_are_type_checked_at_construction(env_id, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make(f"batterygym/{env_id}", **kwargs)


def test_right_types_still_work():
    """Ints where floats are meant, numpy numbers, lists for tuples and None for optional fields are fine."""
    IndustrialSiteConfig(pv_kwp=0, dt_h=1, capacity_kwh=np.float64(400.0), max_cycles_per_day=None, n_days=3)
    FleetConfig(layout_seed=None, directions=["up", "down", "up", "down"], durations_h=[1, 2])
    V2GConfig(arrival_hours=[6, 8], arrival_soc=[0.3, 0.7])
    MicrogridConfig(pack_kwh=[24, 40, 52, 75], n_packs=[1, 1, 1, 1])


# ------------------------------------------------------------------------------ 2. values the env cannot use
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(power_kw=0), r"power_kw must be positive, got 0"),
        (dict(power_kw=0.0), r"power_kw must be positive, got 0\.0"),
        (dict(tariff="bogus"), r"tariff must be a TOUTariff or a dict of its fields, got 'bogus'"),
        (dict(tariff={"bogus": 1}), r"unknown tariff option\(s\) \['bogus'\]; known: \[.*'peak'"),
        (dict(dt_h=0), r"dt_h must be positive, got 0"),
        (dict(dt_h=0.0), r"dt_h must be positive, got 0\.0"),
        (dict(soh0=0.6), r"soh_end_of_life must be below soh0 = 0\.6, got 0\.6"),
        (dict(soh0=0.5), r"soh_end_of_life must be below soh0 = 0\.5, got 0\.6"),
        (dict(soh0=0.7, soh_end_of_life=0.75), r"soh_end_of_life must be below soh0 = 0\.7, got 0\.75"),
    ],
)
def test_industrial_values_refused_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IndustrialSiteConfig(**kwargs)
    with pytest.raises(ValueError, match=match):
        gym.make("batterygym/Industrial-v0", **kwargs)


# ------------------------------------------------------------------------------ 3. actions
def _reset(env_id: str) -> gym.Env:
    env = ENV_CLASSES[env_id](**SMALL[env_id])
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("env_id", list(SMALL))
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_actions_are_refused(env_id, bad):
    env = _reset(env_id)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[-1] = bad
    word = "NaN" if bad != bad else str(bad)
    with pytest.raises(ValueError, match=rf"action must be finite, got {word}"):
        env.step(action)
    with pytest.raises(ValueError, match=rf"action must be finite, got {word}"):
        env.step(action.tolist())  # a list too
    env.step(np.zeros(env.action_space.shape, dtype=np.float32))  # the env is still usable


def _wrong_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    n = shape[0]
    out = [(n + 1,), (n, 1), (1, n)]
    if n > 1:
        out += [(n - 1,), (2, n // 2) if n % 2 == 0 else (n, 2)]
    return out + [()]


@pytest.mark.parametrize("env_id", list(SMALL))
def test_actions_of_the_wrong_shape_are_refused(env_id):
    env = _reset(env_id)
    shape = env.action_space.shape
    for wrong in _wrong_shapes(shape):
        match = rf"action must have shape \({shape[0]},\).*got shape {re.escape(str(wrong))}"
        with pytest.raises(ValueError, match=match):
            env.step(np.zeros(wrong, dtype=np.float32))
    env.step(np.zeros(shape, dtype=np.float32))


def test_industrial_length_two_action_is_refused_not_truncated():
    env = _reset("Industrial-v0")
    with pytest.raises(ValueError, match=r"action must have shape \(1,\), got shape \(2,\)"):
        env.step(np.array([0.5, 1.0], dtype=np.float32))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        env.step(np.float32(0.5))
    _, _, _, _, info = env.step([0.5])  # a list of the right length is fine
    assert info["battery_kw"] > 0


def test_in_range_actions_step_as_before():
    """The checks do not change a valid step: out-of-range finite values are still clipped."""
    a, b = _reset("Industrial-v0"), _reset("Industrial-v0")
    _, r1, _, _, i1 = a.step(np.array([5.0], dtype=np.float32))
    _, r2, _, _, i2 = b.step(np.array([1.0], dtype=np.float32))
    assert r1 == r2 and i1["battery_kw"] == i2["battery_kw"]


def test_marl_agent_actions_of_the_wrong_shape_are_refused():
    pytest.importorskip("pettingzoo")
    from batterygym.envs.fleet_marl import FleetParallelEnv

    env = FleetParallelEnv(n_assets=2, n_markets=3)
    env.reset(seed=0)
    actions = {a: np.zeros(3, dtype=np.float32) for a in env.possible_agents}
    actions["asset_1"] = np.zeros((3, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"action of asset_1 must have shape \(3,\).*got shape \(3, 1\)"):
        env.step(actions)
    actions["asset_1"] = np.array([0.0, math.inf, 0.0], dtype=np.float32)
    with pytest.raises(ValueError, match=r"action must be finite, got inf"):
        env.step(actions)


# ------------------------------------------------------------------------------ 4. reset options and seeds
@pytest.mark.parametrize("env_id", list(SMALL))
def test_unknown_reset_options_are_refused(env_id):
    env = gym.make(f"batterygym/{env_id}", **SMALL[env_id])
    known = r"\['packs'\]" if env_id == "MicrogridBSS-v0" else "none"
    with pytest.raises(ValueError, match=rf"unknown reset option\(s\) \['bogus', 'soc0'\]; known: {known}"):
        env.reset(seed=0, options={"soc0": 0.3, "bogus": 1})
    with pytest.raises(ValueError, match=r"options must be a dict or None, got \['soc0'\]"):
        env.reset(seed=0, options=["soc0"])
    env.reset(seed=0, options={})
    env.reset(seed=0, options=None)


@pytest.mark.parametrize("env_id", list(SMALL))
@pytest.mark.parametrize("seed", [-1, True, 1.5, "3"])
def test_bad_seeds_are_a_value_error(env_id, seed):
    env = gym.make(f"batterygym/{env_id}", **SMALL[env_id])
    with pytest.raises(ValueError, match=rf"seed must be a non-negative integer or None, got {seed!r}"):
        env.reset(seed=seed)


# ------------------------------------------------------------------------------ 5. the CLI
@pytest.mark.parametrize("setting", ["industrial", "fleet", "v2g", "microgrid"])
def test_cli_solve_negative_seed_is_one_line(setting, capsys):
    assert main(["solve", setting, "--seed", "-1"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "seed must be a non-negative integer or None, got -1" in line


def test_cli_train_refuses_a_negative_seed(tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "run"
    assert main(["train", "--seed", "-1", "--steps", "10", "--out", str(out), "--no-progress"]) == 2
    assert "seed must be in [0, 999], got -1" in one_line(capsys.readouterr().err)
    assert not out.exists()


def test_cli_train_refuses_an_existing_file_as_out(tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "model.zip"
    out.write_bytes(b"not a run")
    assert main(["train", "--steps", "10", "--out", str(out), "--no-progress"]) == 2
    assert "is an existing file, not a run directory" in one_line(capsys.readouterr().err)
    assert out.read_bytes() == b"not a run"
    assert main(["train", "--steps", "10", "--out", str(out / "sub"), "--no-progress"]) == 2
    assert "cannot create the run directory" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(("env_id", "algo"), [("batterygym/V2G-v0", "ppo"), ("batterygym/Industrial-v0", "sac")])
def test_cli_train_refuses_the_run_directory_of_another_env_or_algorithm(tmp_path, capsys, env_id, algo):
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "run"
    out.mkdir()
    record = {"status": "done", "env_id": env_id, "algo": algo}
    (out / "run.json").write_text(json.dumps(record))
    assert main(["train", "--env", "batterygym/Industrial-v0", "--algo", "ppo", "--steps", "10", "--out", str(out),
                 "--no-progress"]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"holds a {algo.upper()} run of {env_id}" in line and "choose another directory" in line
    assert json.loads((out / "run.json").read_text()) == record
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]


def test_cli_train_refuses_an_unreadable_run_json(tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{not json")
    assert main(["train", "--steps", "10", "--out", str(out), "--no-progress"]) == 2
    assert "unreadable run.json" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("hyper", "match"),
    [
        ({"bogus": 1}, r"unknown PPO hyperparameter\(s\) \['bogus'\]"),
        ({"verbose": 1}, r"hyperparams may not set \['verbose'\]"),
        ({"n_envs": [2]}, r"hyperparams n_envs must be a positive integer, got \[2\]"),
        ({"env": {"normalise_obs": False}}, r"unknown hyperparams env key\(s\) \['normalise_obs'\]"),
    ],
)
def test_cli_train_refuses_bad_hyperparams(tmp_path, capsys, hyper, match):
    pytest.importorskip("stable_baselines3")
    assert main(["train", "--steps", "10", "--out", str(tmp_path / "run"), "--hyperparams", json.dumps(hyper),
                 "--no-progress"]) == 2
    line = one_line(capsys.readouterr().err)
    assert re.search(match, line), line


# ------------------------------------------------------------------------------ 6. TypeError is a bug, not bad input
def test_unknown_env_kwargs_raise_value_error():
    """Unknown keywords raise a ValueError (also a TypeError, the exception Python raises for one)."""
    for env_id, bad in (("Industrial-v0", "capacity_kw"), ("Fleet-v0", "n_asset"), ("V2G-v0", "evs"),
                        ("MicrogridBSS-v0", "packs")):
        with pytest.raises(ValueError, match=rf"unknown .* option\(s\) \['{bad}'\]") as info:
            gym.make(f"batterygym/{env_id}", **{bad: 1})
        assert isinstance(info.value, TypeError)
    with pytest.raises(ValueError, match=r"unknown fleet option"):
        FleetConfig.from_kwargs(bogus=1)


def test_cli_does_not_hide_a_type_error(monkeypatch):
    import batterygym.benchmarks.episode as episode

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(episode, "run", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["solve", "industrial"])


def test_cli_unknown_env_kwarg_is_still_one_line(tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    assert main(["train", "--steps", "10", "--out", str(tmp_path / "run"), "--env-kwargs", '{"bogus": 1}',
                 "--no-progress"]) == 2
    assert "unknown industrial site option(s) ['bogus']" in one_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------ 7. V2G memory
def test_v2g_refuses_an_episode_beyond_the_memory_limit():
    assert episode_bytes(100_000, 100) > MAX_EPISODE_BYTES
    with pytest.raises(ValueError, match=r"n_days=100000 with n_evs=100 needs about 2\d\.\d GiB.*limit of 4 GiB"):
        V2GConfig(n_days=100_000)
    with pytest.raises(ValueError, match=r"needs about .* GiB"):
        gym.make("batterygym/V2G-v0", n_evs=10_000_000)
    V2GConfig(n_days=92)  # the source's quarter is far below the limit
    V2GConfig(n_days=10_000)


def test_cli_v2g_too_many_days_is_one_line(capsys):
    assert main(["solve", "v2g", "--days", "100000"]) == 2
    assert "GiB" in one_line(capsys.readouterr().err)


def test_every_command_help_shows_its_defaults(capsys):
    """Each option with a default says it in --help (e.g. train's --algo and --steps)."""
    import pytest

    from batterygym.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: ppo)" in out and "(default: batterygym/Industrial-v0)" in out
