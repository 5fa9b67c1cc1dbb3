"""Acquisition on pools that are not in memory: numpy memmaps and dask arrays.

Every function must give what it gives on the same values in memory, read the
pool block by block (never a whole-pool temporary) and validate it just as well.
Dask runs here on its local threads; tests/test_distributed.py runs a cluster.
"""

import tracemalloc

import dask
import dask.array as da
import numpy as np
import pytest

from skbatchbald.acquisition import (
    TiedScoresWarning,
    _normalisation,
    _pool,
    bald,
    batch_epig,
    batchbald,
    conditional_entropy,
    epig,
    marginal_entropy,
    max_entropy,
    mean_std,
    mutual_information,
    power_bald,
    random_batch,
    variation_ratios,
)
from skbatchbald.acquisition._validation import check_log_probs

TOP_K = (bald, max_entropy, variation_ratios, mean_std)
PER_POINT = (mutual_information, marginal_entropy, conditional_entropy)


@pytest.fixture(autouse=True)
def _local_threads():
    """Dask's local threads, even when another test's cluster is the default."""
    with dask.config.set(scheduler="threads"):
        yield


@pytest.fixture
def small_blocks(monkeypatch):
    """Memmap blocks of ~40 KB and validation tiles of ~8 KB: many of each."""
    monkeypatch.setattr(_pool, "BLOCK_BYTES", 40_000)
    monkeypatch.setattr(_normalisation, "TILE_BYTES", 8_000)


@pytest.fixture
def pool_values(make_log_probs):
    """900 points, K=16, C=4, float32, with a few exact duplicates (ties)."""
    values = make_log_probs(900, 16, 4, seed=3, scale=1.0, dtype=np.float32)
    values[[500, 700, 899]] = values[10]  # tied scores across blocks
    return values


def _memmap(values, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "log_probs.npy"
    np.save(path, values)
    return np.load(path, mmap_mode="r")


@pytest.fixture(params=["memmap", "dask"])
def chunked(request, pool_values, tmp_path, small_blocks):
    """The same values as a memmap (blocks of 416 rows) or a dask array."""
    if request.param == "memmap":
        return _memmap(pool_values, tmp_path)
    return da.from_array(pool_values, chunks=(128, 16, 4))


@pytest.mark.parametrize("acquire", TOP_K, ids=lambda f: f.__name__)
def test_top_k_scores_pick_as_in_memory(acquire, chunked, pool_values):
    expected = acquire(pool_values, 12)
    got = acquire(chunked, 12)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_ties_across_blocks_go_to_the_lowest_index(chunked, pool_values):
    indices, _ = bald(chunked, len(pool_values))
    tied = [i for i in indices if i in (10, 500, 700, 899)]
    assert tied == [10, 500, 700, 899]


@pytest.mark.parametrize("acquire", TOP_K, ids=lambda f: f.__name__)
def test_a_pool_of_tied_scores_draws_as_in_memory(acquire, tmp_path, small_blocks):
    # every point the same: the seeded uniform batch, from every pool's blocks
    values = np.broadcast_to(np.log([0.5, 0.3, 0.1, 0.1]), (900, 16, 4))
    values = values.astype(np.float32)
    with pytest.warns(TiedScoresWarning):
        expected = acquire(values, 12, random_state=3)
    for chunked in (_memmap(values, tmp_path), da.from_array(values, (128, 16, 4))):
        with pytest.warns(TiedScoresWarning, match="same score"):
            got = acquire(chunked, 12, random_state=3)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("score", PER_POINT, ids=lambda f: f.__name__)
def test_per_point_values_as_in_memory(score, chunked, pool_values):
    got = score(chunked)
    assert isinstance(got, np.ndarray) and got.shape == (len(pool_values),)
    np.testing.assert_array_equal(got, score(pool_values))


def test_power_bald_and_random_batch_as_in_memory(chunked, pool_values):
    for acquire in (power_bald, random_batch):
        expected = acquire(pool_values, 7, random_state=4)
        got = acquire(chunked, 7, random_state=4)
        np.testing.assert_array_equal(got[0], expected[0])


@pytest.mark.parametrize("n_joint_samples", [10_000, 60], ids=["exact", "sampled"])
def test_batchbald_picks_as_in_memory(chunked, pool_values, n_joint_samples):
    expected = batchbald(
        pool_values, 6, n_joint_samples=n_joint_samples, random_state=1
    )
    got = batchbald(chunked, 6, n_joint_samples=n_joint_samples, random_state=1)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-7)


@pytest.mark.parametrize("stochastic", [None, "softmax"])
def test_epig_picks_as_in_memory(chunked, pool_values, make_log_probs, stochastic):
    target = make_log_probs(30, 16, 4, seed=9, scale=1.0, dtype=np.float32)
    kwargs = dict(log_probs_target=target, stochastic=stochastic, random_state=2)
    expected = epig(pool_values, 8, **kwargs)
    got = epig(chunked, 8, **kwargs)
    np.testing.assert_array_equal(got[0], expected[0])
    # float32 products over blocks of another size round differently on some
    # CPUs' BLAS kernels (a few ulps): same picks, scores to float32 precision
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=0)


@pytest.mark.parametrize("n_joint_samples", [10_000, 200], ids=["exact", "sampled"])
def test_batch_epig_picks_as_in_memory(
    chunked, pool_values, make_log_probs, n_joint_samples
):
    target = make_log_probs(12, 16, 4, seed=9, scale=1.0, dtype=np.float32)
    kwargs = dict(
        log_probs_target=target, n_joint_samples=n_joint_samples, random_state=5
    )
    expected = batch_epig(pool_values, 5, **kwargs)
    got = batch_epig(chunked, 5, **kwargs)
    np.testing.assert_array_equal(got[0], expected[0])
    # float32 products over blocks of another size round differently on some
    # CPUs' BLAS kernels (a few ulps): same picks, scores to float32 precision
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=0)


def test_epig_on_a_chunked_pool_validates_every_block(pool_values, tmp_path):
    bad = pool_values.copy()
    bad[850] = np.exp(bad[850])  # probabilities, not log-probabilities
    target = pool_values[:5]
    for pool in (_memmap(bad, tmp_path), da.from_array(bad, chunks=(128, 16, 4))):
        with pytest.raises(ValueError, match=r"not normalised.*\[n=850, "):
            epig(pool, 3, log_probs_target=target)
        with pytest.raises(ValueError, match=r"not normalised.*\[n=850, "):
            epig(pool, 3, log_probs_target=target, stochastic="power")
        with pytest.raises(ValueError, match=r"not normalised.*\[n=850, "):
            batch_epig(pool, 3, log_probs_target=target)
    flat = _memmap(pool_values[:, 0], tmp_path / "flat")  # (N, C): no K axis
    with pytest.raises(ValueError, match="log_probs must be 3-d"):
        epig(flat, 3, log_probs_target=target)
    with pytest.raises(ValueError, match="log_probs_target has n_mc_samples=8"):
        epig(_memmap(pool_values, tmp_path), 3, log_probs_target=target[:, :8])


def test_dask_array_chunked_along_k_and_c_is_rechunked(pool_values):
    split = da.from_array(pool_values, chunks=(300, 5, 3))
    assert check_log_probs(split).chunks[1:] == ((16,), (4,))
    expected = batchbald(pool_values, 4, random_state=0)
    np.testing.assert_array_equal(batchbald(split, 4, random_state=0)[0], expected[0])
    np.testing.assert_array_equal(bald(split, 5)[0], bald(pool_values, 5)[0])


def test_check_log_probs_returns_the_chunked_pool_unread(chunked):
    checked = check_log_probs(chunked)
    assert type(checked) is type(chunked)
    if isinstance(chunked, np.memmap):
        assert checked is chunked


def test_dask_is_not_imported_for_numpy_input():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from skbatchbald.acquisition import bald, batchbald\n"
        "x = np.log(np.full((5, 2, 2), 0.5))\n"
        "bald(x, 1); batchbald(x, 2)\n"
        "print('dask' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


class TestValidation:
    """The in-memory messages, with the location in pool coordinates."""

    @pytest.mark.parametrize("acquire", [bald, batchbald, check_log_probs])
    def test_probabilities_rejected_with_the_global_location(
        self, acquire, pool_values, tmp_path, small_blocks
    ):
        probs = np.exp(pool_values)
        for pool in (_memmap(probs, tmp_path), da.from_array(probs, chunks=128)):
            args = () if acquire is check_log_probs else (2,)
            with pytest.raises(ValueError, match="looks like probabilities"):
                acquire(pool, *args)

    def test_unnormalised_row_in_a_late_block_is_located(
        self, pool_values, tmp_path, small_blocks
    ):
        bad = pool_values.copy()
        bad[777, 13, 2] += 0.5
        message = r"not normalised.*at \[n=777, k=13\]"
        with pytest.raises(ValueError, match=message):
            bald(_memmap(bad, tmp_path), 3)
        with pytest.raises(ValueError, match=message):
            batchbald(da.from_array(bad, chunks=100), 3)

    def test_nan_in_one_block(self, pool_values):
        bad = pool_values.copy()
        bad[640, 0, 0] = np.nan
        bad[650, 1, 2] = np.nan
        bad[850, 3, 1] = np.inf
        # the first in pool order, in pool coordinates, found in its block
        with pytest.raises(ValueError, match=r"NaN \(first at \[n=640, k=0, c=0\]"):
            max_entropy(da.from_array(bad, chunks=100), 1)
        bad[640, 0, 0] = bad[650, 1, 2] = 0.0
        with pytest.raises(ValueError, match=r"\+inf \(first at \[n=850, k=3, c=1"):
            batchbald(da.from_array(bad, chunks=100), 1)

    def test_shape_and_dtype(self, tmp_path):
        with pytest.raises(ValueError, match="at least 2 classes"):
            bald(da.zeros((10, 3, 1), chunks=5), 1)
        with pytest.raises(ValueError, match="must be 3-d"):
            batchbald(da.zeros((10, 3), chunks=5), 1)
        with pytest.raises(ValueError, match="real numbers"):
            bald(da.zeros((10, 3, 2), dtype=complex, chunks=5), 1)
        with pytest.raises(ValueError, match=r"n_instances must be an int in \[1, 4\]"):
            bald(_memmap(np.log(np.full((4, 2, 2), 0.5)), tmp_path), 5)

    def test_float16_memmap_is_read_as_float64(self, pool_values, tmp_path):
        half = pool_values.astype(np.float16)
        np.testing.assert_array_equal(
            mutual_information(_memmap(half, tmp_path)), mutual_information(half)
        )

    def test_max_memory_too_small_for_a_block(self, chunked):
        message = r"max_memory=100000 bytes is below .* \(pool of 900 points in"
        with pytest.raises(ValueError, match=message):
            batchbald(chunked, 2, max_memory=100_000)

    def test_lazy_needs_the_pool_in_memory(self, pool_values):
        with pytest.raises(ValueError, match=r"lazy=True .* only available"):
            batchbald(da.from_array(pool_values), 2, lazy=True)


def _peak_bytes(call):
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "call",
    [
        check_log_probs,
        lambda pool: bald(pool, 10),
        # a fixed budget: the default follows the memory available, which other
        # processes change between the two calls
        lambda pool: batchbald(pool, 3, n_joint_samples=100, max_memory="64MB"),
        lambda pool: epig(pool, 3, log_probs_target=pool[:20], max_memory="64MB"),
        lambda pool: batch_epig(
            pool, 3, log_probs_target=pool[:20], n_joint_samples=100, max_memory="64MB"
        ),
    ],
    ids=["check_log_probs", "bald", "batchbald", "epig", "batch_epig"],
)
def test_no_whole_pool_temporary(call, make_log_probs, tmp_path, monkeypatch):
    """Peak allocations grow with N by a few per-point floats, not by a pool's worth.

    Four times the points in blocks of 1 MiB: the pool grows by 24 MB and an (N, K)
    float64 array (the validation's sums before) by 9.6 MB; the peak may grow by 64
    bytes a point. One thread: with several, how many blocks' temporaries overlap
    depends on timing (a few MB either way, whatever N), which is not what is measured.
    """
    monkeypatch.setattr(_pool, "BLOCK_BYTES", 2**20)
    monkeypatch.setattr(_pool, "available_cores", lambda: 1)
    values = make_log_probs(80_000, 20, 5, seed=0, dtype=np.float32)
    small = _memmap(values[:20_000], tmp_path / "small")
    large = _memmap(values, tmp_path / "large")
    growth = _peak_bytes(lambda: call(large)) - _peak_bytes(lambda: call(small))
    assert growth < 64 * 60_000
