"""``nolabel demo``: what generative models add, on the offline 8x8 digits (or Fashion-MNIST).

Four ways to find the 10 classes without labels, scored against them afterwards:

1. k-means on the raw pixels (the baseline every paper starts from);
2. a Gaussian mixture on the raw pixels (a generative model: full covariances, EM);
3. an autoencoder, then k-means on its 10-d codes;
4. N2D: the *same* autoencoder (pretrained once, ``pretrained=``), UMAP on its codes, then a
   Gaussian mixture on the UMAP manifold.

Then what the generative side gives beyond labels: new samples of each N2D cluster (a
Gaussian fitted to the cluster's codes, decoded by the autoencoder), the most anomalous
samples (highest reconstruction error), reconstructions, a 2-D map of the codes and the
clusters against the true classes. Everything lands in one run folder with ``report.html``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nolabel._device import resolve_device
from nolabel.classical import GaussianDensity, GaussianMixture, KMeans
from nolabel.clustering import N2D
from nolabel.data import Dataset, load
from nolabel.errors import ParameterError
from nolabel.metrics import cluster_mapping, clustering_scores
from nolabel.models import AutoEncoder
from nolabel.report import embed_2d, embedding_scatter, reconstruction_grid, sample_grid
from nolabel.report.html import Section, figure, paragraph, table, write_html
from nolabel.report.plots import confusion_plot, training_curves
from nolabel.runs import environment, new_run_dir, write_history_csv, write_json

DATASETS = ("digits", "fashion-mnist")
# Per dataset: autoencoder epochs and rows used (Fashion-MNIST: its 10,000 test images).
_EPOCHS = {"digits": 200, "fashion-mnist": 40}
# Full covariances on 64 pixels; on 784 pixels one EM step of ten 784x784 matrices takes
# seconds, so Fashion-MNIST gets a diagonal per component.
_COVARIANCE = {"digits": "full", "fashion-mnist": "diag"}
_SPLIT = {"digits": "all", "fashion-mnist": "test"}
# The mixture's variance floor: the variance of rounding a pixel to its grey levels (17 levels
# of 1/16 in the digits, 256 of 1/255 in Fashion-MNIST), 1/12 of a level squared. Without it,
# pixels that never vary (the digits' borders) make covariances singular.
_REG_COVAR = {"digits": 1 / (12 * 16**2), "fashion-mnist": 1 / (12 * 255**2)}
_PER_CLUSTER = 10
_ANOMALIES = 20
_EMBEDDED = 3000


@dataclass
class Result:
    name: str
    labels: np.ndarray
    seconds: float


def _one_per_class(y: np.ndarray, n: int = 10) -> np.ndarray:
    classes = np.unique(y)[:n]
    return np.array([np.flatnonzero(y == c)[0] for c in classes])


def _cluster_samples(autoencoder: AutoEncoder, codes: np.ndarray, labels: np.ndarray,
                     order: list[int], seed: int) -> np.ndarray:
    """``_PER_CLUSTER`` new images of each cluster in ``order``: a full Gaussian fitted to
    the cluster's codes, sampled and decoded."""
    rows = []
    for cluster in order:
        members = codes[labels == cluster]
        density = GaussianDensity(reg_covar=1e-3).fit(members)
        drawn = density.sample(_PER_CLUSTER, random_state=seed + int(cluster))
        rows.append(autoencoder.inverse_transform(drawn.astype(np.float32)))
    return np.clip(np.concatenate(rows), 0, 1)


def _scores_table(results: list[Result], y: np.ndarray) -> list[tuple]:
    rows = []
    for result in results:
        scores = clustering_scores(y, result.labels)
        rows.append((result.name, scores["acc"], scores["nmi"], scores["ari"],
                     round(result.seconds, 1)))
    return rows


def _matched(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Clusters renamed to the class they are matched to, so colours agree with labels."""
    mapping = cluster_mapping(y, labels)
    return np.array([mapping.get(int(c), -1) for c in labels])


def _write_report(run: Path, data: Dataset, rows: list[tuple], total: float,
                  notes: list[str]) -> Path:
    best = max(rows, key=lambda row: row[1])
    classes = ", ".join(data.classes) if data.classes else "the 10 digits"
    intro = (f"{data.n_samples} {data.name} images of shape {data.sample_shape}; the labels "
             f"({classes}) are used only to score the clusters. ACC is the accuracy after the "
             "best one-to-one matching of clusters to classes (Hungarian); NMI and ARI are 1 "
             f"for a perfect clustering. Best ACC here: {best[0]} ({best[1]:.3f}). "
             f"The whole demo took {total:.0f} s.")
    sections = [
        Section("Clustering against the true classes",
                paragraph(intro) + table(rows, ("method", "ACC", "NMI", "ARI", "seconds"))
                + "".join(paragraph(note, "note") for note in notes)),
        Section("N2D's clusters against the classes",
                figure(run / "confusion.png", "confusion matrix",
                       "rows: true class; columns: N2D clusters, ordered by matched class")),
        Section("New samples of each N2D cluster",
                figure(run / "samples_by_cluster.png", "samples by cluster",
                       "one row per cluster, ordered by the class each is matched to: a "
                       "Gaussian fitted to the cluster's autoencoder codes, sampled and "
                       "decoded", grid=True)),
        Section("Most anomalous samples",
                figure(run / "anomalies.png", "most anomalous samples",
                       f"the {_ANOMALIES} samples the autoencoder reconstructs worst, most "
                       "anomalous first", grid=True)),
        Section("2-D map of the autoencoder's codes",
                figure(run / "embedding.png", "2-D embedding",
                       "the same points coloured by N2D cluster (named by matched class) and "
                       "by true class")),
        Section("Reconstructions", figure(run / "reconstructions.png", "reconstructions")),
        Section("Autoencoder training", figure(run / "training_curves.png", "training loss")),
    ]
    return write_html(run / "report.html",
                      f"nolabel demo: clustering {data.name} without labels", sections)


def _load(name: str) -> Dataset:
    if name not in DATASETS:
        raise ParameterError(f"the demo runs on {' or '.join(DATASETS)}, not {name!r}")
    return load(name, split=_SPLIT[name]) if name != "digits" else load(name)


def run_demo(out: str | Path | None = None, epochs: int | None = None, seed: int = 0,
             device: str = "auto", verbose: int = 1, data: str = "digits") -> Path:
    """Run the tour on ``data`` (``"digits"`` or ``"fashion-mnist"``) and return the run
    folder. ``epochs``: autoencoder epochs (default 200 on digits, 40 on Fashion-MNIST)."""
    start = time.perf_counter()
    resolve_device(device)  # refuse a bad device before anything is written
    dataset = _load(data)
    epochs = _EPOCHS[data] if epochs is None else epochs
    run = new_run_dir(out, "demo")
    X, y, flat = dataset.X, dataset.y, dataset.flat()
    k = len(np.unique(y))
    say = print if verbose else (lambda *a, **k: None)
    say(f"nolabel demo: {dataset.n_samples} {dataset.name} images of shape "
        f"{dataset.sample_shape}, {k} classes (labels used only to score)")
    results: list[Result] = []

    def timed(name, fit):
        began = time.perf_counter()
        say(f"  {name}...")
        labels = fit()
        results.append(Result(name, np.asarray(labels), time.perf_counter() - began))

    timed("k-means on pixels",
          lambda: KMeans(k, n_init=10, random_state=seed, device=device).fit_predict(flat))
    mixture = GaussianMixture(k, covariance_type=_COVARIANCE[data], reg_covar=_REG_COVAR[data],
                              n_init=3,
                              random_state=seed, device=device)
    timed("Gaussian mixture on pixels", lambda: mixture.fit(flat).predict(flat))

    autoencoder = AutoEncoder(latent_dim=10, hidden_dims=(256, 128), likelihood="gaussian",
                              epochs=epochs,
                              batch_size=256, random_state=seed, device=device,
                              verbose=verbose)
    began = time.perf_counter()
    say("  autoencoder...")
    autoencoder.fit(X)
    pretraining = time.perf_counter() - began
    codes = autoencoder.transform(X)
    code_kmeans = KMeans(k, n_init=10, random_state=seed, device=device)
    timed("autoencoder + k-means", lambda: code_kmeans.fit_predict(codes))
    results[-1].seconds += pretraining
    n2d = N2D(k, hidden_dims=(256, 128), latent_dim=10, pretrained=autoencoder,
              random_state=seed, device=device)
    timed("N2D (same autoencoder + UMAP + GMM)", lambda: n2d.fit(X).labels_)
    notes = [f"The autoencoder ({epochs} epochs, {pretraining:.0f} s) is fitted once: "
             "'autoencoder + k-means' includes its time; N2D starts from it (pretrained=) "
             "and its seconds are UMAP and the mixture alone."]

    rows = _scores_table(results, y)
    say("  figures and report...")
    n2d_labels = results[-1].labels
    mapping = cluster_mapping(y, n2d_labels)  # rows in the order of the matched classes
    order = sorted(np.unique(n2d_labels).tolist(), key=lambda c: (mapping.get(c, k), c))
    samples = _cluster_samples(autoencoder, codes, n2d_labels, order, seed)
    named = [dataset.classes[mapping[c]] if dataset.classes and c in mapping
             else str(mapping.get(c, "?")) for c in order]
    sample_grid(samples, run / "samples_by_cluster.png", columns=_PER_CLUSTER,
                title="new samples, one row per N2D cluster; rows matched to: "
                + ", ".join(named))
    worst = np.argsort(autoencoder.score_samples(X), kind="stable")[:_ANOMALIES]
    sample_grid(X[worst], run / "anomalies.png", title="most anomalous first", columns=10)
    shown = _one_per_class(y)
    reconstruction_grid(X[shown], autoencoder.reconstruct(X[shown]), run / "reconstructions.png",
                        title="originals (top) vs autoencoder reconstructions (bottom)")
    points, picked = embed_2d(codes, method="auto", random_state=seed, max_samples=_EMBEDDED)
    names = np.asarray(dataset.classes) if dataset.classes else None
    colourings = [("N2D cluster (matched class)", _matched(y, n2d_labels)[picked]),
                  ("true class", y[picked])]
    if names is not None:
        colourings = [(label, names[values]) for label, values in colourings]
    embedding_scatter(points, colourings, run / "embedding.png",
                      title=f"2-D map of the autoencoder's codes ({len(picked)} samples)")
    confusion_plot(y, n2d_labels, run / "confusion.png", dataset.classes,
                   title="N2D clusters vs true classes")
    training_curves({"loss": autoencoder.history_["loss"]}, run / "training_curves.png",
                    title="autoencoder training loss")

    autoencoder.save(run / "autoencoder.safetensors")
    n2d.save(run / "n2d.safetensors")
    write_history_csv(run / "history.csv", autoencoder.history_)
    write_json(run / "config.json", {
        "command": "demo", "data": {"source": data, "split": _SPLIT[data],
                                    "n_samples": dataset.n_samples},
        "autoencoder": autoencoder.get_params(), "gmm": mixture.get_params(),
        "n2d": {key: value for key, value in n2d.get_params().items() if key != "pretrained"},
        "seed": seed, "device": str(resolve_device(device)), "versions": environment(),
    })
    total = time.perf_counter() - start
    metrics = {name: {"acc": acc, "nmi": nmi, "ari": ari, "seconds": seconds}
               for name, acc, nmi, ari, seconds in rows}
    write_json(run / "metrics.json", {"methods": metrics, "seconds": round(total, 2),
                                      "anomalies": [int(i) for i in worst]})
    _write_report(run, dataset, rows, total, notes)

    say(f"\n{'method':<38}{'ACC':>7}{'NMI':>7}{'ARI':>7}{'s':>7}")
    for name, acc, nmi, ari, seconds in rows:
        say(f"{name:<38}{acc:>7.3f}{nmi:>7.3f}{ari:>7.3f}{seconds:>7.1f}")
    say(f"\nrun folder: {run.resolve()}  ({total:.0f} s)")
    for name in ("report.html", "config.json", "metrics.json", "history.csv",
                 "autoencoder.safetensors", "n2d.safetensors"):
        say(f"  {name}")
    sys.stdout.flush()
    return run
