"""Row chunking: bound the temporary memory of a pass over the pool."""


def row_slices(n_rows, bytes_per_row, max_bytes):
    """Yield slices covering ``range(n_rows)`` of at most ``max_bytes`` each.

    Parameters
    ----------
    n_rows : int
        Number of rows (pool points).
    bytes_per_row : int
        Temporary bytes one row needs.
    max_bytes : int
        Budget for one chunk; a chunk always holds at least one row.

    Yields
    ------
    rows : slice
    """
    step = max(1, int(max_bytes // max(1, bytes_per_row)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
