"""Per-epoch means of the logged losses and the NaN/inf guard of the training loop.

Sums and the first non-finite batch are kept on the device, so a batch costs no host sync;
they are looked at every few batches and at the end of the epoch (summed over processes in
a distributed run, so that every process takes the same decision).
"""

from __future__ import annotations

import torch
from torch import nn

from nolabel.errors import TrainingError
from nolabel.train import distributed

# Batches between two looks at the losses: a diverged run stops within this many batches.
CHECK_EVERY = 50


class Health:
    def __init__(self, n_batches: int) -> None:
        self.n_batches = n_batches
        self._never = n_batches + 1
        self._sums: dict[str, torch.Tensor] = {}
        self._first_bad: dict[str, torch.Tensor] = {}

    def add(self, name: str, value: torch.Tensor, batch: int, weight: float) -> None:
        """Log ``value`` (this process's mean over its share of batch number ``batch``)."""
        self._sums[name] = self._sums.get(name, 0.0) + value * weight
        first = self._first_bad.get(name)
        # torch.full and masked_fill take the numbers as kernel arguments, where
        # torch.tensor(n, device=...) would be a blocking host-to-GPU copy every batch.
        if first is None:
            first = torch.full((), self._never, device=value.device)
        still_clean = first == self._never
        self._first_bad[name] = first.masked_fill(~torch.isfinite(value) & still_clean, batch)

    def check(self, epoch: int, module: nn.Module, last_good: dict[str, torch.Tensor]) -> None:
        """Raise (after restoring ``last_good``) if a logged quantity stopped being finite."""
        names = sorted(self._first_bad)
        if not names:
            return
        first = torch.stack([self._first_bad[n] for n in names]).cpu()
        first = distributed.all_reduce(first, op="min", what="checking the losses")
        worst = int(first.argmin())
        if int(first[worst]) == self._never:
            return
        module.load_state_dict(last_good)
        raise TrainingError(
            f"{names[worst]} became NaN or infinite in epoch {epoch}, batch "
            f"{int(first[worst])} of {self.n_batches}; the model keeps the weights from the "
            f"end of epoch {epoch - 1}. Usual causes: a learning rate too high for this model "
            "(lower lr), data far from the scale the model expects (standardise tables, scale "
            "images to [0, 1]), or exploding gradients (set grad_clip=1.0)."
        )

    def means(self) -> dict[str, float]:
        """Mean of every logged quantity over the epoch's global batches."""
        names = sorted(self._sums)
        if not names:
            return {}
        sums = torch.stack([torch.as_tensor(self._sums[n]).float() for n in names]).cpu()
        sums = distributed.all_reduce(sums, what="averaging the losses")
        scale = distributed.world_size() * self.n_batches
        return {name: float(total) / scale for name, total in zip(names, sums, strict=True)}
