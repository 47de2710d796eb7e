"""Foundation benchmark: nolabel KMeans vs scikit-learn, and the training loop vs a bare loop.

Side by side in one run, on Fashion-MNIST (70,000 x 784, all splits):
  * KMeans, k=10, n_init=1 and 10: time, iterations, inertia, NMI, peak memory. Each fit runs
    in its own fresh process so peak RSS is measured cleanly (ru_maxrss of that process).
  * AutoEncoder epoch time through nolabel.train.fit vs a hand-written PyTorch loop over the
    same network, optimizer and mini-batches (runs interleaved; medians reported).
Writes results/foundation.json and results/foundation.md. Ratios matter; absolute times drift.

    python benchmarks/foundation.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
# k-means results depend on the seed's initial centres: compare means over several seeds.
SEEDS = {1: range(5), 10: range(2)}


def _load(quick: bool):
    import nolabel

    data = nolabel.load("fashion-mnist", split="test" if quick else "all")
    return data.flat(), data.y


def kmeans_once(library: str, n_init: int, seed: int, quick: bool) -> dict:
    X, y = _load(quick)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from sklearn.metrics import normalized_mutual_info_score

    if library == "nolabel":
        from nolabel import KMeans

        model = KMeans(10, n_init=n_init, random_state=seed, device="cpu")
    else:
        from sklearn.cluster import KMeans

        model = KMeans(10, n_init=n_init, random_state=seed, algorithm="lloyd")
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"library": library, "n_init": n_init, "seed": seed, "seconds": seconds,
            "n_iter": int(model.n_iter_), "inertia": float(model.inertia_),
            "nmi": float(normalized_mutual_info_score(y, model.labels_)),
            "peak_rss_mb": peak / 1024, "peak_over_data_mb": (peak - rss_before) / 1024}


def _in_fresh_process(library: str, n_init: int, seed: int, quick: bool) -> dict:
    command = [sys.executable, __file__, "--kmeans-once", library, str(n_init), str(seed)]
    if quick:
        command.append("--quick")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def training_loop_overhead(quick: bool, epochs: int, repeats: int) -> dict:
    import torch

    from _loop_overhead import loop_overhead
    from nolabel.models.autoencoder import MLPAutoEncoder

    X, _ = _load(quick)
    return loop_overhead(lambda: MLPAutoEncoder(784, (256, 128), 10, "relu"),
                         torch.from_numpy(X), batch_size=256, epochs=epochs, repeats=repeats)


def markdown(results: dict) -> str:
    lines = ["# Foundation benchmark", "", f"data: {results['data']}", "",
             "## KMeans (k=10, CPU)", "",
             "| n_init | seed | library | time (s) | iterations | inertia | NMI | peak RSS (MB) |",
             "|---|---|---|---|---|---|---|---|"]
    for row in results["kmeans"]:
        lines.append(f"| {row['n_init']} | {row['seed']} | {row['library']} | "
                     f"{row['seconds']:.2f} | {row['n_iter']} | {row['inertia']:.6g} | "
                     f"{row['nmi']:.4f} | "
                     f"{row['peak_rss_mb']:.0f} |")
    lines += ["", "Means over seeds, nolabel / scikit-learn:", "",
              "| n_init | seeds | time ratio | inertia ratio |", "|---|---|---|---|"]
    for n_init, ratio in results["kmeans_ratios"].items():
        lines.append(f"| {n_init} | {ratio['seeds']} | {ratio['time']:.3f} | "
                     f"{ratio['inertia']:.5f} |")
    loop = results["training_loop"]
    lines += ["", "## Training loop overhead (AutoEncoder 784-256-128-10, batch 256, Adam)", "",
              "| bare PyTorch epoch (s) | nolabel.train.fit epoch (s) | overhead |",
              "|---|---|---|",
              f"| {loop['bare_epoch_s']:.3f} | {loop['nolabel_epoch_s']:.3f} | "
              f"{loop['overhead_pct']:+.1f} % |", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k test split only")
    parser.add_argument("--kmeans-once", nargs=3, metavar=("LIBRARY", "N_INIT", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kmeans_once:
        library, n_init, seed = args.kmeans_once
        print(json.dumps(kmeans_once(library, int(n_init), int(seed), args.quick)))
        return
    rows = []
    for n_init in (1, 10):
        for seed in SEEDS[n_init]:
            for library in ("nolabel", "sklearn"):
                rows.append(_in_fresh_process(library, n_init, seed, args.quick))
                print(json.dumps(rows[-1]), flush=True)
    ratios = {}
    for n_init in (1, 10):
        def mean(library, key, n_init=n_init):
            return statistics.mean(r[key] for r in rows
                                   if r["library"] == library and r["n_init"] == n_init)

        ratios[str(n_init)] = {"time": mean("nolabel", "seconds") / mean("sklearn", "seconds"),
                               "inertia": mean("nolabel", "inertia") / mean("sklearn", "inertia"),
                               "seeds": len(SEEDS[n_init])}
    loop = training_loop_overhead(args.quick, epochs=3, repeats=3)
    print(json.dumps(loop), flush=True)
    import sklearn
    import torch

    results = {"data": "fashion-mnist " + ("test split 10k x 784" if args.quick
                                           else "train+test 70k x 784"),
               "versions": {"torch": torch.__version__, "sklearn": sklearn.__version__},
               "threads": torch.get_num_threads(),
               "kmeans": rows, "kmeans_ratios": ratios, "training_loop": loop}
    RESULTS.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    atomic_write_text(RESULTS / f"foundation{suffix}.json", json.dumps(results, indent=2) + "\n")
    atomic_write_text(RESULTS / f"foundation{suffix}.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
