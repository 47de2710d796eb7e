"""A real training killed with SIGKILL resumes from its last checkpoint to the same weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import nolabel
from nolabel.train import read_tensors

SETTINGS = {"latent_dim": 4, "hidden_dims": (256, 256), "batch_size": 8, "random_state": 3,
            "device": "cpu", "verbose": 0}
EPOCHS = 6

TRAIN = textwrap.dedent("""
    import sys, numpy as np, torch, nolabel
    torch.set_num_threads(1)
    X = np.load(sys.argv[1])
    nolabel.AutoEncoder(**{settings!r}, epochs={epochs}, checkpoint_path=sys.argv[2]).fit(X)
""")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")


def _data(tmp_path):
    from sklearn.datasets import load_digits

    X = (load_digits().data[:600] / 16.0).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    return X


def _start(tmp_path, checkpoint):
    script = TRAIN.format(settings=SETTINGS, epochs=EPOCHS)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "X.npy"),
                             str(checkpoint)], env=env, stderr=subprocess.PIPE)


def _epoch_of(checkpoint) -> int:
    return int(read_tensors(checkpoint)[1]["epoch"]) if checkpoint.exists() else 0


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path):
    X = _data(tmp_path)
    checkpoint = tmp_path / "ckpt.safetensors"
    child = _start(tmp_path, checkpoint)
    deadline = time.monotonic() + 120
    while _epoch_of(checkpoint) < 1 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first = time.monotonic()
    while _epoch_of(checkpoint) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    epoch_seconds = time.monotonic() - first
    time.sleep(epoch_seconds / 2)  # into the middle of epoch 3
    assert child.poll() is None, "training ended before it could be killed"
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    reached = _epoch_of(checkpoint)
    assert 2 <= reached < EPOCHS

    resumed = nolabel.AutoEncoder(**SETTINGS, epochs=EPOCHS).fit(X, resume_from=checkpoint)
    whole = nolabel.AutoEncoder(**SETTINGS, epochs=EPOCHS).fit(X)
    assert resumed.n_epochs_ == EPOCHS and len(resumed.history_["loss"]) == EPOCHS
    for name, value in whole.module_.state_dict().items():
        assert torch.equal(resumed.module_.state_dict()[name], value), name
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["X.npy", "ckpt.safetensors"]  # a half-written file stays hidden


def test_kills_at_random_moments_never_leave_a_broken_checkpoint(tmp_path):
    _data(tmp_path)
    checkpoint = tmp_path / "ckpt.safetensors"
    rng = np.random.default_rng(0)
    for _ in range(3):
        child = _start(tmp_path, checkpoint)
        started = time.monotonic()
        while _epoch_of(checkpoint) < 1 and child.poll() is None:
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0.0, 1.5)))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        tensors, meta = read_tensors(checkpoint)  # raises if half-written
        assert meta["kind"] == "checkpoint" and meta["epoch"] >= 1
        assert all(torch.isfinite(t).all() for k, t in tensors.items() if k.startswith("model."))
        assert time.monotonic() - started < 120
        checkpoint.unlink()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["X.npy"]
