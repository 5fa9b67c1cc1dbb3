"""BayesianCNN.mc_forward: the channel-linearity fast path equals the per-k loop."""

import warnings

import pytest
import torch
from torch import nn

from skbatchbald.nn import BayesianCNN, ConsistentMCDropout2d, consistent_dropout
from skbatchbald.nn.nets import _max_pool2

from ._modules import sample
from .test_engine import engine_samples

ATOL = 1e-5

CONFIGS = {
    "paper 28x28": ({}, (10, 1, 28, 28)),
    "digits 8x8 padded": ({"image_size": 8, "kernel_size": 3, "padding": 1}, (9, 64)),
    "odd maps, 3 channels": (
        {"image_size": 15, "kernel_size": 4, "in_channels": 3},
        (7, 3, 15, 15),
    ),
}


def _net(**kwargs):
    torch.manual_seed(0)
    net = BayesianCNN(**kwargs)
    with torch.no_grad():  # non-trivial biases of both signs
        for layer in (net.conv1, net.conv2, net.fc1):
            layer.bias.uniform_(-0.5, 0.5)
    return net


@pytest.mark.parametrize("name", list(CONFIGS))
def test_fast_path_is_used_and_equals_the_per_k_loop(name):
    kwargs, shape = CONFIGS[name]
    net = _net(**kwargs)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    loop = sample(net, x, 13, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast, engine = engine_samples(net, x, 13, random_state=5)
    assert engine.path == "mc_forward"
    torch.testing.assert_close(fast, loop, atol=ATOL, rtol=0)


def test_fast_path_chunks_and_rows_are_independent():
    net = _net()
    x = torch.randn(37, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    with torch.no_grad(), consistent_dropout(net, 9, random_state=0) as masks:
        masks._hooks_on = False  # as the engine calls it
        masks.fold()
        whole = net.mc_forward(x, masks)
        masks.fold(3, 7)
        window = net.mc_forward(x[20:], masks)
        order = torch.randperm(37, generator=torch.Generator().manual_seed(0))
        masks.fold()
        shuffled = net.mc_forward(x[order], masks)
    assert whole.shape == (37, 9, 10)
    torch.testing.assert_close(window, whole[20:, 3:7], atol=ATOL, rtol=0)
    torch.testing.assert_close(shuffled, whole[order], atol=ATOL, rtol=0)


def test_zero_probability_layer_stays_on_the_fast_path():
    net = _net()
    net.conv1_drop.p = 0.0
    x = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    fast, engine = engine_samples(net, x, 5, random_state=0)
    assert engine.path == "mc_forward"
    torch.testing.assert_close(fast, sample(net, x, 5, 0), atol=ATOL, rtol=0)


@pytest.mark.parametrize(
    "replacement",
    [nn.FeatureAlphaDropout(0.3), nn.Dropout(0.3)],
    ids=["alpha", "element-wise"],
)
def test_other_dropout_kinds_use_the_generic_path(replacement):
    net = _net()
    net.conv2_drop = replacement
    x = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, engine = engine_samples(net, x, 5, random_state=0)
    assert engine.path == "folded"
    torch.testing.assert_close(out, sample(net, x, 5, 0), atol=ATOL, rtol=0)


class CustomDrop(ConsistentMCDropout2d):
    def forward(self, x):  # a user's own dropout: the fast path cannot know it
        return super().forward(x) * 1.0


def test_dropout_subclass_with_its_own_forward_uses_the_generic_path():
    net = _net()
    net.conv1_drop = CustomDrop(0.5)
    with torch.no_grad(), consistent_dropout(net, 2, random_state=0) as masks:
        masks.fold()
        assert net.mc_forward(torch.zeros(1, 1, 28, 28), masks) is NotImplemented


class WrongFastPath(BayesianCNN):
    def mc_forward(self, x, masks):
        return super().mc_forward(x, masks) + 1.0


def test_a_fast_path_that_disagrees_is_not_used():
    torch.manual_seed(0)
    net = WrongFastPath()
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    with pytest.warns(RuntimeWarning, match="differ from the generic"):
        out, engine = engine_samples(net, x, 4, random_state=0)
    assert engine.path == "folded"
    torch.testing.assert_close(out, sample(net, x, 4, 0), atol=ATOL, rtol=0)


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (4, 5, 7), (1, 2, 9, 6, 5)])
def test_max_pool2_is_torch_max_pool(shape):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    flat = x.reshape(-1, 1, *shape[-2:])
    expected = torch.max_pool2d(flat, 2).reshape(*shape[:-2], *_max_pool2(x).shape[-2:])
    assert torch.equal(_max_pool2(x), expected)
