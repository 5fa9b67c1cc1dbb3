"""Input validation: what check_* accept, return, and the messages they raise."""

import re

import numpy as np
import pytest
import torch

from skbatchbald.acquisition import _normalisation
from skbatchbald.acquisition._validation import (
    check_log_probs,
    check_n_instances,
)


class TestCheckLogProbsAccepts:
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_c_contiguous_float_returned_without_copy(self, make_log_probs, dtype):
        x = make_log_probs(5, 3, 4, dtype=dtype)
        out = check_log_probs(x)
        assert out is x
        assert out.dtype == dtype

    @pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
    def test_other_float_dtypes_become_float64(self, make_log_probs, dtype):
        out = check_log_probs(make_log_probs(5, 3, 4, scale=1.0, dtype=dtype))
        assert out.dtype == np.float64

    def test_non_contiguous_becomes_contiguous(self, make_log_probs):
        x = make_log_probs(4, 3, 5).transpose(1, 0, 2)  # (3, 4, 5) view
        out = check_log_probs(x)
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, x)

    def test_nested_lists(self):
        out = check_log_probs([[[np.log(0.25), np.log(0.75)]]])
        assert out.shape == (1, 1, 2)
        assert out.dtype == np.float64

    def test_neg_inf_is_valid(self, log_probs_with_zeros):
        assert np.isneginf(log_probs_with_zeros).any()
        assert check_log_probs(log_probs_with_zeros) is log_probs_with_zeros

    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
    def test_torch_tensor_with_grad(self, make_log_probs, dtype):
        x = make_log_probs(5, 3, 4)
        tensor = torch.tensor(x, dtype=dtype, requires_grad=True)
        out = check_log_probs(tensor)
        assert isinstance(out, np.ndarray)
        assert out.dtype == (np.float32 if dtype == torch.float32 else np.float64)
        np.testing.assert_array_equal(out, tensor.detach().numpy())

    @pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
    def test_torch_half_precision(self, dtype):
        logits = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(0))
        out = check_log_probs(torch.log_softmax(logits.to(dtype), dim=-1))
        assert out.dtype == np.float64

    def test_float32_log_softmax_over_many_classes(self):
        logits = 5 * torch.randn(
            20, 4, 1000, generator=torch.Generator().manual_seed(0)
        )
        check_log_probs(torch.log_softmax(logits, dim=-1))

    def test_float32_cast_to_float64(self, make_log_probs):
        x = make_log_probs(50, 10, 100, dtype=np.float32).astype(np.float64)
        check_log_probs(x)

    def test_chunked_check_sees_every_row(self, make_log_probs, monkeypatch):
        monkeypatch.setattr(_normalisation, "TILE_BYTES", 64)  # one row per chunk
        x = make_log_probs(6, 2, 3)
        check_log_probs(x)
        x[5, 1] += 0.1
        with pytest.raises(ValueError, match=r"at \[n=5, k=1\]"):
            check_log_probs(x)


class TestCheckLogProbsRejects:
    def test_nan(self, make_log_probs):
        x = make_log_probs(5, 3, 4)
        x[2, 1, 0] = np.nan
        with pytest.raises(
            ValueError, match=r"contains NaN \(first at \[n=2, k=1, c=0"
        ):
            check_log_probs(x)

    def test_pos_inf(self, make_log_probs):
        x = make_log_probs(5, 3, 4)
        x[2, 1, 0] = np.inf
        with pytest.raises(ValueError, match=r"log_probs contains \+inf"):
            check_log_probs(x)

    @pytest.mark.parametrize("shape", [(4,), (4, 3), (2, 4, 3, 2)])
    def test_wrong_ndim(self, shape):
        x = np.full(shape, np.log(1 / 3))
        expected = (
            r"must be 3-d with shape \(n_pool, n_mc_samples, n_classes\), got an "
        )
        with pytest.raises(
            ValueError, match=expected + rf"array of shape {re.escape(str(shape))}"
        ):
            check_log_probs(x)

    def test_scalar(self):
        with pytest.raises(
            ValueError, match=r"must be 3-d .* got an array of shape \(\)"
        ):
            check_log_probs(0.0)

    def test_probabilities(self, make_log_probs):
        probs = np.exp(make_log_probs(5, 3, 4))
        expected = r"did you pass probabilities\? use np\.log"
        with pytest.raises(ValueError, match=expected):
            check_log_probs(probs)

    def test_one_hot_probabilities(self):
        probs = np.eye(3)[None].repeat(2, axis=0)  # (2, 3, 3) one-hot rows
        with pytest.raises(ValueError, match="did you pass probabilities"):
            check_log_probs(probs)

    def test_logits(self, make_log_probs):
        logits = np.random.default_rng(0).standard_normal((5, 3, 4))
        with pytest.raises(ValueError, match=r"apply log_softmax over the class axis"):
            check_log_probs(logits)
        with pytest.raises(ValueError, match=r"scipy\.special\.log_softmax.*torch"):
            check_log_probs(torch.tensor(logits))

    def test_slightly_unnormalised(self, make_log_probs):
        x = make_log_probs(5, 3, 4)
        x[3, 2] += 1e-4  # beyond the float64 tolerance 1e-5
        with pytest.raises(
            ValueError, match=r"not normalised.*got 0\.0001 at \[n=3, k=2\]"
        ):
            check_log_probs(x)
        check_log_probs(x.astype(np.float32))  # within the float32 tolerance 1e-3

    def test_all_neg_inf_row(self, make_log_probs):
        x = make_log_probs(5, 3, 4)
        x[1, 0] = -np.inf
        with pytest.raises(ValueError, match=r"got -inf at \[n=1, k=0\]"):
            check_log_probs(x)

    def test_one_class(self):
        with pytest.raises(ValueError, match="at least 2 classes, got n_classes=1"):
            check_log_probs(np.zeros((5, 3, 1)))

    def test_empty_pool(self):
        with pytest.raises(ValueError, match=r"empty pool \(n_pool == 0"):
            check_log_probs(np.zeros((0, 3, 4)))

    def test_no_samples(self):
        with pytest.raises(
            ValueError, match=r"no posterior samples \(n_mc_samples == 0"
        ):
            check_log_probs(np.zeros((5, 0, 4)))

    @pytest.mark.parametrize(
        "bad", [np.zeros((2, 2, 2), dtype=complex), np.full((2, 2, 2), "a"), True]
    )
    def test_non_real_dtype(self, bad):
        with pytest.raises(ValueError, match="must hold real numbers"):
            check_log_probs(bad)

    def test_ragged(self):
        with pytest.raises(ValueError, match="could not convert the list"):
            check_log_probs([[[0.0, -np.inf]], [[0.0]]])

    def test_custom_name(self):
        with pytest.raises(ValueError, match=r"^pool_log_probs contains NaN"):
            check_log_probs(np.full((1, 1, 2), np.nan), name="pool_log_probs")


class TestCheckNInstances:
    @pytest.mark.parametrize("value", [1, 3, 10, np.int64(4), np.uint8(10)])
    def test_valid(self, value):
        out = check_n_instances(value, 10)
        assert out == value
        assert type(out) is int

    @pytest.mark.parametrize("value", [0, 11, -1])
    def test_out_of_range(self, value):
        with pytest.raises(
            ValueError, match=rf"n_instances must be an int in \[1, 10\], got {value};"
        ):
            check_n_instances(value, 10)

    @pytest.mark.parametrize(
        ("value", "got"),
        [
            (2.5, "got 2.5 of type float"),
            (3.0, "got 3.0 of type float"),
            (True, "got True of type bool"),
            (np.bool_(True), "got .*True_? of type bool"),
            ("3", "got '3' of type str"),
            (None, "got None of type NoneType"),
        ],
    )
    def test_wrong_type(self, value, got):
        with pytest.raises(
            TypeError, match=rf"n_instances must be an int in \[1, 10\], {got}"
        ):
            check_n_instances(value, 10)


class TestMultiLabelHint:
    """Per-label log p(y_l = 1) given to a single-label function: the message
    said "apply log_softmax", which would make one categorical of independent
    labels; it now names the multi-label functions."""

    @staticmethod
    def _label_log_probs():
        # what predict_multilabel_log_proba_samples gives: (N, K, L), each
        # label's own log p(y_l = 1), with -inf where a tree says never
        p = np.random.default_rng(0).uniform(size=(60, 10, 4))
        p[p < 0.1] = 0.0
        with np.errstate(divide="ignore"):
            return np.log(p).astype(np.float32)

    @pytest.mark.parametrize("name", ["bald", "batchbald", "check_log_probs"])
    def test_per_label_log_probabilities_name_the_multilabel_functions(self, name):
        from skbatchbald import acquisition

        log_probs = self._label_log_probs()
        assert log_probs.max() <= 0
        call = {
            "bald": lambda x: acquisition.bald(x, 3),
            "batchbald": lambda x: acquisition.batchbald(x, 3),
            "check_log_probs": check_log_probs,
        }[name]
        with pytest.raises(ValueError) as caught:
            call(log_probs)
        message = str(caught.value)
        for phrase in (
            "per-label log p(y_l = 1) of a multi-label model",
            "skbatchbald.acquisition.multilabel_bald or multilabel_batchbald",
            "BALDQuery, PowerBALDQuery and BatchBALDQuery",
            "not log_softmax, which would make one categorical of the labels",
            "if they are logits, apply log_softmax",
        ):
            assert phrase in message

    def test_per_label_probabilities_in_a_memmap_too(self, tmp_path):
        from skbatchbald import acquisition

        log_probs = self._label_log_probs()
        mm = np.lib.format.open_memmap(
            tmp_path / "x.npy", mode="w+", dtype=log_probs.dtype, shape=log_probs.shape
        )
        mm[:] = log_probs
        with pytest.raises(ValueError, match="multilabel_bald or multilabel_batchbald"):
            acquisition.bald(mm, 3)

    def test_logits_and_round_off_do_not_get_the_hint(self, make_log_probs):
        logits = np.random.default_rng(0).standard_normal((5, 3, 4))
        x = make_log_probs(5, 3, 4)
        x[3, 2] += 1e-4  # a sum off by 0.01 %: round-off, not labels
        for bad in (logits, x):
            with pytest.raises(ValueError) as caught:
                check_log_probs(bad)
            assert "multilabel" not in str(caught.value)
