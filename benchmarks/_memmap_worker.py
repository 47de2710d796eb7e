"""One k-means fit in a fresh process, for its peak memory: ``MODE PATH INIT MAX_ITER``.

MODE is ``nolabel-disk`` (the .npy path, read in blocks), ``nolabel-loaded`` (np.load, then
fit) or ``sklearn-loaded``. Prints one JSON line: seconds, peak RSS, inertia.
"""

import json
import sys
import time

import numpy as np


def peak_rss_mb() -> float:
    """VmHWM: this process's peak resident memory (unlike ru_maxrss, not inherited from the
    parent across fork + exec)."""
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


mode, path, init_path, max_iter = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
init = np.load(init_path)
if mode.startswith("nolabel"):
    import nolabel

    model = nolabel.KMeans(len(init), init=init, max_iter=max_iter, tol=0.0, device="cpu")
else:
    from sklearn.cluster import KMeans

    model = KMeans(len(init), init=init, n_init=1, max_iter=max_iter, tol=0.0)
baseline_mb = peak_rss_mb()
start = time.perf_counter()
model.fit(path if mode == "nolabel-disk" else np.load(path))
seconds = time.perf_counter() - start
peak_mb = peak_rss_mb()
print(json.dumps({"mode": mode, "seconds": seconds, "peak_rss_mb": peak_mb,
                  "rss_before_fit_mb": baseline_mb,
                  "inertia": float(model.inertia_), "n_iter": int(model.n_iter_)}))
