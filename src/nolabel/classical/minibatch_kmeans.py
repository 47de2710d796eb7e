"""Mini-batch k-means (Sculley 2010) over data larger than memory, read in row blocks.

The update is scikit-learn's ``MiniBatchKMeans``: each centre moves towards the mean of its
batch points with a step of (batch count / all points it has seen so far), centres that
attract almost nothing are moved onto random points, and fitting stops early when the
smoothed batch inertia stops improving (the first batch's inertia, that of the initial
centres, is left out of the average as scikit-learn does: it held the average up for a
hundred batches). What differs is how data is read: an epoch visits blocks of
``block_size`` rows in random order and draws batches inside each block, so a ``.npy`` file
(or a numpy memmap) is read block by block instead of row by random row, and only one block
is ever in memory. Because batches come from one block at a time, the early stop waits for
the end of the first pass: in a file sorted by cluster, the first blocks alone would stop
it with centres that never saw the rest.
"""

from __future__ import annotations

import numpy as np
import torch

from nolabel._chunks import RowSource
from nolabel._device import resolve_device, resolve_seed, torch_generator
from nolabel._validation import check_float, check_int, check_is_fitted, check_n_features
from nolabel.classical._kmeans_core import assign, finite_inertia, row_norms_sq
from nolabel.classical.kmeans import KMeans
from nolabel.registry import register


def _sample_rows(source: RowSource, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` distinct random rows, read in file order (cheap on a memory map)."""
    count = min(count, source.n_samples)
    chosen = torch.randperm(source.n_samples, generator=generator)[:count].sort().values
    return source.take(chosen.numpy())


class _Centers:
    """Centres with the number of points each has absorbed (the per-centre learning rate)."""

    def __init__(self, centers: torch.Tensor) -> None:
        self.centers = centers.clone()
        self.weights = torch.zeros(len(centers), dtype=torch.float64, device=centers.device)

    def step(self, batch: torch.Tensor) -> tuple[float, float]:
        """One mini-batch update; returns (batch inertia per point, squared centre shift)."""
        labels, distances = assign(batch, row_norms_sq(batch), self.centers)
        k = len(self.centers)
        # Per-centre sums as one (k x rows) product in float32 (a batch is short), then
        # combined with the running means in float64.
        one_hot = torch.zeros(k, batch.shape[0], dtype=batch.dtype, device=batch.device)
        one_hot[labels, torch.arange(batch.shape[0], device=batch.device)] = 1.0
        sums = (one_hot @ batch).double()
        counts = one_hot.sum(1).double()
        new_weights = self.weights + counts
        old = self.centers.double()
        updated = (old * self.weights[:, None] + sums) / new_weights.clamp_min(1.0)[:, None]
        updated = torch.where((counts > 0)[:, None], updated, old)
        shift = float((updated - old).square().sum())
        self.centers = updated.to(self.centers.dtype)
        self.weights = new_weights
        return float(distances.double().mean()), shift

    def reassign_starved(self, block: torch.Tensor, ratio: float,
                         generator: torch.Generator) -> int:
        """Move centres that absorbed < ``ratio`` x the busiest one's points onto random rows."""
        if ratio <= 0 or float(self.weights.max()) == 0:
            return 0
        starved = torch.nonzero(self.weights < ratio * self.weights.max()).flatten()
        if not starved.numel():
            return 0
        picks = torch.randint(block.shape[0], (starved.numel(),), generator=generator)
        self.centers[starved] = block[picks.to(block.device)]
        kept = self.weights[self.weights >= ratio * self.weights.max()]
        self.weights[starved] = kept.min()
        return int(starved.numel())


@register("minibatch-kmeans", "mini-batch k-means over data larger than memory (memmapped .npy)")
class MiniBatchKMeans(KMeans):
    """k-means by mini-batch updates, for data too large to hold (numpy memmap or ``.npy`` path).

    Parameters
    ----------
    n_clusters, init, random_state, device : as in :class:`KMeans`.
    batch_size : rows per mini-batch update.
    max_iter : passes over the data (epochs) at most.
    block_size : rows read at once; batches are drawn inside each block.
    n_init : initialisations tried on a random sample of ``init_size`` rows; the one with the
        lowest inertia on another sample is kept. ``"auto"``: 1 for k-means++, 3 for random.
    init_size : rows sampled for initialisation (default ``3 * batch_size``).
    max_no_improvement : stop after this many batches without improvement of the smoothed
        batch inertia, once every block has been read (``None`` never stops early on it).
    tol : stop when the squared centre shift of a batch, relative to the data's mean
        variance (measured on the initialisation sample), falls below this (0 disables).
    reassignment_ratio : centres that absorbed fewer than this fraction of the busiest
        centre's points are moved to random points after every block.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | np.ndarray = "k-means++",
        batch_size: int = 1024,
        max_iter: int = 100,
        block_size: int = 65536,
        n_init: int | str = "auto",
        init_size: int | None = None,
        max_no_improvement: int | None = 10,
        tol: float = 0.0,
        reassignment_ratio: float = 0.01,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        super().__init__(n_clusters, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
                         random_state=random_state, device=device)
        self.batch_size = batch_size
        self.block_size = block_size
        self.init_size = init_size
        self.max_no_improvement = max_no_improvement
        self.reassignment_ratio = reassignment_ratio

    def _check_minibatch_params(self, n_samples: int) -> int:
        n_init = self._check_params(n_samples)
        if self.n_init == "auto" and self.init == "random":
            n_init = 3
        check_int("batch_size", self.batch_size)
        check_int("block_size", self.block_size)
        if self.init_size is not None:
            check_int("init_size", self.init_size)
        if self.max_no_improvement is not None:
            check_int("max_no_improvement", self.max_no_improvement)
        check_float("reassignment_ratio", self.reassignment_ratio, minimum=0.0)
        return n_init

    def _initialise(self, source: RowSource, n_init: int, generator: torch.Generator):
        """(centres, the sample they were seeded on): the best of ``n_init`` seedings on
        samples of ``init_size`` rows, judged by the inertia of another sample (drawn only
        when there is a choice: reading random rows of a file is the costly part)."""
        size = max(self.init_size or 3 * self.batch_size, self.n_clusters)
        best, best_inertia = None, np.inf
        for _ in range(n_init):
            sample = _sample_rows(source, size, generator)
            centers = self._initial_centers(sample, row_norms_sq(sample), generator)
            if n_init == 1:
                return centers, sample
            validation = _sample_rows(source, size, generator)
            _, distances = assign(validation, row_norms_sq(validation), centers)
            inertia = finite_inertia(float(distances.double().sum()))
            if inertia < best_inertia:
                best, best_inertia = (centers, sample), inertia
        return best

    def fit(self, X, y=None) -> MiniBatchKMeans:
        device = resolve_device(self.device)
        source = RowSource(X, device)
        n_init = self._check_minibatch_params(source.n_samples)
        generator = torch_generator(resolve_seed(self.random_state))
        start, sample = self._initialise(source, n_init, generator)
        state = _Centers(start)
        tol = self.tol * float(sample.var(0).mean()) if self.tol > 0 else 0.0
        smoothed, best, stale, steps = None, np.inf, 0, 0
        alpha = min(1.0, 2.0 * self.batch_size / (source.n_samples + 1))
        n_blocks = (source.n_samples + self.block_size - 1) // self.block_size
        # Rows are validated on the first pass only; a read-only array (a memmap) is
        # validated, and so copied, on every read: torch refuses read-only memory.
        always_check = isinstance(X, np.ndarray) and not X.flags.writeable
        stopped = False
        for epoch in range(1, self.max_iter + 1):
            order = torch.randperm(n_blocks, generator=generator)
            for block_index in order.tolist():
                first = block_index * self.block_size
                block = source.read(first, min(first + self.block_size, source.n_samples),
                                    check=epoch == 1 or always_check)
                rows = torch.randperm(block.shape[0], generator=generator).to(device)
                for offset in range(0, block.shape[0], self.batch_size):
                    batch = torch.index_select(block, 0, rows[offset:offset + self.batch_size])
                    inertia, shift = state.step(batch)
                    steps += 1
                    if tol > 0 and shift <= tol:
                        stopped = True
                        break
                    if steps == 1:
                        continue  # the initial centres' inertia would hold the average up
                    smoothed = inertia if smoothed is None else (
                        smoothed * (1 - alpha) + inertia * alpha)
                    if smoothed < best:
                        best, stale = smoothed, 0
                    else:
                        stale += 1
                    if (epoch > 1 and self.max_no_improvement is not None
                            and stale >= self.max_no_improvement):
                        stopped = True
                        break
                if stopped:
                    break
                state.reassign_starved(block, self.reassignment_ratio, generator)
            if stopped:
                break
            if self.max_no_improvement is not None and stale >= self.max_no_improvement:
                break  # the smoothed inertia stalled during the first pass
        self.n_iter_ = epoch
        self.n_steps_ = steps
        self.cluster_centers_ = state.centers.cpu().numpy()
        self.n_features_in_ = source.n_features
        labels, inertia = self._label_all(source, check=(epoch == 1 and stopped) or always_check)
        self.labels_, self.inertia_ = labels, inertia
        return self

    def partial_fit(self, X, y=None) -> MiniBatchKMeans:
        """One mini-batch update with the rows of ``X`` (initialising on the first call)."""
        device = resolve_device(self.device)
        source = RowSource(X, device)
        batch = source.read(0, source.n_samples)
        if not hasattr(self, "cluster_centers_"):
            self._check_minibatch_params(source.n_samples)
            self._generator = torch_generator(resolve_seed(self.random_state))
            self._state = _Centers(self._initial_centers(batch, row_norms_sq(batch),
                                                         self._generator))
            self.n_features_in_ = source.n_features
            self.n_steps_ = 0
        else:
            check_n_features(self, (source.n_samples, *source.sample_shape))
            if not hasattr(self, "_state"):  # loaded from disk: resume from the centres
                self._state = _Centers(torch.from_numpy(self.cluster_centers_).to(device))
        self._state.step(batch.to(self._state.centers.device))
        self.n_steps_ += 1
        self.cluster_centers_ = self._state.centers.cpu().numpy()
        self.labels_, self.inertia_ = self._label_all(source)
        return self

    def _label_all(self, source: RowSource, check: bool = True) -> tuple[np.ndarray, float]:
        """Labels and inertia of every row; ``check`` validates rows not yet validated."""
        centers = torch.from_numpy(self.cluster_centers_).to(source.device)
        labels, inertia = [], 0.0
        for start in range(0, source.n_samples, self.block_size):
            block = source.read(start, min(start + self.block_size, source.n_samples), check)
            block_labels, distances = assign(block, row_norms_sq(block), centers)
            labels.append(block_labels.cpu())
            inertia += float(distances.double().sum())
        return torch.cat(labels).numpy(), finite_inertia(inertia)

    def predict(self, X) -> np.ndarray:
        """Nearest centre of every row, reading ``X`` (array, memmap or ``.npy`` path) in blocks."""
        check_is_fitted(self, ["cluster_centers_"])
        source = RowSource(X, resolve_device(self.device))
        check_n_features(self, (source.n_samples, *source.sample_shape))
        return self._label_all(source)[0]


__all__ = ["MiniBatchKMeans"]
