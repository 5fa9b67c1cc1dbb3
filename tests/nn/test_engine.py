"""The sampling engine: trunk once, K folded into the batch, equal to the per-k loop."""

import warnings

import pytest
import torch
from torch import nn

from skbatchbald.nn import BayesianCNN, BayesianMLP, consistent_dropout
from skbatchbald.nn._engine import MCForward

from ._modules import ConvNet, sample

ATOL = 1e-5


def trunk_net():
    """A deterministic conv trunk and an MC-dropout head (transfer learning)."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(4 * 4 * 4, 16),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(16, 3),
    )


def engine_samples(module, x, n_mc_samples, random_state, max_memory=2**30):
    """(N, K, *out) from the engine, and the engine (for its path and plan)."""
    with torch.no_grad(), consistent_dropout(module, n_mc_samples, random_state) as m:
        engine = MCForward(module, m, module, max_memory)
        out = None
        for rows, start, output in engine(x):
            if out is None:
                out = output.new_empty((len(x), n_mc_samples, *output.shape[2:]))
            out[rows, start : start + output.shape[1]] = output
    return out, engine


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


NETS = {
    "every dropout kind": (ConvNet, (23, 2, 6, 6)),
    "paper CNN": (BayesianCNN, (9, 1, 28, 28)),
    "MLP": (
        lambda: BayesianMLP(n_features=6, n_classes=3, hidden_sizes=(8, 8)),
        (17, 6),
    ),
    "trunk net": (trunk_net, (11, 1, 8, 8)),
}


@pytest.mark.parametrize("name", list(NETS))
def test_folded_equals_the_per_k_loop(name):
    make, shape = NETS[name]
    torch.manual_seed(0)
    net = make()
    x = _x(*shape)
    loop = sample(net, x, 6, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        folded, engine = engine_samples(net, x, 6, random_state=3)
    assert engine.path in ("folded", "mc_forward")
    torch.testing.assert_close(folded, loop, atol=ATOL, rtol=0)


def test_trunk_runs_once_per_row():
    torch.manual_seed(0)
    net = trunk_net()
    seen = []
    net[0].register_forward_hook(lambda m, i, o: seen.append(o.shape[0]))
    head = []
    net[5].register_forward_hook(lambda m, i, o: head.append(o.shape[0]))
    x = _x(11, 1, 8, 8)
    engine_samples(net, x, 20, random_state=0)
    probe = seen[:3]  # the probe: 2 loop passes and 1 folded pass of 4 rows
    assert probe == [4, 4, 4]
    assert seen[3:] == [11]  # then the whole batch once, not 20 times
    assert head[3:] == [11 * 20]


@pytest.mark.parametrize("name", ["every dropout kind", "trunk net"])
def test_memory_budget_cuts_rows_then_samples_without_changing_results(name):
    make, shape = NETS[name]
    torch.manual_seed(0)
    net = make()
    x = _x(*shape)
    whole, big = engine_samples(net, x, 12, random_state=1)
    assert (big.rows, big.n_samples) == (big.rows, 12) and big.rows >= len(x)
    # room for a few rows with all samples: rows are cut, K stays whole
    _, probe = engine_samples(net, x, 12, random_state=1, max_memory=10**9)
    per_row = 10**9 / probe.rows
    rows_cut, engine = engine_samples(
        net, x, 12, random_state=1, max_memory=int(3.5 * per_row)
    )
    assert engine.rows == 3 and engine.n_samples == 12
    torch.testing.assert_close(rows_cut, whole, atol=ATOL, rtol=0)
    # less than one row with all samples: one row, samples in chunks
    samples_cut, engine = engine_samples(
        net, x, 12, random_state=1, max_memory=int(0.5 * per_row)
    )
    assert engine.rows == 1 and 1 <= engine.n_samples < 12
    torch.testing.assert_close(samples_cut, whole, atol=ATOL, rtol=0)


def test_budget_below_one_row_and_sample_names_max_memory():
    with pytest.raises(ValueError, match="raise max_memory"):
        engine_samples(trunk_net(), _x(5, 1, 8, 8), 4, random_state=0, max_memory=100)


class FixedBatchReshape(nn.Module):
    """Reshapes with the input's batch size after the dropout: cannot fold."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        h = self.drop(self.fc(x))
        return self.out(h.reshape(x.shape[0], -1)[:, :8])


class RowMixing(nn.Module):
    """Mixes rows after the dropout: folding keeps the shape but not the values."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        h = self.drop(self.fc(x))
        return self.out(h + h.flip(0))


@pytest.mark.parametrize("module_cls", [FixedBatchReshape, RowMixing])
def test_modules_that_break_folding_fall_back_to_the_loop_with_one_warning(
    module_cls,
):
    torch.manual_seed(0)
    net = module_cls()
    x = _x(9, 4)
    with pytest.warns(RuntimeWarning, match="one forward pass per sample") as caught:
        out, engine = engine_samples(net, x, 5, random_state=0)
    assert len(caught) == 1
    assert engine.path == "loop"
    with torch.no_grad(), consistent_dropout(net, 5, random_state=0) as masks:
        loop = []
        for k in range(5):
            masks.select(k)
            loop.append(net(x))
    torch.testing.assert_close(out, torch.stack(loop, 1), atol=ATOL, rtol=0)


class Branches(nn.Module):
    """Dropout in two parallel branches and a shared layer used twice."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 6)
        self.b = nn.Linear(4, 6)
        self.drop_a = nn.Dropout(0.5)
        self.drop_b = nn.Dropout(0.3)
        self.shared = nn.Dropout(0.2)
        self.out = nn.Linear(12, 2)

    def forward(self, x):
        a = self.shared(self.drop_a(self.a(x)))
        b = self.shared(self.drop_b(self.b(x)))
        return self.out(torch.cat([a, b], dim=1))


def test_parallel_branches_and_shared_layers_fold():
    torch.manual_seed(0)
    net = Branches()
    x = _x(7, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, engine = engine_samples(net, x, 6, random_state=2)
    assert engine.path == "folded"
    torch.testing.assert_close(out, sample(net, x, 6, 2), atol=ATOL, rtol=0)


def test_probe_errors_of_the_loop_itself_are_raised():
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        engine_samples(net, _x(5, 2), 3, random_state=0)
