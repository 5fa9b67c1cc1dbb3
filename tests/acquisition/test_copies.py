import numpy as np
import pytest

from skbatchbald.acquisition._copies import copies_of


def _conditional(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return -(np.exp(rows) * rows).sum(axis=2).mean(axis=1)


@pytest.mark.parametrize("n_rows", [1, 7, 5000, 9000])
def test_finds_exactly_the_bitwise_equal_rows(n_rows):
    # one-hot samples: every row has conditional entropy 0, so every row reaches
    # the exact comparison (more rows than one slice)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(n_rows, 4))
    rows = np.where(np.eye(3, dtype=bool)[labels], 0.0, -np.inf).astype(np.float32)
    rows = np.maximum(rows, np.float32(-1e30))
    conditional = _conditional(rows)
    row = rows[n_rows // 2]
    expected = [i for i in range(n_rows) if np.array_equal(rows[i], row)]
    found = copies_of(rows, conditional, row, conditional[n_rows // 2])
    assert found.dtype == np.int64
    assert found.tolist() == expected


def test_near_copy_with_equal_entropy_is_not_a_copy(tmp_path):
    # swapping two samples keeps the conditional entropy but not the row
    rng = np.random.default_rng(1)
    rows = np.log(rng.dirichlet(np.ones(3), size=(4, 5))).astype(np.float32)
    rows[1] = rows[0][::-1]
    rows[2] = rows[0]
    memmap = np.lib.format.open_memmap(
        tmp_path / "pool.npy", mode="w+", dtype=rows.dtype, shape=rows.shape
    )
    memmap[:] = rows
    conditional = _conditional(rows)
    assert conditional[1] == pytest.approx(conditional[0])
    assert copies_of(memmap, conditional, rows[0], conditional[0]).tolist() == [0, 2]


def test_no_candidate_near_gives_an_empty_index_array():
    rows = np.log(np.full((3, 2, 2), 0.5, dtype=np.float32))
    conditional = _conditional(rows)
    found = copies_of(rows, conditional, rows[0], conditional[0] + 1.0)
    assert found.dtype == np.int64 and found.size == 0
    # usable as an index, as the greedies use it
    available = np.ones(3, dtype=bool)
    available[found] = False
    assert available.all()
