"""The distributed path on CPU: 2 processes, gloo, launched by torchrun (or by hand).

Each test runs tests/distributed_worker.py in two processes and compares what they ended
with against a single-process run in this process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import nolabel
from nolabel.train import distributed

WORKER = Path(__file__).with_name("distributed_worker.py")
SETTINGS = {"latent_dim": 4, "hidden_dims": (32,), "batch_size": 64, "lr": 1e-3,
            "random_state": 0, "device": "cpu", "verbose": 0}


def _environment() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NOLABEL_DIST_TIMEOUT="60")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return env


def torchrun(scenario: str, out: Path, timeout: float = 240) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", str(WORKER), scenario, str(out)]
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]


def digits(n: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().data[:n] / 16.0).astype(np.float32)


def assert_same_weights(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=atol, rtol=0, msg=name)


def test_ddp_autoencoder_matches_single_process_and_only_rank0_writes(tmp_path):
    torchrun("autoencoder", tmp_path)
    rank0 = load_file(str(tmp_path / "weights0.safetensors"))
    rank1 = load_file(str(tmp_path / "weights1.safetensors"))
    assert_same_weights(rank0, rank1, atol=0.0)  # DDP keeps the replicas identical
    single = nolabel.AutoEncoder(**SETTINGS, epochs=3).fit(digits(301))
    assert_same_weights(rank0, single.module_.state_dict(), atol=1e-5)
    info = [json.loads((tmp_path / f"info{r}.json").read_text()) for r in (0, 1)]
    assert [i["world_size"] for i in info] == [2, 2]
    assert info[0]["checkpoint_writes"] == 3 and info[1]["checkpoint_writes"] == 0
    np.testing.assert_allclose(info[0]["history"], single.history_["loss"], rtol=1e-4)
    assert info[0]["history"] == info[1]["history"]  # losses are averaged over processes
    assert (tmp_path / "ckpt.safetensors").exists()


def test_resumed_two_process_run_continues_exactly(tmp_path):
    torchrun("resume", tmp_path)
    for rank in (0, 1):
        full = load_file(str(tmp_path / f"full{rank}.safetensors"))
        resumed = load_file(str(tmp_path / f"resumed{rank}.safetensors"))
        assert_same_weights(full, resumed, atol=0.0)


def test_two_optimiser_gan_trains_under_ddp(tmp_path):
    torchrun("gan", tmp_path)
    rank0 = load_file(str(tmp_path / "gan0.safetensors"))
    rank1 = load_file(str(tmp_path / "gan1.safetensors"))
    assert_same_weights(rank0, rank1, atol=0.0)
    history = json.loads((tmp_path / "info0.json").read_text())["history"]
    assert {"generator_loss", "discriminator_loss"} <= set(history)
    assert all(np.isfinite(v).all() for v in history.values())


@pytest.mark.slow  # about a minute: pretraining + two models in two processes
def test_deep_clusterers_train_under_ddp(tmp_path):
    torchrun("clusterers", tmp_path)
    info = [json.loads((tmp_path / f"info{r}.json").read_text()) for r in (0, 1)]
    for name in ("dec", "dac"):
        rank0 = load_file(str(tmp_path / f"{name}0.safetensors"))
        rank1 = load_file(str(tmp_path / f"{name}1.safetensors"))
        assert_same_weights(rank0, rank1, atol=0.0)
        assert info[0][name]["labels"] == info[1][name]["labels"]
        assert len(set(info[0][name]["labels"])) > 1
        assert all(np.isfinite(v).all() for v in info[0][name]["history"].values())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_distributed_kmeans_and_gmm_equal_single_process_from_same_start(tmp_path):
    X = digits(600)
    centres = X[::60][:10]
    np.save(tmp_path / "init.npy", centres)
    torchrun("clustering", tmp_path)
    kmeans = nolabel.KMeans(10, init=centres, device="cpu").fit(X)
    gmm = nolabel.GaussianMixture(10, covariance_type="diag", means_init=centres,
                                  device="cpu", max_iter=20, tol=0.0).fit(X)
    for rank in (0, 1):
        fitted = load_file(str(tmp_path / f"fit{rank}.safetensors"))
        info = json.loads((tmp_path / f"info{rank}.json").read_text())
        np.testing.assert_allclose(fitted["kmeans_centres"], kmeans.cluster_centers_, atol=1e-5)
        assert info["inertia"] == pytest.approx(kmeans.inertia_, rel=1e-6)
        np.testing.assert_allclose(fitted["gmm_means"], gmm.means_, atol=1e-7)
        np.testing.assert_allclose(fitted["gmm_covariances"], gmm.covariances_, atol=1e-7)
        np.testing.assert_allclose(fitted["gmm_weights"], gmm.weights_, atol=1e-9)
        assert info["gmm_lower_bound"] == pytest.approx(gmm.lower_bound_, abs=1e-9)


def _free_port() -> int:
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def test_killing_one_rank_fails_the_other_with_a_clear_error(tmp_path):
    env = _environment()
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2",
               NOLABEL_DIST_TIMEOUT="30")
    start = time.monotonic()
    ranks = [subprocess.Popen([sys.executable, str(WORKER), "killed_peer", str(tmp_path)],
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in (0, 1)]
    codes = [rank.wait(timeout=120) for rank in ranks]
    assert codes[1] == -9  # the victim
    assert codes[0] == 3, ranks[0].stderr.read()[-2000:]
    message = (tmp_path / "error0.txt").read_text()
    assert "rank 0 of 2" in message and "another process" in message
    assert time.monotonic() - start < 100


def test_single_process_helpers_are_identities():
    assert not distributed.is_distributed() and distributed.is_main_process()
    assert distributed.world_size() == 1 and distributed.rank() == 0
    tensor = torch.arange(3.0)
    assert distributed.all_reduce(tensor) is tensor
    assert distributed.shard_rows(10) == slice(0, 10)


@pytest.mark.parametrize("n, world, expected", [(10, 3, [4, 3, 3]), (2, 3, [1, 1, 0])])
def test_shards_cover_rows_once(monkeypatch, n, world, expected):
    sizes, seen = [], []
    for r in range(world):
        monkeypatch.setattr(distributed, "world_size", lambda w=world: w)
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        part = distributed.shard_rows(n)
        sizes.append(part.stop - part.start)
        seen.extend(range(n)[part])
    assert sizes == expected and seen == list(range(n))


def test_cli_fit_under_torchrun_writes_one_run_equal_to_single_process(tmp_path):
    common = ["fit", "autoencoder", "--data", "digits", "--limit", "300", "--seed", "0",
              "--param", "epochs=2", "--param", "hidden_dims=32", "--param", "latent_dim=4",
              "--param", "batch_size=64", "--verbose", "0", "--no-report", "--device", "cpu"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "nolabel", *common, "--out",
               str(tmp_path / "ddp")]
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    from nolabel.cli import main
    from nolabel.runs import load_run

    assert main([*common, "--out", str(tmp_path / "single")]) == 0
    ddp, single = load_run(tmp_path / "ddp"), load_run(tmp_path / "single")
    assert ddp.config["training"]["processes"] == 2
    assert single.config["training"]["processes"] == 1
    X = digits(300)
    np.testing.assert_allclose(ddp.model.transform(X), single.model.transform(X), atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single"]  # rank 1 wrote none
