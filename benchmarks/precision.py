"""float32 against bf16 mixed precision on this machine's CPU, for DEC's network.

Two measurements, in one run, so the ratio does not depend on how busy the machine is:

1. Training throughput (samples/s) of a DEC-sized autoencoder (784-500-500-2000-10, ReLU,
   MSE, Adam, batch 256) on Fashion-MNIST images, alternating float32 and bf16 steps.
2. Clustering quality: DEC fitted end to end (pretraining + clustering phase) on a
   Fashion-MNIST subset at both precisions over several seeds: ACC and NMI.

    python benchmarks/precision.py [--n 10000] [--seeds 0 1 2] [--threads 1] [--speed-only]

Writes results/precision.json and results/precision.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"


def throughput(X: torch.Tensor, precision: str, steps: int, repeats: int) -> list[float]:
    """Samples per second of autoencoder training steps at ``precision``."""
    from nolabel.models.autoencoder import MLPAutoEncoder, reconstruction_error
    from nolabel.train.precision import Precision

    torch.manual_seed(0)
    net = MLPAutoEncoder(X.shape[1], (500, 500, 2000), 10, "relu")
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    amp = Precision(precision, torch.device("cpu"))
    rates = []
    for _ in range(2):  # warm-up: the first steps allocate and pick kernels
        optimizer.zero_grad(set_to_none=True)
        with amp.autocast(optimizer):
            loss = reconstruction_error(net(X[:256])[0], X[:256], "gaussian").mean()
        amp.backward(loss, optimizer)
        amp.step(optimizer, None)
    for _ in range(repeats):
        start = time.perf_counter()
        for step in range(steps):
            batch = X[(step * 256) % (len(X) - 256):][:256]
            optimizer.zero_grad(set_to_none=True)
            with amp.autocast(optimizer):
                loss = reconstruction_error(net(batch)[0], batch, "gaussian").mean()
            amp.backward(loss, optimizer)
            amp.step(optimizer, None)
        rates.append(steps * 256 / (time.perf_counter() - start))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="Fashion-MNIST images used")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--speed-only", action="store_true",
                        help="measure samples/s and keep the quality rows of the last run")
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import nolabel
    from nolabel.metrics import cluster_accuracy, nmi
    from nolabel.train.precision import cpu_has_bf16

    data = nolabel.load("fashion-mnist", split="train")
    rows = np.random.default_rng(0).choice(len(data.X), args.n, replace=False)
    X, y = data.X[np.sort(rows)].reshape(args.n, -1), data.y[np.sort(rows)]
    tensor = torch.from_numpy(X)
    speed = {"32": [], "bf16": []}
    for _ in range(5):  # interleaved, so both see the same machine load
        for precision in speed:
            speed[precision] += throughput(tensor, precision, steps=40, repeats=1)
    quality = []
    previous = RESULTS / "precision.json"
    if args.speed_only and previous.exists():
        old = json.loads(previous.read_text())
        quality = old["quality"]
        args.pretrain_epochs, args.epochs = old["pretrain_epochs"], old["epochs"]
    for seed in [] if args.speed_only else args.seeds:
        for precision in ("32", "bf16"):
            start = time.perf_counter()
            model = nolabel.DEC(10, pretrain_epochs=args.pretrain_epochs, epochs=args.epochs,
                                precision=precision, random_state=seed, device="cpu").fit(X)
            quality.append({"seed": seed, "precision": precision,
                            "acc": cluster_accuracy(y, model.labels_),
                            "nmi": nmi(y, model.labels_),
                            "seconds": time.perf_counter() - start})
            print(quality[-1], flush=True)
    result = {"cpu_has_bf16": cpu_has_bf16(), "threads": args.threads, "n": args.n,
              "pretrain_epochs": args.pretrain_epochs, "epochs": args.epochs,
              "samples_per_s": {k: statistics.median(v) for k, v in speed.items()},
              "quality": quality}
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "precision.json", json.dumps(result, indent=2))
    atomic_write_text(RESULTS / "precision.md", markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    fp32, bf16 = result["samples_per_s"]["32"], result["samples_per_s"]["bf16"]
    lines = ["# float32 vs bf16 mixed precision on this CPU (DEC's 784-500-500-2000-10 network)",
             "", f"AVX-512 BF16: {result['cpu_has_bf16']}; {result['threads']} threads.", "",
             "| precision | training samples/s (median of 5) | ratio |", "|---|---|---|",
             f"| float32 | {fp32:.0f} | 1.00 |", f"| bf16 autocast | {bf16:.0f} | "
             f"{bf16 / fp32:.2f} |", "",
             f"DEC end to end on {result['n']} Fashion-MNIST training images "
             f"({result['pretrain_epochs']} pretraining + {result['epochs']} clustering "
             "epochs; float32 and bf16 fits interleaved on a shared machine, so s/seed is "
             "comparable within the table only):", "",
             "| precision | seeds | ACC | NMI | s/seed |", "|---|---|---|---|---|"]
    for precision in ("32", "bf16"):
        rows = [r for r in result["quality"] if r["precision"] == precision]
        acc = [r["acc"] for r in rows]
        nmi_values = [r["nmi"] for r in rows]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        lines.append(f"| {precision} | {len(rows)} | {np.mean(acc):.3f} ± {sd:.3f} | "
                     f"{np.mean(nmi_values):.3f} | "
                     f"{np.mean([r['seconds'] for r in rows]):.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
