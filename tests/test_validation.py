"""The one check of integer parameters and random_state, and its users."""

import numpy as np
import pytest

from skbatchbald import acquisition
from skbatchbald._validation import (
    check_int,
    check_n_mc_samples,
    check_random_state,
    check_real,
    count_rows,
    spawn_seeds,
)
from skbatchbald.datasets import make_repeated
from skbatchbald.experiment import ExperimentConfig
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples

RANDOM_STATE_FORMS = [
    None,
    0,
    np.int64(3),
    np.random.default_rng(0),
    np.random.RandomState(0),
    np.random.SeedSequence(1),
    np.random.PCG64(2),
]
WRONG_TYPES = [True, np.bool_(False), 1.5, 2.0, "0", [0], object()]


class TestCheckReal:
    @pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(1)])
    def test_returns_a_python_float(self, value):
        out = check_real(value, "x", expected="a number", min_val=0.0)
        assert type(out) is float
        assert out == float(value)

    @pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", [0.5], None])
    def test_wrong_type_is_a_type_error(self, value):
        with pytest.raises(
            TypeError, match=r"^x must be a number >= 0, got .* of type"
        ):
            check_real(value, "x", expected="a number >= 0", min_val=0.0)

    @pytest.mark.parametrize(
        ("value", "kwargs"),
        [
            (np.nan, {}),
            (-0.1, {"min_val": 0.0}),
            (0.0, {"min_val": 0.0, "min_open": True}),
            (1.0, {"max_val": 1.0, "max_open": True}),
            (1.5, {"max_val": 1.0}),
            (np.inf, {"finite": True}),
        ],
    )
    def test_out_of_range_is_a_value_error(self, value, kwargs):
        with pytest.raises(ValueError, match=r"^x must be in range, got .*; a hint$"):
            check_real(value, "x", expected="in range", hint="a hint", **kwargs)

    def test_closed_bounds_and_inf_are_accepted(self):
        kwargs = {"expected": "e", "min_val": 0.0, "max_val": 1.0}
        assert check_real(0.0, "x", **kwargs) == 0.0
        assert check_real(1.0, "x", **kwargs) == 1.0
        assert check_real(np.inf, "x", expected="e") == np.inf

    # Its users, which each had their own check: the same contract everywhere.
    @pytest.mark.parametrize(
        "build",
        [
            lambda: BayesianMLP(n_features=3, p=False),
            lambda: ExperimentConfig(lr=True),
            lambda: ExperimentConfig(noise_std="0.1"),
            lambda: ExperimentConfig(stop_accuracy=True),
            lambda: ExperimentConfig(budget=40.0),
        ],
    )
    def test_users_reject_bools_and_strings_as_type_errors(self, build):
        with pytest.raises(TypeError, match="must be"):
            build()


class TestCheckInt:
    @pytest.mark.parametrize("value", [1, 5, np.int32(7), np.uint8(2)])
    def test_returns_a_python_int(self, value):
        out = check_int(value, "n")
        assert out == value and type(out) is int

    @pytest.mark.parametrize("value", [*WRONG_TYPES, None])
    def test_wrong_type_is_a_type_error(self, value):
        with pytest.raises(
            TypeError, match=r"n must be a positive int, got .* of type"
        ):
            check_int(value, "n")

    @pytest.mark.parametrize(
        ("value", "kwargs", "expected"),
        [
            (0, {}, r"a positive int, got 0"),
            (-3, {}, r"a positive int, got -3"),
            (-1, {"min_val": 0}, r"an int >= 0, got -1"),
            (4, {"min_val": 5}, r"an int >= 5, got 4"),
            (11, {"max_val": 10}, r"an int in \[1, 10\], got 11"),
        ],
    )
    def test_out_of_range_is_a_value_error(self, value, kwargs, expected):
        with pytest.raises(ValueError, match=f"n must be {expected}"):
            check_int(value, "n", **kwargs)

    def test_bounds_are_inclusive(self):
        assert check_int(0, "n", min_val=0) == 0
        assert check_int(10, "n", max_val=10) == 10

    def test_hint_ends_the_message(self):
        with pytest.raises(ValueError, match=r"got 0; try 20$"):
            check_int(0, "n", hint="try 20")

    def test_n_mc_samples_message_says_what_k_is(self):
        with pytest.raises(ValueError, match="number K of posterior samples"):
            check_n_mc_samples(0)


class TestCheckRandomState:
    @pytest.mark.parametrize("value", RANDOM_STATE_FORMS, ids=repr)
    def test_every_form_gives_a_generator(self, value):
        assert isinstance(check_random_state(value), np.random.Generator)

    def test_same_int_same_draws(self):
        assert check_random_state(3).random() == check_random_state(3).random()

    def test_generator_is_used_as_is(self):
        rng = np.random.default_rng(0)
        assert check_random_state(rng) is rng

    def test_random_state_is_reproducible_and_advances(self):
        a, b = np.random.RandomState(5), np.random.RandomState(5)
        first = check_random_state(a).random()
        assert first == check_random_state(b).random()
        assert check_random_state(a).random() != first

    def test_seed_sequence(self):
        seq = np.random.SeedSequence(7)
        assert check_random_state(seq).random() == check_random_state(7).random()

    def test_global_generator_untouched(self):
        before = np.random.get_state()[1].copy()  # noqa: NPY002
        check_random_state(None).random()
        check_random_state(4).random()
        check_random_state(np.random.RandomState(0)).random()
        np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002

    @pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
    def test_wrong_type_is_a_type_error(self, value):
        with pytest.raises(TypeError, match="random_state must be None, an int >= 0"):
            check_random_state(value)

    def test_negative_int_is_a_value_error(self):
        with pytest.raises(ValueError, match="negative int -1"):
            check_random_state(-1)

    def test_name_is_in_the_message(self):
        with pytest.raises(TypeError, match=r"^seed must be"):
            check_random_state("x", name="seed")


def test_spawn_seeds_are_reproducible_and_distinct():
    seeds = spawn_seeds(0, 5)
    assert seeds == spawn_seeds(0, 5)
    assert len(set(seeds)) == 5
    assert all(type(s) is int and 0 <= s < 2**63 - 1 for s in seeds)


ACQUISITION_FUNCTIONS = [
    acquisition.batchbald,
    acquisition.bald,
    acquisition.power_bald,
    acquisition.max_entropy,
    acquisition.variation_ratios,
    acquisition.mean_std,
    acquisition.random_batch,
]


@pytest.fixture(scope="module")
def log_probs():
    logits = np.random.default_rng(0).normal(size=(12, 4, 3))
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


class TestEveryFunctionAcceptsTheSameForms:
    """One convention: every public random_state takes the same forms."""

    @pytest.mark.parametrize("function", ACQUISITION_FUNCTIONS)
    @pytest.mark.parametrize("value", RANDOM_STATE_FORMS, ids=repr)
    def test_acquisition_accepts(self, function, value, log_probs):
        indices, _ = function(log_probs, 3, random_state=value)
        assert len(set(indices.tolist())) == 3

    @pytest.mark.parametrize("function", ACQUISITION_FUNCTIONS)
    def test_acquisition_rejects(self, function, log_probs):
        # deterministic functions included: a typo never passes silently
        with pytest.raises(TypeError, match="random_state"):
            function(log_probs, 3, random_state="junk")
        with pytest.raises(ValueError, match="random_state"):
            function(log_probs, 3, random_state=-2)

    @pytest.mark.parametrize("value", RANDOM_STATE_FORMS, ids=repr)
    def test_make_repeated_accepts(self, value):
        X_rep, _, _ = make_repeated(np.zeros((2, 3)), [0, 1], random_state=value)
        assert X_rep.shape == (6, 3)

    def test_make_repeated_rejects(self):
        with pytest.raises(TypeError, match="random_state"):
            make_repeated(np.zeros((2, 3)), [0, 1], random_state="junk")

    def test_sampling_rejects_even_when_every_member_is_kept(self, digits_split):
        from sklearn.ensemble import RandomForestClassifier

        d = digits_split
        forest = RandomForestClassifier(4, random_state=0).fit(d["X_init"], d["y_init"])
        with pytest.raises(TypeError, match="random_state"):
            predict_log_proba_samples(forest, d["X_pool"][:5], random_state=1.5)
        generator = np.random.default_rng(0)
        picked = predict_log_proba_samples(
            forest, d["X_pool"][:5], n_mc_samples=2, random_state=generator
        )
        assert picked.shape == (5, 2, 10)


def test_seeds_drawn_from_a_generator_come_from_two_helpers():
    # draw_seed: one seed any library takes; spawn_seeds: int64 seeds (torch).
    from skbatchbald._validation import draw_seed
    from skbatchbald.out_of_core import _one_seed

    seeds = [draw_seed(np.random.default_rng(s)) for s in range(50)]
    assert all(type(s) is int and 0 <= s < 2**31 - 1 for s in seeds)
    assert len(set(seeds)) == 50
    rng = np.random.default_rng(7)
    assert draw_seed(rng) != draw_seed(rng)  # the generator advances
    assert (
        _one_seed(np.random.default_rng(3))
        == spawn_seeds(np.random.default_rng(3), 1)[0]
    )
    assert _one_seed(11) == 11  # an int is kept


class TestCountRows:
    def test_a_dict_of_inputs_has_the_rows_of_each(self):
        X = {"image": np.zeros((4, 2, 2)), "meta": [[1.0]] * 4}
        assert count_rows(X, "X") == 4

    def test_a_dict_of_arrays_of_other_lengths_names_them(self):
        with pytest.raises(
            ValueError, match=r"different numbers of rows \('a': 4, 'b': 3\)"
        ):
            count_rows({"a": np.zeros((4, 2)), "b": np.zeros(3)}, "X")
        with pytest.raises(ValueError, match="X is an empty dict"):
            count_rows({}, "X")
        with pytest.raises(TypeError, match=r"X\['a'\] must be array-like"):
            count_rows({"a": 3}, "X")


class TestRandomStream:
    """A seed starts a stream that later calls continue; a clone starts over."""

    class Owner:
        pass

    def test_a_seed_starts_a_stream_continued_by_later_calls(self):
        from skbatchbald._validation import random_stream

        owner, again = self.Owner(), self.Owner()
        draws = [random_stream(owner, 7).integers(10**9) for _ in range(3)]
        assert len(set(draws)) == 3  # fresh draws at every call
        assert draws == [random_stream(again, 7).integers(10**9) for _ in range(3)]
        assert draws[0] == np.random.default_rng(7).integers(10**9)  # as before
        # another seed starts over; going back to 7 starts 7's stream anew
        assert random_stream(owner, np.int64(8)).integers(10**9) != draws[0]
        assert random_stream(owner, 7).integers(10**9) == draws[0]

    def test_generators_advance_and_none_is_fresh(self):
        from skbatchbald._validation import random_stream

        rng = np.random.default_rng(0)
        owner = self.Owner()
        first = random_stream(owner, rng).integers(10**9)
        assert random_stream(owner, rng).integers(10**9) != first
        assert "_random_stream" not in vars(owner)  # nothing kept
        with pytest.raises(TypeError, match="random_state must be"):
            random_stream(owner, True)


def test_call_generator_draws_for_the_seed_and_the_call():
    from skbatchbald._validation import call_generator, check_random_state

    def draw(context, seed=3):
        return call_generator(seed, check_random_state(seed), context).integers(10**9)

    first = draw((100, 20))
    assert draw((100, 20)) == first  # the same call, the same draws
    later = draw((90, 30))  # the next round
    assert later != first and draw((90, 30)) == later
    assert draw((100, 20), seed=4) != first
    # nothing is kept between calls: the draws depend on the seed and the call
    assert first == np.random.default_rng([3, 100, 20]).integers(10**9)
    rng = np.random.default_rng(0)  # a Generator is used as given
    assert call_generator(rng, rng, (1, 2)) is rng
    assert call_generator(None, rng, (1, 2)) is rng


def test_a_committee_counts_its_members_labelled_rows(digits_split):
    from modAL.models import Committee
    from sklearn.ensemble import RandomForestClassifier

    from skbatchbald import ActiveLearner
    from skbatchbald._validation import call_context, count_labelled

    d = digits_split
    members = [
        ActiveLearner(
            RandomForestClassifier(n_estimators=3, random_state=0),
            X_training=d["X_init"],
            y_training=d["y_init"],
        )
        for _ in range(2)
    ]
    committee = Committee(learner_list=members)
    assert count_labelled(committee) == len(d["X_init"]) == 20
    committee.teach(d["X_pool"][:5], d["y_pool"][:5])
    # a seeded strategy on a pool it is given whole draws afresh after teach
    assert call_context(committee, 100) == (100, 25)
    assert count_labelled(members[0].estimator) is None


def test_a_nonfinite_input_names_its_rows():
    import scipy.sparse as sp
    import torch

    from skbatchbald._validation import nonfinite_rows_message

    X = np.zeros((10, 3, 2))
    X[7, 1, 0] = np.nan
    X[2, 0, 1] = np.inf
    for form in (X, torch.from_numpy(X)):
        message = nonfinite_rows_message(form)
        assert "in 2 row(s) (first: [2, 7])" in message
        assert "keep = np.isfinite(X)" in message
    sparse = sp.csr_matrix(X.reshape(10, -1))
    assert "(first: [2, 7])" in nonfinite_rows_message(sparse)
    assert nonfinite_rows_message(np.zeros((3, 2))) is None


def _fitted_net(d):
    """A small MC-dropout net fitted on the initial digits, for input checks."""
    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianMLP

    return MCDropoutClassifier(
        BayesianMLP, module__n_features=64, max_epochs=2, verbose=0, random_state=0
    ).fit((d["X_init"] / 16).astype(np.float32), d["y_init"])


def test_an_mc_dropout_classifier_names_the_nonfinite_rows(digits_split, monkeypatch):
    d = digits_split
    net = _fitted_net(d)
    X = (d["X_pool"][:50] / 16).astype(np.float32)
    X[[31, 40]] = np.nan  # two broken images, beyond the first rows checked
    with pytest.raises(ValueError, match=r"in 2 row\(s\) \(first: \[31, 40\]\)"):
        net.predict_proba(X)
    # a pool read in blocks names rows of the pool, not of the block
    from skbatchbald.classifier import _estimator, _stream

    for module in (_stream, _estimator):
        monkeypatch.setattr(module, "BLOCK_ROWS", 16)
    with pytest.raises(ValueError, match=r"in 1 row\(s\) \(first: \[31\]\)"):
        net.predict_proba(X)


def test_missing_values_in_object_inputs():
    from skbatchbald._missing import has_missing

    ragged = [np.arange(3.0), np.arange(5.0)]  # variable-length rows
    assert has_missing(ragged) is False
    cells = np.empty(3, dtype=object)
    cells[:] = [np.arange(2.0), "a", 1.5]  # an array in a cell
    assert has_missing(cells) is False
    cells[1] = None
    assert has_missing(cells) is True
    pd = pytest.importorskip("pandas")
    cells[1] = pd.NA
    assert has_missing(cells) is True
    cells[1] = float("nan")
    assert has_missing(cells) is True


def test_nan_rows_of_a_sharded_or_chunked_pool_are_the_pools(digits_split, tmp_path):
    from skbatchbald.out_of_core import write_log_proba_samples

    d = digits_split
    net = _fitted_net(d)
    X = (d["X_pool"][:100] / 16).astype(np.float32)
    X[70] = np.nan
    with pytest.raises(ValueError, match=r"\(first: \[70\]\)"):
        net.predict_log_proba_samples(X, n_jobs=2)
    with pytest.raises(ValueError, match=r"\(first: \[70\]\)"):
        write_log_proba_samples(net, X, tmp_path / "lp.npy", chunk_size=30)
