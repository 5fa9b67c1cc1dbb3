"""``skbatchbald label``: one labelling round through files from the shell."""

import csv
import warnings

import numpy as np
import pytest

from skbatchbald.experiment.cli import main


def _digits_argv(tmp_path, *extra):
    """``skbatchbald label`` on tmp_path/pool.npy, the ten digit classes,
    batch files in tmp_path/l, then ``extra``."""
    data, files = str(tmp_path / "pool.npy"), str(tmp_path / "l")
    classes = [str(c) for c in range(10)]
    return ["label", "--data", data, "--files", files, "--classes", *classes, *extra]


def test_label_rounds_through_files(tmp_path, digits, capsys, fill_labels):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:300])
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"img/{i}.png\n" for i in range(300)))
    options = ["--strategy", "margin", "--n-instances", "5"]
    argv = _digits_argv(tmp_path, "--references", str(refs), *options)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted on 0 answers" in out and "asked for 5 rows with RandomQuery" in out
    assert main(argv) == 0
    assert "5 rows still wait for a label" in capsys.readouterr().out

    first = fill_labels(tmp_path / "l" / "batch-001.csv", lambda i: str(y[i]))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted on 5 answers" in out and "asked for 5 rows with MarginQuery" in out
    with open(tmp_path / "l" / "batch-002.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert not {int(r["pool_index"]) for r in rows} & set(first)
    assert rows[0]["reference"] == f"img/{rows[0]['pool_index']}.png"
    assert float(rows[0]["score"]) > 0  # margin scores, not placeholders


def test_label_paths_expand_a_leading_tilde(tmp_path, digits, capsys, monkeypatch):
    # a quoted "~/..." or --data=~/... reaches the command unexpanded by the shell
    X, _ = digits
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    np.save(home / "pool.npy", X[:40])
    (home / "refs.txt").write_text("".join(f"img/{i}.png\n" for i in range(40)))
    argv = [
        "label", "--data=~/pool.npy", "--files", "~/labels", "--classes", "0", "1",
        "--references", "~/refs.txt", "--n-instances", "3",
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    with open(home / "labels" / "batch-001.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["reference"] == f"img/{rows[0]['pool_index']}.png"
    assert not any(cwd.iterdir())  # nothing written under a folder named "~"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--files", "l"], "--files needs --classes"),
        (
            ["--files", "l", "--target-type", "continuous", "--model", "logistic"],
            "--model logistic predicts one class per row; with --target-type "
            "continuous use --model forest or --model mlp.",
        ),
        (["--label-studio", "http://127.0.0.1:1"], "--label-studio needs --project"),
        (
            ["--label-studio", "http://127.0.0.1:1", "--project", "1",
             "--api-key-env", "SKBATCHBALD_TEST_NO_SUCH_VARIABLE"],
            "SKBATCHBALD_TEST_NO_SUCH_VARIABLE holds no Label Studio access token",
        ),
    ],
)  # fmt: skip
def test_label_errors(tmp_path, capsys, extra, message):
    np.save(tmp_path / "pool.npy", np.zeros((4, 2)))
    assert main(["label", "--data", str(tmp_path / "pool.npy"), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skbatchbald label: error: ") and message in err
    assert err.count("\n") == 1


def test_label_data_must_be_npy_or_csv(tmp_path, capsys):
    (tmp_path / "pool.txt").write_text("1 2\n")
    argv = ["label", "--data", str(tmp_path / "pool.txt"), "--files", "l"]
    assert main([*argv, "--classes", "a", "b"]) == 1
    assert "is neither .npy nor .csv" in capsys.readouterr().err


def test_label_data_csv_with_a_header_or_text_column(tmp_path, capsys):
    # pandas' DataFrame.to_csv(path, index=False) writes the column names first
    X = np.arange(24.0).reshape(8, 3)
    header = "sepal length (cm),sepal width (cm),petal length (cm)\n"
    rows = "".join(",".join(map(str, row)) + "\n" for row in X)
    (tmp_path / "pool.csv").write_text(header + rows)
    argv = ["label", "--data", str(tmp_path / "pool.csv"), "--classes", "a", "b"]
    assert main([*argv, "--files", str(tmp_path / "l"), "--n-instances", "2"]) == 0
    assert "asked for 2 rows" in capsys.readouterr().out
    # an index column of text (DataFrame.to_csv's default): named, with the fix
    (tmp_path / "pool.csv").write_text(
        "," + header + "".join(f"f{i},{line}\n" for i, line in enumerate(rows.split()))
    )
    assert main([*argv, "--files", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "its first column, unnamed in the header, is an index" in err
    assert "holding f0, f1, f2, ... rather than the row numbers 0, 1, 2" in err
    assert "DataFrame.to_csv(path, index=False)" in err and err.count("\n") == 1
    assert not (tmp_path / "m").exists()


def _write_csv(kind, path, X):
    """``X`` saved in one of the layouts people save a pool in."""
    import pandas as pd

    frame = pd.DataFrame(X)
    if kind == "pandas, index=False":  # a first line 0,1,2,3
        frame.to_csv(path, index=False)
    elif kind == "pandas":  # and a first column 0..n-1 under an empty name
        frame.to_csv(path)
    elif kind == "pandas, header=False":
        frame.to_csv(path, header=False)
    elif kind == "pandas, index named id":
        frame.rename_axis("id").to_csv(path)
    elif kind == "R's write.table":  # one column name fewer than values a row
        rows = "".join(
            f'"{i + 1}",' + ",".join(map(str, r)) + "\n" for i, r in enumerate(X)
        )
        path.write_text(",".join(f'"V{j}"' for j in range(X.shape[1])) + "\n" + rows)
    else:
        np.savetxt(path, X, delimiter=",")


@pytest.mark.parametrize(
    ("kind", "note"),
    [
        ("pandas, index=False", None),
        ("numpy.savetxt", None),
        ("pandas", "dropped its first column, the row numbers 0..29: an index"),
        ("pandas, header=False", "dropped its first column, the row numbers 0..29"),
        ("pandas, index named id", "dropped its first column (id), the row numbers"),
    ],
)
def test_label_data_csv_as_pandas_writes_it(tmp_path, capsys, kind, note):
    # a line of pandas' column names read as a row shifted every row by one,
    # and the index column was taken for a feature
    X = np.random.default_rng(0).normal(size=(30, 4))
    _write_csv(kind, tmp_path / "pool.csv", X)
    argv = ["label", "--data", str(tmp_path / "pool.csv"), "--files"]
    files = [str(tmp_path / "l"), "--target-type", "continuous", "--n-instances", "40"]
    assert main([*argv, *files]) == 0
    with open(tmp_path / "l" / "batch-001.csv", newline="") as f:
        asked = sorted(int(row["pool_index"]) for row in csv.DictReader(f))
    assert asked == list(range(30))
    from skbatchbald.experiment._label import _load_pool

    capsys.readouterr()
    np.testing.assert_allclose(_load_pool(tmp_path / "pool.csv"), X, rtol=1e-6)
    err = capsys.readouterr().err
    if note is None:
        assert err == ""
    else:
        assert err.startswith("note: ") and note in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        # a filtered DataFrame's index: pool_index 0 would be the row labelled 1
        ("pandas", slice(1, None, 2), "holding 1, 3, 5, ... rather than the row"),
        ("R's write.table", slice(None), "holding 1, 2, 3, ... rather than the row"),
    ],
)
def test_label_data_csv_refuses_an_index_other_than_the_row_numbers(
    tmp_path, capsys, kind, rows, message
):
    import pandas as pd

    X = np.random.default_rng(0).normal(size=(20, 3))
    path = tmp_path / "pool.csv"
    if kind == "pandas":
        pd.DataFrame(X)[rows].to_csv(path)
    else:
        _write_csv(kind, path, X)
    argv = ["label", "--data", str(path), "--files", str(tmp_path / "l")]
    assert main([*argv, "--target-type", "continuous"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skbatchbald label: error: ") and err.count("\n") == 1
    assert "its first column, unnamed in the header, is an index" in err
    assert message in err and not (tmp_path / "l").exists()


def test_label_data_csv_of_integers_notes_a_first_line_0_1_2(tmp_path, capsys):
    from skbatchbald.experiment._label import _load_pool

    # pandas writes integer features as 0, 1, ...: its header and a row alike
    X = np.random.default_rng(0).integers(0, 17, size=(12, 3))
    _write_csv("pandas, index=False", tmp_path / "pool.csv", X)
    np.testing.assert_array_equal(_load_pool(tmp_path / "pool.csv"), X)
    err = capsys.readouterr().err
    assert "its first line, 0, 1, 2, is read as pandas' column names" in err
    # column names that are other numbers are a row: said, not guessed
    (tmp_path / "pool.csv").write_text("400,410,420\n0.5,0.25,1.0\n1.5,2.0,0.0\n")
    assert _load_pool(tmp_path / "pool.csv").shape == (3, 3)
    assert "its first line (400,410,420) is read as pool row 0" in (
        capsys.readouterr().err
    )


def test_label_data_npy_of_texts_is_refused(tmp_path, capsys):
    texts = ["card charged twice", "cannot log in"]
    np.save(tmp_path / "objects.npy", np.array(texts, dtype=object))
    np.save(tmp_path / "unicode.npy", np.array(texts))
    for name, what in [("objects", "Python objects (texts?)"), ("unicode", "<U18")]:
        argv = ["label", "--data", str(tmp_path / f"{name}.npy"), "--files", "l"]
        assert main([*argv, "--classes", "billing", "login"]) == 1
        err = capsys.readouterr().err
        assert f"{name}.npy holds {what}" in err and err.count("\n") == 1
        assert "the pool must be numbers" in err and "--references FILE" in err


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (["billing", "login", "billing"], "--classes gives billing more than once"),
        (["1", "2", "01"], "--classes gives 1 and 01, the same number"),
    ],
)
def test_label_repeated_classes_are_refused_before_anything_is_written(
    tmp_path, capsys, classes, message
):
    np.save(tmp_path / "pool.npy", np.zeros((4, 2)))
    argv = ["label", "--data", str(tmp_path / "pool.npy"), "--files"]
    assert main([*argv, str(tmp_path / "l"), "--classes", *classes]) == 1
    err = capsys.readouterr().err
    assert f"error: {message}; name each label once.\n" in err
    assert err.count("\n") == 1 and not (tmp_path / "l").exists()


@pytest.mark.parametrize("target_type", ["continuous", "multilabel"])
def test_label_refuses_a_class_only_strategy_before_the_first_batch(
    tmp_path, capsys, target_type
):
    # it used to write the cold start's batch and fail only once people had
    # labelled it, naming BALDQuery... rather than the --strategy values
    from skbatchbald.experiment._config import STRATEGIES

    np.save(tmp_path / "pool.npy", np.zeros((20, 2)))
    argv = [
        "label", "--data", str(tmp_path / "pool.npy"), "--files", str(tmp_path / "l"),
        "--target-type", target_type, "--classes", "a", "b",
    ]  # fmt: skip
    if target_type == "continuous":
        argv = argv[:-3]
    for strategy in set(STRATEGIES) - {"batchbald", "bald", "power_bald", "random"}:
        assert main([*argv, "--strategy", strategy]) == 1
        err = capsys.readouterr().err
        assert err == (
            f"skbatchbald label: error: --strategy {strategy} scores class "
            f"probabilities; with --target-type {target_type} use --strategy "
            "batchbald, bald, power_bald or random.\n"
        )
        assert not (tmp_path / "l").exists()


def test_label_strategies_for_tags_and_numbers_match_the_query_classes():
    import skbatchbald
    from skbatchbald.experiment._config import STRATEGIES
    from skbatchbald.experiment._label import _ANY_TARGET
    from skbatchbald.query import _PosteriorQuery

    def scores_all(name):
        query = getattr(skbatchbald, STRATEGIES[name])
        return not issubclass(query, _PosteriorQuery) or (
            query._score_regression is not None and query._score_multilabel is not None
        )

    assert set(_ANY_TARGET) == set(filter(scores_all, STRATEGIES))


def test_label_rounds_of_numbers_and_of_tags(tmp_path, digits, capsys, fill_labels):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:200])
    numbers = [
        "label", "--data", str(tmp_path / "pool.npy"), "--files", str(tmp_path / "n"),
        "--target-type", "continuous", "--n-instances", "4",
    ]  # fmt: skip
    assert main(numbers) == 0
    fill_labels(tmp_path / "n" / "batch-001.csv", lambda i: f"{X[i].mean():.3f}")
    assert main(numbers) == 0
    out = capsys.readouterr().out
    assert (
        "fitted on 4 answers" in out and "asked for 4 rows with BatchBALDQuery" in out
    )

    tags = [
        "label", "--data", str(tmp_path / "pool.npy"), "--files", str(tmp_path / "t"),
        "--target-type", "multilabel", "--classes", "even", "big", "--n-instances", "4",
    ]  # fmt: skip
    assert main(tags) == 0

    def digit_tags(i):
        return (
            "; ".join(t for t, on in [("even", y[i] % 2 == 0), ("big", y[i] > 4)] if on)
            or "-"
        )

    fill_labels(tmp_path / "t" / "batch-001.csv", digit_tags)
    assert main(tags) == 0
    out = capsys.readouterr().out
    assert (
        "fitted on 4 answers" in out and "asked for 4 rows with BatchBALDQuery" in out
    )


def test_label_keeps_the_cold_start_while_one_class_is_answered(
    tmp_path, digits, capsys, fill_labels
):
    # a first batch that found only one class: the forest fitted on it has
    # no uncertainty, so the next batch is a cold start's again
    X, _ = digits
    np.save(tmp_path / "pool.npy", X[:300])
    argv = _digits_argv(tmp_path, "--n-instances", "5", "--cold-start", "random")
    assert main(argv) == 0
    fill_labels(tmp_path / "l" / "batch-001.csv", lambda i: "3")
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted on 5 answers" in out and "asked for 5 rows with RandomQuery" in out


def test_label_interrupted_in_training_exits_130_and_asks_nothing(
    tmp_path, digits, capsys, fill_labels, monkeypatch
):
    import os
    import signal

    from skorch.callbacks import Callback

    from skbatchbald.experiment import _label

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)

    estimator = _label._estimator

    def interrupted(*args, **kwargs):
        return estimator(*args, **kwargs).set_params(callbacks=[CtrlC()])

    X, y = digits
    np.save(tmp_path / "pool.npy", X[:100])
    argv = _digits_argv(tmp_path, "--n-instances", "5", "--model", "mlp")
    assert main(argv) == 0
    fill_labels(tmp_path / "l" / "batch-001.csv", lambda i: str(y[i]))
    monkeypatch.setattr(_label, "_estimator", interrupted)
    capsys.readouterr()
    assert main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["batch-001.csv"]


def test_label_notes_a_saturated_batch_and_takes_more_trees(
    tmp_path, digits, capsys, fill_labels
):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:400])
    argv = _digits_argv(tmp_path, "--n-instances", "10")
    assert main(argv) == 0
    fill_labels(tmp_path / "l" / "batch-001.csv", lambda i: str(y[i]))
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a note, not a warning
        assert main(argv) == 0
    err = capsys.readouterr().err
    assert "note: BatchBALD's cumulative score reached" in err
    assert "K=50 posterior samples" in err and "(--n-samples sets K)" in err

    # more trees: K is the forest's size
    (tmp_path / "l" / "batch-002.csv").unlink()
    assert main([*argv, "--n-samples", "200"]) == 0
    err = capsys.readouterr().err
    assert "K=50" not in err and ("K=200" in err or "note" not in err)


@pytest.mark.parametrize("action", ["ignore", "error"])
def test_label_leaves_saturation_to_the_users_warning_options(
    tmp_path, digits, capsys, fill_labels, monkeypatch, action
):
    # python -W ignore::...SaturationWarning -m skbatchbald label ...
    from skbatchbald.acquisition import SaturationWarning

    X, y = digits
    np.save(tmp_path / "pool.npy", X[:400])
    argv = _digits_argv(tmp_path, "--n-instances", "10")
    assert main(argv) == 0
    fill_labels(tmp_path / "l" / "batch-001.csv", lambda i: str(y[i]))
    capsys.readouterr()
    option = f"{action}::skbatchbald.acquisition.SaturationWarning"
    monkeypatch.setattr("sys.warnoptions", [option])
    with warnings.catch_warnings():
        warnings.simplefilter(action, SaturationWarning)
        if action == "ignore":
            assert main(argv) == 0
        else:  # as any -W error: the warning raised, as the user asked
            with pytest.raises(SaturationWarning, match="cumulative score"):
                main(argv)
    assert "note:" not in capsys.readouterr().err


def test_label_n_samples_is_refused_for_logistic(tmp_path, digits, capsys):
    X, _ = digits
    np.save(tmp_path / "pool.npy", X[:50])
    argv = _digits_argv(
        tmp_path, "--model", "logistic", "--strategy", "margin", "--n-samples", "9"
    )
    assert main(argv) == 1
    assert "--model logistic has no posterior samples" in capsys.readouterr().err


def test_label_keeps_the_warnings_of_a_round_that_fails(
    tmp_path, digits, capsys, fill_labels
):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:300])
    argv = _digits_argv(tmp_path, "--n-instances", "5")
    assert main(argv) == 0
    path = tmp_path / "l" / "batch-001.csv"
    fill_labels(path, lambda i: str(y[i]))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *lines[3:]]) + "\n")  # ranks 0, 1 deleted
    np.save(tmp_path / "small.npy", X[:3])  # the wrong pool: the round fails
    argv[2] = str(tmp_path / "small.npy")
    with pytest.warns(UserWarning, match=r"lacks the row\(s\) of rank \[0, 1\]"):
        assert main(argv) == 1
    assert "outside the pool of 3 rows" in capsys.readouterr().err


def test_label_n_samples_with_a_strategy_without_samples(tmp_path, digits, capsys):
    X, _ = digits
    np.save(tmp_path / "pool.npy", X[:50])
    argv = _digits_argv(tmp_path, "--strategy", "random", "--n-samples", "9")
    assert main(argv) == 1
    assert "--strategy random scores no posterior samples" in capsys.readouterr().err


def test_label_shows_a_warning_as_one_line_not_located_in_runpy(
    tmp_path, digits, fill_labels
):
    # the package's warnings point past it, into <frozen runpy>, under -m
    import subprocess
    import sys

    X, y = digits
    np.save(tmp_path / "pool.npy", X[:300])
    argv = [sys.executable, "-m", "skbatchbald", *_digits_argv(tmp_path)]
    argv += ["--n-instances", "6"]
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 0
    path = tmp_path / "l" / "batch-001.csv"
    fill_labels(path, lambda i: str(y[i]))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], *lines[3:]]) + "\n")  # a middle row cut
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "runpy" not in done.stderr
    assert any(
        line.startswith("warning: ") and "deleted" in line
        for line in done.stderr.splitlines()
    ), done.stderr


@pytest.mark.parametrize("strategy", ["batchbald", "bald", "epig"])
def test_label_refuses_a_sampling_strategy_for_logistic_up_front(
    tmp_path, digits, capsys, strategy
):
    X, _ = digits
    np.save(tmp_path / "pool.npy", X[:50])
    argv = _digits_argv(tmp_path, "--model", "logistic", "--strategy", strategy)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"--strategy {strategy} scores how posterior samples disagree" in err
    assert "margin" in err and not (tmp_path / "l").exists()
    assert main([*argv[:-1], "margin"]) == 0  # what it names runs
