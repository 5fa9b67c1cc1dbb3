"""What kind of array an input is, without importing what it might be.

numpy only: a dask array is recognised by looking in ``sys.modules``, so code
that only asks never pays for importing dask.
"""

import sys

__all__ = ["is_dask_array"]


def is_dask_array(x):
    """Whether x is a dask array, without importing dask."""
    dask_array = sys.modules.get("dask.array")  # not imported: x cannot be one
    return dask_array is not None and isinstance(x, dask_array.Array)
