"""The run's plots: what the class histogram draws."""

import numpy as np
import pandas as pd
import pytest

from skbatchbald.experiment import plot_class_entropy, plot_class_histogram


def _rows(strategy, trial, batches):
    return [
        {
            "strategy": strategy,
            "trial": trial,
            "round": round_,
            "n_labels": 20 + 3 * round_,
            "acquired_labels": " ".join(map(str, labels)),
        }
        for round_, labels in enumerate(batches)
    ]


def test_class_histogram_bars_are_shares_of_acquired_labels(tmp_path):
    # Round 0 is the initial set: its labels (all 9s) must not be counted.
    rows = [
        *_rows("batchbald", 0, [[9, 9, 9], [0, 1, 2], [3, 4, 0]]),
        *_rows("batchbald", 1, [[9, 9, 9], [0, 0, 0]]),
        *_rows("bald", 0, [[9, 9, 9], [5, 5, 5], [5, 5, 1]]),
    ]
    path = tmp_path / "hist.png"
    fig = plot_class_histogram(pd.DataFrame(rows), path, title="t")
    assert path.stat().st_size > 0
    bars = fig.axes[0].patches
    n_classes = 6  # labels 0..5 acquired; 9 only in round 0
    assert len(bars) == 2 * n_classes
    heights = np.array([bar.get_height() for bar in bars]).reshape(2, n_classes)
    np.testing.assert_allclose(heights[0], [5 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 9, 0])
    np.testing.assert_allclose(heights[1], [0, 1 / 6, 0, 0, 0, 5 / 6])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["uniform", "batchbald", "bald"]
    assert "2 trials" in fig.axes[0].get_title()


@pytest.mark.parametrize("strategy_order", [["random", "bald"], ["bald", "random"]])
def test_class_histogram_keeps_the_runs_strategy_order(tmp_path, strategy_order):
    rows = [r for s in strategy_order for r in _rows(s, 0, [[0], [1]])]
    fig = plot_class_histogram(pd.DataFrame(rows), tmp_path / "h.png")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["uniform", *strategy_order]


def test_titles_count_the_trials_of_each_curve(tmp_path):
    # batchbald has trials 0 and 1, bald only 0 (runs of other sizes side by
    # side): the title gives the range
    rows = [
        *_rows("batchbald", 0, [[9, 9, 9], [0, 1, 2]]),
        *_rows("batchbald", 1, [[9, 9, 9], [0, 0, 0]]),
        *_rows("bald", 0, [[9, 9, 9], [5, 5, 5]]),
    ]
    fig = plot_class_histogram(pd.DataFrame(rows), tmp_path / "h.png", title="t")
    assert fig.axes[0].get_title() == "t — acquired classes over 1-2 trials"
    same = [row for row in rows if row["trial"] == 0]
    fig = plot_class_histogram(pd.DataFrame(same), tmp_path / "h.png", title="t")
    assert fig.axes[0].get_title() == "t — acquired classes over 1 trial"


def test_class_entropy_of_curves_without_a_batch_is_empty(tmp_path):
    import warnings

    from skbatchbald.experiment._plots import plot_class_entropy

    rows = pd.DataFrame(
        [*_rows("batchbald", 0, [[9, 9, 9]]), *_rows("random", 0, [[9, 9, 9]])]
    ).assign(class_entropy=0.0)
    path = tmp_path / "entropy.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even an empty legend's warning
        plot_class_entropy(rows, path, title="t")
    assert path.stat().st_size > 0


def test_class_histogram_of_named_classes(tmp_path):
    # a loop of one's own with text labels: bars by name, in sorted order
    rows = [
        *_rows("mine", 0, [["dog"], ["cat", "cat", "dog"], ["owl", "cat", "cat"]]),
        *_rows("random", 0, [["dog"], ["dog", "dog", "owl"], ["dog", "dog", "dog"]]),
    ]
    fig = plot_class_histogram(pd.DataFrame(rows), tmp_path / "hist.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [4 / 6, 1 / 6, 1 / 6, 0, 5 / 6, 1 / 6])


def test_plots_of_batches_name_the_column_a_table_lacks(tmp_path):
    rows = pd.DataFrame(_rows("mine", 0, [[1], [2]])).drop(columns="acquired_labels")
    with pytest.raises(ValueError, match=r"lack the column 'acquired_labels'"):
        plot_class_histogram(rows, tmp_path / "hist.png")
    with pytest.raises(ValueError, match=r"lack the column 'class_entropy'"):
        plot_class_entropy(rows, tmp_path / "entropy.png")


def test_class_histogram_of_negative_or_far_apart_integers(tmp_path):
    rows = [
        *_rows("mine", 0, [[0], [-1, 1, -1, 1]]),
        *_rows("codes", 0, [[0], [1000, 3000, 3000, 2000]]),
    ]
    fig = plot_class_histogram(pd.DataFrame(rows), tmp_path / "hist.png")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["-1", "1", "1000", "2000", "3000"]  # no class dropped
    heights = np.array([bar.get_height() for bar in fig.axes[0].patches])
    np.testing.assert_allclose(heights.reshape(2, 5).sum(axis=1), [1, 1])


def test_class_histogram_draws_every_class_up_to_the_largest_seen(tmp_path):
    # EMNIST's 47 classes, 15 acquired so far (46 among them): 47 bars, and
    # the uniform line at 1/47
    rows = _rows("batchbald", 0, [[0], [*range(0, 42, 3), 46]])
    fig = plot_class_histogram(pd.DataFrame(rows), tmp_path / "hist.png")
    assert len(fig.axes[0].patches) == 47
    uniform = [line for line in fig.axes[0].lines if line.get_label() == "uniform"]
    assert uniform[0].get_ydata()[0] == pytest.approx(1 / 47)
    huge = _rows("codes", 0, [[0], [2**70, 2**70 + 1]])  # past int64
    fig = plot_class_histogram(pd.DataFrame(huge), tmp_path / "huge.png")
    assert len(fig.axes[0].patches) == 2


def test_class_histogram_of_lists_of_names_with_spaces(tmp_path):
    # a loop of one's own stores each batch's labels as a list
    rows = pd.DataFrame(_rows("mine", 0, [[0], [1]]))
    rows["acquired_labels"] = [[], ["pinot noir", "pinot noir", "barolo"]]
    fig = plot_class_histogram(rows, tmp_path / "hist.png")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["barolo", "pinot noir"]
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [1 / 3, 2 / 3])
