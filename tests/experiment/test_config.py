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
