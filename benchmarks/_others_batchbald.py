"""One BatchBALD call of another library on the first n rows of a pool; JSON out.

Run by bench_embeddings.py with the python of a separate environment that has
baal and scikit-activeml (docs/benchmarks.rst). Usage:
``_others_batchbald.py {baal,skactiveml} log_probs.npy n b``.
"""

import json
import sys
import time

import numpy as np
from _measure import _peak_rss, _reset_peak_rss


def main():
    library, path, n, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    log_probs = np.load(path, mmap_mode="r")[:n]
    probs = np.exp(log_probs.astype(np.float64))  # (n, K, C)
    _reset_peak_rss()
    before = _peak_rss()
    cpu, wall = time.process_time(), time.perf_counter()
    if library == "baal":
        from baal.active.heuristics import BatchBALD

        # baal takes (N, C, K) and ranks the pool; its picks are the first b
        picks = BatchBALD(num_samples=b)(probs.transpose(0, 2, 1))[:b]
    elif library == "skactiveml":
        from skactiveml.pool._bald import batch_bald

        utilities = batch_bald(probs.transpose(1, 0, 2), b, random_state=0)
        picks = np.nanargmax(utilities, axis=1)
    else:
        raise ValueError(f"unknown library {library!r}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    json.dump(
        {
            "wall_s": wall,
            "cpu_s": cpu,
            "peak_rss_mb": _peak_rss() / 1e6,
            "growth_mb": (_peak_rss() - before) / 1e6,
            "picks": np.asarray(picks).tolist(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
