"""ExperimentConfig, its presets and the command line generated from it."""

import dataclasses

import pytest

from skbatchbald.experiment import PRESETS, ExperimentConfig
from skbatchbald.experiment.cli import build_parser, main


def test_paper_presets_hold_the_paper_settings():
    mnist = ExperimentConfig(**PRESETS["paper-mnist"])
    assert (mnist.dataset, mnist.resolved_model, mnist.batch_size) == (
        "mnist",
        "cnn",
        10,
    )
    assert (mnist.n_mc_samples, mnist.eval_mc_samples) == (100, 100)
    assert mnist.n_joint_samples == 40_000
    assert (mnist.pool_size, mnist.test_size, mnist.validation_size) == (
        None,
        None,
        1024,
    )
    assert (mnist.epoch_size, mnist.max_epochs, mnist.patience) == (5056, 30, 3)
    assert mnist.budget - mnist.n_initial == 300 and mnist.stop_accuracy == 0.96
    assert mnist.fixed_initial and mnist.normalize and not mnist.mc_validation
    repeated = ExperimentConfig(**PRESETS["paper-repeated-mnist"])
    assert repeated.dataset == "repeated_mnist"
    assert (repeated.n_mc_samples, repeated.eval_mc_samples) == (10, 10)
    assert (repeated.validation_size, repeated.validation_from_pool) == (3072, True)
    assert (repeated.n_repeats, repeated.noise_std, repeated.max_epochs) == (3, 0.1, 40)
    assert repeated.stop_accuracy is None
    assert repeated.strategies == ("batchbald", "bald", "random")


def test_every_field_is_an_option_with_its_default_in_the_help(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in dataclasses.fields(ExperimentConfig):
        assert "--" + field.name.replace("_", "-") in text
    assert "posterior samples K for acquisition (default: 20)" in text
    assert "--no-mc-validation" in text


def test_options_and_presets_make_the_config(monkeypatch):
    seen = {}

    def fake_run(args):
        from skbatchbald.experiment.cli import _config

        seen["config"] = _config(args)
        return 0

    monkeypatch.setattr("skbatchbald.experiment.cli._run", fake_run)
    argv = ["run", "-o", "x", "--preset", "paper-repeated-mnist", "-K", "20",
            "--no-validation-from-pool", "--thresholds", "0.8",
            "--n-trials", "2"]  # fmt: skip
    assert main(argv) == 0
    config = seen["config"]
    assert config == dataclasses.replace(
        ExperimentConfig(**PRESETS["paper-repeated-mnist"]),
        n_mc_samples=20,
        validation_from_pool=False,
        thresholds=(0.8,),
        n_trials=2,
    )


def test_strategy_names_are_the_acquisition_functions():
    from skbatchbald import acquisition
    from skbatchbald.experiment import STRATEGIES

    for name in STRATEGIES:
        assert name == "random" or hasattr(acquisition, name)


def test_old_strategy_names_are_refused_on_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["run", "-o", "x", "--strategies", "varratios"])
    assert "invalid choice: 'varratios'" in capsys.readouterr().err


def test_same_experiment_ignores_trials_and_tables():
    config = ExperimentConfig()
    other = dataclasses.replace(
        config, first_trial=4, n_trials=9, thresholds=(0.5,), data_home="/d"
    )
    assert config.same_experiment(other) == {}
    assert config.same_experiment(dataclasses.replace(config, seed=1)) == {
        "seed": (0, 1)
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"normalize": True}, "normalize=True standardises with the MNIST"),
        ({"stop_accuracy": 1.5}, "stop_accuracy must be an accuracy"),
        ({"fixed_initial": 1}, "fixed_initial must be True or False"),
    ],
)
def test_bad_new_options(options, message):
    with pytest.raises(ValueError, match=message):
        ExperimentConfig(**options)


def test_the_command_needs_pandas(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pandas" else real(name, *a),
    )
    assert main(["report", "x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "skbatchbald report: error: needs pandas, which is not installed; "
        "pip install 'skbatchbald[experiment]'."
    ]


def test_counts_of_a_wrong_type_are_type_errors():
    with pytest.raises(TypeError, match="hidden_sizes\\[0\\] must be a positive int"):
        ExperimentConfig(hidden_sizes=(1.5,))


def test_ends_curve_at_the_budget_or_the_stop_accuracy():
    import pandas as pd

    config = ExperimentConfig(budget=50, batch_size=10, n_initial=20)
    assert config.n_rounds == 3
    assert config.ends_curve(3, 0.1) and not config.ends_curve(2, 0.99)
    stopping = dataclasses.replace(config, stop_accuracy=0.9)
    ends = stopping.ends_curve(pd.Series([1, 2, 3]), pd.Series([0.95, 0.5, 0.5]))
    assert ends.tolist() == [True, False, True]


@pytest.mark.parametrize(
    "flag",
    ["--initial", "--trials", "--mc-samples", "--joint-samples", "--eval-samples"],
)
def test_old_long_spellings_are_gone(flag, capsys):
    # One spelling per option (plus the paper's -b, -K, -M): no shims in 0.1.0.dev0.
    with pytest.raises(SystemExit):
        main(["run", "-o", "x", flag, "2"])
    assert f"unrecognized arguments: {flag} 2" in capsys.readouterr().err


def test_a_budget_short_of_one_batch_is_refused():
    # b = 40 from 20 labels to 25: the paper's counting (set size minus b)
    # gave -15 labels
    with pytest.raises(ValueError) as error:
        ExperimentConfig(budget=25, batch_size=40)
    assert str(error.value) == (
        "budget must be an int >= 60, got 25; n_initial=20 plus one batch of "
        "batch_size=40 (raise budget or lower batch_size)"
    )
    assert ExperimentConfig(budget=60, batch_size=40).n_rounds == 1


def test_one_posterior_sample_is_refused_for_the_sampled_strategies():
    with pytest.raises(ValueError) as error:
        ExperimentConfig(strategies=("random", "bald", "batchbald"), n_mc_samples=1)
    message = str(error.value)
    assert message.startswith("n_mc_samples=1 is too few for bald, batchbald:")
    assert "pass n_mc_samples >= 2 (-K 2) or leave them out." in message
    one = ("random", "max_entropy", "variation_ratios", "margin")
    assert ExperimentConfig(strategies=one, n_mc_samples=1).n_mc_samples == 1


def test_the_sampled_strategies_are_those_whose_score_needs_samples():
    from skbatchbald import query
    from skbatchbald.experiment._config import SAMPLED, STRATEGIES

    needs = {
        name
        for name, cls in STRATEGIES.items()
        if getattr(getattr(query, cls), "_disagreement", None) is not None
    }
    assert set(SAMPLED) == needs


def test_one_posterior_sample_is_refused_before_anything_is_written(tmp_path, capsys):
    argv = ["run", "-o", str(tmp_path), "--strategies", "bald", "-K", "1"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "n_mc_samples=1 is too few for bald" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("here", "there"),
    [
        ({"dataset": "digits"}, {"dataset": "digits", "model": "mlp"}),
        ({"model": "cnn"}, {"model": "cnn", "hidden_sizes": (32,)}),
        ({}, {"strategies": ("random", "power_bald", "bald", "batchbald")}),
        ({"dataset": "digits"}, {"dataset": "digits", "n_repeats": 5}),
        ({"dataset": "mnist"}, {"dataset": "mnist", "noise_std": 0.3}),
    ],
)
def test_same_experiment_ignores_what_does_not_change_the_results(here, there):
    assert ExperimentConfig(**here).same_experiment(ExperimentConfig(**there)) == {}


@pytest.mark.parametrize(
    ("here", "there", "name"),
    [
        ({"dataset": "digits"}, {"dataset": "digits", "model": "cnn"}, "model"),
        ({}, {"hidden_sizes": (32,)}, "hidden_sizes"),
        ({}, {"strategies": ("random", "bald")}, "strategies"),
        ({}, {"n_repeats": 5}, "n_repeats"),
    ],
)
def test_same_experiment_keeps_what_changes_the_results(here, there, name):
    differences = ExperimentConfig(**here).same_experiment(ExperimentConfig(**there))
    assert list(differences) == [name]


def test_data_of_ones_own_is_refused_in_one_short_line():
    import numpy as np

    X, y = np.zeros((1797, 64)), np.zeros(1797)
    for options in ({"dataset": (X, y)}, {"dataset": {"X": X}}, {"model": "rf"}):
        with pytest.raises(ValueError) as error:
            ExperimentConfig(**options)
        message = str(error.value)
        assert "\n" not in message and len(message) < 400
        assert "write the loop with skbatchbald.ActiveLearner" in message
    with pytest.raises(ValueError, match=r"got a tuple \(\(array\(\[\[0\., "):
        ExperimentConfig(dataset=(X, y))
