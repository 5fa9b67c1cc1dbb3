"""The trunk net of the sampling benchmark, importable by joblib's workers.

A deterministic conv trunk and an MC-dropout head, the usual transfer-learning
shape: on 28x28 inputs, Conv 1->32, Conv 32->64, max-pool, Conv 64->64,
max-pool (3x3 kernels, ReLU), then Dropout, Linear 3136->128, ReLU, Dropout,
Linear 128->10.
"""

from torch import nn


class TrunkNet(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(3136, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, n_classes),
        )

    def forward(self, x):
        return self.head(self.trunk(x.view(-1, 1, 28, 28)))
