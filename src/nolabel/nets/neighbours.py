"""Neighbour-embedding pretraining: codes that keep the input's nearest neighbours together.

An autoencoder trained on reconstruction alone may place samples that are neighbours in the
input far apart in its code space: on the 8x8 digits the 5-nearest-neighbour label agreement
is 0.963 on the pixels and 0.945-0.952 on the codes of DEC's autoencoder, and k-means on
those codes (0.784) ends below k-means on the pixels (0.795). Parametric UMAP (Sainburg,
McInnes and Gentner 2021) adds UMAP's cross-entropy between a k-nearest-neighbour graph of
the inputs and the codes to the reconstruction loss. This module is that term, in the form
that fits one mini-batch loop:

- :func:`neighbour_table`: each sample's ``k`` nearest other samples in the input (exact,
  squared Euclidean), computed once before pretraining;
- :func:`neighbour_loss`: for a batch of codes and the codes of one neighbour drawn per
  sample, UMAP's attraction ``-log q`` on those pairs and repulsion ``-log(1 - q)`` on every
  other pair in the batch, with UMAP's low-dimensional similarity ``q = 1 / (1 + a d^(2b))``
  at ``min_dist=0`` (``a, b`` from ``umap.umap_.find_ab_params(1.0, 0.0)``);
- :func:`with_neighbour_term`: a reconstruction loss plus ``weight`` times that term, on the
  codes the reconstruction computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from nolabel.errors import DataError
from nolabel.train import Objective
from nolabel.train.loop import take_rows

# UMAP's curve for spread 1, min_dist 0 (the N2D setting): q = 1 / (1 + A * d² ** B).
UMAP_A, UMAP_B = 1.9328, 0.7905
_BLOCK = 2048
# (net, batch) -> (loss, extras, codes of the batch)
LossAndCodes = Callable[..., tuple[torch.Tensor, dict, torch.Tensor]]


def _block(data, start: int, stop: int) -> torch.Tensor:
    rows = data[start:stop] if isinstance(data, torch.Tensor) else data.take(
        torch.arange(start, stop).numpy())
    return rows.flatten(1).float()


def neighbour_table(data, k: int) -> torch.Tensor:
    """Indices (n, k) of each row's ``k`` nearest other rows of ``data`` (a tensor, or a row
    source with ``take``), by squared Euclidean distance over the flattened samples; exact,
    in blocks of rows so that memory stays O(block x n). Costs n² x features multiply-adds."""
    n = len(data)
    if not 1 <= k < n:
        raise DataError(f"neighbor_k={k} must be at least 1 and below the number of training "
                        f"samples ({n})")
    device = _block(data, 0, 1).device  # rows from disk come on the training device
    best_d = torch.full((n, k), float("inf"), device=device)
    best_i = torch.zeros((n, k), dtype=torch.long, device=device)
    for q0 in range(0, n, _BLOCK):
        q = _block(data, q0, min(n, q0 + _BLOCK))
        q_sq = (q * q).sum(1, keepdim=True)
        for r0 in range(0, n, _BLOCK):
            r = q if r0 == q0 else _block(data, r0, min(n, r0 + _BLOCK))
            d = q_sq - 2.0 * q @ r.T + (r * r).sum(1)
            if r0 == q0:  # a sample is not its own neighbour
                d.fill_diagonal_(float("inf"))
            index = torch.arange(r0, r0 + len(r), device=device).expand(len(q), -1)
            merged_d = torch.cat([best_d[q0:q0 + len(q)], d], 1)
            merged_i = torch.cat([best_i[q0:q0 + len(q)], index], 1)
            top_d, top = merged_d.topk(k, dim=1, largest=False)
            best_d[q0:q0 + len(q)] = top_d
            best_i[q0:q0 + len(q)] = merged_i.gather(1, top)
    return best_i


def neighbour_loss(codes: torch.Tensor, partners: torch.Tensor) -> torch.Tensor:
    """UMAP's cross-entropy on a batch: row i of ``partners`` is the code of a neighbour of
    sample i (attracted); every other row of ``partners`` is a negative for it (repelled).
    Written with softplus of ``s = log a + b log d²``: ``-log q = softplus(s)`` and
    ``-log(1 - q) = softplus(-s)``, finite for any distance."""
    codes, partners = codes.float(), partners.float()
    squared = torch.cdist(codes, partners).pow(2).clamp_min(1e-8)
    s = math.log(UMAP_A) + UMAP_B * torch.log(squared)
    positive = torch.eye(len(codes), dtype=torch.bool, device=codes.device)
    attraction = F.softplus(s[positive]).mean()
    repulsion = F.softplus(-s[~positive]).mean() if len(codes) > 1 else s.new_zeros(())
    return attraction + repulsion


def with_neighbour_term(name: str, loss_and_codes: LossAndCodes,
                        encode: Callable[[torch.Tensor], torch.Tensor], data, weight: float,
                        optimizer: torch.optim.Optimizer) -> Objective:
    """The objective ``name``: ``loss_and_codes``'s loss plus ``weight`` x
    :func:`neighbour_loss`. ``loss_and_codes(net, batch)`` returns ``(loss, extras, codes)``,
    the codes being those of the batch that its own forward pass computed: the term reuses
    them, so only the neighbours are encoded anew (by ``encode``): the batch is not encoded
    a second time for the term. With denoising those are the codes of the corrupted inputs.
    The batches carry the rows of :func:`neighbour_table` as their second tensor; one
    neighbour per sample is drawn from torch's generator (the fit's private one, so
    checkpoints resume exactly) and read from ``data``, the whole training set."""

    def loss(net, batch):
        table = batch[1]
        choice = torch.randint(table.shape[1], (len(table),), device=table.device)
        rows = torch.arange(len(table), device=table.device)
        total, extras, codes = loss_and_codes(net, batch)
        neighbours = take_rows(data, table[rows, choice]).to(codes.device)
        term = neighbour_loss(codes, encode(neighbours))
        extras = {"reconstruction": total.detach(), **extras, "neighbours": term.detach()}
        return total + weight * term, extras

    return Objective(name, loss, optimizer)


def without_codes(loss_and_codes: LossAndCodes) -> Callable[..., tuple]:
    """``loss_and_codes`` as an objective's loss, ``(loss, extras)``, where no neighbour term
    needs the codes."""
    return lambda net, batch: loss_and_codes(net, batch)[:2]
