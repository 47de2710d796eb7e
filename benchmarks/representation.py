"""Representation learning on Fashion-MNIST: autoencoders vs PCA, and probes with few labels.

Side by side in one run:
  * reconstruction MSE on the test split of PCA and of the autoencoders at latent sizes
    2, 10, 32 (all fitted on the 60,000 training images, no labels);
  * linear-probe (logistic regression) and k-NN accuracy on the test split of frozen features
    (raw pixels, PCA, AutoEncoder and ConvAutoEncoder codes, the ConvAutoEncoder's last
    convolution maps via ``hidden_features``) with 100, 1000 and all 60,000 training
    labels (class-balanced random subsets, mean of 5). Published reference points: logistic
    regression on raw pixels 0.84, a supervised 2-conv network 0.916;
  * DeepAutoEncoder with layer-wise weight 0, 0.1 and 1: test MSE and probes on its codes;
  * a t-SNE scatter of the ConvAutoEncoder's test codes coloured by label and by k-means
    cluster (results/representation_embedding.png);
  * training time per epoch of the MLP and conv autoencoders through nolabel.train.fit vs
    a bare PyTorch loop of the same network (target overhead <= 5 %).

    python benchmarks/representation.py [--epochs 20]
        [--parts mse,probe,layerwise,embedding,overhead]

Writes results/representation.json and .md (a part can be rerun alone; others are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
LATENTS = (2, 10, 32)
PUBLISHED = {"logistic regression, raw pixels": 0.84, "supervised 2-conv network": 0.916}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a.reshape(len(a), -1) - b.reshape(len(b), -1)) ** 2).mean())


def autoencoders(latent: int, epochs: int, seed: int) -> dict:
    from nolabel import AutoEncoder, ConvAutoEncoder

    return {
        "AutoEncoder": AutoEncoder(latent, hidden_dims=(512, 256), epochs=epochs,
                                   batch_size=128, random_state=seed),
        "ConvAutoEncoder": ConvAutoEncoder(latent, channels=(32, 64), epochs=epochs,
                                           batch_size=128, random_state=seed),
    }


def reconstruction(train, test, epochs: int, seed: int, probe_latent: int) -> tuple[list, dict]:
    """MSE rows, and the models fitted at ``probe_latent`` (reused by the probes)."""
    from nolabel import PCA

    rows, kept = [], {}
    for latent in LATENTS:
        start = time.perf_counter()
        pca = PCA(latent, random_state=seed).fit(train.flat())
        error = mse(np.asarray(pca.inverse_transform(pca.transform(test.flat()))), test.flat())
        rows.append({"latent": latent, "model": "PCA", "test_mse": error,
                     "fit_s": time.perf_counter() - start})
        log(f"latent {latent} PCA mse {error:.5f}")
        if latent == probe_latent:
            kept["PCA"] = pca
        for name, model in autoencoders(latent, epochs, seed).items():
            start = time.perf_counter()
            model.fit(train.X)
            error = mse(np.asarray(model.reconstruct(test.X)), test.X)
            rows.append({"latent": latent, "model": name, "test_mse": error,
                         "fit_s": time.perf_counter() - start, "epochs": epochs,
                         "final_train_loss": model.history_["loss"][-1]})
            log(f"latent {latent} {name} mse {error:.5f} ({rows[-1]['fit_s']:.0f}s)")
            if latent == probe_latent:
                kept[name] = model
    return rows, kept


def probes(train, test, models: dict, subsets: int, seed: int) -> list:
    from nolabel.metrics.probe import probe

    features = {"raw pixels": (train.flat(), test.flat())}
    for name, model in models.items():
        source = train.flat() if name == "PCA" else train.X
        target = test.flat() if name == "PCA" else test.X
        features[name] = (np.asarray(model.transform(source)), np.asarray(model.transform(target)))
        if name == "ConvAutoEncoder":
            features[f"{name} conv maps"] = (np.asarray(model.hidden_features(source)),
                                             np.asarray(model.hidden_features(target)))
    rows = []
    for name, (train_features, test_features) in features.items():
        start = time.perf_counter()
        for result in probe(train_features, train.y, test_features, test.y,
                            label_budgets=(100, 1000, None), n_subsets=subsets,
                            random_state=seed):
            rows.append({"features": name, "dim": int(train_features.shape[1]),
                         "method": result.method, "n_labels": result.n_labels,
                         "accuracy": result.mean_accuracy, "std": result.std_accuracy,
                         "accuracies": list(result.accuracies)})
            log(f"{name} {result.method} {result.n_labels}: {result.mean_accuracy:.4f}")
        log(f"  ({time.perf_counter() - start:.0f}s)")
    return rows


def layerwise(train, test, epochs: int, seed: int) -> list:
    """DeepAutoEncoder (DEC's 500-500-2000 layers, code 10) with and without the layer term."""
    from nolabel import DeepAutoEncoder
    from nolabel.metrics.probe import probe

    rows = []
    for weight in (0.0, 0.1, 1.0):
        start = time.perf_counter()
        model = DeepAutoEncoder(10, layer_weight=weight, epochs=epochs, random_state=seed)
        model.fit(train.X)
        seconds = time.perf_counter() - start
        codes = np.asarray(model.transform(train.X)), np.asarray(model.transform(test.X))
        accuracy = {f"{r.method}_all": r.mean_accuracy for r in probe(
            codes[0], train.y, codes[1], test.y, label_budgets=(None,), random_state=seed)}
        rows.append({"layer_weight": weight, "epochs": epochs, "fit_s": seconds,
                     "test_mse": mse(np.asarray(model.reconstruct(test.X)), test.X),
                     "final_layerwise": model.history_["layerwise"][-1], **accuracy})
        log(f"DeepAutoEncoder λ={weight}: {rows[-1]}")
    return rows


def embedding_figure(test, model, seed: int) -> str:
    """t-SNE of the conv autoencoder's test-set codes, coloured by label and by k-means."""
    from nolabel import KMeans
    from nolabel.report import plot_embedding

    codes = np.asarray(model.transform(test.X))
    clusters = np.asarray(KMeans(10, n_init=10, random_state=seed).fit_predict(codes))
    path = plot_embedding(model, test.X, RESULTS / "representation_embedding.png",
                          labels=test.y, clusters=clusters, method="tsne", random_state=seed,
                          max_samples=5000, title="t-SNE of ConvAutoEncoder codes, "
                          "Fashion-MNIST test split (5,000 points)")
    return path.name


def overhead(train, epochs: int, repeats: int) -> dict:
    import torch

    from _loop_overhead import loop_overhead
    from nolabel.models.autoencoder import ConvAutoEncoderNet, MLPAutoEncoder

    images = torch.from_numpy(train.X)
    return {
        "AutoEncoder 784-512-256-32": loop_overhead(
            lambda: MLPAutoEncoder(784, (512, 256), 32, "relu"), images.reshape(len(images), -1),
            batch_size=128, epochs=epochs, repeats=repeats),
        "ConvAutoEncoder (32, 64) latent 32": loop_overhead(
            lambda: ConvAutoEncoderNet((1, 28, 28), (32, 64), 32, "relu", False), images,
            batch_size=128, epochs=epochs, repeats=repeats),
    }


def markdown(results: dict) -> str:
    lines = ["# Representation benchmark (Fashion-MNIST)", ""]
    if "mse" in results:
        rows = results["mse"]
        models = list(dict.fromkeys(r["model"] for r in rows))
        cell = {(r["latent"], r["model"]): r["test_mse"] for r in rows}
        lines += [f"## Reconstruction MSE on the test split ({results['epochs']} epochs, "
                  "fitted on the 60,000 training images)", "",
                  "| latent | " + " | ".join(models) + " | best AE / PCA |",
                  "|---|" + "---|" * (len(models) + 1)]
        for latent in LATENTS:
            best = min(cell[(latent, m)] for m in models if m != "PCA")
            lines.append(f"| {latent} | " + " | ".join(f"{cell[(latent, m)]:.5f}"
                                                       for m in models)
                         + f" | {best / cell[(latent, 'PCA')]:.3f} |")
        lines.append("")
    if "probe" in results:
        rows = results["probe"]
        features = list(dict.fromkeys(r["features"] for r in rows))
        budgets = list(dict.fromkeys(r["n_labels"] for r in rows))
        cell = {(r["features"], r["method"], r["n_labels"]): r for r in rows}
        lines += [f"## Probe accuracy on the test split (mean of {results['subsets']} "
                  "class-balanced label subsets; one subset with all labels)", "",
                  "| features | dim | " + " | ".join(
                      f"{m} {n}" for m in ("linear", "knn") for n in budgets) + " |",
                  "|---|---|" + "---|" * (2 * len(budgets))]
        for name in features:
            dim = cell[(name, "linear", budgets[0])]["dim"]
            values = [cell[(name, m, n)] for m in ("linear", "knn") for n in budgets]
            lines.append(f"| {name} | {dim} | " + " | ".join(
                f"{v['accuracy']:.4f}" + (f" ± {v['std']:.3f}" if v["std"] else "")
                for v in values) + " |")
        lines += ["", "Published: " + ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()), ""]
    if "layerwise" in results:
        lines += ["## DeepAutoEncoder: the layer-wise term λ Σ ||h_l − ĥ_l||² "
                  f"(784-500-500-2000-10, {results['layerwise'][0]['epochs']} epochs)", "",
                  "| λ | test MSE | final layer-wise term | linear probe, all labels | "
                  "k-NN, all labels |", "|---|---|---|---|---|"]
        for row in results["layerwise"]:
            lines.append(f"| {row['layer_weight']} | {row['test_mse']:.5f} | "
                         f"{row['final_layerwise']:.4f} | {row['linear_all']:.4f} | "
                         f"{row['knn_all']:.4f} |")
        lines.append("")
    if "embedding_png" in results:
        lines += ["## Embedding", "", f"![t-SNE of the conv autoencoder codes]"
                  f"({results['embedding_png']})", ""]
    if "overhead" in results:
        lines += ["## Training time per epoch, nolabel.train.fit vs a bare PyTorch loop "
                  "(60,000 images, batch 128, Adam, CPU)", "",
                  "| network | bare loop (s) | nolabel (s) | overhead |", "|---|---|---|---|"]
        for name, row in results["overhead"].items():
            lines.append(f"| {name} | {row['bare_epoch_s']:.2f} | {row['nolabel_epoch_s']:.2f} "
                         f"| {row['overhead_pct']:+.1f} % |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="mse,probe,layerwise,embedding,overhead")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--probe-latent", type=int, default=32)
    parser.add_argument("--subsets", type=int, default=5)
    parser.add_argument("--overhead-epochs", type=int, default=2)
    parser.add_argument("--layerwise-epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "probe" in parts and "mse" not in parts:
        parser.error("the probe part uses the models fitted by the mse part: add mse")
    import torch

    from nolabel import load

    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    path = RESULTS / "representation.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["threads"] = torch.get_num_threads()
    RESULTS.mkdir(exist_ok=True)

    def save() -> None:
        atomic_write_text(path, json.dumps(results, indent=2) + "\n")
        atomic_write_text(RESULTS / "representation.md", markdown(results))

    models: dict = {}
    if "mse" in parts:
        results["epochs"] = args.epochs
        results["mse"], models = reconstruction(train, test, args.epochs, args.seed,
                                                args.probe_latent)
        save()
        if "probe" in parts:
            results["subsets"] = args.subsets
            results["probe"] = probes(train, test, models, args.subsets, args.seed)
            save()
    if "layerwise" in parts:
        results["layerwise"] = layerwise(train, test, args.layerwise_epochs, args.seed)
        save()
    if "embedding" in parts:
        model = models.get("ConvAutoEncoder") if "mse" in parts else None
        if model is None:
            model = autoencoders(args.probe_latent, args.epochs, args.seed)["ConvAutoEncoder"]
            model.fit(train.X)
        results["embedding_png"] = embedding_figure(test, model, args.seed)
        save()
    if "overhead" in parts:
        results["overhead"] = overhead(train, args.overhead_epochs, repeats=2)
        save()
    print(markdown(results))


if __name__ == "__main__":
    main()
