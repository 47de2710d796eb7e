"""Likelihood models on binarised Fashion-MNIST: nolabel's VAE vs pythae's, and PixelCNN.

Side by side in one run, on one fixed binarisation of the training images (seed 0) and of
the test images (seed 1), so every model sees exactly the same data:
  * nolabel VAE and pythae VAE with the same MLP (784-512-256-z, ReLU, Bernoulli decoder),
    optimiser (Adam 1e-3), batch size and epochs: training throughput (images/s) and test
    NLL by importance sampling with the same k (pythae: ``get_nll``);
  * nolabel PixelCNN (gated) on the same data: exact test NLL, time per epoch, and the time
    to sample 100 images; the VAE's time to sample 100 images.
Published NLL on binarised MNIST (not Fashion-MNIST): VAE 86.76 (IWAE paper, k=5000),
pythae's VAE 89.78, PixelCNN 81.30, Gated PixelCNN 81.50.

    python benchmarks/likelihood.py [--epochs 10] [--k 100] [--pixelcnn-train 60000]

pythae is installed in the benchmark environment only:
    pip install --no-deps pythae && pip install pydantic imageio
Writes results/likelihood.json and .md.
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

RESULTS = Path(__file__).parent / "results"
PUBLISHED_MNIST = {"VAE (IWAE paper, k=5000)": 86.76, "pythae VAE": 89.78, "PixelCNN": 81.30,
                   "Gated PixelCNN (pytorch-generative)": 81.50}
HIDDEN = (512, 256)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def binarised(split: str, seed: int) -> np.ndarray:
    from nolabel import load

    images = load("fashion-mnist", split=split).X
    return (np.random.default_rng(seed).uniform(size=images.shape) < images).astype(np.float32)


def ours(train: np.ndarray, test: np.ndarray, latent: int, epochs: int, batch: int,
         k: int) -> dict:
    from nolabel import VAE

    model = VAE(latent, hidden_dims=HIDDEN, epochs=epochs, batch_size=batch, random_state=0,
                device="cpu")
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    nll = -float(np.mean(model.score_samples(test, n_importance=k)))
    scoring = time.perf_counter() - start
    start = time.perf_counter()
    model.sample(100)
    return {"fit_s": seconds, "images_per_s": epochs * len(train) / seconds, "nll": nll,
            "elbo_nll": -float(np.mean(model.elbo(test))), "nll_s": scoring,
            "sample100_s": time.perf_counter() - start}


def pythae_vae(train: np.ndarray, test: np.ndarray, latent: int, epochs: int, batch: int,
               k: int) -> dict:
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

    torch.manual_seed(0)
    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=latent, reconstruction_loss="bce")
    model = VAE(config, encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as folder:
        trainer = BaseTrainerConfig(output_dir=folder, num_epochs=epochs, learning_rate=1e-3,
                                    per_device_train_batch_size=batch,
                                    per_device_eval_batch_size=batch, no_cuda=True, seed=0,
                                    steps_saving=None)
        start = time.perf_counter()
        TrainingPipeline(training_config=trainer, model=model)(train_data=train)
        seconds = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    # pythae's get_nll returns the mean estimated log-likelihood (a negative number)
    nll = -float(model.get_nll(torch.from_numpy(test), n_samples=k, batch_size=100))
    return {"fit_s": seconds, "images_per_s": epochs * len(train) / seconds, "nll": nll,
            "nll_s": time.perf_counter() - start}


def pixelcnn(train: np.ndarray, test: np.ndarray, epochs: int, channels: int,
             layers: int) -> dict:
    from nolabel import PixelCNN

    model = PixelCNN(variant="gated", channels=channels, n_layers=layers, epochs=epochs,
                     batch_size=64, random_state=0, device="cpu")
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    nll = model.nll(test)
    start = time.perf_counter()
    model.sample(100)
    return {"fit_s": seconds, "epoch_s": seconds / epochs, "n_train": len(train),
            "channels": channels, "layers": layers, "epochs": epochs, "nll": nll,
            "bits_per_dim": nll / (784 * np.log(2)), "sample100_s": time.perf_counter() - start}


def markdown(results: dict) -> str:
    vae, theirs = results["vae"]["nolabel"], results["vae"]["pythae"]
    lines = ["# Likelihood benchmark (binarised Fashion-MNIST, test split)", "",
             f"VAE: MLP 784-{HIDDEN[0]}-{HIDDEN[1]}-{results['latent']}, Bernoulli decoder, "
             f"Adam 1e-3, batch {results['batch_size']}, {results['epochs']} epochs, same fixed "
             f"binarisation for both; NLL by importance sampling with k = {results['k']}.", "",
             "| model | test NLL (nats) | training images/s | fit (s) | sample 100 (s) |",
             "|---|---|---|---|---|",
             f"| nolabel VAE | {vae['nll']:.2f} (ELBO {vae['elbo_nll']:.2f}) | "
             f"{vae['images_per_s']:.0f} | {vae['fit_s']:.0f} | {vae['sample100_s']:.3f} |",
             f"| pythae VAE | {theirs['nll']:.2f} | {theirs['images_per_s']:.0f} | "
             f"{theirs['fit_s']:.0f} | |"]
    if "pixelcnn" in results:
        p = results["pixelcnn"]
        lines.append(f"| nolabel gated PixelCNN ({p['channels']} ch, {p['layers']} layers, "
                     f"{p['epochs']} epochs on {p['n_train']} images) | {p['nll']:.2f} "
                     f"({p['bits_per_dim']:.3f} bits/dim) | {p['n_train'] / p['epoch_s']:.0f} "
                     f"| {p['fit_s']:.0f} | {p['sample100_s']:.1f} |")
    lines += ["", f"Throughput ratio nolabel / pythae: "
              f"{vae['images_per_s'] / theirs['images_per_s']:.2f}x; NLL difference "
              f"{vae['nll'] - theirs['nll']:+.2f} nats (negative = nolabel better).", "",
              "Published on binarised MNIST: " + ", ".join(
                  f"{k} {v}" for k, v in PUBLISHED_MNIST.items()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--latent", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--pixelcnn-train", type=int, default=60000)
    parser.add_argument("--pixelcnn-epochs", type=int, default=1)
    parser.add_argument("--pixelcnn-channels", type=int, default=32)
    parser.add_argument("--pixelcnn-layers", type=int, default=5)
    parser.add_argument("--skip-pixelcnn", action="store_true")
    args = parser.parse_args()
    train, test = binarised("train", 0), binarised("test", 1)
    results = {"latent": args.latent, "epochs": args.epochs, "batch_size": args.batch_size,
               "k": args.k, "threads": torch.get_num_threads(), "vae": {}}
    for name, run in (("nolabel", ours), ("pythae", pythae_vae)):
        results["vae"][name] = run(train, test, args.latent, args.epochs, args.batch_size,
                                   args.k)
        log(f"{name}: {results['vae'][name]}")
    if not args.skip_pixelcnn:
        results["pixelcnn"] = pixelcnn(train[:args.pixelcnn_train], test, args.pixelcnn_epochs,
                                       args.pixelcnn_channels, args.pixelcnn_layers)
        log(f"pixelcnn: {results['pixelcnn']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "likelihood.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "likelihood.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
