"""k-means over row blocks and processes: for data on disk or split across ``torchrun`` ranks.

Each process reads only its rows, one block at a time, so memory stays bounded by the block
size whatever the data size. Every pass computes per-cluster sums locally; the sums are added
over processes with one ``all_reduce``, so every process takes the same steps and ends with
the same centres, equal to a single-process Lloyd run from the same starting centres (up to
the order of floating-point additions).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel._chunks import RowSource
from nolabel._device import torch_generator
from nolabel.classical._kmeans_core import assign, kmeans_plusplus, row_norms_sq
from nolabel.errors import DataError
from nolabel.train import distributed

# Elements per block read from disk (16 MB of float32).
_BLOCK_ELEMENTS = 1 << 22
# Rows of the uniform sample on which k-means++ seeds the centres.
SEEDING_SAMPLE = 50_000


def wants_shards(X: Any) -> bool:
    """Data on disk, or a distributed run: fit through :class:`Shard`."""
    return isinstance(X, str | Path | np.memmap) or distributed.is_distributed()


class Shard:
    """This process's rows, read in blocks, with totals over every process.

    A path is split into one contiguous block of rows per process; an array is taken to be
    this process's share already (each process passes its own).
    """

    def __init__(self, X: Any, device: torch.device, name: str = "X") -> None:
        self.source = RowSource(X, device, name=name)
        rows = (distributed.shard_rows(self.source.n_samples) if isinstance(X, str | Path)
                else slice(0, self.source.n_samples))
        self.start, self.stop = rows.start, rows.stop
        self.device = device
        self.n_features = self.source.n_features
        self.n_local = self.stop - self.start
        shapes = distributed.all_gather(torch.tensor([self.n_local, self.n_features]),
                                        what="counting the rows and features of every process")
        self.n_total = int(sum(int(shape[0]) for shape in shapes))
        widths = [int(shape[1]) for shape in shapes]
        if len(set(widths)) > 1:
            raise DataError(f"processes hold data with different feature counts {widths}")
        self.block_rows = max(1, _BLOCK_ELEMENTS // max(self.n_features, 1))
        self._checked = False

    def blocks(self, dtype: torch.dtype = torch.float32) -> Iterator[torch.Tensor]:
        """The rows block by block; validated (NaN/inf named by row) until one pass is done."""
        check = not self._checked
        for start in range(self.start, self.stop, self.block_rows):
            yield self.source.read(start, min(start + self.block_rows, self.stop),
                                   check=check).to(dtype)
        self._checked = True

    def total(self, tensor: torch.Tensor, what: str) -> torch.Tensor:
        return distributed.all_reduce(tensor, what=what)

    def sample(self, n_rows: int, seed: int) -> torch.Tensor:
        """A uniform sample of about ``n_rows`` rows of all processes, the same everywhere."""
        wanted = min(self.n_local, math.ceil(n_rows * self.n_local / max(self.n_total, 1)))
        generator = torch_generator(seed + 7919 * distributed.rank())
        local = torch.randperm(self.n_local, generator=generator)[:wanted].sort().values
        rows = self.source.take(local.numpy() + self.start) if wanted else torch.empty(
            0, self.n_features, device=self.device)
        return distributed.all_gather_rows(rows.float(), what="gathering a seeding sample")

    def farthest(self, centers: torch.Tensor, count: int) -> torch.Tensor:
        """The ``count`` rows (of all processes) farthest from their nearest centre."""
        best_rows = torch.empty(0, self.n_features, device=self.device)
        best = torch.empty(0, dtype=torch.float64, device=self.device)
        for block in self.blocks():
            _, distances = assign(block, row_norms_sq(block), centers)
            best = torch.cat([best, distances.double()])
            best_rows = torch.cat([best_rows, block])
            keep = torch.topk(best, k=min(count, len(best))).indices
            best, best_rows = best[keep], best_rows[keep]
        everyone = distributed.all_gather_rows(torch.cat([best[:, None], best_rows.double()], 1),
                                               what="finding far points for empty clusters")
        chosen = torch.topk(everyone[:, 0], k=count).indices
        return everyone[chosen, 1:].to(centers.dtype)


def assignment_pass(shard: Shard, centers: torch.Tensor):
    """Nearest centre of every local row, with per-cluster sums, counts and the inertia
    totalled over every process."""
    k, d = centers.shape
    sums = torch.zeros(k, d, dtype=torch.float64, device=centers.device)
    counts = torch.zeros(k, dtype=torch.float64, device=centers.device)
    inertia = torch.zeros(1, dtype=torch.float64, device=centers.device)
    # Filled in place: small per-block allocations that outlive the block would pin the
    # freed block memory in the heap, and the process would grow by a block per block.
    labels = torch.empty(shard.n_local, dtype=torch.long, device=centers.device)
    done = 0
    for block in shard.blocks():
        block_labels, distances = assign(block, row_norms_sq(block), centers)
        # A block's sums as one matrix product (float32 over at most a block of rows), then
        # accumulated in float64 across blocks.
        one_hot = torch.zeros(len(block), k, dtype=block.dtype, device=block.device)
        one_hot[torch.arange(len(block), device=block.device), block_labels] = 1.0
        sums += (one_hot.T @ block).double()
        counts += one_hot.sum(0).double()
        inertia += distances.double().sum()
        labels[done:done + len(block)] = block_labels
        done += len(block)
    packed = shard.total(torch.cat([sums.flatten(), counts, inertia]), "a k-means step")
    return packed[:k * d].view(k, d), packed[k * d:k * d + k], float(packed[-1]), labels


def seed_centers(shard: Shard, n_clusters: int, init: str, generator: torch.Generator,
                 seed: int) -> torch.Tensor:
    """k-means++ (or random rows) on a uniform sample of all processes' rows."""
    sample = shard.sample(max(SEEDING_SAMPLE, 10 * n_clusters), seed)
    if init == "random":
        index = torch.randperm(len(sample), generator=generator)[:n_clusters]
        return sample[index.to(sample.device)].clone()
    return kmeans_plusplus(sample, row_norms_sq(sample), n_clusters, generator)


def lloyd(shard: Shard, centers: torch.Tensor, max_iter: int, tol: float):
    """Lloyd's algorithm with the stopping rule of ``_kmeans_core.lloyd_single``; returns
    (centres, local labels, total inertia, n_iter)."""
    sums, counts, _, labels = assignment_pass(shard, centers)
    changed, n_iter = -1, 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported after the loop
        updated = (sums / counts.clamp_min(1.0)[:, None]).to(centers.dtype)
        empty = torch.nonzero(counts < 0.5).flatten()
        if empty.numel():
            updated[empty] = shard.farthest(centers, int(empty.numel()))
        shifts = (updated.double() - centers.double()).square().sum(1)
        centers = updated
        if changed == 0 or float(shifts.sum()) <= tol:
            break
        sums, counts, _, new_labels = assignment_pass(shard, centers)
        moved = torch.tensor([float((new_labels != labels).sum())], dtype=torch.float64)
        changed = int(shard.total(moved, "counting moved points")[0])
        labels = new_labels
    _, _, inertia, labels = assignment_pass(shard, centers)
    return centers, labels, inertia, n_iter


def moments(shard: Shard) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (biased) variance of every feature over all processes' rows, float64."""
    d = shard.n_features
    sums = torch.zeros(2 * d, dtype=torch.float64, device=shard.device)
    for block in shard.blocks(torch.float64):
        sums[:d] += block.sum(0)
        sums[d:] += block.square().sum(0)
    sums = shard.total(sums, "the data's moments")
    mean = sums[:d] / shard.n_total
    return mean, (sums[d:] / shard.n_total - mean.square()).clamp_min(0.0)


def mean_variance(shard: Shard) -> float:
    """Mean per-feature variance of all processes' rows (k-means' tolerance scale)."""
    return float(moments(shard)[1].mean())
