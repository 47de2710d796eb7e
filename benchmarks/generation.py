"""Sample quality of generative models on Fashion-MNIST, offline, and the GAN loop's cost.

Parts (run separately, merged into results/generation.json and .md):
  * ``quality``: MLP GAN, DCGAN and the VAE trained on the 60k training images; 10k samples
    of each scored against the 10k test images with the project's feature network
    (``nolabel.metrics.generation``): Fréchet distance (FD), precision/recall (k=3), class
    coverage; seconds per epoch; sample grids and latent interpolation strips as PNG. The
    reference row scores 10k training images against the test set (what a perfect model
    would get at this set size).
  * ``overhead``: seconds per epoch of DCGAN through nolabel's training loop against a
    hand-written PyTorch two-player loop (same networks, losses, optimisers, batches),
    interleaved, medians.
Published Inception-FID on Fashion-MNIST (Lucic et al. 2018, best of a large search):
NS-GAN 26.5, WGAN-GP 24.5, VAE 58.7; our FD is on another feature network, so only the
ordering carries over.

    python benchmarks/generation.py --part quality [--gan-epochs 30] [--dcgan-epochs 8]
    python benchmarks/generation.py --part overhead
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
PUBLISHED = {"NS-GAN": 26.5, "WGAN-GP": 24.5, "VAE": 58.7}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def score(name, model_or_samples, test, network, fit_s=None, epochs=None) -> dict:
    from nolabel.metrics.generation import sample_quality

    result = sample_quality(model_or_samples, test, network, n_samples=10000, random_state=0)
    row = {"fd": result.fd, "precision": result.precision, "recall": result.recall,
           "classes": f"{result.sample_classes}/{result.real_classes}",
           "mode_collapse": result.mode_collapse}
    if fit_s is not None:
        row.update(fit_s=fit_s, epoch_s=fit_s / epochs, epochs=epochs)
    log(f"{name}: {row}")
    return row


def grids(model, name: str, interpolate: bool) -> list[str]:
    from nolabel.report import sample_grid

    paths = [sample_grid(model.sample(100, random_state=0).reshape(-1, 1, 28, 28),
                         RESULTS / f"generation_{name}_samples.png", f"{name} samples").name]
    if interpolate:
        strips = np.concatenate([model.interpolate(10, random_state=seed) for seed in range(5)])
        paths.append(sample_grid(strips.reshape(-1, 1, 28, 28),
                                 RESULTS / f"generation_{name}_interpolation.png",
                                 f"{name}: 5 straight lines in latent space").name)
    return paths


def part_quality(args, save) -> dict:
    """Train and score each model of ``--models``; every row is saved as soon as it exists.
    With ``--checkpoints DIR`` a model resumes from DIR/<name>.safetensors, so a long run can
    be continued (and extended with more epochs) in a later session."""
    from nolabel import DCGAN, GAN, VAE, load
    from nolabel.metrics.generation import FeatureNetwork

    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    network = FeatureNetwork.for_dataset("fashion-mnist")
    quality = {"feature_network_test_accuracy": network.test_accuracy,
               "threads": torch.get_num_threads(), "rows": {}}
    quality["rows"]["real train images (reference)"] = score(
        "reference", train.X[:10000], test, network)
    models = {
        "MLP GAN": (GAN, dict(latent_dim=100, epochs=args.gan_epochs)),
        "DCGAN": (DCGAN, dict(latent_dim=100, epochs=args.dcgan_epochs,
                              channels=(args.dcgan_width, 2 * args.dcgan_width))),
        "MLP WGAN-GP": (GAN, dict(latent_dim=100, epochs=args.gan_epochs, loss="wgan-gp",
                                  d_steps=5, lr=1e-4, betas=(0.5, 0.9))),
        "VAE": (VAE, dict(latent_dim=32, hidden_dims=(512, 256), epochs=args.vae_epochs)),
    }
    for name in args.models.split(","):
        cls, settings = models[name]
        checkpoint = (Path(args.checkpoints) / f"{name.replace(' ', '_')}.safetensors"
                      if args.checkpoints else None)
        model = cls(**settings, random_state=0, device="cpu",
                    checkpoint_path=str(checkpoint) if checkpoint else None)
        start = time.perf_counter()
        resume = checkpoint if checkpoint is not None and checkpoint.exists() else None
        model.fit(train.X[:args.n_train], resume_from=resume)
        row = score(name, model, test, network)
        row.update(epochs=model.n_epochs_, fit_s_this_run=time.perf_counter() - start,
                   epoch_s=float(np.median(model.history_["epoch_time"])),
                   resumed=resume is not None)
        row["pictures"] = grids(model, re.sub(r"[^a-z0-9]+", "_", name.lower()),
                                interpolate=hasattr(model, "latent_dim") and name != "VAE")
        quality["rows"][name] = row
        save(quality)
    return quality


def part_overhead(args) -> dict:
    """nolabel's loop vs a bare two-player loop for the same DCGAN, interleaved."""
    from nolabel import DCGAN, load
    from nolabel.models.gan import discriminator_loss, generator_loss

    data = torch.from_numpy(load("fashion-mnist", split="train").X[:args.overhead_n])
    data = data.reshape(-1, 1, 28, 28)
    settings = {"channels": (args.dcgan_width, 2 * args.dcgan_width), "batch_size": 64,
                "random_state": 0, "device": "cpu"}

    def ours() -> float:
        model = DCGAN(100, epochs=1, **settings)
        start = time.perf_counter()
        model.fit(data)
        return time.perf_counter() - start

    def bare() -> float:
        torch.manual_seed(0)
        net = DCGAN(100, **settings)._build_module((1, 28, 28))
        d_opt = torch.optim.Adam(net.discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
        g_opt = torch.optim.Adam(net.generator.parameters(), 2e-4, betas=(0.5, 0.999))
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
        start = time.perf_counter()
        for first in range(0, len(data), 64):
            real = data[order[first:first + 64]]
            with torch.no_grad():
                fake = net.generator(net.noise(len(real), real.device))
            d_opt.zero_grad(set_to_none=True)
            loss, _ = discriminator_loss(net.discriminate(real), net.discriminate(fake))
            loss.backward()
            d_opt.step()
            g_opt.zero_grad(set_to_none=True)
            fake = net.generator(net.noise(len(real), real.device))
            generator_loss(net.discriminate(fake), "non-saturating").backward()
            g_opt.step()
        return time.perf_counter() - start

    bare_times, our_times = [], []
    for _ in range(args.repeats):
        bare_times.append(bare())
        our_times.append(ours())
    b, o = statistics.median(bare_times), statistics.median(our_times)
    return {"n_samples": len(data), "repeats": args.repeats, "bare_epoch_s": b,
            "nolabel_epoch_s": o, "overhead_pct": 100 * (o / b - 1)}


def markdown(results: dict) -> str:
    lines = ["# Generation benchmark (Fashion-MNIST, 10k samples vs the 10k test images)", ""]
    if "quality" in results:
        q = results["quality"]
        lines += [f"Features: nolabel's feature network (test accuracy "
                  f"{q['feature_network_test_accuracy']:.4f}). FD lower is better.", "",
                  "| model | FD | precision | recall | classes covered | epochs | s/epoch |",
                  "|---|---|---|---|---|---|---|"]
        for name, r in q["rows"].items():
            timing = (f"{r['epochs']} | {r['epoch_s']:.1f}" if "epochs" in r else " | ")
            lines.append(f"| {name} | {r['fd']:.2f} | {r['precision']:.3f} | "
                         f"{r['recall']:.3f} | {r['classes']} | {timing} |")
        lines += ["", "Published Inception-FID on Fashion-MNIST (Lucic et al. 2018): " +
                  ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()) +
                  " (ordering: GANs well below the VAE).", ""]
    if "overhead" in results:
        o = results["overhead"]
        lines += [f"DCGAN epoch on {o['n_samples']} images: nolabel loop "
                  f"{o['nolabel_epoch_s']:.2f} s vs bare PyTorch loop {o['bare_epoch_s']:.2f} s "
                  f"(median of {o['repeats']}): overhead {o['overhead_pct']:+.1f} %.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", required=True, choices=("quality", "overhead", "table"))
    parser.add_argument("--gan-epochs", type=int, default=30)
    parser.add_argument("--dcgan-epochs", type=int, default=8)
    parser.add_argument("--dcgan-width", type=int, default=32)
    parser.add_argument("--vae-epochs", type=int, default=10)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--overhead-n", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="MLP GAN,DCGAN,VAE",
                        help="comma-separated subset of: MLP GAN, MLP WGAN-GP, DCGAN, VAE")
    parser.add_argument("--checkpoints", default=None,
                        help="folder of per-model checkpoints to resume from and write")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "generation.json"

    def save(quality: dict) -> None:
        """Merge into the stored results: rows of models not rerun are kept."""
        results = json.loads(path.read_text()) if path.exists() else {}
        merged = results.get("quality", {"rows": {}})
        merged.update({k: v for k, v in quality.items() if k != "rows"})
        merged["rows"] = {**merged.get("rows", {}), **quality["rows"]}
        results["quality"] = merged
        atomic_write_text(path, json.dumps(results, indent=2) + "\n")
        atomic_write_text(RESULTS / "generation.md", markdown(results))

    if args.part == "quality":
        part_quality(args, save)
    elif args.part == "overhead":
        results = json.loads(path.read_text()) if path.exists() else {}
        results["overhead"] = part_overhead(args)
        atomic_write_text(path, json.dumps(results, indent=2) + "\n")
    results = json.loads(path.read_text()) if path.exists() else {}
    atomic_write_text(RESULTS / "generation.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
