"""``nolabel demo``: autoencoder codes + k-means against k-means on raw pixels, on 8x8 digits."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from nolabel._device import resolve_device
from nolabel.classical import KMeans
from nolabel.data import load
from nolabel.metrics import cluster_mapping, clustering_scores
from nolabel.models import AutoEncoder
from nolabel.report import embed_2d, embedding_scatter, reconstruction_grid
from nolabel.report.html import Section, figure, table, write_html
from nolabel.report.plots import training_curves
from nolabel.runs import environment, new_run_dir, write_history_csv, write_json


def _one_per_class(y: np.ndarray, n: int = 10) -> np.ndarray:
    classes = np.unique(y)[:n]
    return np.array([np.flatnonzero(y == c)[0] for c in classes])


def _write_report(run: Path, metrics: dict, history: dict) -> Path:
    rows = [(name, scores["acc"], scores["nmi"], scores["ari"]) for name, scores in
            (("k-means on pixels", metrics["kmeans_on_pixels"]),
             ("autoencoder + k-means", metrics["autoencoder_then_kmeans"]))]
    training_curves({"loss": history["loss"]}, run / "training_curves.png",
                    title="autoencoder training loss")
    sections = [
        Section("Clustering against the true digits", table(rows, ("method", "ACC", "NMI", "ARI"))),
        Section("Training curve", figure(run / "training_curves.png", "training loss")),
        Section("Reconstructions", figure(run / "reconstructions.png", "reconstructions")),
        Section("2-D embedding", figure(run / "embedding.png", "t-SNE of the codes")),
    ]
    return write_html(run / "report.html", "nolabel demo: autoencoder + k-means on 8x8 digits",
                      sections)


def run_demo(out: str | Path | None = None, epochs: int = 100, seed: int = 0,
             device: str = "auto", verbose: int = 1) -> Path:
    start = time.perf_counter()
    resolve_device(device)  # refuse a bad device before anything is written
    run = new_run_dir(out, "demo")
    data = load("digits")
    X, y = data.X, data.y
    n_clusters = len(np.unique(y))
    say = print if verbose else (lambda *a, **k: None)
    say(f"nolabel demo: {data.n_samples} digits of shape {data.sample_shape}, "
        f"{n_clusters} classes (labels used only to score)")

    autoencoder = AutoEncoder(latent_dim=10, hidden_dims=(256, 128), loss="mse", epochs=epochs,
                              random_state=seed, device=device, verbose=verbose)
    raw_kmeans = KMeans(n_clusters, n_init=10, random_state=seed, device=device)
    raw_labels = raw_kmeans.fit_predict(data.flat())
    autoencoder.fit(X)
    codes = autoencoder.transform(X)
    code_kmeans = KMeans(n_clusters, n_init=10, random_state=seed, device=device)
    code_labels = code_kmeans.fit_predict(codes)

    metrics = {
        "kmeans_on_pixels": clustering_scores(y, raw_labels),
        "autoencoder_then_kmeans": clustering_scores(y, code_labels),
        "autoencoder_final_loss": autoencoder.history_["loss"][-1],
    }
    autoencoder.save(run / "autoencoder.safetensors")
    code_kmeans.save(run / "kmeans.safetensors")
    write_json(run / "config.json", {
        "command": "demo", "data": {"source": "digits", "n_samples": data.n_samples},
        "autoencoder": autoencoder.get_params(), "kmeans": code_kmeans.get_params(),
        "seed": seed, "device": str(resolve_device(device)), "versions": environment(),
    })
    write_history_csv(run / "history.csv", autoencoder.history_)

    shown = _one_per_class(y)
    reconstruction_grid(X[shown], autoencoder.reconstruct(X[shown]), run / "reconstructions.png",
                        title="digits: originals (top) vs autoencoder reconstructions (bottom)")
    points, _ = embed_2d(codes, method="tsne", random_state=seed, max_samples=len(codes))
    # Name each cluster by the digit it is matched to, so both panels share colours.
    mapping = cluster_mapping(y, code_labels)
    named = np.array([mapping.get(int(c), -1) for c in code_labels])
    embedding_scatter(points, [("k-means cluster (matched digit)", named), ("true digit", y)],
                      run / "embedding.png", title="t-SNE of the autoencoder's 10-d codes")
    metrics["seconds"] = round(time.perf_counter() - start, 2)
    write_json(run / "metrics.json", metrics)
    _write_report(run, metrics, autoencoder.history_)

    rows = [("k-means on pixels", metrics["kmeans_on_pixels"]),
            ("autoencoder + k-means", metrics["autoencoder_then_kmeans"])]
    say(f"\n{'method':<24}{'ACC':>8}{'NMI':>8}{'ARI':>8}")
    for name, scores in rows:
        say(f"{name:<24}{scores['acc']:>8.3f}{scores['nmi']:>8.3f}{scores['ari']:>8.3f}")
    say(f"\nrun folder: {run.resolve()}  ({metrics['seconds']} s)")
    for name in ("config.json", "metrics.json", "history.csv", "autoencoder.safetensors",
                 "kmeans.safetensors", "reconstructions.png", "embedding.png", "report.html"):
        say(f"  {name}")
    sys.stdout.flush()
    return run
