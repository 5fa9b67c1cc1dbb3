"""Telling logits, probabilities and log-probabilities apart, per criterion."""

import pytest
import torch

from skbatchbald.classifier._outputs import check_outputs_suit_criterion

CE, NLL = torch.nn.CrossEntropyLoss(), torch.nn.NLLLoss()


@pytest.mark.parametrize("n_classes", [2, 10, 10_000])
def test_softmax_under_cross_entropy_is_caught_for_any_number_of_classes(n_classes):
    logits = torch.randn(32, n_classes, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="ends in a softmax"):
        check_outputs_suit_criterion(torch.softmax(5 * logits, -1), CE)
    check_outputs_suit_criterion(logits, CE)
    check_outputs_suit_criterion(torch.log_softmax(logits, -1), CE)


def test_logits_of_two_classes_are_not_taken_for_probabilities():
    # Non-negative logits whose rows happen to sum to about 1 are the one way
    # to be mistaken: with a tolerance of 1e-2, batches of 2 such rows would
    # be about once in 2,500; with the check's, not in 5,000 draws.
    generator = torch.Generator().manual_seed(0)
    for _ in range(5000):
        logits = torch.rand(2, 2, generator=generator)
        check_outputs_suit_criterion(logits, CE)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_softmax_of_any_precision_passes_under_nll(dtype):
    logits = torch.randn(64, 100, generator=torch.Generator().manual_seed(1))
    check_outputs_suit_criterion(torch.softmax(logits, -1).to(dtype), NLL)
    with pytest.raises(ValueError, match="log-probabilities"):
        check_outputs_suit_criterion(torch.log_softmax(logits, -1).to(dtype), NLL)


def test_other_criteria_and_shapes_are_not_checked():
    probabilities = torch.full((4, 2), 0.5)
    check_outputs_suit_criterion(probabilities, torch.nn.MSELoss())
    check_outputs_suit_criterion(probabilities, None)
    check_outputs_suit_criterion(torch.full((4,), 0.5), CE)  # not (B, C)
