"""Anomaly detection: ADBench tabular sets and the one-class protocol on Fashion-MNIST.

Every detector is used through the same interface: ``score_samples`` (higher = more normal),
scored with ``nolabel.metrics.anomaly``. Side by side in the same run: scikit-learn's
IsolationForest and, where PyOD is installed (benchmark environment only: ``pip install
pyod``), PyOD's ECOD, IForest and VAE at their defaults.

- tabular: each of the 8 ADBench sets in ``../shared/datasets/adbench`` (or
  $NOLABEL_SHARED_DATASETS/adbench) is standardised, every detector is fitted on all of X
  without labels and scored by ROC AUC against y (mean over ``--seeds`` seeds).
- one-class: for each Fashion-MNIST class, fit on that class's training images only, score
  the whole test set, ROC AUC with that class as normal; mean over the classes.
  Published (Golan & El-Yaniv 2018): CAE 90.2, Deep SVDD 89.2, GEOM 93.5.

    python benchmarks/anomaly.py --part tabular
    python benchmarks/anomaly.py --part one-class [--classes 0,1] [--epochs 30]

Results merge into benchmarks/results/anomaly.json and .md (one part can be rerun alone).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
PUBLISHED_ONE_CLASS = {"CAE": 90.2, "Deep SVDD": 89.2, "GEOM": 93.5}

Scorer = Callable[[np.ndarray], np.ndarray]


def adbench_folder() -> Path:
    base = os.environ.get("NOLABEL_SHARED_DATASETS") or ROOT.parent / "shared" / "datasets"
    return Path(base) / "adbench"


def standardise(X: np.ndarray) -> np.ndarray:
    std = X.std(0)
    return ((X - X.mean(0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


# -- detectors: fit on X, return a scorer giving higher = more normal ------------------------
def pca_reconstruction(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import PCA

    model = PCA(0.9, random_state=seed).fit(X)
    return lambda Z: -np.asarray(model.reconstruction_error(Z))


def pca_likelihood(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import PCA

    model = PCA(0.9, random_state=seed).fit(X)
    return model.score_samples


def gmm(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import GaussianMixture

    model = GaussianMixture(4, reg_covar=1e-3, n_init=3, random_state=seed).fit(X)
    return model.score_samples


def kde(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import KernelDensity

    model = KernelDensity(bandwidth="scott", covariance="data").fit(X)
    return model.score_samples


def kde_pixels(X: np.ndarray, seed: int) -> Scorer:
    """Isotropic kernel: image pixels share one scale, and their covariance is singular."""
    from nolabel import KernelDensity

    model = KernelDensity(bandwidth="scott", covariance="identity").fit(X)
    return model.score_samples


def autoencoder(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import AutoEncoder

    # Defaults only: the network is sized from the number of features at fit (see its
    # docstring), so nothing here is tuned per dataset.
    model = AutoEncoder(random_state=seed).fit(X)
    return model.score_samples


def vae(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import VAE

    model = VAE(random_state=seed).fit(X)
    return model.score_samples


def marginal_detector(X: np.ndarray, seed: int) -> Scorer:
    from nolabel import MarginalDetector

    model = MarginalDetector().fit(X)  # deterministic: the seed has nothing to change
    return model.score_samples


def isolation_forest(X: np.ndarray, seed: int) -> Scorer:
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(random_state=seed).fit(X)
    return model.score_samples


def pyod_detector(name: str) -> Callable[[np.ndarray, int], Scorer]:
    """A PyOD detector at its defaults; its ``decision_function`` is higher = more anomalous.
    PyOD is installed in the benchmark's environment only (``pip install pyod``)."""
    def fitted(X: np.ndarray, seed: int) -> Scorer:
        from pyod.models.ecod import ECOD
        from pyod.models.iforest import IForest
        from pyod.models.vae import VAE as PyodVAE

        build = {"ECOD": lambda: ECOD(),
                 "IForest": lambda: IForest(random_state=seed),
                 "VAE": lambda: PyodVAE(random_state=seed, verbose=0)}[name]
        model = build().fit(X)
        return lambda Z: -np.asarray(model.decision_function(Z))
    return fitted


TABULAR = {"MarginalDetector": marginal_detector, "AutoEncoder": autoencoder, "VAE": vae,
           "PCA (reconstruction)": pca_reconstruction,
           "PCA (likelihood)": pca_likelihood, "GaussianMixture": gmm, "KernelDensity": kde,
           "sklearn IsolationForest": isolation_forest}
if importlib.util.find_spec("pyod"):  # side by side with the library users pick today
    TABULAR.update({f"PyOD {name}": pyod_detector(name) for name in ("ECOD", "IForest", "VAE")})
else:
    print("PyOD not installed: its detectors are left out (pip install pyod)", file=sys.stderr)


def tabular(seeds: int) -> dict:
    from nolabel.metrics.anomaly import anomaly_scores

    folder = adbench_folder()
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise SystemExit(f"no ADBench .npz files in {folder}")
    rows = []
    for path in files:
        with np.load(path, allow_pickle=False) as archive:
            X, y = standardise(archive["X"].astype(np.float64)), archive["y"].astype(int)
        name = path.stem.split("_", 1)[1]
        for detector, build in TABULAR.items():
            aurocs, aps, seconds = [], [], []
            for seed in range(seeds):
                start = time.perf_counter()
                normality = np.asarray(build(X, seed)(X), dtype=np.float64)
                seconds.append(time.perf_counter() - start)
                scores = anomaly_scores(y == 1, normality)
                aurocs.append(scores["auroc"])
                aps.append(scores["average_precision"])
            rows.append({"dataset": name, "n": len(X), "d": X.shape[1],
                         "anomaly_rate": float(y.mean()), "detector": detector,
                         "auroc": float(np.mean(aurocs)), "auroc_std": float(np.std(aurocs)),
                         "average_precision": float(np.mean(aps)),
                         "seconds": float(np.median(seconds))})
            print(f"{name:12s} {detector:24s} AUROC {rows[-1]['auroc']:.4f} "
                  f"AP {rows[-1]['average_precision']:.4f} {rows[-1]['seconds']:.1f}s",
                  file=sys.stderr)
    return {"seeds": seeds, "rows": rows}


# -- one-class Fashion-MNIST -----------------------------------------------------------------
def one_class_detectors(epochs: int) -> dict[str, Callable[[np.ndarray, int], Scorer]]:
    def conv_ae(images: np.ndarray, seed: int) -> Scorer:
        from nolabel import ConvAutoEncoder

        model = ConvAutoEncoder(32, epochs=epochs, random_state=seed).fit(images)
        return model.score_samples

    def mlp_ae(images: np.ndarray, seed: int) -> Scorer:
        from nolabel import AutoEncoder

        model = AutoEncoder(32, epochs=epochs, random_state=seed).fit(images)
        return model.score_samples

    def flat(build: Callable[[np.ndarray, int], Scorer]):
        def fitted(images: np.ndarray, seed: int) -> Scorer:
            scorer = build(images.reshape(len(images), -1), seed)
            return lambda Z: scorer(Z.reshape(len(Z), -1))
        return fitted

    def pca_then(build: Callable[[np.ndarray, int], Scorer], k: int):
        def fitted(images: np.ndarray, seed: int) -> Scorer:
            from nolabel import PCA

            pca = PCA(k, whiten=True, random_state=seed).fit(images.reshape(len(images), -1))
            scorer = build(np.asarray(pca.transform(images.reshape(len(images), -1))), seed)
            return lambda Z: scorer(np.asarray(pca.transform(Z.reshape(len(Z), -1))))
        return fitted

    def blurred_kde(images: np.ndarray, seed: int) -> Scorer:
        from nolabel import ImageKernelDensity

        return ImageKernelDensity().fit(images).score_samples  # defaults: 1-pixel blur, Scott

    return {"ImageKernelDensity (blur 1 px)": blurred_kde,
            "ConvAutoEncoder": conv_ae, "AutoEncoder": mlp_ae,
            "PCA (reconstruction)": flat(pca_reconstruction),
            "PCA (likelihood)": flat(pca_likelihood),
            "KernelDensity (pixels, Scott)": flat(kde_pixels),
            "KernelDensity on PCA-32": pca_then(kde, 32),
            "GaussianMixture on PCA-32": pca_then(gmm, 32),
            "sklearn IsolationForest": flat(isolation_forest)}


def one_class(classes: list[int], epochs: int, seed: int) -> dict:
    from nolabel import load
    from nolabel.metrics.anomaly import anomaly_scores

    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    rows = []
    for detector, build in one_class_detectors(epochs).items():
        for normal in classes:
            start = time.perf_counter()
            normality = np.asarray(build(train.X[train.y == normal], seed)(test.X))
            scores = anomaly_scores(test.y != normal, normality.astype(np.float64))
            rows.append({"detector": detector, "normal_class": normal,
                         "class_name": train.classes[normal], "auroc": scores["auroc"],
                         "average_precision": scores["average_precision"],
                         "seconds": time.perf_counter() - start})
            print(f"{detector:26s} class {normal} AUROC {scores['auroc']:.4f} "
                  f"({rows[-1]['seconds']:.0f}s)", file=sys.stderr)
    return {"classes": classes, "epochs": epochs, "seed": seed, "rows": rows,
            "published": PUBLISHED_ONE_CLASS}


# -- output ----------------------------------------------------------------------------------
def tabular_markdown(part: dict) -> list[str]:
    rows = part["rows"]
    detectors = list(dict.fromkeys(r["detector"] for r in rows))
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    cell = {(r["dataset"], r["detector"]): r for r in rows}
    lines = [f"## ADBench tabular: ROC AUC (mean of {part['seeds']} seeds), fitted on all X", "",
             "| dataset | n | d | anomalies | " + " | ".join(detectors) + " |",
             "|---|---|---|---|" + "---|" * len(detectors)]
    for name in datasets:
        first = cell[(name, detectors[0])]
        values = [cell[(name, d)]["auroc"] for d in detectors]
        best = max(values)
        shown = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in values]
        lines.append(f"| {name} | {first['n']} | {first['d']} | "
                     f"{100 * first['anomaly_rate']:.1f}% | " + " | ".join(shown) + " |")
    means = [np.mean([cell[(n, d)]["auroc"] for n in datasets]) for d in detectors]
    lines.append("| **mean** | | | | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    from scipy.stats import rankdata  # ties share their mean rank

    ranks = np.mean([rankdata([-cell[(n, d)]["auroc"] for d in detectors])
                     for n in datasets], axis=0)
    lines.append("| **average rank** | | | | " + " | ".join(f"{r:.1f}" for r in ranks) + " |")
    mean_ap = [np.mean([cell[(n, d)]["average_precision"] for n in datasets]) for d in detectors]
    lines.append("| **mean AP** | | | | " + " | ".join(f"{m:.3f}" for m in mean_ap) + " |")
    for name in sorted(datasets, key=lambda n: -cell[(n, detectors[0])]["n"])[:2]:
        lines.append(f"| **seconds, {name}** | | | | " + " | ".join(
            f"{cell[(name, d)]['seconds']:.2f}" for d in detectors) + " |")
    forest = "sklearn IsolationForest"
    if forest in detectors:
        lines += ["", "AUROC ratio to IsolationForest (mean over datasets): " + ", ".join(
            f"{d} {m / means[detectors.index(forest)]:.3f}"
            for d, m in zip(detectors, means, strict=True) if d != forest)]
    return lines


def one_class_markdown(part: dict) -> list[str]:
    rows = part["rows"]
    detectors = list(dict.fromkeys(r["detector"] for r in rows))
    classes = part["classes"]
    cell = {(r["detector"], r["normal_class"]): r for r in rows}
    names = {r["normal_class"]: r["class_name"] for r in rows}
    lines = [f"## One-class Fashion-MNIST: ROC AUC x 100 (normal class = the one trained on; "
             f"{part['epochs']} epochs for the autoencoders, seed {part['seed']})", "",
             "| detector | " + " | ".join(f"{c} {names[c]}" for c in classes) + " | mean |",
             "|---|" + "---|" * (len(classes) + 1)]
    for detector in detectors:
        values = [100 * cell[(detector, c)]["auroc"] for c in classes]
        lines.append(f"| {detector} | " + " | ".join(f"{v:.1f}" for v in values)
                     + f" | **{np.mean(values):.1f}** |")
    lines += ["", "Published means: " + ", ".join(
        f"{k} {v}" for k, v in part["published"].items())]
    return lines


def write(results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "anomaly.json", json.dumps(results, indent=2))
    lines = ["# Anomaly detection benchmark", "",
             "Scores are `score_samples` (higher = more normal) turned into ROC AUC by "
             "`nolabel.metrics.anomaly`; same run, same data for every detector.", ""]
    if "tabular" in results:
        lines += [*tabular_markdown(results["tabular"]), ""]
    if "one_class" in results:
        lines += [*one_class_markdown(results["one_class"]), ""]
    atomic_write_text(RESULTS / "anomaly.md", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("tabular", "one-class", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path = RESULTS / "anomaly.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if args.part in ("tabular", "all"):
        results["tabular"] = tabular(args.seeds)
        write(results)
    if args.part in ("one-class", "all"):
        classes = [int(c) for c in args.classes.split(",")]
        results["one_class"] = one_class(classes, args.epochs, args.seed)
        write(results)
    print((RESULTS / "anomaly.md").read_text())


if __name__ == "__main__":
    main()
