"""Seconds per epoch of the deep clustering training phases, against torch's defaults.

Two fixes made these phases cheaper, and this measures them side by side in one run (the
machine is shared, so only the ratios carry over):

- Adam: nolabel's optimizer is torch's fused Adam where the device has one; torch's default
  on CPU is a per-tensor loop, several times slower per step for DEC's network.
- DEC's target updates (a pass over all the data every ``update_interval`` batches) run at
  the training precision (bf16 on this CPU) instead of float32.

"torch defaults" below switches both back. Phases timed on Fashion-MNIST images, from one
autoencoder pretrained for 1 epoch (speed does not depend on how good it is): one epoch of
autoencoder pretraining (AutoEncoder), DEC's and VaDE's clustering phases (``--epochs``
each; the median epoch), alternating the two settings ``--repeats`` times.

    python benchmarks/phase_speed.py [--n 70000] [--epochs 2] [--repeats 2]

Writes results/phase_speed.json and results/phase_speed.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from pathlib import Path

import numpy as np
import torch

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
SETTINGS = ("torch defaults", "nolabel")


@contextlib.contextmanager
def setting(name: str):
    """Within: nolabel as it is, or with torch's per-tensor Adam and float32 target updates."""
    import nolabel.clustering.dec as dec
    import nolabel.train.loop as loop

    saved = loop._FUSED_ADAM_DEVICES, dec.autocast
    if name == "torch defaults":
        loop._FUSED_ADAM_DEVICES = ()
        dec.autocast = lambda precision, device: contextlib.nullcontext()
    try:
        yield
    finally:
        loop._FUSED_ADAM_DEVICES, dec.autocast = saved


def timed(phase: str, X: np.ndarray, pretrained, epochs: int) -> float:
    """Median seconds per epoch of ``phase``, from the loop's own ``epoch_time`` (the epoch's
    steps and callbacks such as DEC's target updates; not loading or initialisation)."""
    from sklearn.frozen import FrozenEstimator

    from nolabel import DEC, AutoEncoder, VaDE

    common = {"random_state": 0, "device": "cpu", "likelihood": "bernoulli", "epochs": epochs,
              "batch_size": 256}
    if phase == "autoencoder pretraining":
        model = AutoEncoder(10, hidden_dims=(500, 500, 2000), **common)
    elif phase == "DEC clustering":  # tol 0: never stops early, every run trains all epochs
        model = DEC(10, pretrained=FrozenEstimator(pretrained), tol=0.0, **common)
    else:
        model = VaDE(10, pretrained=FrozenEstimator(pretrained), **common)
    return statistics.median(model.fit(X).history_["epoch_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=70000, help="Fashion-MNIST images used")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from nolabel import AutoEncoder, load

    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    X = np.concatenate([train.X, test.X]).reshape(-1, 784).astype(np.float32)[: args.n]
    pretrained = AutoEncoder(10, hidden_dims=(500, 500, 2000), likelihood="bernoulli",
                             epochs=1, batch_size=256, random_state=0, device="cpu").fit(X)
    phases = ("autoencoder pretraining", "DEC clustering", "VaDE clustering")
    seconds: dict[str, dict[str, list[float]]] = {p: {s: [] for s in SETTINGS} for p in phases}
    for _ in range(args.repeats):
        for phase in phases:
            for name in SETTINGS:
                with setting(name):
                    seconds[phase][name].append(timed(phase, X, pretrained, args.epochs))
                print(f"{phase}, {name}: {seconds[phase][name][-1]:.2f} s/epoch", flush=True)

    record = {"n": len(X), "threads": torch.get_num_threads(), "epochs": args.epochs,
              "repeats": args.repeats, "seconds_per_epoch": seconds}
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "phase_speed.json", json.dumps(record, indent=2) + "\n")
    lines = [f"# Training phases: seconds per epoch on {len(X)} Fashion-MNIST images", "",
             f"{torch.get_num_threads()} torch threads, bf16 where the CPU has it; median of "
             f"{args.repeats} alternating runs. torch defaults: per-tensor Adam, float32 target "
             "updates.", "",
             "| phase | torch defaults | nolabel | speed-up |", "|---|---|---|---|"]
    for phase in phases:
        old, new = (statistics.median(seconds[phase][s]) for s in SETTINGS)
        lines.append(f"| {phase} | {old:.2f} | {new:.2f} | {old / new:.2f}x |")
    atomic_write_text(RESULTS / "phase_speed.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
