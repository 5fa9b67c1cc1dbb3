"""The memory budget: the forms max_memory takes, its default and its messages."""

import numpy as np
import pytest

from skbatchbald import _memory
from skbatchbald._memory import check_max_memory, large_empty


class TestCheckMaxMemory:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1, 1),
            (10**9, 10**9),
            (np.int64(2**20), 2**20),
            ("512MB", 512 * 10**6),
            ("1GB", 10**9),
            ("1GiB", 2**30),
            ("2.5 GB", 2_500_000_000),
            ("1gib", 2**30),
            ("  100 kib ", 102_400),
            ("64 MiB", 64 * 2**20),
            ("1tb", 10**12),
            ("1TiB", 2**40),
            ("3B", 3),
            (".5KB", 500),
        ],
    )
    def test_valid(self, value, expected):
        out = check_max_memory(value)
        assert out == expected
        assert type(out) is int

    def test_none_is_at_most_one_gib(self):
        out = check_max_memory(None)
        assert type(out) is int
        assert 0 < out <= 2**30

    def test_none_is_a_quarter_of_available(self, monkeypatch):
        monkeypatch.setattr(_memory, "_available_memory", lambda: 400 * 2**20)
        assert check_max_memory(None) == 100 * 2**20

    def test_none_without_meminfo_or_sysconf(self, monkeypatch):
        def no_sysconf(name):
            raise ValueError(f"unrecognized configuration name {name!r}")

        def no_file(*args, **kwargs):
            raise FileNotFoundError("/proc/meminfo")

        monkeypatch.setattr(_memory.os, "sysconf", no_sysconf)
        monkeypatch.setattr(_memory, "open", no_file, raising=False)
        assert check_max_memory(None) == 2**30

    def test_available_counts_reclaimable_page_cache(self, monkeypatch, tmp_path):
        # MemFree is tiny (a warm file cache holds the rest), MemAvailable is not:
        # the budget follows MemAvailable.
        meminfo = tmp_path / "meminfo"
        meminfo.write_text(
            "MemTotal:       25165824 kB\n"
            "MemFree:          204800 kB\n"
            "MemAvailable:   16777216 kB\n"
        )
        real_open = open
        monkeypatch.setattr(
            _memory, "open", lambda *a, **k: real_open(meminfo), raising=False
        )
        assert _memory._available_memory() == 16 * 2**30
        assert check_max_memory(None) == 2**30

    @pytest.mark.parametrize(
        "value",
        [0, -5, "", "abc", "GB", "1 GBs", "-1GB", "0GB", "0.1B", "1e9", "512M",
         "1,5GB", "512"],
    )  # fmt: skip
    def test_invalid(self, value):
        with pytest.raises(
            ValueError, match=r"max_memory must be None .*'512MB'.*KiB.*; got "
        ):
            check_max_memory(value)

    @pytest.mark.parametrize("value", [1.5, 1e9, True, [1]])
    def test_wrong_type(self, value):
        with pytest.raises(
            TypeError, match=r"max_memory must be None .*'512MB'.*; got .* of type"
        ):
            check_max_memory(value)


class TestCgroupLimit:
    """A container's memory limit bounds the default budget (host memory does not)."""

    @staticmethod
    def _tree(tmp_path, monkeypatch, proc_cgroup):
        proc = tmp_path / "cgroup"
        proc.write_text(proc_cgroup)
        root = tmp_path / "sys_fs_cgroup"
        root.mkdir()
        monkeypatch.setattr(_memory, "_PROC_SELF_CGROUP", str(proc))
        monkeypatch.setattr(_memory, "_CGROUP_ROOT", str(root))
        monkeypatch.setattr(_memory, "_host_available_memory", lambda: 16 * 2**30)
        return root

    @staticmethod
    def _group(folder, files):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)

    def test_v2_limit_minus_usage_less_inactive_cache(self, tmp_path, monkeypatch):
        root = self._tree(tmp_path, monkeypatch, "0::/docker/abc\n")
        self._group(
            root / "docker" / "abc",
            {
                "memory.max": f"{2 * 2**30}\n",
                "memory.current": f"{900 * 2**20}\n",
                "memory.stat": (
                    f"anon 1\ninactive_file {300 * 2**20}\n"
                    f"active_file {100 * 2**20}\nfile_dirty 9\n"
                ),
            },
        )
        # 2 GiB - (900 MiB - 400 MiB of file cache) = 1.5 GiB left, not the
        # host's 16: a memmapped pool read every round is active file cache
        assert _memory._available_memory() == 2 * 2**30 - 500 * 2**20
        assert check_max_memory(None) == (2 * 2**30 - 500 * 2**20) // 4

    def test_v2_max_means_no_limit(self, tmp_path, monkeypatch):
        root = self._tree(tmp_path, monkeypatch, "0::/user.slice\n")
        self._group(
            root / "user.slice", {"memory.max": "max\n", "memory.current": "5\n"}
        )
        assert _memory._cgroup_headroom() is None
        assert _memory._available_memory() == 16 * 2**30

    def test_the_tightest_ancestor_wins(self, tmp_path, monkeypatch):
        root = self._tree(tmp_path, monkeypatch, "0::/pod/container\n")
        self._group(
            root / "pod",
            {"memory.max": f"{2**30}", "memory.current": f"{800 * 2**20}"},
        )
        self._group(
            root / "pod" / "container",
            {"memory.max": f"{4 * 2**30}", "memory.current": f"{100 * 2**20}"},
        )
        assert _memory._available_memory() == 224 * 2**20

    def test_container_root_when_the_host_path_is_not_visible(
        self, tmp_path, monkeypatch
    ):
        # Without a cgroup namespace the path names the host's tree; the
        # container sees its own cgroup mounted at the root.
        root = self._tree(
            tmp_path, monkeypatch, "12:cpu:/\n4:memory:/kubepods/pod1/c2\n"
        )
        self._group(
            root / "memory",
            {
                "memory.limit_in_bytes": f"{3 * 2**30}\n",
                "memory.usage_in_bytes": f"{2**30}\n",
                "memory.stat": (
                    f"cache 9\ntotal_inactive_file {2**28}\n"
                    f"total_active_file {2**28}\ninactive_file 5\n"
                ),
            },
        )
        assert _memory._available_memory() == 3 * 2**30 - 2**29

    def test_v1_unlimited_is_ignored(self, tmp_path, monkeypatch):
        root = self._tree(tmp_path, monkeypatch, "4:memory:/\n")
        self._group(
            root / "memory",
            {
                "memory.limit_in_bytes": "9223372036854771712\n",
                "memory.usage_in_bytes": f"{2**30}\n",
            },
        )
        assert _memory._available_memory() == 16 * 2**30

    def test_usage_above_limit_leaves_no_room_not_a_negative_budget(
        self, tmp_path, monkeypatch
    ):
        root = self._tree(tmp_path, monkeypatch, "0::/\n")
        self._group(root, {"memory.max": "100", "memory.current": "300"})
        assert _memory._available_memory() == 0
        assert check_max_memory(None) == 1

    def test_no_cgroup_file(self, tmp_path, monkeypatch):
        monkeypatch.setattr(_memory, "_PROC_SELF_CGROUP", str(tmp_path / "absent"))
        monkeypatch.setattr(_memory, "_host_available_memory", lambda: 2**30)
        assert _memory._available_memory() == 2**30


@pytest.mark.parametrize("shape", [(3, 4), (2**20, 20, 5)])
def test_large_empty_is_a_writeable_contiguous_array_of_that_shape(shape):
    # 80 MiB: mapped on its own (huge pages where Linux offers them)
    array = large_empty(shape, np.float32)
    assert array.shape == shape and array.dtype == np.float32
    assert array.flags.c_contiguous and array.flags.writeable
    array[...] = 1.5
    assert float(array[-1].sum()) == 1.5 * array[-1].size
    assert (array.base is None) == (array.nbytes < 64 * 2**20)


def test_large_empty_is_private_to_the_process():
    # a forked child writing to it does not change the parent's copy
    import multiprocessing

    array = large_empty((2**20, 20, 5), np.float32)
    array[0, 0, 0] = 1.0
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("no fork on this platform")
    child = context.Process(target=array.fill, args=(2.0,))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert array[0, 0, 0] == 1.0


@pytest.mark.parametrize(
    ("n_bytes", "shown"),
    [(0, "0 B"), (800, "800 B"), (10_000, "9.77 KiB"), (40 * 2**20, "40 MiB"),
     (150 * 2**20, "150 MiB"), (3.4 * 2**30, "3.4 GiB")],
)  # fmt: skip
def test_shown_bytes_in_the_largest_unit_reached(n_bytes, shown):
    assert _memory.shown_bytes(n_bytes) == shown


def test_a_gaussian_process_over_a_tiny_budget_says_its_size():
    # max_memory="10KB" was shown as "0 MiB"
    from sklearn.gaussian_process import GaussianProcessRegressor

    from skbatchbald.sampling import predict_samples

    X = np.linspace(0, 1, 40).reshape(-1, 1)
    gp = GaussianProcessRegressor().fit(X[::4], np.sin(X[::4, 0]))
    with pytest.raises(ValueError, match=r"over max_memory=9.77 KiB"):
        predict_samples(gp, X, max_memory="10KB")
