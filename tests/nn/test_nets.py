"""Reference networks: the paper's architecture, accepted shapes, clear errors."""

import pytest
import torch
from torch import nn

from skbatchbald.nn import (
    BayesianCNN,
    BayesianMLP,
    ConsistentMCDropout,
    ConsistentMCDropout2d,
    dropout_layers,
)


class TestBayesianCNN:
    def test_paper_architecture_on_28x28(self):
        net = BayesianCNN()
        assert (net.conv1.in_channels, net.conv1.out_channels) == (1, 32)
        assert (net.conv2.in_channels, net.conv2.out_channels) == (32, 64)
        assert net.conv1.kernel_size == net.conv2.kernel_size == (5, 5)
        assert (net.fc1.in_features, net.fc1.out_features) == (1024, 128)
        assert (net.fc2.in_features, net.fc2.out_features) == (128, 10)
        kinds = [type(layer) for _, layer in dropout_layers(net)]
        assert kinds == [
            ConsistentMCDropout2d,
            ConsistentMCDropout2d,
            ConsistentMCDropout,
        ]
        assert all(layer.p == 0.5 for _, layer in dropout_layers(net))
        # conv 832 + conv 51,264 + fc 131,200 + fc 1,290 weights and biases
        assert sum(p.numel() for p in net.parameters()) == 184_586

    def test_flattened_3d_and_4d_inputs_agree(self):
        torch.manual_seed(0)
        net = BayesianCNN().eval()
        x = torch.randn(3, 1, 28, 28)
        out = net(x)
        assert out.shape == (3, 10)
        torch.testing.assert_close(net(x.flatten(1)), out)
        torch.testing.assert_close(net(x[:, 0]), out)

    def test_digits_variant_and_channels(self):
        net = BayesianCNN(n_classes=4, image_size=8, kernel_size=3, padding=1)
        assert net.fc1.in_features == 64 * 2 * 2
        assert net(torch.zeros(5, 64)).shape == (5, 4)
        rgb = BayesianCNN(image_size=12, in_channels=3, kernel_size=3)
        assert rgb(torch.zeros(2, 3 * 12 * 12)).shape == (2, 10)
        assert rgb(torch.zeros(2, 3, 12, 12)).shape == (2, 10)

    def test_too_small_image_raises_with_advice(self):
        with pytest.raises(ValueError, match=r"image_size=8 is too small.*padding=1"):
            BayesianCNN(image_size=8)

    def test_wrong_input_shape_raises(self):
        with pytest.raises(ValueError, match=r"expects inputs of shape \(N, 784\)"):
            BayesianCNN()(torch.zeros(2, 64))

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"n_classes": 0}, ValueError, "n_classes must be a positive int"),
            ({"p": 1.0}, ValueError, r"p must be a dropout probability in \[0, 1\)"),
            ({"padding": -1}, ValueError, "padding must be an int >= 0"),
            ({"padding": 0.5}, TypeError, "padding must be an int >= 0"),
            ({"kernel_size": 2.5}, TypeError, "kernel_size must be a positive int"),
        ],
    )
    def test_bad_parameters(self, kwargs, error, match):
        with pytest.raises(error, match=match):
            BayesianCNN(**kwargs)


class TestBayesianMLP:
    def test_layers_and_shapes(self):
        net = BayesianMLP(n_features=6, n_classes=3, hidden_sizes=(16, 8), p=0.25)
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        assert [(m.in_features, m.out_features) for m in linears] == [
            (6, 16),
            (16, 8),
            (8, 3),
        ]
        assert [layer.p for _, layer in dropout_layers(net)] == [0.25, 0.25]
        assert net(torch.zeros(4, 6)).shape == (4, 3)
        assert net(torch.zeros(4, 2, 3)).shape == (4, 3)  # flattened

    def test_wrong_number_of_features_names_the_parameter(self):
        with pytest.raises(ValueError, match="module__n_features=5"):
            BayesianMLP(n_features=6)(torch.zeros(2, 5))

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"n_features": 0}, "n_features must be a positive int"),
            ({"n_features": 3, "hidden_sizes": (4, 0)}, r"hidden_sizes\[1\]"),
            ({"n_features": True}, "n_features must be a positive int"),
            ({"n_features": 3, "p": -0.1}, "dropout probability"),
        ],
    )
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises((TypeError, ValueError), match=match):
            BayesianMLP(**kwargs)
