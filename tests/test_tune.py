"""``batterygym tune``: a tiny Ray Tune search (2 trials of 256 steps, 1 validation episode) on the 2-CPU local Ray."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("ray.tune")
pytest.importorskip("stable_baselines3")
pytest.importorskip("tomli_w")

from batterygym.agents.hyperparams import load_hyperparams  # noqa: E402
from batterygym.agents.seeds import MAX_RUN_SEED, eval_seeds, train_seed_range, validation_seeds  # noqa: E402
from batterygym.benchmarks.regret import evaluate_policies  # noqa: E402
from batterygym.cli import main  # noqa: E402
from batterygym.scale.tune import SPACES, best_toml, overrides_of, search_space, tune  # noqa: E402

ENV, ALGO, AGENT = "batterygym/Fleet-v0", "ppo", "item"  # the cheapest to train and to score
STEPS, EPISODES, SEED = 256, 1, 0


@pytest.fixture(scope="module")
def searched(local_ray, tmp_path_factory):  # local_ray: the suite's 2-CPU Ray (tests/conftest.py)
    return tune(ENV, ALGO, 2, agent=AGENT, steps=STEPS, episodes=EPISODES, seed=SEED,
                storage=tmp_path_factory.mktemp("tune"), progress=False)


def test_best_table_round_trips_through_toml_and_the_defaults_merge(searched, tmp_path):
    path = tmp_path / "best.toml"
    path.write_text(best_toml(searched))
    with path.open("rb") as f:
        tables = tomllib.load(f)
    assert list(tables) == [f"{ENV}:{AGENT}"] == [searched.key]
    table = tables[searched.key]
    assert table == searched.best
    best = searched.best_result
    assert table == load_hyperparams(ALGO, ENV, best.overrides, AGENT)  # the defaults with the best overrides
    assert load_hyperparams(ALGO, ENV, table, AGENT) == table  # passed as --hyperparams, it is itself
    assert set(load_hyperparams(ALGO, ENV, None, AGENT)) <= set(table)
    assert best.captured == max(t.captured for t in searched.trials)


def test_scores_are_evaluate_policies_captured_share_on_the_validation_seeds(searched):
    assert len(searched.trials) == 2 and all(t.error is None for t in searched.trials)
    import torch

    trial = searched.trials[0]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the trial (train() sets it): float32 sums depend on the thread count
    try:
        df = evaluate_policies({"again": trial.run_dir}, ENV, seeds=validation_seeds(EPISODES))
    finally:
        torch.set_num_threads(threads)
    assert df["seed"].tolist() == list(searched.validation_seeds) == validation_seeds(EPISODES)
    assert df["captured"].tolist() == pytest.approx(list(trial.episodes), rel=1e-9, abs=1e-12)
    assert trial.captured == pytest.approx(df["captured"].mean(), rel=1e-9, abs=1e-12)


def test_each_trial_trained_the_overrides_it_reports_inside_the_space(searched):
    defaults = load_hyperparams(ALGO, ENV, None, AGENT)
    space = search_space(ALGO, defaults)
    for t in searched.trials:
        record = json.loads((Path(t.run_dir) / "run.json").read_text())
        assert record["status"] == "done" and record["agent"] == AGENT and record["requested_timesteps"] == STEPS
        assert {k: record["hyperparams"][k] for k in t.overrides} == t.overrides
        assert tuple(record["train_episode_seeds"]["allowed"]) == train_seed_range(SEED)
        lo, hi = space["learning_rate"][1:]
        assert lo * (1 - 1e-3) <= t.overrides["learning_rate"] <= hi * (1 + 1e-3)
        assert t.overrides["n_steps"] in space["n_steps"][1]
        assert (t.overrides["n_steps"] * defaults["n_envs"]) % t.overrides["batch_size"] == 0


def test_validation_seeds_are_neither_training_nor_held_out():
    val = set(validation_seeds(1000))
    assert not val & set(eval_seeds(1000))
    for seed in (0, 1, MAX_RUN_SEED):
        lo, hi = train_seed_range(seed)
        assert not any(lo <= v < hi for v in val)


@pytest.mark.parametrize("algo", sorted(SPACES))
def test_every_shipped_table_gives_a_space_centred_on_it(algo):
    """Each draw's batch size divides PPO's rollout; every range holds the shipped value."""
    import itertools

    from batterygym.agents.hyperparams import ALGOS
    from batterygym.agents.recipes import recipes_for
    from batterygym.settings import SETTINGS

    assert algo in ALGOS
    for s in SETTINGS.values():
        for agent in recipes_for(s.env_id):
            table = load_hyperparams(algo, s.env_id, None, agent)
            space = search_space(algo, table)
            for name, (kind, *spec) in space.items():
                value = table.get(name)
                if kind == "choice" and name in table:
                    assert value in spec[0], (s.env_id, agent, name)
                elif kind != "choice" and value is not None:
                    assert spec[0] <= value <= spec[1], (s.env_id, agent, name)
            if algo == "ppo":
                for n_steps, m in itertools.product(space["n_steps"][1], space["minibatches"][1]):
                    o = overrides_of(algo, table, {"n_steps": n_steps, "minibatches": m})
                    assert (n_steps * table["n_envs"]) % o["batch_size"] == 0 and o["batch_size"] > 1


def test_cli_passes_its_options_prints_the_trials_and_writes_toml_and_json(searched, tmp_path, capsys,
                                                                         monkeypatch):
    import batterygym.scale.tune as module

    calls = []
    monkeypatch.setattr(module, "tune", lambda *a, **kw: calls.append((a, kw)) or searched)  # the fixture's search
    out, js = tmp_path / "best.toml", tmp_path / "tune.json"
    assert main(["tune", "--env", ENV, "--agent", AGENT, "--samples", "2", "--steps", str(STEPS), "--episodes", "1",
                 "--storage", str(tmp_path / "store"), "--out", str(out), "--json", str(js), "--no-progress",
                 "--ray", "--ray-cpus", "2"]) == 0
    wanted = dict(agent=AGENT, steps=STEPS, episodes=1, seed=0, storage=str(tmp_path / "store"), ray="local",
                  ray_cpus=2, progress=False)
    assert calls == [((ENV, ALGO, 2), wanted)]
    text = capsys.readouterr().out
    data = json.loads(js.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert [t["trial_id"] for t in data["trials"]] == [t.trial_id for t in searched.trials]
    assert all(t["trial_id"] in text for t in data["trials"]) and f"best: trial {searched.best_trial}" in text
    with out.open("rb") as f:
        assert tomllib.load(f) == {data["key"]: data["best"]["table"]} == {searched.key: searched.best}
    assert data["best"]["captured"] == searched.best_result.captured
    assert data["validation_seeds"] == validation_seeds(1)


def test_search_writes_under_its_storage_only(searched):
    exp = Path(searched.storage)
    assert exp.is_dir() and all(Path(t.run_dir).parent == exp / "runs" for t in searched.trials)


@pytest.mark.parametrize("args, option", [
    (["--samples", "0"], "--samples"),
    (["--steps", "0"], "--steps"),
    (["--episodes", "0"], "--episodes"),
    (["--agent", "cap"], "--agent"),
    (["--seed", "-1"], "--seed"),
])
def test_cli_bad_options_exit_2_naming_the_option(args, option, capsys):
    assert main(["tune", "--env", ENV, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err


def test_cli_unknown_env_exits_2(capsys):
    assert main(["tune", "--env", "batterygym/Nope-v0"]) == 2
    assert "--env" in capsys.readouterr().err
