"""Running under ``torchrun``: process group, ranks, and the collectives nolabel needs.

nolabel never starts processes itself. ``torchrun --nproc_per_node=N script.py`` (or
``nolabel fit ...``) sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``; the first estimator that trains sees them and joins the process group (NCCL
on GPUs, gloo on CPU). Code that initialised the group itself is used as it is.

A collective that fails because another process died is re-raised as a
:class:`~nolabel.errors.TrainingError` naming this rank; the timeout of every collective is
``NOLABEL_DIST_TIMEOUT`` seconds (default 1800), so a lost peer never hangs a run forever.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch
import torch.distributed as dist

from nolabel.errors import TrainingError

_TIMEOUT_VARIABLE = "NOLABEL_DIST_TIMEOUT"


def launched_by_torchrun() -> bool:
    """True when the environment describes a multi-process launch (``torchrun`` and alike)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def timeout() -> timedelta:
    return timedelta(seconds=float(os.environ.get(_TIMEOUT_VARIABLE, "1800")))


def setup(device: torch.device) -> bool:
    """Join the process group described by the environment, if any; True when distributed."""
    if not dist.is_available():
        return False
    if not dist.is_initialized() and launched_by_torchrun():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        try:
            dist.init_process_group(backend=backend, timeout=timeout())
        except (RuntimeError, ValueError) as exc:
            raise TrainingError(
                f"could not join the distributed run as rank {os.environ.get('RANK')} of "
                f"{os.environ.get('WORLD_SIZE')} ({backend} backend, rendezvous at "
                f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}): {exc}"
            ) from exc
        atexit.register(_leave)
    return is_distributed()


def exit_process(code: int) -> None:
    """End a process that nolabel joined to a distributed run: leave the group, flush the
    output and exit at once, without the interpreter's finalisation.

    For the ``nolabel`` command under ``torchrun`` only, where nothing is left to do. Even
    after the group is destroyed, a rank's finalisation aborted ("terminate called without
    an active exception", SIGABRT) in about one run of twenty-five on 2 busy cores, after
    a fit that had succeeded and written its run, so ``torchrun`` reported the run failed.
    A plain torch DDP script did not reproduce it in 60 runs; skipping finalisation ended
    it. Outside a distributed run it returns and the caller exits as usual."""
    if not (launched_by_torchrun() and dist.is_available() and dist.is_initialized()):
        return
    _leave()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _leave() -> None:
    """Destroy the process group nolabel joined, at interpreter exit: left to the
    interpreter's teardown, gloo's threads can be destroyed while still joinable and abort
    the process ("terminate called without an active exception") after a run that succeeded."""
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0, or the only process: the one that writes files and prints progress."""
    if is_distributed():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


# Words in the errors gloo, NCCL and the store raise when a peer is gone or too slow.
_PEER_FAILURE = ("gloo", "nccl", "connection", "timed out", "timeout", "socket", "peer")


def _peer_failure(exc: BaseException) -> bool:
    if isinstance(exc, dist.DistError):
        return True
    return isinstance(exc, RuntimeError) and any(
        word in str(exc).lower() for word in _PEER_FAILURE)


@contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn a failed collective (a peer died, timed out) into a clear TrainingError; other
    errors pass through unchanged."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, TrainingError) or not (is_distributed() and _peer_failure(exc)):
            raise
        raise TrainingError(
            f"rank {rank()} of {world_size()}: {what} failed; another process of the "
            f"distributed run has probably died or stalled (timeout {timeout()}): {exc}"
        ) from exc


def _backend_device(tensor: torch.Tensor) -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce(tensor: torch.Tensor, op: str = "sum", what: str = "all_reduce") -> torch.Tensor:
    """Sum (or ``"min"``/``"max"``) ``tensor`` over all processes; a no-op when alone."""
    if not is_distributed():
        return tensor
    ops = {"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}
    moved = tensor.to(_backend_device(tensor))
    with collective(what):
        dist.all_reduce(moved, op=ops[op])
    return moved.to(tensor.device)


def all_gather(tensor: torch.Tensor, what: str = "all_gather") -> list[torch.Tensor]:
    """Every process's ``tensor`` (same shape everywhere), in rank order."""
    if not is_distributed():
        return [tensor]
    moved = tensor.to(_backend_device(tensor))
    parts = [torch.empty_like(moved) for _ in range(world_size())]
    with collective(what):
        dist.all_gather(parts, moved)
    return [part.to(tensor.device) for part in parts]


def all_gather_rows(tensor: torch.Tensor, what: str = "all_gather") -> torch.Tensor:
    """Concatenate every process's rows (row counts may differ between processes)."""
    if not is_distributed():
        return tensor
    counts = all_gather(torch.tensor([tensor.shape[0]], dtype=torch.long), what)
    most = int(max(int(c) for c in counts))
    padded = torch.zeros(most, *tensor.shape[1:], dtype=tensor.dtype, device=tensor.device)
    padded[:tensor.shape[0]] = tensor
    parts = all_gather(padded, what)
    return torch.cat([part[:int(count)] for part, count in zip(parts, counts, strict=True)])


def barrier(what: str = "barrier") -> None:
    if is_distributed():
        with collective(what):
            dist.barrier()


def shard_rows(n_samples: int) -> slice:
    """This process's contiguous block of ``n_samples`` rows (sizes differ by at most one)."""
    size, index = world_size(), rank()
    base, extra = divmod(n_samples, size)
    start = index * base + min(index, extra)
    return slice(start, start + base + (1 if index < extra else 0))
