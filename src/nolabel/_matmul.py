"""The package's one matrix-product policy on the CPU: torch's own product, in torch code.

A hot loop keeps its products and its element-wise work in one library, so that one thread
pool runs it. numpy's BLAS (OpenBLAS) is faster than torch's (MKL) per product on some
CPUs (10-20 % at one thread on the AMD EPYC that measured it), but its threads and torch's
OpenMP threads spin while the other pool works: on 2 shared cores, KernelDensity's loop took
20.3 s with numpy products against 15.7 s all in torch, and randomized PCA lost the gap
entirely. So:

- torch code multiplies with torch (``matmul`` here, or ``@``), on every device;
- a loop written entirely in numpy (PCA's covariance Gram matrix, numpy's ``a.T @ a``, a
  symmetric product at half the work) may use numpy's BLAS, with no torch op inside it.
"""

from __future__ import annotations

import torch


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` by torch on every device (see the module docstring for why not numpy's)."""
    return a @ b
