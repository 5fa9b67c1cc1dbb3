"""pytest plugin: skorch's own tests with MCDropoutClassifier as ``net_cls``.

``make test-skorch`` runs skorch's ``test_classifier.py`` and ``test_net.py``
from the installed wheel; wherever their ``net_cls`` fixture gives
``NeuralNetClassifier``, this plugin gives the class below instead.

Six defaults of MCDropoutClassifier differ from skorch's by design (active
learning starts from a handful of labels and the paper trains with Adam on
logits): ``train_split=None``, ``criterion=CrossEntropyLoss``,
``optimizer=Adam``, ``lr=1e-3``, and the training recipe ``max_epochs=200``
with ``iterator_train__shuffle=True``. skorch's tests assume its own defaults
(their modules end in a softmax for ``NLLLoss``; their histories expect a
validation split and 10 epochs), so the class under test here is
MCDropoutClassifier with skorch's defaults for those six parameters and
nothing else changed.

The tests that still fail by design are marked as expected failures in
``DEVIATIONS``, each with its reason; any other failure fails the run.
"""

import itertools
import time
import types

import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import ValidSplit

import skbatchbald


class MCDropoutClassifier(skbatchbald.MCDropoutClassifier):
    """skbatchbald's classifier with skorch's defaults for six parameters."""

    def __init__(
        self,
        module,
        *args,
        n_mc_samples=20,
        mc_predict=True,
        mc_validation=False,
        random_state=None,
        criterion=torch.nn.NLLLoss,
        optimizer=torch.optim.SGD,
        lr=0.01,
        max_epochs=10,
        iterator_train__shuffle=False,  # DataLoader's default
        train_split=ValidSplit(5, stratified=True),  # noqa: B008 (skorch's default)
        **kwargs,
    ):
        super().__init__(
            module,
            *args,
            n_mc_samples=n_mc_samples,
            mc_predict=mc_predict,
            mc_validation=mc_validation,
            random_state=random_state,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            **kwargs,
        )


_NAME = (
    "checks a message or repr that spells the class name NeuralNetClassifier; "
    "ours says MCDropoutClassifier"
)
_MC = (
    "compares predict_proba with the deterministic forward pass; predict_proba "
    "is the MC average of consistent dropout samples by design (mc_predict=False "
    "gives the deterministic one)"
)
_NO_CLASSES = (
    "predicts with a net that was initialised but never fitted, without "
    "classes=: MC prediction needs classes_ (its logits are checked against "
    "them), where skorch returns argmax indices of the deterministic net"
)
_ROWS = (
    "targets are sequences (several labels per row); the classifier takes one "
    "label per row, checked by scikit-learn's check_classification_targets"
)
_NOT_PROBABILITIES = (
    "its predict_nonlinearity returns values that are not probabilities; the MC "
    "average needs probabilities and refuses them (mc_predict=False passes them "
    "through, as skorch does)"
)
_NOT_SHIPPED = (
    "reads CUDA fixtures (skorch/tests/net_cuda.*) relative to skorch's source "
    "tree; the wheel does not ship them, so NeuralNetClassifier fails here too"
)
_SOFTMAX_UNDER_CE = (
    "trains a module that ends in a softmax under CrossEntropyLoss, which "
    "trains badly without an error; the classifier refuses it on the first "
    "batch, naming criterion=NLLLoss or logits as the fix"
)
_LOGITS_UNDER_NLL = (
    "trains skorch.toy.MLPModule without its softmax (output_nonlin=None: "
    "logits) under skorch's default NLLLoss, whose log of the outputs gives NaN "
    "losses that the test does not look at; the classifier refuses that on the "
    "first batch"
)
_ONE_CLASS = (
    "fits on y of one class (all zeros) to reach skorch's routing check; the "
    "classifier refuses one class first, asking for classes=<all labels>"
)
_SORTED = (
    "passes classes=['foo', 'bar'] and expects classes_ in that order; the "
    "classifier sorts them (as np.unique sorts labels from y), because it "
    "encodes y by classes_ and scikit-learn's log_loss and neg_log_loss scorer "
    "read predict_proba's columns as the sorted labels"
)
_COPIED_MODULE = (
    "expects module_ to be the module instance passed; the classifier trains a "
    "copy of it, so that every fit with warm_start=False starts over from the "
    "instance's weights and sklearn.base.clone gives an untrained net (skorch "
    "trains the instance in place)"
)
_ROUTING = "TestMetadataRouting::"

# test name (as in skorch's files, with parameters where only some fail) -> why
# it fails by design.
DEVIATIONS = {
    "test_pass_empty_classes_raises": _NAME,
    "test_modules_reinit_when_both_initialized_but_custom_module_changed": (
        _COPIED_MODULE
    ),
    "test_custom_module_is_init_when_default_module_already_is": _COPIED_MODULE,
    "test_error_when_classes_could_not_be_inferred": _NAME,
    "test_pass_classes_explicitly_overrides": _SORTED,
    "test_not_init_raises": _NAME,
    "test_not_fitted_raises": _NAME,
    "test_repr_uninitialized_works": _NAME,
    "test_repr_initialized_works": _NAME,
    "test_repr_fitted_works": _NAME,
    "test_forward": _MC,
    "test_predict_nonlinearity_is_identity_with_multiple_criteria": _MC,
    "test_save_load_state_dict_file": _NO_CLASSES,
    "test_save_load_state_dict_str": _NO_CLASSES,
    "test_predict_with_dataset": _NO_CLASSES,
    "test_predict_nonlinearity_none": _NO_CLASSES,
    "test_net_variable_prediction_lengths": _ROWS,
    "test_net_variable_label_lengths": _ROWS,
    "test_pickle_load[False]": _NOT_SHIPPED,
    "test_load_cuda_params_to_cpu": _NOT_SHIPPED,
    "test_predict_nonlinearity_called_with_predict": _NOT_PROBABILITIES,
    "test_predict_nonlinearity_called_with_predict_proba": _NOT_PROBABILITIES,
    "test_takes_no_log_without_nllloss": _SOFTMAX_UNDER_CE,
    "test_with_initialized_module_other_params": _LOGITS_UNDER_NLL,
    "test_fit_params_passed_to_module": _LOGITS_UNDER_NLL,
    "test_fit_params_passed_to_module_in_pipeline": _LOGITS_UNDER_NLL,
    "test_fit_params_passed_to_train_split": _LOGITS_UNDER_NLL,
    "test_data_dict_and_fit_params": _LOGITS_UNDER_NLL,
    _ROUTING + "test_fit_with_extra_params_and_routing": _LOGITS_UNDER_NLL,
    _ROUTING + "test_partial_fit_with_extra_params_and_routing": _LOGITS_UNDER_NLL,
    _ROUTING + "test_fit_with_extra_params_does_not_break_valid_split": (
        _LOGITS_UNDER_NLL
    ),
    _ROUTING + "test_groups_routed_to_train_split": _LOGITS_UNDER_NLL,
    _ROUTING + "test_pipeline_with_routing_enabled": _LOGITS_UNDER_NLL,
    _ROUTING + "test_backward_compat_fit_params_to_train_split": _LOGITS_UNDER_NLL,
    _ROUTING + "test_undeclared_param_rejected_by_routing": _ONE_CLASS,
}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    result = yield
    if fixturedef.argname == "net_cls" and result is NeuralNetClassifier:
        result = MCDropoutClassifier
        fixturedef.cached_result = (result, fixturedef.cache_key(request), None)
    return result


def pytest_collection_modifyitems(items):
    for item in items:
        # Bare names apply to the classes named TestNeuralNet (one per file),
        # whose net_cls is NeuralNetClassifier; TestNeuralNetBinaryClassifier
        # and others keep skorch's own classes. Others are "Class::test".
        cls = getattr(item.cls, "__name__", "")
        reason = DEVIATIONS.get(f"{cls}::{item.name}")
        if cls == "TestNeuralNet":
            reason = reason or DEVIATIONS.get(item.name)
            reason = reason or DEVIATIONS.get(item.originalname)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


# test_fit_lbfgs_optimizer seeds torch with int(time.time()) so that each of the
# up to 5 runs flaky gives it draws another seed; but a run takes well under a
# second, so all 5 usually get the same seed. LBFGS at lr=1 diverges for some
# seeds with either class (train loss above 1 for 16 of seeds 0-119 with
# NeuralNetClassifier, 19 with this one), so the test failed whenever the clock
# landed on such a second. Here its clock moves on by a second per run, which
# is what the test means to do.
_LBFGS_CLOCK = itertools.count(int(time.time()))


@pytest.fixture(autouse=True)
def _new_seed_per_run(request, monkeypatch):
    if request.node.originalname == "test_fit_lbfgs_optimizer":
        clock = types.SimpleNamespace(time=lambda: next(_LBFGS_CLOCK))
        monkeypatch.setattr(request.module, "time", clock)
