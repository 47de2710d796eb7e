"""Where a training step's time goes on a GPU: nolabel's loop against bare PyTorch.

DEC's 784-500-500-2000-10 autoencoder (ReLU, cross-entropy, fused Adam, batch 256) is small
enough that on a large GPU a step is bound by the host: Python, the dispatcher and ~80 kernel
launches, not the arithmetic. This measures, side by side in one run on random data of the
size of Fashion-MNIST (273 batches of 256 a epoch), milliseconds per step of:

- ``nolabel``: ``AutoEncoder.fit``'s own epoch time (the second epoch), bf16 and float32;
- ``eager``: the same network and update in a bare PyTorch loop, the reference any training
  loop is held to;
- ``cuda graph``: that bare step captured once in a CUDA graph and replayed (one launch per
  step; Adam with ``capturable=True``), what the GPU itself needs;
- ``torch.compile``: the bare loop with the module compiled in the default mode (fused
  kernels, no graphs), and its compile seconds.

    python benchmarks/gpu_step.py [--device cuda] [--steps 200]

It runs on a CPU too (without the graph rows) for a dry run. Writes results/gpu_step.json and
results/gpu_step.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from nolabel._atomic import atomic_write_text

RESULTS = Path(__file__).parent / "results"
BATCH = 256
DIMS = (784, 500, 500, 2000, 10)


def network(device: torch.device) -> nn.Sequential:
    """DEC's autoencoder as one Sequential: the encoder, then the mirrored decoder."""
    def stack(dims):
        layers = [m for a, b in itertools.pairwise(dims) for m in (nn.Linear(a, b), nn.ReLU())]
        return layers[:-1]  # linear code and logits
    return nn.Sequential(*stack(DIMS), *stack(DIMS[::-1])).to(device)


def ms_per_step(step: Callable[[], None], steps: int, device: torch.device) -> float:
    step()  # warm-up: allocations, cuBLAS plans
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / steps * 1e3


def batches(X: torch.Tensor) -> Callable[[], torch.Tensor]:
    """The next batch of a fixed random order, indexed on the device as nolabel's loop does."""
    order = torch.randperm(len(X), device=X.device)
    n_batches = len(X) // BATCH
    state = {"i": 0}

    def next_batch() -> torch.Tensor:
        i = state["i"] % n_batches
        state["i"] += 1
        return X[order[i * BATCH:(i + 1) * BATCH]]
    return next_batch


def loss_of(model: nn.Module, batch: torch.Tensor, bf16: bool, graphed: bool = False
            ) -> torch.Tensor:
    # Autocast's cast cache cannot live across graph replays: graphs recast every step.
    with torch.autocast(batch.device.type, dtype=torch.bfloat16, enabled=bf16,
                        cache_enabled=not graphed):
        logits = model(batch)
    return nn.functional.binary_cross_entropy_with_logits(logits.float(), batch)


def eager_step(X: torch.Tensor, bf16: bool, compiled: bool = False) -> Callable[[], None]:
    model = network(X.device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3, fused=True)
    forward = torch.compile(model) if compiled else model
    next_batch = batches(X)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_of(forward, next_batch(), bf16).backward()
        optimizer.step()
    return step


def graph_step(X: torch.Tensor, bf16: bool) -> Callable[[], None]:
    """The whole step (zero_grad, forward, backward, Adam) captured in one CUDA graph; each
    call copies the next batch into the captured input and replays it."""
    model = network(X.device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3, fused=True, capturable=True)
    static = X[:BATCH].clone()

    def body() -> None:
        optimizer.zero_grad(set_to_none=False)  # graphs keep their gradient buffers
        loss_of(model, static, bf16, graphed=True).backward()
        optimizer.step()

    side = torch.cuda.Stream(X.device)
    side.wait_stream(torch.cuda.current_stream(X.device))
    with torch.cuda.stream(side):  # warm up outside the graph, as capture requires
        for _ in range(3):
            body()
    torch.cuda.current_stream(X.device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        body()
    next_batch = batches(X)

    def step() -> None:
        static.copy_(next_batch())
        graph.replay()
    return step


def nolabel_step(X: torch.Tensor, precision: str) -> float:
    """Milliseconds per step of AutoEncoder.fit's second epoch (its own ``epoch_time``)."""
    from nolabel import AutoEncoder

    model = AutoEncoder(DIMS[-1], hidden_dims=DIMS[1:-1], likelihood="bernoulli", epochs=2,
                        batch_size=BATCH, precision=precision, random_state=0,
                        device=str(X.device)).fit(X.cpu().numpy())
    return model.history_["epoch_time"][-1] / (len(X) // BATCH) * 1e3


def markdown(results: dict) -> str:
    rows = results["ms_per_step"]
    eager = rows.get("eager, bf16")
    lines = ["# A training step of DEC's autoencoder on one device", "",
             f"{results['device']}, torch {results['torch']}, batch {BATCH}, "
             f"{results['n_batches']} batches an epoch.", "",
             "| step | ms/step | steps/s | vs bare eager bf16 |", "|---|---|---|---|"]
    for name, ms in rows.items():
        ratio = f"{eager / ms:.2f}x" if eager else "-"
        lines.append(f"| {name} | {ms:.3f} | {1e3 / ms:.0f} | {ratio} |")
    if "compile_seconds" in results:
        lines += ["", f"torch.compile took {results['compile_seconds']:.1f} s to compile."]
    if results.get("source"):
        lines += ["", results["source"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--results", type=Path, default=RESULTS, metavar="FOLDER")
    args = parser.parse_args()
    device = torch.device(args.device)
    n_batches = 273 if device.type == "cuda" else 8
    X = torch.rand(BATCH * n_batches, DIMS[0], device=device)
    rows: dict[str, float] = {}
    results = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
               "torch": torch.__version__, "n_batches": n_batches, "ms_per_step": rows}
    for name, measure in [
        ("nolabel, bf16", lambda: nolabel_step(X, "bf16")),
        ("nolabel, float32", lambda: nolabel_step(X, "32")),
        ("eager, bf16", lambda: ms_per_step(eager_step(X, True), args.steps, device)),
        ("eager, float32", lambda: ms_per_step(eager_step(X, False), args.steps, device)),
        *([("cuda graph, bf16", lambda: ms_per_step(graph_step(X, True), args.steps, device)),
           ("cuda graph, float32",
            lambda: ms_per_step(graph_step(X, False), args.steps, device))]
          if device.type == "cuda" else []),
    ]:
        try:
            rows[name] = measure()
            print(f"{name}: {rows[name]:.3f} ms/step", flush=True)
        except Exception:  # one failing row (an old torch without capturable Adam) keeps the rest
            traceback.print_exc()
    if device.type == "cuda":
        step = eager_step(X, True, compiled=True)
        start = time.perf_counter()
        step()
        torch.cuda.synchronize(device)
        results["compile_seconds"] = time.perf_counter() - start
        rows["torch.compile (default mode), bf16"] = ms_per_step(step, args.steps, device)
    args.results.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.results / "gpu_step.json", json.dumps(results, indent=2) + "\n")
    atomic_write_text(args.results / "gpu_step.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
