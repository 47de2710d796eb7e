"""Deep clustering on Fashion-MNIST (70k, K=10) and the 8x8 digits (K=10), over seeds.

Every method sees all images of the dataset (train and test together, scaled to [0, 1]) and
is scored against the labels it never saw: ACC (Hungarian), NMI, ARI; mean ± sd over seeds
and wall time per seed. Floors in the same run: k-means on raw pixels and autoencoder +
k-means. Each (dataset, method, seed) result is saved as soon as it exists, so a long run
cut short keeps what it measured, and methods can be run one at a time.

    python benchmarks/deep_clustering.py --dataset digits [--methods dec vade] [--seeds 0 1 2 3 4]
    python benchmarks/deep_clustering.py --dataset fashion-mnist --methods dec --seeds 0
    python benchmarks/deep_clustering.py --dataset fashion-mnist --shared-pretraining --seeds 2
    python benchmarks/deep_clustering.py --table

--shared-pretraining fits one autoencoder per (dataset, seed) with the pretraining every
autoencoder method uses (d-500-500-2000-10, ReLU, MSE, Adam 1e-3, batch 256), caches it in
benchmarks/.cache and starts ae-kmeans, DEC, IDEC, DAC and N2D from it (``pretrained=``);
VaDE pretrains its own (cross-entropy). The reported time then includes that pretraining.

N2D needs umap-learn. Published bars (means over seeds count): Fashion-MNIST k-means on
pixels 0.476 ACC, DEC 0.583, ClusterGAN 0.612, N2D 0.672; digits 8x8 k-means 0.793, Ward 0.840.
Writes results/deep_clustering.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
CACHE = Path(__file__).parent / ".cache"
SHARED = ("ae-kmeans", "dec", "idec", "dac", "n2d")  # the methods that can share pretraining
METHODS = ("kmeans", "ae-kmeans", "dec", "idec", "vade", "dac", "n2d", "infogan", "catgan")
SCHEDULES = {"fashion-mnist": "Schedule (2 CPU cores, one thread per run): autoencoder methods 10 "
                              "pretraining + 10 clustering epochs, GANs 30 epochs; the papers "
                              "train several times longer. Runs with shared_pretraining_seconds "
                              "in the JSON started from one autoencoder pretrained per seed "
                              "(--shared-pretraining); its time is included.",
             "digits": "Schedule: 100 pretraining epochs, each paper's clustering epochs; "
                       "GANs 100 epochs."}
PUBLISHED = {"fashion-mnist": "k-means 0.476, DEC 0.583 ± 0.015, ClusterGAN 0.612 ± 0.023, "
             "N2D 0.672 (retrained 0.51-0.55)",
             "digits": "k-means 0.793, Ward 0.840"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_all(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    from nolabel import load

    if dataset == "digits":
        data = load("digits")
        return data.X.reshape(len(data.X), -1).astype(np.float32), data.y
    train, test = load(dataset, split="train"), load(dataset, split="test")
    X = np.concatenate([train.X, test.X]).reshape(-1, 784).astype(np.float32)
    return X, np.concatenate([train.y, test.y])


# Fashion-MNIST on 2 CPU cores: each paper's schedule (DEC ~180 pretraining epochs, VaDE 300
# epochs) would take hours per seed, so the autoencoder methods get 10 pretraining and 10
# clustering epochs and the GANs 30 epochs there (about 35 s per pretraining epoch on one core).
FASHION_EPOCHS = {"pretrain_epochs": 10, "epochs": 10}


def pretrain_epochs(dataset: str) -> int:
    return 100 if dataset == "digits" else FASHION_EPOCHS["pretrain_epochs"]


@contextlib.contextmanager
def locked(path: Path):
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def shared_autoencoder(dataset: str, seed: int, X: np.ndarray):
    """The seed's pretrained autoencoder and the seconds its fit took: fitted by the first
    run that asks (others wait on the lock), then read from the cache if its SHA-256 holds."""
    from nolabel import AutoEncoder, load_model
    from nolabel._atomic import atomic_write
    from nolabel.data.download import sha256_file

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{dataset}-seed{seed}-{pretrain_epochs(dataset)}epochs.safetensors"
    record = path.with_suffix(".json")
    with locked(path.with_suffix(".lock")):
        cached = json.loads(record.read_text()) if record.exists() else {}
        if not (path.exists() and cached.get("sha256") == sha256_file(path)):
            start = time.perf_counter()
            model = AutoEncoder(10, hidden_dims=(500, 500, 2000), epochs=pretrain_epochs(dataset),
                                batch_size=256, lr=1e-3, random_state=seed, device="cpu").fit(X)
            seconds = time.perf_counter() - start
            cached = {"seconds": seconds, "sha256": sha256_file(model.save(path))}
            with atomic_write(record) as file:
                file.write(json.dumps(cached).encode())
            log(f"{dataset} seed {seed}: autoencoder pretrained in {cached['seconds']:.0f} s")
    return load_model(path), cached["seconds"]


def build(method: str, seed: int, dataset: str, pretrained=None):
    """The estimator with each paper's defaults; shorter schedules where the data is large."""
    from nolabel import DAC, DEC, IDEC, N2D, AutoEncoder, CatGAN, InfoGAN, KMeans, VaDE

    small = dataset == "digits"
    pretrain = pretrain_epochs(dataset)
    ae = {"random_state": seed, "device": "cpu", "pretrain_epochs": pretrain,
          "pretrained": pretrained, **({} if small else {"epochs": FASHION_EPOCHS["epochs"]})}
    return {
        "kmeans": lambda: KMeans(10, n_init=10, random_state=seed),
        "ae-kmeans": lambda: AutoEncoder(10, hidden_dims=(500, 500, 2000),
                                         epochs=pretrain, random_state=seed,
                                         device="cpu"),
        "dec": lambda: DEC(10, **ae),
        "idec": lambda: IDEC(10, **ae),
        "vade": lambda: VaDE(10, **{**ae, "pretrained": None}),
        "dac": lambda: DAC(10, **ae),
        "n2d": lambda: N2D(10, pretrain_epochs=pretrain, pretrained=pretrained,
                           random_state=seed, device="cpu"),
        "infogan": lambda: InfoGAN(10, architecture="mlp", epochs=100 if small else 30,
                                   random_state=seed, device="cpu"),
        "catgan": lambda: CatGAN(10, architecture="mlp", epochs=100 if small else 30,
                                 random_state=seed, device="cpu"),
    }[method]()


def run_one(method: str, seed: int, dataset: str, X: np.ndarray, y: np.ndarray,
            shared_pretraining: bool = False) -> dict:
    from nolabel import KMeans
    from nolabel.metrics.clustering import clustering_scores

    pretrained, pretrain_seconds = None, 0.0
    if shared_pretraining and method in SHARED:
        pretrained, pretrain_seconds = shared_autoencoder(dataset, seed, X)
    model = build(method, seed, dataset, pretrained)
    start = time.perf_counter()
    if method == "ae-kmeans":
        codes = (model.fit(X) if pretrained is None else pretrained).transform(X)
        labels = KMeans(10, n_init=10, random_state=seed).fit_predict(np.asarray(codes))
    else:
        labels = model.fit_predict(X)
    seconds = time.perf_counter() - start + pretrain_seconds
    scores = clustering_scores(y, np.asarray(labels))
    shared = {"shared_pretraining_seconds": pretrain_seconds} if pretrained is not None else {}
    return {"seed": seed, "seconds": seconds, **shared, **scores}


def markdown(results: dict) -> str:
    lines = ["# Deep clustering (all images of each dataset, labels only for scoring)", ""]
    for dataset, methods in results.items():
        lines += [f"## {dataset}", "", "| method | seeds | ACC | NMI | ARI | s/seed |",
                  "|---|---|---|---|---|---|"]
        for method in METHODS:
            runs = methods.get(method, [])
            if not runs:
                continue
            cells = [f"{np.mean([r[m] for r in runs]):.3f} ± {np.std([r[m] for r in runs]):.3f}"
                     for m in ("acc", "nmi", "ari")]
            lines.append(f"| {method} | {len(runs)} | {' | '.join(cells)} | "
                         f"{np.mean([r['seconds'] for r in runs]):.0f} |")
        lines += ["", SCHEDULES.get(dataset, ""), "", f"Published: {PUBLISHED.get(dataset, '')}",
                  ""]
    return "\n".join(lines)


def save(path: Path, dataset: str, method: str, result: dict) -> None:
    """Merge one result into the JSON under a lock (several runs may share the file)."""
    with locked(path.with_suffix(".lock")):
        results = json.loads(path.read_text()) if path.exists() else {}
        runs = [r for r in results.setdefault(dataset, {}).get(method, [])
                if r["seed"] != result["seed"]]
        results[dataset][method] = sorted([*runs, result], key=lambda r: r["seed"])
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(results, indent=2) + "\n")
        temporary.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="digits", choices=("digits", "fashion-mnist"))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--shared-pretraining", action="store_true",
                        help="one pretrained autoencoder per seed for " + ", ".join(SHARED))
    parser.add_argument("--table", action="store_true", help="only rewrite the markdown")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "deep_clustering.json"
    if not args.table:
        X, y = load_all(args.dataset)
        for method in args.methods:
            for seed in args.seeds:
                result = run_one(method, seed, args.dataset, X, y, args.shared_pretraining)
                log(f"{args.dataset} {method}: {result}")
                save(path, args.dataset, method, result)
    results = json.loads(path.read_text()) if path.exists() else {}
    (RESULTS / "deep_clustering.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
