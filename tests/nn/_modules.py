"""Modules and a reference sampler shared by the tests of skbatchbald.nn."""

import torch
from torch import nn

from skbatchbald.nn import (
    ConsistentMCDropout,
    ConsistentMCDropout2d,
    consistent_dropout,
)


def sample(module, x, n_mc_samples, random_state, batch_size=None):
    """(N, K, *out) outputs with masks k = 0..K-1, x streamed in batches."""
    batch_size = batch_size or len(x)
    out = []
    with torch.no_grad(), consistent_dropout(module, n_mc_samples, random_state) as m:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            per_k = []
            for k in range(n_mc_samples):
                m.select(k)
                per_k.append(module(xb))
            out.append(torch.stack(per_k, dim=1))
    return torch.cat(out)


class ConvNet(nn.Module):
    """Every supported dropout kind, plus BatchNorm."""

    def __init__(self):
        super().__init__()
        self.conv3d = nn.Conv3d(1, 3, 1)
        self.drop3d = nn.Dropout3d(0.4)
        self.conv = nn.Conv2d(3, 6, 3)
        self.bn = nn.BatchNorm2d(6)
        self.drop2d = nn.Dropout2d(0.5)
        self.drop2d_c = ConsistentMCDropout2d(0.3)
        self.drop1d = nn.Dropout1d(0.5)
        self.alpha = nn.AlphaDropout(0.2)
        self.feature_alpha = nn.FeatureAlphaDropout(0.2)
        self.fc = nn.Linear(6 * 4, 12)
        self.drop = nn.Dropout(0.5)
        self.drop_c = ConsistentMCDropout(0.5)
        self.out = nn.Linear(12, 3)

    def forward(self, x):  # x: (N, 2, 6, 6)
        x = self.drop3d(self.conv3d(x.unsqueeze(1)))  # (N, 3, 2, 6, 6)
        x = x.sum(2)  # (N, 3, 6, 6)
        x = self.drop2d_c(self.drop2d(self.bn(self.conv(x))))  # (N, 6, 4, 4)
        x = self.drop1d(x.flatten(2))  # (N, 6, 16)
        x = self.feature_alpha(x.view(-1, 6, 4, 4)).mean(3)  # (N, 6, 4)
        x = self.alpha(torch.selu(self.fc(x.flatten(1))))  # (N, 12)
        return self.out(self.drop_c(self.drop(x)))
