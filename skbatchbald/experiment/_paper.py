"""The BatchBALD paper's own "labels to reach an accuracy" numbers.

Kirsch, van Amersfoort & Gal, NeurIPS 2019, Tables 1-2 and the analysis
notebook of the paper's code: 25th/50th/75th percentiles (method "nearest")
over 6 trials of the labelled-set size minus b at which a test accuracy was
first reached. ``inf`` is the paper's ">300" (not reached within 300 labels).
"""

import math

__all__ = ["PAPER_LABELS", "paper_labels"]

_NEVER = math.inf

# (dataset, b) -> strategy -> accuracy -> ((q25, q50, q75), note)
PAPER_LABELS = {
    # The acquisition-size figure: BALD one point a round, BatchBALD at b = 5
    # and 40 (the paper reports no BALD at b = 5 or 40).
    ("mnist", 1): {
        "bald": {0.90: ((85, 96, 101), ""), 0.95: ((197, 206, 226), "")},
    },
    ("mnist", 5): {
        "batchbald": {0.90: ((85, 85, 100), ""), 0.95: ((170, 185, 215), "")},
    },
    ("mnist", 40): {
        "batchbald": {0.90: ((100, 100, 140), ""), 0.95: ((220, 260, 260), "")},
    },
    ("mnist", 10): {
        "batchbald": {0.90: ((70, 90, 110), ""), 0.95: ((190, 200, 230), "")},
        "bald": {0.90: ((120, 120, 170), ""), 0.95: ((250, 250, _NEVER), "")},
    },
    ("repeated_mnist", 10): {
        "batchbald": {0.90: ((120, 120, 130), ""), 0.95: ((260, 260, 280), "")},
        "bald": {0.90: ((260, 280, _NEVER), "")},
        "random": {0.90: ((185, 195, 225), "b = 5")},
        "variation_ratios": {0.90: ((110, 110, 230), "2 runs")},
        "mean_std": {0.90: ((180, 190, 200), "")},
    },
}


def paper_labels(dataset, batch_size, strategy, accuracy):
    """The paper's percentiles and a note for one cell, or None if it has none."""
    table = PAPER_LABELS.get((dataset, batch_size), {})
    for reported, cell in table.get(strategy, {}).items():
        if math.isclose(reported, accuracy):
            return cell
    return None
