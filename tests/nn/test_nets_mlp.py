"""BayesianMLP.mc_forward: the last mask folded into the output weights."""

import pytest
import torch
from torch import nn

from skbatchbald.nn import BayesianMLP, consistent_dropout


def _loop(net, x, n_mc_samples, seed):
    with torch.no_grad(), consistent_dropout(net, n_mc_samples, seed) as masks:
        loop = []
        for k in range(n_mc_samples):
            masks.select(k)
            loop.append(net(x))
        masks.fold(0, n_mc_samples)
        return torch.stack(loop, dim=1), net.mc_forward(x, masks)


@pytest.mark.parametrize("hidden", [(12,), (12, 7), (9, 5, 4)])
@pytest.mark.parametrize("rows", [1, 300])
def test_mc_forward_matches_one_pass_per_sample(hidden, rows):
    torch.manual_seed(0)
    net = BayesianMLP(6, n_classes=3, hidden_sizes=hidden).eval()
    x = torch.randn(rows, 6)
    loop, fast = _loop(net, x, 5, seed=2)
    assert fast.shape == (rows, 5, 3)
    torch.testing.assert_close(fast, loop, rtol=1e-5, atol=1e-5)


def test_mc_forward_declines_a_replaced_activation():
    net = BayesianMLP(6, n_classes=3, hidden_sizes=(8,)).eval()
    net.layers[1] = nn.Tanh()
    with torch.no_grad(), consistent_dropout(net, 2, 0) as masks:
        masks.fold(0, 2)
        assert net.mc_forward(torch.randn(4, 6), masks) is NotImplemented
