"""Classical estimators against scikit-learn (and CSV loading against pandas), side by side
in one run, on Fashion-MNIST 70k.

Every timed fit runs in a fresh process (so peak memory is that fit's own), three times
per library; medians are reported, and ratios nolabel / scikit-learn, since this machine
is shared and absolute times drift. Thread counts come from the environment (run with
OMP_NUM_THREADS=1 on a shared machine: oversubscribed OpenMP pools make 2-thread timings
meaningless there).

  * KMeans k=10 on 70k x 784: both libraries from the same k-means++ start (identical Lloyd
    path, so time per iteration compares the engines), from each library's own k-means++
    over several seeds (inertia comparison), and with n_init=10.
  * GaussianMixture, full covariance, k=10, on PCA-50: both from the same k-means start, for
    each of 5 seeds; times and log-likelihoods are compared as means over the seeds.
  * DBSCAN eps=1.0, min_samples=10 on PCA-10: time and identical labels.
  * PCA (exact and randomised, 50 components) on 70k x 784; KernelDensity log-density of 10k
    points under 60k (PCA-10); MiniBatchKMeans in memory and reading a .npy file in blocks,
    against scikit-learn's in memory, over several seeds.
  * CSV: a 1,000,000 x 20 numeric file, and one with a header and a text label column, by
    ``nolabel.load`` against ``pandas.read_csv`` (+ ``to_numpy``; labels factorised).
  * Clustering quality on the clustbench fcps and uci batteries (benchmarks/clustbench_quality).

Writes results/classical.json and results/classical.md; ``--only`` re-measures some
sections and merges them into the existing results (each section keeps the date and
thread count it was measured with).

    OMP_NUM_THREADS=1 python benchmarks/classical.py [--repeats 3] [--only gmm pca ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nolabel._atomic import atomic_write_text

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _rss_mb() -> float:
    """Resident memory now (MB), after resetting the peak that ``_peak_mb`` reads."""
    with open("/proc/self/clear_refs", "w") as handle:  # resets VmHWM (Linux >= 4.0)
        handle.write("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _digest(labels) -> str:
    return hashlib.sha256(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:16]


# -- cases, each run in its own process ---------------------------------------------------

def case_kmeans(library: str, data_dir: Path, seed: int, same_start: bool,
                n_init: int = 1) -> dict:
    X = np.load(data_dir / "fashion.npy")
    before = _rss_mb()
    init = np.load(data_dir / f"kmeans_start_{seed}.npy") if same_start else "k-means++"
    if library == "nolabel":
        from nolabel import KMeans

        model = KMeans(10, init=init, n_init=n_init, random_state=seed, device="cpu")
    else:
        from sklearn.cluster import KMeans

        model = KMeans(10, init=init, n_init=n_init, random_state=seed, algorithm="lloyd")
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "n_iter": int(model.n_iter_), "inertia": float(model.inertia_),
            "ms_per_iter": 1000 * seconds / model.n_iter_,
            "extra_mb": _peak_mb() - before, "data_mb": X.nbytes / 2**20,
            "labels": _digest(model.labels_)}


def case_gmm(library: str, data_dir: Path, seed: int) -> dict:
    X = np.load(data_dir / "pca50.npy")
    means = np.load(data_dir / f"gmm_means_{seed}.npy")
    kwargs = {"covariance_type": "full", "means_init": means, "random_state": seed,
              "max_iter": 300, "tol": 1e-3}
    if library == "nolabel":
        from nolabel import GaussianMixture

        model = GaussianMixture(10, device="cpu", **kwargs)
    else:
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(10, **kwargs)
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "n_iter": int(model.n_iter_),
            "log_likelihood": float(model.score(X)), "converged": bool(model.converged_)}


def case_dbscan(library: str, data_dir: Path) -> dict:
    X = np.load(data_dir / "pca10.npy")
    before = _rss_mb()
    if library == "nolabel":
        from nolabel.classical.dbscan import DBSCAN

        model = DBSCAN(eps=1.0, min_samples=10, device="cpu")
    else:
        from sklearn.cluster import DBSCAN

        model = DBSCAN(eps=1.0, min_samples=10)
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    labels = np.asarray(model.labels_)
    return {"seconds": seconds, "extra_mb": _peak_mb() - before, "labels": _digest(labels),
            "n_clusters": int(labels.max() + 1), "noise": int((labels < 0).sum())}


def case_pca(library: str, data_dir: Path, solver: str) -> dict:
    X = np.load(data_dir / "fashion.npy")  # float32, as both libraries get it
    if library == "nolabel":
        from nolabel.classical.pca import PCA

        model = PCA(50, svd_solver=solver, random_state=0, device="cpu")
    else:
        from sklearn.decomposition import PCA

        model = PCA(50, svd_solver=solver, random_state=0)
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    return {"seconds": seconds,
            "explained_variance": np.asarray(model.explained_variance_, float).tolist()}


def case_kde(library: str, data_dir: Path) -> dict:
    X = np.load(data_dir / "pca10.npy").astype(np.float64)
    train, query = X[:60000], X[60000:]
    if library == "nolabel":
        from nolabel.classical.density import KernelDensity

        model = KernelDensity(bandwidth=0.5, covariance="identity", device="cpu")
    else:
        from sklearn.neighbors import KernelDensity

        model = KernelDensity(bandwidth=0.5)
    start = time.perf_counter()
    model.fit(train)
    log_density = np.asarray(model.score_samples(query), np.float64)
    seconds = time.perf_counter() - start
    from scipy.special import logsumexp

    few = query[:200]  # exact Gaussian-kernel log-density, by brute force in float64
    squared = ((few[:, None, :] - train[None]) ** 2).sum(2)
    exact = logsumexp(-0.5 * squared / 0.25, axis=1) - np.log(len(train)) - 5 * np.log(
        2 * np.pi * 0.25)
    return {"seconds": seconds, "mean_log_density": float(log_density.mean()),
            "max_error_200": float(np.abs(log_density[:200] - exact).max())}


def case_minibatch(library: str, data_dir: Path, seed: int, source: str = "npy") -> dict:
    before = _rss_mb()
    if library == "nolabel":
        from nolabel.classical.minibatch_kmeans import MiniBatchKMeans

        model = MiniBatchKMeans(10, batch_size=1024, block_size=8192, random_state=seed,
                                device="cpu")
        # "npy": read from the file in blocks, never loaded whole
        data = data_dir / "fashion.npy" if source == "npy" else np.load(data_dir / "fashion.npy")
    else:
        from sklearn.cluster import MiniBatchKMeans

        model = MiniBatchKMeans(10, batch_size=1024, random_state=seed)
        data = np.load(data_dir / "fashion.npy")
    start = time.perf_counter()
    model.fit(data)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "inertia": float(model.inertia_), "n_steps": int(model.n_steps_),
            "extra_mb": _peak_mb() - before}


def case_csv(library: str, data_dir: Path, kind: str) -> dict:
    path = data_dir / f"{kind}.csv"
    start = time.perf_counter()
    if library == "nolabel":
        import nolabel

        data = nolabel.load(path, label_column="label" if kind == "labelled" else None)
        X, y = data.X, data.y
    else:
        import pandas

        frame = pandas.read_csv(path, header=0 if kind == "labelled" else None)
        y = None
        if kind == "labelled":
            y, _ = pandas.factorize(frame.pop("label"), sort=True)
        X = frame.to_numpy(np.float32)
    seconds = time.perf_counter() - start
    values = hashlib.sha256(np.ascontiguousarray(X, dtype=np.float32).tobytes()).hexdigest()
    return {"seconds": seconds, "shape": list(X.shape), "values": values[:16],
            "labels": None if y is None else _digest(y)}


CASES = {"kmeans": case_kmeans, "gmm": case_gmm, "dbscan": case_dbscan, "pca": case_pca,
         "kde": case_kde, "minibatch": case_minibatch, "csv": case_csv}


def _fresh(case: str, library: str, data_dir: Path, *args) -> dict:
    command = [sys.executable, __file__, "--case", case, library, str(data_dir),
               json.dumps(list(args))]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{case}/{library} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare(case: str, data_dir: Path, repeats: int, entries: dict) -> dict:
    """Every entry ``label: (library, args)``, interleaved ``repeats`` times; medians of
    every number per entry."""
    runs: dict[str, list[dict]] = {label: [] for label in entries}
    for _ in range(repeats):
        for label, (library, args) in entries.items():
            runs[label].append(_fresh(case, library, data_dir, *args))
            print(case, args, label, json.dumps(runs[label][-1])[:300], flush=True)
    summary = {}
    for label, rows in runs.items():
        summary[label] = {key: (statistics.median(r[key] for r in rows)
                                if isinstance(rows[0][key], int | float)
                                and not isinstance(rows[0][key], bool) else rows[0][key])
                          for key in rows[0]}
    return summary


def _side_by_side(case: str, data_dir: Path, repeats: int, *args) -> dict:
    """Both libraries, interleaved ``repeats`` times; medians of every number."""
    summary = _compare(case, data_dir, repeats,
                       {"nolabel": ("nolabel", args), "sklearn": ("sklearn", args)})
    summary["time_ratio"] = summary["nolabel"]["seconds"] / summary["sklearn"]["seconds"]
    return summary


def _over_seeds(per_seed: list[dict], labels: list[str], keys: list[str]) -> dict:
    """Means over seeds of every label's median ``keys``."""
    return {label: {key: statistics.mean(entry[label][key] for entry in per_seed)
                    for key in keys} for label in labels}


# -- data preparation -----------------------------------------------------------------------

def prepare(data_dir: Path, seeds: list[int]) -> None:
    from sklearn.cluster import KMeans, kmeans_plusplus
    from sklearn.decomposition import PCA

    import nolabel

    X = np.ascontiguousarray(nolabel.load("fashion-mnist", split="all").flat())
    np.save(data_dir / "fashion.npy", X)
    pca = PCA(50, svd_solver="covariance_eigh").fit(X.astype(np.float64))
    np.save(data_dir / "pca_exact_variance.npy", pca.explained_variance_)  # float64 truth
    projected = pca.transform(X.astype(np.float64))
    np.save(data_dir / "pca50.npy", projected.astype(np.float64))
    np.save(data_dir / "pca10.npy", np.ascontiguousarray(projected[:, :10], dtype=np.float32))
    for seed in seeds:
        start, _ = kmeans_plusplus(X, 10, random_state=seed)
        np.save(data_dir / f"kmeans_start_{seed}.npy", start)
        # sklearn's GaussianMixture(init_params="kmeans", random_state=seed) starts from the
        # responsibilities of this very k-means: giving both its centres makes the starts equal.
        centres = KMeans(10, n_init=1, random_state=seed).fit(projected).cluster_centers_
        np.save(data_dir / f"gmm_means_{seed}.npy", centres)


def prepare_csv(data_dir: Path, rows: int = 1_000_000, columns: int = 20) -> None:
    """numeric.csv (no header) and labelled.csv (a header and a text label column)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, columns)).astype(np.float32)
    text = np.char.mod("%.7g", X)
    labels = np.array(["cat", "dog", "bird", "fish"])[rng.integers(0, 4, rows)]
    with open(data_dir / "numeric.csv", "w") as handle:
        handle.writelines(",".join(row) + "\n" for row in text.tolist())
    with open(data_dir / "labelled.csv", "w") as handle:
        handle.write(",".join([f"f{i}" for i in range(columns)] + ["label"]) + "\n")
        handle.writelines(",".join(row) + "," + label + "\n"
                          for row, label in zip(text.tolist(), labels.tolist(), strict=True))


def clustbench_medians() -> dict:
    """Run benchmarks/clustbench_quality.py (its own report) and collect its medians."""
    subprocess.run([sys.executable, str(HERE / "clustbench_quality.py")], check=True)
    quality = json.loads((RESULTS / "clustbench_quality.json").read_text())
    medians = {}
    for battery in quality["kmeans"]["batteries"]:
        km = quality["kmeans"]["batteries"][battery]["median"]
        gm = quality["gmm"]["batteries"][battery]["median"]
        medians[battery] = {"ours_kmeans": km["ours"], "sklearn_kmeans": km["theirs"],
                            "ours_gmm": gm["ours"], "sklearn_gmm": gm["theirs"]}
    return {"medians": medians, "targets": quality["target_medians"]}


# -- report -----------------------------------------------------------------------------------

def markdown(results: dict) -> str:
    km = results.get("kmeans_same_start")
    own = results.get("kmeans_own_init")
    gmm = results.get("gmm_full")
    db = results.get("dbscan")
    measured = results.get("measured", {})
    when = {}
    for section, stamp in sorted(measured.items()):
        when.setdefault((stamp["date"], stamp["threads"]), []).append(section)
    lines = [
        "# Classical estimators vs scikit-learn", "",
        f"data: {results['data']}; medians of {results['repeats']} fresh-process runs per "
        "library; ratios = nolabel / sklearn (or / pandas), each from one run of both side by "
        "side.", "",
        *[f"- {', '.join(sections)}: measured {date} with {threads} thread(s)"
          for (date, threads), sections in when.items()], "",
        "| benchmark | nolabel | scikit-learn | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]

    def row(name, ours, theirs, ratio, target, met):
        lines.append(f"| {name} | {ours} | {theirs} | {ratio} | {target} | "
                     f"{'yes' if met else '**no**'} |")

    if km and own:
        row("KMeans k=10, same start: time (s)", f"{km['nolabel']['seconds']:.2f}",
            f"{km['sklearn']['seconds']:.2f}", f"{km['time_ratio']:.3f}", "<= 0.5",
            km["time_ratio"] <= 0.5)
        row("KMeans: ms per Lloyd iteration", f"{km['nolabel']['ms_per_iter']:.1f}",
            f"{km['sklearn']['ms_per_iter']:.1f}",
            f"{km['nolabel']['ms_per_iter'] / km['sklearn']['ms_per_iter']:.3f}",
            "<= 0.53 x sklearn's", km["nolabel"]["ms_per_iter"] / km["sklearn"]["ms_per_iter"]
            <= 0.53)
        gap = abs(km["nolabel"]["inertia"] / km["sklearn"]["inertia"] - 1)
        row("KMeans same start: iterations, inertia", f"{km['nolabel']['n_iter']}, "
            f"{km['nolabel']['inertia']:.7g}", f"{km['sklearn']['n_iter']}, "
            f"{km['sklearn']['inertia']:.7g}", f"{100 * gap:.4f} % apart", "within 0.5 %",
            gap <= 0.005)
        row("KMeans: extra memory (MB) / data", f"{km['nolabel']['extra_mb']:.0f}",
            f"{km['sklearn']['extra_mb']:.0f}", f"data {km['nolabel']['data_mb']:.0f} MB",
            "<= 1 copy", km["nolabel"]["extra_mb"] <= 1.05 * km["nolabel"]["data_mb"])
        row(f"KMeans own k-means++, mean of {own['seeds']} seeds: inertia",
            f"{own['nolabel_inertia']:.6g}", f"{own['sklearn_inertia']:.6g}",
            f"{own['inertia_ratio']:.5f}", "within 0.5 %", abs(own["inertia_ratio"] - 1) <= 0.005)
        row("KMeans own k-means++: time (s, mean)", f"{own['nolabel_seconds']:.2f}",
            f"{own['sklearn_seconds']:.2f}", f"{own['time_ratio']:.3f}", "<= 0.5",
            own["time_ratio"] <= 0.5)
    if "kmeans_n_init" in results:
        many = results["kmeans_n_init"]
        row("KMeans n_init=10 (restarts one after another): time (s)",
            f"{many['nolabel']['seconds']:.2f}", f"{many['sklearn']['seconds']:.2f}",
            f"{many['time_ratio']:.3f}", "<= 0.5", many["time_ratio"] <= 0.5)
        ratio = many["nolabel"]["inertia"] / many["sklearn"]["inertia"]
        row("KMeans n_init=10: best inertia", f"{many['nolabel']['inertia']:.7g}",
            f"{many['sklearn']['inertia']:.7g}", f"{ratio:.5f}", "within 0.5 %",
            abs(ratio - 1) <= 0.005)
    if gmm:
        g_ours, g_theirs = gmm["nolabel"], gmm["sklearn"]
        seeds = gmm.get("seeds", 1)
        ll_gap = (g_ours["log_likelihood"] - g_theirs["log_likelihood"]) / abs(
            g_theirs["log_likelihood"])
        row(f"GMM full k=10 PCA-50, same starts, mean of {seeds} seeds: time (s)",
            f"{g_ours['seconds']:.2f} ({g_ours['n_iter']:.0f} it)",
            f"{g_theirs['seconds']:.2f} ({g_theirs['n_iter']:.0f} it)",
            f"{1 / gmm['time_ratio']:.2f}x faster", ">= 5x faster", 1 / gmm["time_ratio"] >= 5)
        row(f"GMM: mean log-likelihood, mean of {seeds} seeds", f"{g_ours['log_likelihood']:.5f}",
            f"{g_theirs['log_likelihood']:.5f}", f"{100 * ll_gap:+.4f} % (ours - theirs)",
            "not below theirs by > 0.1 %", ll_gap >= -0.001)
    if db:
        row("DBSCAN PCA-10 eps=1 min_samples=10: time (s)", f"{db['nolabel']['seconds']:.2f}",
            f"{db['sklearn']['seconds']:.2f}", f"{db['time_ratio']:.3f}", "<= 1",
            db["time_ratio"] <= 1)
        row("DBSCAN: labels", f"{db['nolabel']['n_clusters']} clusters, "
            f"{db['nolabel']['noise']} noise", f"{db['sklearn']['n_clusters']} clusters, "
            f"{db['sklearn']['noise']} noise", "identical" if db["same_labels"] else "differ",
            "identical", db["same_labels"])
        row("DBSCAN: extra memory (MB)", f"{db['nolabel']['extra_mb']:.0f}",
            f"{db['sklearn']['extra_mb']:.0f}", "", "< 1024", db["nolabel"]["extra_mb"] < 1024)
    targets = {"covariance_eigh": 1.0, "randomized": 0.7}
    for solver, entry in results.get("pca", {}).items():
        row(f"PCA 50 comps ({solver}): time (s)", f"{entry['nolabel']['seconds']:.2f}",
            f"{entry['sklearn']['seconds']:.2f}", f"{entry['time_ratio']:.3f}",
            f"<= {targets[solver]}", entry["time_ratio"] <= targets[solver])
        row(f"PCA ({solver}): max explained-variance error vs float64 exact / largest",
            f"{entry['ours_vs_exact']:.1e}", f"{entry['sklearn_vs_exact']:.1e}",
            f"ours vs sklearn {entry['ev_gap']:.1e}", "<= 1e-4 and <= sklearn's",
            entry["ours_vs_exact"] <= min(1e-4, entry["sklearn_vs_exact"]))
    if "kde" in results:
        kde = results["kde"]
        row("KDE 10k queries x 60k points (PCA-10): time (s)",
            f"{kde['nolabel']['seconds']:.2f}", f"{kde['sklearn']['seconds']:.2f}",
            f"{kde['time_ratio']:.3f}", "faster", kde["time_ratio"] < 1)
        row("KDE: max |log-density error| on 200 queries vs brute force",
            f"{kde['nolabel']['max_error_200']:.1e}", f"{kde['sklearn']['max_error_200']:.1e}",
            "", "< 1e-6", kde["nolabel"]["max_error_200"] < 1e-6)
    mb = results.get("minibatch")
    if mb and "memory" in mb:
        theirs = mb["sklearn"]
        for source, target in (("memory", 1.0), ("npy", 1.3)):
            ours = mb[source]
            where = "in memory" if source == "memory" else "from .npy in 8192-row blocks"
            ratio = ours["seconds"] / theirs["seconds"]
            row(f"MiniBatchKMeans {where}, mean of {mb['seeds']} seeds: time (s) vs sklearn "
                "in memory", f"{ours['seconds']:.3f} ({ours['n_steps']:.0f} steps)",
                f"{theirs['seconds']:.3f} ({theirs['n_steps']:.0f} steps)", f"{ratio:.3f}",
                f"<= {target}", ratio <= target)
        inertia = mb["memory"]["inertia"] / theirs["inertia"]
        row("MiniBatchKMeans: inertia (mean over seeds) / .npy extra memory (MB)",
            f"{mb['memory']['inertia']:.6g} / {mb['npy']['extra_mb']:.0f}",
            f"{theirs['inertia']:.6g} / {theirs['extra_mb']:.0f}", f"{inertia:.4f}",
            "inertia <= 1.01 x, memory < data", inertia <= 1.01)
    for kind, entry in results.get("csv", {}).items():
        what = ("1,000,000 x 20 numeric" if kind == "numeric"
                else "1,000,000 x 20 + header + text label")
        row(f"CSV {what}: load time (s) vs pandas.read_csv",
            f"{entry['nolabel']['seconds']:.2f}", f"{entry['pandas']['seconds']:.2f} (pandas)",
            f"{entry['time_ratio']:.3f}", "<= 1.5 (same numbers)",
            entry["time_ratio"] <= 1.5 and entry["same_data"])
    quality = results.get("clustbench")
    if quality:
        lines += ["", "## Clustering quality on clustbench (median best NCA per battery)", "",
                  "Details per dataset: results/clustbench_quality.md.", "",
                  "| battery | nolabel KMeans | sklearn KMeans | published sklearn KMeans | "
                  "nolabel GMM | sklearn GMM | published sklearn GMM |",
                  "|---|---|---|---|---|---|---|"]
        targets = quality["targets"]
        for battery, medians in quality["medians"].items():
            lines.append(f"| {battery} | {medians['ours_kmeans']:.3f} | "
                         f"{medians['sklearn_kmeans']:.3f} | {targets['kmeans'][battery]} | "
                         f"{medians['ours_gmm']:.3f} | {medians['sklearn_gmm']:.3f} | "
                         f"{targets['gmm'][battery]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3, help="k-means++ seeds compared")
    parser.add_argument("--gmm-seeds", type=int, default=5, help="GaussianMixture starts")
    parser.add_argument("--minibatch-seeds", type=int, default=5)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only these sections, merged into the "
                        "existing results")
    parser.add_argument("--case", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        # Both libraries are loaded before any memory baseline is taken.
        import sklearn.cluster
        import torch

        import nolabel  # noqa: F401

        case, library, data_dir, extra = args.case
        print(json.dumps(CASES[case](library, Path(data_dir), *json.loads(extra))))
        return
    import sklearn
    import torch

    seeds = list(range(max(args.seeds, args.gmm_seeds)))
    everything = ["kmeans", "kmeans_n_init", "gmm", "dbscan", "pca", "kde", "minibatch", "csv",
                  "quality"]
    wanted = set(args.only or everything)
    path = RESULTS / "classical.json"
    results: dict = json.loads(path.read_text()) if args.only and path.exists() else {}
    results.pop("threads", None)  # one count for the whole run: now per section, in "measured"
    results.update({"data": "fashion-mnist train+test 70k x 784 (PCA-50 / PCA-10 for GMM, "
                            "DBSCAN, KDE)", "repeats": args.repeats,
                    "versions": {"torch": torch.__version__, "sklearn": sklearn.__version__}})
    stamp = {"threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d")}
    measured = results.setdefault("measured", {})
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        prepare(data_dir, seeds)
        if "kmeans" in wanted:
            same = _side_by_side("kmeans", data_dir, args.repeats, 0, True)
            same["same_labels"] = same["nolabel"]["labels"] == same["sklearn"]["labels"]
            results["kmeans_same_start"] = same
            own = {"nolabel": [], "sklearn": []}
            for seed in seeds[:args.seeds]:
                for library in own:
                    own[library].append(_fresh("kmeans", library, data_dir, seed, False))
            mean = {f"{lib}_{key}": statistics.mean(r[key] for r in rows)
                    for lib, rows in own.items() for key in ("inertia", "seconds")}
            results["kmeans_own_init"] = {
                **mean, "seeds": args.seeds, "runs": own,
                "inertia_ratio": mean["nolabel_inertia"] / mean["sklearn_inertia"],
                "time_ratio": mean["nolabel_seconds"] / mean["sklearn_seconds"]}
        if "kmeans_n_init" in wanted:
            results["kmeans_n_init"] = _side_by_side("kmeans", data_dir, args.repeats, 0, False,
                                                     10)
        if "gmm" in wanted:
            per_seed = [_side_by_side("gmm", data_dir, args.repeats, seed)
                        for seed in seeds[:args.gmm_seeds]]
            means = _over_seeds(per_seed, ["nolabel", "sklearn"],
                                ["seconds", "n_iter", "log_likelihood"])
            results["gmm_full"] = {**means, "seeds": args.gmm_seeds, "per_seed": per_seed,
                                   "time_ratio": means["nolabel"]["seconds"]
                                   / means["sklearn"]["seconds"]}
        if "dbscan" in wanted:
            db = _side_by_side("dbscan", data_dir, args.repeats)
            db["same_labels"] = db["nolabel"]["labels"] == db["sklearn"]["labels"]
            results["dbscan"] = db
        if "pca" in wanted:
            results["pca"] = {}
            for solver in ("covariance_eigh", "randomized"):
                entry = _side_by_side("pca", data_dir, args.repeats, solver)
                ours = np.array(entry["nolabel"]["explained_variance"])
                theirs = np.array(entry["sklearn"]["explained_variance"])
                exact = np.load(data_dir / "pca_exact_variance.npy")
                entry["ev_gap"] = float(np.abs(ours - theirs).max() / theirs.max())
                entry["ours_vs_exact"] = float(np.abs(ours - exact).max() / exact.max())
                entry["sklearn_vs_exact"] = float(np.abs(theirs - exact).max() / exact.max())
                results["pca"][solver] = entry
        if "kde" in wanted:
            results["kde"] = _side_by_side("kde", data_dir, args.repeats)
        if "minibatch" in wanted:
            per_seed = [_compare("minibatch", data_dir, args.repeats, {
                "memory": ("nolabel", (seed, "memory")), "npy": ("nolabel", (seed, "npy")),
                "sklearn": ("sklearn", (seed,))}) for seed in range(args.minibatch_seeds)]
            means = _over_seeds(per_seed, ["memory", "npy", "sklearn"],
                                ["seconds", "inertia", "n_steps", "extra_mb"])
            results["minibatch"] = {**means, "seeds": args.minibatch_seeds,
                                    "per_seed": per_seed}
        if "csv" in wanted:
            try:
                import pandas  # noqa: F401
            except ImportError:
                print("csv: pandas is not installed; section skipped", flush=True)
                wanted.discard("csv")
            else:
                prepare_csv(data_dir)
                results["csv"] = {}
                for kind in ("numeric", "labelled"):
                    entry = _compare("csv", data_dir, args.repeats, {
                        "nolabel": ("nolabel", (kind,)), "pandas": ("pandas", (kind,))})
                    entry["time_ratio"] = (entry["nolabel"]["seconds"]
                                           / entry["pandas"]["seconds"])
                    entry["same_data"] = (entry["nolabel"]["values"]
                                          == entry["pandas"]["values"]
                                          and entry["nolabel"]["labels"]
                                          == entry["pandas"]["labels"])
                    results["csv"][kind] = entry
    if "quality" in wanted and not args.skip_quality:
        results["clustbench"] = clustbench_medians()
    for section in wanted:
        measured[section] = stamp
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(path, json.dumps(results, indent=2) + "\n")
    atomic_write_text(RESULTS / "classical.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
