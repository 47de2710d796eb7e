"""Likelihood models on binarised Fashion-MNIST (and MNIST when its files are present).

Every model sees the same data: one fixed binarisation of the training images (seed 0) and
of the test images (seed 1). Parts, run separately (they take long on a CPU) and merged into
one results file:
  * ``vae``: nolabel VAE and pythae VAE with the same MLP (784-512-256-z, ReLU, Bernoulli
    decoder), optimiser (Adam 1e-3), batch size and epochs, for each seed: training
    throughput (images/s) and test NLL by importance sampling with the same k (pythae:
    ``get_nll``); sampling time for 100 images; a sample grid.
  * ``pixelcnn``: gated PixelCNN trained epoch by epoch (test NLL after each epoch, so the
    curve shows where it stands), time to sample 100 images, a sample grid.
  * ``pixelrnn``: Row LSTM PixelRNN, the same.
  * ``timing``: seconds per epoch of PixelCNN and PixelRNN on the same 10k images, measured
    back to back (the CPU is shared: only ratios from one run are comparable).
Published NLL on binarised MNIST: VAE 86.76 (IWAE paper, k=5000), pythae's VAE 89.78,
PixelCNN 81.30, Gated PixelCNN 81.50.

    python benchmarks/likelihood.py --part vae [--seeds 0 1] [--k 1000]
    python benchmarks/likelihood.py --part pixelcnn [--epochs 4]
    python benchmarks/likelihood.py --part pixelrnn [--epochs 2]
    python benchmarks/likelihood.py --part timing
    python benchmarks/likelihood.py --part table     # rewrite the markdown only

pythae is installed in the benchmark environment only:
    pip install --no-deps pythae && pip install pydantic imageio
Writes results/likelihood.json, likelihood.md and likelihood_<dataset>_<model>.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
PUBLISHED_MNIST = {"VAE (IWAE paper, k=5000)": 86.76, "pythae VAE": 89.78, "PixelCNN": 81.30,
                   "Gated PixelCNN (pytorch-generative)": 81.50}
HIDDEN = (512, 256)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def binarised(dataset: str, split: str, seed: int) -> np.ndarray:
    from nolabel import load

    images = load(dataset, split=split).X
    return (np.random.default_rng(seed).uniform(size=images.shape) < images).astype(np.float32)


def save_grid(model, dataset: str, name: str, title: str) -> tuple[str, float]:
    from nolabel.report import sample_grid

    start = time.perf_counter()
    samples = model.sample(100, random_state=0)
    seconds = time.perf_counter() - start
    path = RESULTS / f"likelihood_{dataset}_{name}.png"
    sample_grid(samples.reshape(-1, 1, 28, 28), path, title)
    return path.name, seconds


def ours_vae(train, test, dataset, latent, epochs, batch, k, seed) -> dict:
    from nolabel import VAE

    model = VAE(latent, hidden_dims=HIDDEN, epochs=epochs, batch_size=batch,
                random_state=seed, device="cpu")
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    nll = -float(np.mean(model.score_samples(test, n_importance=k)))
    scoring = time.perf_counter() - start
    grid, sample_s = save_grid(model, dataset, "vae", "nolabel VAE samples (decoder means "
                               f"p(x|z), z from the prior), seed {seed}")
    return {"fit_s": seconds, "images_per_s": epochs * len(train) / seconds, "nll": nll,
            "elbo_nll": -float(np.mean(model.elbo(test))), "nll_s": scoring,
            "sample100_s": sample_s, "grid": grid}


def pythae_vae(train, test, latent, epochs, batch, k, seed) -> dict:
    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    from nolabel.nets import mlp

    class Encoder(BaseEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp([784, *HIDDEN, 2 * latent])

        def forward(self, x):
            mean, logvar = self.net(x.reshape(len(x), -1)).chunk(2, dim=1)
            return ModelOutput(embedding=mean, log_covariance=logvar)

    class Decoder(BaseDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp([latent, *reversed(HIDDEN), 784])

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.net(z)).reshape(-1, 1, 28, 28))

    torch.manual_seed(seed)
    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=latent, reconstruction_loss="bce")
    model = VAE(config, encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as folder:
        trainer = BaseTrainerConfig(output_dir=folder, num_epochs=epochs, learning_rate=1e-3,
                                    per_device_train_batch_size=batch,
                                    per_device_eval_batch_size=batch, no_cuda=True, seed=seed,
                                    steps_saving=None)
        start = time.perf_counter()
        TrainingPipeline(training_config=trainer, model=model)(
            train_data=train.reshape(-1, 1, 28, 28))
        seconds = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    # pythae's get_nll returns the mean estimated log-likelihood (a negative number)
    nll = -float(model.get_nll(torch.from_numpy(test.reshape(-1, 1, 28, 28)), n_samples=k,
                               batch_size=100))
    return {"fit_s": seconds, "images_per_s": epochs * len(train) / seconds, "nll": nll,
            "nll_s": time.perf_counter() - start}


def part_vae(args, train, test, save) -> dict:
    runs = []
    settings = {"latent": args.latent, "epochs": args.vae_epochs,
                "batch_size": args.batch_size, "k": args.k, "threads": torch.get_num_threads()}
    for seed in args.seeds:
        run = {"seed": seed,
               "nolabel": ours_vae(train, test, args.dataset, args.latent, args.vae_epochs,
                                   args.batch_size, args.k, seed),
               "pythae": pythae_vae(train, test, args.latent, args.vae_epochs,
                                    args.batch_size, args.k, seed)}
        log(f"vae seed {seed}: {run}")
        runs.append(run)
        save({**settings, "runs": runs})  # a long run keeps every finished seed
    return {**settings, "runs": runs}


def autoregressive(model, name: str, title: str, args, train, test, save) -> dict:
    """Train epoch by epoch (resuming from a checkpoint), test NLL after each epoch."""
    curve = []
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "checkpoint.safetensors"
        model.set_params(checkpoint_path=str(checkpoint))
        for epoch in range(1, args.epochs + 1):
            start = time.perf_counter()
            model.set_params(epochs=epoch).fit(train, resume_from=checkpoint if epoch > 1
                                               else None)
            seconds = time.perf_counter() - start
            curve.append({"epoch": epoch, "epoch_s": seconds, "nll": model.nll(test)})
            log(f"{name}: {curve[-1]}")
            save(_summary(model, train, curve))  # a long run keeps every finished epoch
    grid, sample_s = save_grid(model, args.dataset, name, title)
    return {**_summary(model, train, curve), "sample100_s": sample_s, "grid": grid}


def _summary(model, train, curve) -> dict:
    last = curve[-1]["nll"]
    return {"channels": model.hidden_channels, "layers": model.n_layers, "n_train": len(train),
            "epochs": len(curve), "curve": curve, "nll": last,
            "bits_per_dim": last / (784 * np.log(2))}


def part_pixelcnn(args, train, test, save) -> dict:
    from nolabel import PixelCNN

    model = PixelCNN(variant="gated", hidden_channels=args.channels, n_layers=args.layers,
                     batch_size=64, random_state=0, device="cpu")
    return autoregressive(model, "pixelcnn", "nolabel gated PixelCNN samples", args,
                          train[:args.n_train], test, save)


def part_pixelrnn(args, train, test, save) -> dict:
    from nolabel import PixelRNN

    model = PixelRNN(hidden_channels=args.channels, n_layers=args.rnn_layers, batch_size=64,
                     random_state=0, device="cpu")
    return autoregressive(model, "pixelrnn", "nolabel PixelRNN (Row LSTM) samples", args,
                          train[:args.n_train], test, save)


def part_timing(args, train, test, save) -> dict:
    """One epoch each on the same 10k images, back to back."""
    from nolabel import PixelCNN, PixelRNN

    subset, timings = train[:10000], {}
    for name, model in (
            ("pixelcnn", PixelCNN(hidden_channels=args.channels, n_layers=args.layers)),
            ("pixelrnn", PixelRNN(hidden_channels=args.channels, n_layers=args.rnn_layers))):
        start = time.perf_counter()
        model.set_params(epochs=1, batch_size=64, random_state=0, device="cpu").fit(subset)
        timings[name] = {"epoch_s_10k": time.perf_counter() - start,
                         "parameters": sum(p.numel() for p in model.module_.parameters())}
        log(f"timing {name}: {timings[name]}")
    return timings


def _mean_std(values) -> str:
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}" if len(values) > 1 else \
        f"{values[0]:.2f}"


def markdown(results: dict) -> str:
    lines = ["# Likelihood benchmark (binarised images, test split, NLL in nats)", ""]
    for dataset, parts in results.items():
        lines += [f"## {dataset}", ""]
        for key in sorted(k for k in parts if k.startswith("vae")):
            v = parts[key]
            ours = [r["nolabel"] for r in v["runs"]]
            theirs = [r["pythae"] for r in v["runs"]]
            pairs = list(zip(ours, theirs, strict=True))
            ratios = [a["images_per_s"] / b["images_per_s"] for a, b in pairs]
            differences = [a["nll"] - b["nll"] for a, b in pairs]
            lines += [
                f"VAE: MLP 784-{HIDDEN[0]}-{HIDDEN[1]}-{v['latent']}, Bernoulli decoder, Adam "
                f"1e-3, batch {v['batch_size']}, {v['epochs']} epochs, same fixed binarisation "
                f"for both; NLL by importance sampling with k = {v['k']}; seeds "
                f"{[r['seed'] for r in v['runs']]} (mean ± std); {v['threads']} thread(s)"
                f"{'; ' + v['caveat'] if 'caveat' in v else ''}.", "",
                "| model | test NLL | ELBO bound | training images/s | sample 100 (s) |",
                "|---|---|---|---|---|",
                f"| nolabel VAE | {_mean_std([r['nll'] for r in ours])} | "
                f"{_mean_std([r['elbo_nll'] for r in ours])} | "
                f"{np.mean([r['images_per_s'] for r in ours]):.0f} | "
                f"{np.mean([r['sample100_s'] for r in ours]):.3f} |",
                f"| pythae VAE | {_mean_std([r['nll'] for r in theirs])} | | "
                f"{np.mean([r['images_per_s'] for r in theirs]):.0f} | |", "",
                f"Throughput ratio nolabel / pythae per seed: "
                f"{', '.join(f'{r:.2f}x' for r in ratios)}; NLL difference per seed: "
                f"{', '.join(f'{d:+.2f}' for d in differences)} "
                "(negative = nolabel better).", ""]
        rows = [(name, parts[key]) for name, key in
                (("gated PixelCNN", "pixelcnn"), ("PixelRNN (Row LSTM)", "pixelrnn"))
                if key in parts]
        if rows:
            lines += ["| model | channels x layers | train images | epochs | test NLL "
                      "(bits/dim) | NLL by epoch | s/epoch | sample 100 (s) |",
                      "|---|---|---|---|---|---|---|---|"]
            for name, p in rows:
                curve = ", ".join(f"{c['nll']:.1f}" for c in p["curve"])
                lines.append(
                    f"| {name} | {p['channels']} x {p['layers']} | {p['n_train']} | "
                    f"{p['epochs']} | {p['nll']:.2f} ({p['bits_per_dim']:.3f}) | {curve} | "
                    f"{np.mean([c['epoch_s'] for c in p['curve']]):.0f} | "
                    f"{p.get('sample100_s', float('nan')):.1f} |")
            lines += ["", "(s/epoch of these long runs: 1 thread on a CPU shared with other "
                      "jobs; the back-to-back timing below is the comparable one.)", ""]
        vae_keys = sorted((k for k in parts if k.startswith("vae_k")),
                          key=lambda k: int(k[len("vae_k"):]))
        if vae_keys and "pixelcnn" in parts:
            vae_nll = np.mean([r["nolabel"]["nll"] for r in parts[vae_keys[-1]]["runs"]])
            lines += [f"PixelCNN - VAE (largest k): {parts['pixelcnn']['nll'] - vae_nll:+.2f} "
                      "nats (target: at most -4).", ""]
        if "timing" in parts:
            t = parts["timing"]
            lines += [f"One epoch on the same 10k images, back to back: PixelCNN "
                      f"{t['pixelcnn']['epoch_s_10k']:.0f} s ({t['pixelcnn']['parameters']} "
                      f"parameters), PixelRNN {t['pixelrnn']['epoch_s_10k']:.0f} s "
                      f"({t['pixelrnn']['parameters']} parameters): PixelRNN / PixelCNN = "
                      f"{t['pixelrnn']['epoch_s_10k'] / t['pixelcnn']['epoch_s_10k']:.2f}x.",
                      ""]
    lines += ["Published on binarised MNIST: " + ", ".join(
        f"{k} {v}" for k, v in PUBLISHED_MNIST.items()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", required=True,
                        choices=("vae", "pixelcnn", "pixelrnn", "timing", "table"))
    parser.add_argument("--dataset", default="fashion-mnist", choices=("fashion-mnist", "mnist"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--vae-epochs", type=int, default=10)
    parser.add_argument("--latent", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4, help="PixelCNN / PixelRNN epochs")
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--layers", type=int, default=5, help="PixelCNN layers")
    parser.add_argument("--rnn-layers", type=int, default=2, help="PixelRNN Row LSTM layers")
    args = parser.parse_args()
    path = RESULTS / "likelihood.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results = {k: v for k, v in results.items() if k in ("fashion-mnist", "mnist")}
    if args.part != "table":
        from nolabel.errors import DataError

        try:
            train = binarised(args.dataset, "train", 0)
            test = binarised(args.dataset, "test", 1)
        except DataError as exc:
            sys.exit(f"{args.dataset} is not available here: {exc}")
        RESULTS.mkdir(exist_ok=True)
        run = {"vae": part_vae, "pixelcnn": part_pixelcnn, "pixelrnn": part_pixelrnn,
               "timing": part_timing}[args.part]
        part = f"vae_k{args.k}" if args.part == "vae" else args.part

        def save(outcome: dict) -> None:
            merged = json.loads(path.read_text()) if path.exists() else {}  # parts run in parallel
            merged = {k: v for k, v in merged.items() if k in ("fashion-mnist", "mnist")}
            merged.setdefault(args.dataset, {})[part] = outcome
            atomic_write_text(path, json.dumps(merged, indent=2) + "\n")

        save(run(args, train, test, save))
        results = json.loads(path.read_text())
    atomic_write_text(RESULTS / "likelihood.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
