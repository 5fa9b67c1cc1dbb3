"""MCDropoutClassifier with logits, softmax or log_softmax outputs, per criterion."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from torch import nn

from skbatchbald import MCDropoutClassifier
from skbatchbald.classifier._outputs import log_softmax_rows

ENDS = {
    "logits": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
}


class EndingNet(nn.Module):
    """One dropout MLP whose last step is chosen by ``output``."""

    def __init__(self, output="logits", n_classes=3):
        super().__init__()
        self.output = output
        self.body = nn.Sequential(
            nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, n_classes)
        )
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return ENDS[self.output](self.body(x))


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


def clf(output, criterion=nn.CrossEntropyLoss, **kwargs):
    params = {"max_epochs": 5, "lr": 1e-2, "batch_size": 16, "verbose": 0}
    return MCDropoutClassifier(
        EndingNet,
        module__output=output,
        criterion=criterion,
        random_state=0,
        **{**params, **kwargs},
    )


@pytest.mark.parametrize(
    ("output", "criterion", "fix"),
    [
        ("softmax", nn.CrossEntropyLoss, r"criterion=torch\.nn\.NLLLoss"),
        ("softmax", nn.CrossEntropyLoss, r"Return logits"),
        ("log_softmax", nn.NLLLoss, r"log-probabilities.*NaN.*Return logits with "),
        ("logits", nn.NLLLoss, r"not probabilities.*NaN.*Return logits with "),
    ],
)
def test_outputs_that_do_not_suit_the_criterion_fail_on_the_first_batch(
    blobs, output, criterion, fix
):
    X, y = blobs
    net = clf(output, criterion)
    with pytest.raises(ValueError, match=fix):
        net.fit(X, y)
    assert net.module_.calls == 1  # one forward pass: the first batch


@pytest.mark.parametrize(
    ("output", "criterion"),
    [
        ("logits", nn.CrossEntropyLoss),
        ("log_softmax", nn.CrossEntropyLoss),
        ("softmax", nn.NLLLoss),
    ],
)
def test_accepted_combinations_train_without_nan(blobs, output, criterion):
    X, y = blobs
    net = clf(output, criterion, max_epochs=20).fit(X, y)
    losses = net.history[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.5 * losses[0]
    assert (net.predict(X) == y).mean() > 0.9


def test_log_softmax_with_cross_entropy_trains_exactly_like_logits(blobs):
    X, y = blobs
    logits = clf("logits").fit(X, y)
    log_probs = clf("log_softmax").fit(X, y)
    np.testing.assert_allclose(
        log_probs.history[:, "train_loss"], logits.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        log_probs.predict_log_proba_samples(X, 5, random_state=0),
        logits.predict_log_proba_samples(X, 5, random_state=0),
        atol=1e-5,
    )


def test_the_same_net_three_ways_gives_the_same_samples(blobs):
    """Weights fitted once, read as logits, log-probabilities and probabilities."""
    X, y = blobs
    reference = clf("logits").fit(X, y)
    nets = {
        "logits": reference,
        "log_softmax": clf("log_softmax").initialize(),
        "softmax": clf("softmax", nn.NLLLoss).initialize(),
    }
    samples, proba, deterministic = {}, {}, {}
    for name, net in nets.items():
        net.module_.load_state_dict(reference.module_.state_dict())
        net.classes_inferred_ = reference.classes_inferred_
        net.prediction_seed_ = reference.prediction_seed_
        samples[name] = net.predict_log_proba_samples(X, 6, random_state=1)
        proba[name] = net.predict_proba(X)
        deterministic[name] = net.set_params(mc_predict=False).predict_proba(X)
    for name in ("log_softmax", "softmax"):
        np.testing.assert_allclose(samples[name], samples["logits"], atol=1e-5)
        np.testing.assert_allclose(proba[name], proba["logits"], atol=1e-6)
        np.testing.assert_allclose(
            deterministic[name], deterministic["logits"], atol=1e-6
        )
    assert not np.allclose(deterministic["logits"], proba["logits"], atol=1e-3)
    np.testing.assert_allclose(np.exp(samples["logits"]).sum(-1), 1.0, atol=1e-5)


def test_sampling_refuses_softmax_outputs_under_cross_entropy(blobs):
    X, y = blobs
    net = clf("logits").fit(X, y)
    net.module_.output = "softmax"  # e.g. a softmax added to a fitted module
    with pytest.raises(ValueError, match=r"probabilities.*criterion=torch\.nn\."):
        net.predict_log_proba_samples(X, 3, random_state=0)
    with pytest.raises(ValueError, match=r"probabilities.*criterion=torch\.nn\."):
        net.predict_proba(X)


def test_each_fit_checks_its_first_batch(blobs):
    X, y = blobs
    net = clf("logits", warm_start=True).fit(X, y)
    net.module_.output = "softmax"
    with pytest.raises(ValueError, match="ends in a softmax"):
        net.partial_fit(X, y)


def test_log_softmax_rows_matches_torch_including_zero_probabilities():
    logits = torch.randn(300, 10, dtype=torch.float64) * 20
    logits[0, 3] = -torch.inf  # a log-probability output with p = 0
    fast = log_softmax_rows(logits)
    assert fast.dtype == torch.float32
    torch.testing.assert_close(
        fast, torch.log_softmax(logits.float(), dim=-1), rtol=0, atol=1e-5
    )
    assert fast[0, 3] == -torch.inf


class TupleNet(nn.Module):
    """``(logits, features)``, or the logits alone with ``tuple_out=False``."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3))
        self.out = nn.Linear(32, n_classes)
        self.tuple_out = True

    def forward(self, x):
        features = self.body(x)
        logits = self.out(features)
        return (logits, features) if self.tuple_out else logits


class FirstOutputLoss(MCDropoutClassifier):
    """skorch's recipe for several outputs: the loss reads y_pred[0]."""

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        return super().get_loss(y_pred[0], y_true, *args, **kwargs)


def test_tuple_outputs_name_both_fixes(blobs):
    X, y = blobs
    params = {"max_epochs": 2, "batch_size": 16, "verbose": 0, "random_state": 0}
    with pytest.raises(
        ValueError, match=r"tuple of 2 outputs \(\(\d+, 3\), \(\d+, 32\)\)"
    ):
        MCDropoutClassifier(TupleNet, **params).fit(X, y)
    with pytest.raises(ValueError, match=r"super\(\)\.get_loss\(y_pred\[0\], y_true"):
        MCDropoutClassifier(TupleNet, **params).fit(X, y)


def test_the_get_loss_recipe_samples_the_first_output(blobs):
    """The message's recipe works end to end: training, prediction, sampling."""
    X, y = blobs
    params = {"max_epochs": 20, "lr": 1e-2, "batch_size": 16, "verbose": 0}
    net = FirstOutputLoss(TupleNet, random_state=0, **params).fit(X, y)
    assert (net.predict(X) == y).mean() > 0.9
    samples = net.predict_log_proba_samples(X, 4, random_state=1)
    logits_only = copy.deepcopy(net)
    logits_only.module_.tuple_out = False
    np.testing.assert_array_equal(
        samples, logits_only.predict_log_proba_samples(X, 4, random_state=1)
    )
    np.testing.assert_array_equal(net.predict_proba(X), logits_only.predict_proba(X))
    net.set_params(mc_predict=False)
    logits_only.set_params(mc_predict=False)
    np.testing.assert_array_equal(net.predict_proba(X), logits_only.predict_proba(X))


class SigmoidHead(nn.Module):
    """Keras' binary head: one sigmoid output per row."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3))
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return torch.sigmoid(self.out(self.body(x)))


@pytest.mark.parametrize("criterion", [nn.BCELoss, nn.CrossEntropyLoss])
def test_a_sigmoid_head_on_two_classes_asks_for_two_logits(blobs, criterion):
    X, y = blobs
    X, y = X[y < 2], y[y < 2]
    net = MCDropoutClassifier(SigmoidHead, criterion=criterion, verbose=0)
    with pytest.raises(ValueError, match=r"one output per row \(shape \(\d+, 1\)\)"):
        net.fit(X, y)
    with pytest.raises(ValueError) as error:
        net.fit(X, y)
    message = str(error.value)
    assert "return 2 logits per row (e.g. a final nn.Linear(..., 2); no final " in (
        message
    )
    assert "keep the default criterion=torch.nn.CrossEntropyLoss" in message
    assert ("instead of BCELoss" in message) == (criterion is nn.BCELoss)
    assert "module__n_classes" not in message  # SigmoidHead takes none


def test_a_one_output_module_with_n_classes_is_told_to_set_it(blobs):
    X, y = blobs
    X, y = X[y < 2], y[y < 2]
    with pytest.raises(ValueError, match=r"set module__n_classes=2; no final"):
        clf("logits", module__n_classes=1).fit(X, y)


def test_a_module_without_n_classes_is_not_told_to_set_it(blobs):
    X, y = blobs
    y = np.arange(len(y)) % 4  # 4 classes for a module of 3 outputs
    with pytest.raises(ValueError, match=r"module__n_classes cannot set it") as error:
        MCDropoutClassifier(SigmoidHead, verbose=0).fit(X, y)
    assert "final nn.Linear(..., 4)" in str(error.value)
    assert "Set module__n_classes" not in str(error.value)
    with pytest.raises(ValueError, match=r"\(batch, 4\) logits\. Set module__n_"):
        clf("logits").set_params(module__n_classes=3).fit(X, y)


def test_a_criterion_of_ones_own_on_logits_is_told_of_predict_nonlinearity():
    # a focal loss on logits trains well; predictions need the softmax named
    import torch.nn.functional as F

    from skbatchbald.nn import BayesianMLP

    class Focal(nn.Module):
        def forward(self, logits, target):
            log_p = F.log_softmax(logits, -1).gather(1, target[:, None]).squeeze(1)
            return (-((1 - log_p.exp()) ** 2) * log_p).mean()

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    params = dict(module__n_features=4, criterion=Focal, max_epochs=2, verbose=0)
    net = MCDropoutClassifier(BayesianMLP, **params).fit(X, y)
    with pytest.raises(
        ValueError, match=r"own on logits \(Focal\), pass predict_nonlinearity="
    ):
        net.predict_proba(X)
    fixed = MCDropoutClassifier(
        BayesianMLP, predict_nonlinearity=nn.Softmax(dim=-1), **params
    ).fit(X, y)
    np.testing.assert_allclose(fixed.predict_proba(X).sum(axis=1), 1.0, rtol=1e-5)
