"""Epoch time of nolabel.train.fit against a hand-written PyTorch loop over the same network.

Both loops see the same network (same initial weights), Adam, MSE reconstruction loss and
mini-batches gathered from a seeded random permutation; runs are interleaved so machine drift
hits both alike, and medians are reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn


def loop_overhead(network: Callable[[], nn.Module], data: torch.Tensor, *, batch_size: int,
                  epochs: int, repeats: int) -> dict:
    from nolabel.train import Objective, TrainConfig, fit

    def build() -> nn.Module:
        torch.manual_seed(0)
        return network()

    def bare() -> list[float]:
        module = build()
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(0)
        times = []
        module.train()
        for _ in range(epochs):
            start = time.perf_counter()
            order = torch.randperm(len(data), generator=generator)
            for first in range(0, len(data), batch_size):
                x = data[order[first:first + batch_size]]
                optimizer.zero_grad(set_to_none=True)
                output, _ = module(x)
                loss = ((output - x) ** 2).mean()
                loss.backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
        return times

    def ours() -> list[float]:
        module = build()

        def mse(model, batch):
            output, _ = model(batch[0])
            return ((output - batch[0]) ** 2).mean()

        objective = Objective("mse", mse, torch.optim.Adam(module.parameters(), lr=1e-3))
        config = TrainConfig(epochs=epochs, batch_size=batch_size, device=torch.device("cpu"),
                             seed=0, verbose=0)
        return fit(module, (data,), [objective], config).history["epoch_time"]

    bare_times, our_times = [], []
    for _ in range(repeats):
        bare_times += bare()
        our_times += ours()
    bare_median, our_median = statistics.median(bare_times), statistics.median(our_times)
    return {"n_samples": len(data), "batch_size": batch_size, "epochs_measured": len(our_times),
            "bare_epoch_s": bare_median, "nolabel_epoch_s": our_median,
            "overhead_pct": 100 * (our_median / bare_median - 1)}
