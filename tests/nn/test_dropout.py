"""Consistent MC dropout: masks fixed per sample, shared by rows, always restored."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from skbatchbald.nn import (
    ConsistentMCDropout,
    ConsistentMCDropout2d,
    consistent_dropout,
    dropout_layers,
)
from skbatchbald.nn.dropout import n_rows

from ._modules import ConvNet, sample

ATOL = 1e-5  # matrix products may round differently for different batch sizes


@pytest.fixture
def net():
    torch.manual_seed(0)
    return ConvNet()


@pytest.fixture
def pool():
    return torch.randn(23, 2, 6, 6, generator=torch.Generator().manual_seed(1))


class TestConsistency:
    def test_duplicated_row_gets_identical_samples_at_every_position(self, net, pool):
        x = pool.clone()
        positions = [0, 5, 11, 22]
        x[positions] = pool[3]
        out = sample(net, x, 8, random_state=0)  # (23, 8, 3)
        for i in positions[1:]:
            torch.testing.assert_close(out[i], out[0], atol=ATOL, rtol=0)

    @pytest.mark.parametrize("batch_size", [1, 7])
    def test_batch_size_does_not_change_samples(self, net, pool, batch_size):
        whole = sample(net, pool, 6, random_state=3)
        batched = sample(net, pool, 6, random_state=3, batch_size=batch_size)
        torch.testing.assert_close(batched, whole, atol=ATOL, rtol=0)

    def test_row_order_does_not_change_samples(self, net, pool):
        order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(2))
        whole = sample(net, pool, 6, random_state=3)
        shuffled = sample(net, pool[order], 6, random_state=3, batch_size=5)
        torch.testing.assert_close(shuffled, whole[order], atol=ATOL, rtol=0)

    def test_different_samples_differ(self, net, pool):
        out = sample(net, pool, 6, random_state=0)
        for k in range(1, 6):
            assert (out[:, k] - out[:, 0]).abs().max() > 1e-3

    def test_same_random_state_same_samples_other_state_differs(self, net, pool):
        a = sample(net, pool, 5, random_state=7)
        b = sample(net, pool, 5, random_state=7)
        c = sample(net, pool, 5, random_state=8)
        assert torch.equal(a, b)
        assert (a - c).abs().max() > 1e-3

    def test_generator_random_state_is_accepted_and_advanced(self, net, pool):
        rng = np.random.default_rng(0)
        a = sample(net, pool, 3, random_state=rng)
        b = sample(net, pool, 3, random_state=rng)
        assert (a - b).abs().max() > 1e-3

    def test_global_torch_and_numpy_rngs_untouched(self, net, pool):
        # the legacy global numpy state is what must stay untouched
        np_state = np.random.get_state()[1].copy()  # noqa: NPY002
        torch_state = torch.get_rng_state()
        sample(net, pool, 4, random_state=None)
        assert torch.equal(torch.get_rng_state(), torch_state)
        assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


class TestMasks:
    def test_element_dropout_rate_and_scale(self):
        layer = nn.Dropout(0.3)
        x = torch.ones(2, 500)
        out = sample(layer, x, 40, random_state=0)  # (2, 40, 500)
        assert out.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
        assert torch.equal(out[0], out[1])  # rows share the mask
        assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)

    @pytest.mark.parametrize(
        ("layer", "shape"),
        [
            (nn.Dropout1d(0.5), (3, 40, 5)),
            (nn.Dropout2d(0.5), (3, 40, 4, 4)),
            (ConsistentMCDropout2d(0.5), (3, 40, 4, 4)),
            (nn.Dropout3d(0.5), (3, 40, 2, 3, 3)),
        ],
    )
    def test_channel_dropout_drops_whole_channels(self, layer, shape):
        out = sample(layer, torch.ones(shape), 30, random_state=0)  # (3, 30, C, ...)
        per_channel = out.flatten(3)  # (3, 30, C, spatial)
        assert torch.equal(per_channel.amin(3), per_channel.amax(3))
        assert set(per_channel.unique().tolist()) == {0.0, 2.0}
        dropped = (per_channel[0, :, :, 0] == 0).float().mean().item()
        assert dropped == pytest.approx(0.5, abs=0.06)

    @pytest.mark.parametrize("layer_cls", [nn.AlphaDropout, nn.FeatureAlphaDropout])
    def test_alpha_dropout_matches_torch_affine_form(self, layer_cls):
        p = 0.3
        x = torch.randn(1, 64, 50, generator=torch.Generator().manual_seed(0))
        layer = layer_cls(p)
        ours = sample(layer, x, 20, random_state=0)[0]  # (20, 64, 50)
        torch.manual_seed(0)
        functional = (
            F.alpha_dropout
            if layer_cls is nn.AlphaDropout
            else (F.feature_alpha_dropout)
        )
        theirs = torch.stack([functional(x[0:1], p, True)[0] for _ in range(20)])

        def affine(out):  # kept: a x + b; dropped: one constant
            dropped_value = out.flatten().mode().values
            kept = out != dropped_value
            xs = x[0].expand_as(out)[kept]
            a = (out[kept] - out[kept].mean()).dot(xs - xs.mean()) / (
                (xs - xs.mean()).square().sum()
            )
            b = out[kept].mean() - a * xs.mean()
            torch.testing.assert_close(out[kept], a * xs + b, atol=1e-4, rtol=0)
            return torch.stack([a, b, dropped_value]), 1 - kept.float().mean()

        (ours_abc, ours_rate), (theirs_abc, theirs_rate) = affine(ours), affine(theirs)
        torch.testing.assert_close(ours_abc, theirs_abc, atol=1e-4, rtol=0)
        assert ours_rate.item() == pytest.approx(p, abs=0.02)
        assert theirs_rate.item() == pytest.approx(p, abs=0.02)

    def test_p_one_gives_zeros_like_torch(self):
        out = sample(nn.Dropout(1.0), torch.ones(3, 4), 2, random_state=0)
        assert torch.equal(out, torch.zeros(3, 2, 4))

    def test_masks_move_to_output_dtype(self):
        layer = nn.Dropout(0.5)
        x = torch.ones(2, 8, dtype=torch.float64)
        assert sample(layer, x, 2, random_state=0).dtype == torch.float64


class TestModesAndRestoration:
    def test_batchnorm_statistics_untouched_and_used_in_eval(self, net, pool):
        net.train()
        net(pool)  # make the running statistics non-trivial
        before = {k: v.clone() for k, v in net.bn.state_dict().items()}
        sample(net, pool, 3, random_state=0)
        after = net.bn.state_dict()
        for key, value in before.items():
            assert torch.equal(after[key], value), key

    def test_training_flags_and_requires_grad_restored(self, net, pool):
        net.train()
        net.drop.eval()  # a mixed configuration must come back exactly
        net.fc.weight.requires_grad_(False)
        flags = {name: m.training for name, m in net.named_modules()}
        grads = {name: p.requires_grad for name, p in net.named_parameters()}
        sample(net, pool, 2, random_state=0)
        assert {name: m.training for name, m in net.named_modules()} == flags
        assert {name: p.requires_grad for name, p in net.named_parameters()} == grads

    def test_module_is_in_eval_mode_inside_the_block(self, net):
        net.train()
        with consistent_dropout(net, 2, random_state=0):
            assert not any(m.training for m in net.modules())
        assert all(m.training for m in net.modules())

    def test_restored_after_an_exception(self, net, pool):
        net.train()
        with pytest.raises(RuntimeError, match="boom"):  # noqa: SIM117
            with consistent_dropout(net, 2, random_state=0) as masks:
                masks.select(0)
                net(pool)
                raise RuntimeError("boom")
        assert all(m.training for m in net.modules())
        assert not any(m._forward_hooks for m in net.modules())
        torch.manual_seed(0)
        a = net.drop(torch.ones(4, 100))
        assert (a == 0).any()  # ordinary training dropout again

    def test_hooks_removed_and_eval_output_deterministic_afterwards(self, net, pool):
        net.eval()
        before = net(pool)
        sample(net, pool, 3, random_state=0)
        assert not any(m._forward_hooks for m in net.modules())
        assert torch.equal(net(pool), before)


class TestPlainDropoutModule:
    def test_user_sequential_with_plain_dropout_is_consistent(self):
        torch.manual_seed(0)
        user = nn.Sequential(
            nn.Linear(5, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 4)
        )
        x = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
        x[10] = x[20] = x[0]
        whole = sample(user, x, 10, random_state=0)
        ones = sample(user, x, 10, random_state=0, batch_size=1)
        torch.testing.assert_close(ones, whole, atol=ATOL, rtol=0)
        torch.testing.assert_close(whole[10], whole[0], atol=ATOL, rtol=0)
        torch.testing.assert_close(whole[20], whole[0], atol=ATOL, rtol=0)
        assert (whole[:, 1] - whole[:, 0]).abs().max() > 1e-3
        assert isinstance(user[2], nn.Dropout) and type(user[2]) is nn.Dropout

    def test_shared_layer_listed_once_and_mask_fixed_per_sample(self):
        shared = nn.Dropout(0.5)
        user = nn.Sequential(shared, nn.Identity(), shared)
        assert [name for name, _ in dropout_layers(user)] == ["0"]
        out = sample(user, torch.ones(2, 50), 3, random_state=0)
        assert set(out.unique().tolist()) == {0.0, 4.0}  # same mask applied twice


class TestTrainingBehaviour:
    @pytest.mark.parametrize(
        ("ours", "plain"),
        [
            (ConsistentMCDropout(0.4), nn.Dropout(0.4)),
            (ConsistentMCDropout2d(0.4), nn.Dropout2d(0.4)),
        ],
    )
    def test_train_mode_is_torch_dropout_and_eval_is_identity(self, ours, plain):
        x = torch.randn(8, 6, 5, 5)
        torch.manual_seed(3)
        a = ours.train()(x)
        torch.manual_seed(3)
        b = plain.train()(x)
        assert torch.equal(a, b) and not torch.equal(a, x)
        assert torch.equal(ours.eval()(x), x)


class TestErrors:
    def test_module_without_dropout_raises_value_error(self):
        with pytest.raises(ValueError, match="identical"):  # noqa: SIM117
            with consistent_dropout(nn.Linear(2, 2), 5):
                pass

    def test_only_zero_probability_dropout_raises(self):
        with pytest.raises(ValueError, match="p > 0"):  # noqa: SIM117
            with consistent_dropout(nn.Sequential(nn.Dropout(0.0)), 5):
                pass

    @pytest.mark.parametrize(
        ("n_mc_samples", "error"),
        [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
         ("3", TypeError)],
    )  # fmt: skip
    def test_bad_n_samples(self, n_mc_samples, error):
        with pytest.raises(error, match="n_mc_samples must be a positive int"):  # noqa: SIM117
            with consistent_dropout(nn.Dropout(0.5), n_mc_samples):
                pass

    def test_not_a_module(self):
        with pytest.raises(TypeError, match=r"torch\.nn\.Module"):  # noqa: SIM117
            with consistent_dropout(lambda x: x, 3):
                pass

    @pytest.mark.parametrize(
        ("random_state", "error"),
        [(-1, ValueError), ("seed", TypeError), (1.5, TypeError)],
    )
    def test_bad_random_state(self, random_state, error):
        with pytest.raises(error, match="random_state"):  # noqa: SIM117
            with consistent_dropout(nn.Dropout(0.5), 3, random_state):
                pass

    def test_forward_without_select_raises(self):
        layer = nn.Dropout(0.5)
        with pytest.raises(RuntimeError, match="select"):  # noqa: SIM117
            with consistent_dropout(layer, 3, random_state=0):
                layer(torch.ones(2, 3))

    @pytest.mark.parametrize("k", [-1, 3, 1.0])
    def test_select_out_of_range(self, k):
        with pytest.raises(ValueError, match=r"k must be an int in \[0, 3\)"):  # noqa: SIM117
            with consistent_dropout(nn.Dropout(0.5), 3, random_state=0) as masks:
                masks.select(k)

    def test_changing_feature_shape_raises(self):
        layer = nn.Dropout(0.5)
        with pytest.raises(ValueError, match="same feature shape"):  # noqa: SIM117
            with consistent_dropout(layer, 2, random_state=0) as masks:
                masks.select(0)
                layer(torch.ones(2, 3))
                layer(torch.ones(2, 4))

    def test_unbatched_input_raises(self):
        layer = nn.Dropout(0.5)
        with pytest.raises(ValueError, match="batch dimension"):  # noqa: SIM117
            with consistent_dropout(layer, 2, random_state=0) as masks:
                masks.select(0)
                layer(torch.ones(3))


class TestFold:
    def test_fold_gives_every_selected_sample_of_each_row(self, net, pool):
        loop = sample(net, pool, 7, random_state=4)  # (23, 7, 3)
        with torch.no_grad(), consistent_dropout(net, 7, random_state=4) as masks:
            masks.fold()
            whole = net(pool).view(23, 7, 3)
            masks.fold(2, 5)
            window = net(pool).view(23, 3, 3)
            assert list(masks.samples) == [2, 3, 4]
        torch.testing.assert_close(whole, loop, atol=ATOL, rtol=0)
        torch.testing.assert_close(window, loop[:, 2:5], atol=ATOL, rtol=0)

    def test_of_returns_the_masks_the_hooks_apply(self):
        layers = [nn.Dropout(0.4), nn.Dropout2d(0.5), nn.AlphaDropout(0.2)]
        x = torch.randn(3, 4, 5, 5)
        for layer in layers:
            with torch.no_grad(), consistent_dropout(layer, 6, random_state=0) as m:
                m.fold(1, 4)
                scale, shift = m.of(layer, x)
                out = layer(x).view(3, 3, 4, 5, 5)
            expected = x.unsqueeze(1) * scale + (0 if shift is None else shift)
            torch.testing.assert_close(out, expected)
            assert scale.shape[0] == 3
            assert (shift is None) != isinstance(layer, nn.AlphaDropout)
            feature = (4, 1, 1) if isinstance(layer, nn.Dropout2d) else (4, 5, 5)
            assert tuple(scale.shape[1:]) == feature

    def test_of_a_zero_probability_layer_is_ones(self):
        net = nn.Sequential(nn.Dropout(0.0), nn.Linear(3, 3), nn.Dropout(0.5))
        with consistent_dropout(net, 4, random_state=0) as masks:
            masks.fold(0, 2)
            scale, shift = masks.of(net[0], torch.ones(5, 3))
        assert torch.equal(scale, torch.ones(2, 3)) and shift is None

    def test_of_rejects_a_layer_that_is_not_dropout(self):
        net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
        with consistent_dropout(net, 4, random_state=0) as masks:
            masks.select(0)
            with pytest.raises(ValueError, match="not a dropout layer"):
                masks.of(net[0], torch.ones(2, 3))

    @pytest.mark.parametrize(
        ("start", "stop", "error"),
        [
            (-1, 2, ValueError),
            (2, 2, ValueError),
            (0, 5, ValueError),
            (1.0, 3, TypeError),
            (0, True, TypeError),
        ],
    )
    def test_bad_fold_window(self, start, stop, error):
        with consistent_dropout(nn.Dropout(0.5), 4, random_state=0) as masks:  # noqa: SIM117
            with pytest.raises(error, match=r"start|stop"):
                masks.fold(start, stop)

    def test_restored_after_an_exception_while_folded(self, net, pool):
        net.train()
        with pytest.raises(RuntimeError, match="boom"):  # noqa: SIM117
            with consistent_dropout(net, 3, random_state=0) as masks:
                masks.fold()
                net(pool)
                raise RuntimeError("boom")
        assert all(m.training for m in net.modules())
        assert not any(m._forward_hooks or m._forward_pre_hooks for m in net.modules())


class TestRowsOfABatch:
    """n_rows: the one count of a batch's rows (the engine's batches, and the
    inputs of a forward call, which the folding hook reads)."""

    @pytest.mark.parametrize(
        ("batch", "expected"),
        [
            (torch.zeros(4, 2), 4),
            ({"x": torch.zeros(5, 2), "mask": torch.ones(5)}, 5),
            ((torch.tensor(0.5), torch.zeros(3, 2)), 3),  # a scalar argument first
            ([[np.zeros(2)], {"x": torch.zeros(6)}], 6),
        ],
    )
    def test_first_tensor_with_rows_decides(self, batch, expected):
        assert n_rows(batch) == expected

    @pytest.mark.parametrize("batch", [(), (torch.tensor(1.0),), [np.zeros(3)]])
    def test_no_rows_is_a_type_error(self, batch):
        with pytest.raises(TypeError, match="cannot find the rows of a batch"):
            n_rows(batch)
