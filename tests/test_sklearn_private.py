"""The private scikit-learn names skbatchbald still uses, and how it uses them.

Each has no public equivalent. scikit-learn may change a private name without a
deprecation cycle, so an upgrade that breaks one fails here, by name, before it
breaks a strategy or the learner in a less obvious way.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

ROWS = np.array([2, 0])


def test_safe_indexing_exists():
    from sklearn.utils import _safe_indexing

    assert callable(_safe_indexing)


@pytest.mark.parametrize(
    "container",
    [np.asarray, list, pd.DataFrame, sp.csr_matrix, torch.as_tensor],
    ids=["array", "list", "dataframe", "csr", "tensor"],
)
def test_safe_indexing_takes_rows_of_every_pool_container(container):
    """query.py and modal.py select pool rows of any container this way."""
    from sklearn.utils import _safe_indexing

    X = np.arange(12.0).reshape(4, 3)
    picked = _safe_indexing(container(X.tolist() if container is list else X), ROWS)
    as_array = picked.toarray() if sp.issparse(picked) else np.asarray(picked)
    np.testing.assert_array_equal(as_array, X[ROWS])
