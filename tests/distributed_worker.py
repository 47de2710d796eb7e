"""One process of a distributed test run (launched by tests/test_distributed.py).

``python distributed_worker.py SCENARIO OUT`` under ``torchrun`` (or with RANK/WORLD_SIZE/
MASTER_ADDR/MASTER_PORT set by the test): every rank writes what it ended with under OUT,
suffixed by its rank, for the test to compare with a single-process run.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits

import nolabel
from nolabel.train import distributed
from nolabel.train import loop as train_loop

SETTINGS = {"latent_dim": 4, "hidden_dims": (32,), "batch_size": 64, "lr": 1e-3,
            "random_state": 0, "device": "cpu", "verbose": 0}


def digits(n: int) -> np.ndarray:
    return (load_digits().data[:n] / 16.0).astype(np.float32)


def save_weights(model, path: Path) -> None:
    save_file({k: v.contiguous() for k, v in model.module_.state_dict().items()}, str(path))


def count_checkpoint_writes() -> list[int]:
    calls = [0]
    original = train_loop.write_tensors

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    train_loop.write_tensors = counting
    return calls


def autoencoder(out: Path, rank: int) -> None:
    calls = count_checkpoint_writes()
    model = nolabel.AutoEncoder(**SETTINGS, epochs=3, checkpoint_path=str(out / "ckpt.safetensors"))
    model.fit(digits(301))  # 301 rows: the last global batch splits 23 /22
    save_weights(model, out / f"weights{rank}.safetensors")
    (out / f"info{rank}.json").write_text(json.dumps({
        "checkpoint_writes": calls[0], "history": model.history_["loss"],
        "world_size": distributed.world_size()}))


def resume(out: Path, rank: int) -> None:
    X = digits(200)
    vae = dict(SETTINGS, hidden_dims=(32,))
    full = nolabel.VAE(**vae, epochs=4).fit(X)
    save_weights(full, out / f"full{rank}.safetensors")
    nolabel.VAE(**vae, epochs=2, checkpoint_path=str(out / "ckpt.safetensors")).fit(X)
    distributed.barrier()  # rank 0 has written the checkpoint before anyone reads it
    resumed = nolabel.VAE(**vae, epochs=4).fit(X, resume_from=str(out / "ckpt.safetensors"))
    save_weights(resumed, out / f"resumed{rank}.safetensors")


def gan(out: Path, rank: int) -> None:
    model = nolabel.GAN(latent_dim=8, generator_dims=(32,), discriminator_dims=(32,),
                        batch_size=64, epochs=2,
                        random_state=0, device="cpu", verbose=0).fit(digits(256))
    save_weights(model, out / f"gan{rank}.safetensors")
    (out / f"info{rank}.json").write_text(json.dumps({"history": model.history_}))


def clusterers(out: Path, rank: int) -> None:
    """DEC (one optimiser, target distribution refreshed inside the loss) and DAC (three
    players) under DDP."""
    X = digits(300)
    small = {"n_clusters": 5, "hidden_dims": (32,), "latent_dim": 4, "pretrain_epochs": 1,
             "epochs": 2, "batch_size": 64, "n_init": 2, "random_state": 0, "device": "cpu"}
    fitted = {"dec": nolabel.DEC(**small, update_interval=3).fit(X),
              "dac": nolabel.DAC(**small, discriminator_dims=(16,)).fit(X)}
    for name, model in fitted.items():
        save_weights(model, out / f"{name}{rank}.safetensors")
    (out / f"info{rank}.json").write_text(json.dumps(
        {name: {"labels": model.labels_.tolist(), "history": model.history_}
         for name, model in fitted.items()}))


def clustering(out: Path, rank: int) -> None:
    X = digits(600)
    part = X[distributed.shard_rows(len(X))] if distributed.setup(torch.device("cpu")) else X
    centres = np.load(out / "init.npy")
    warnings.simplefilter("ignore")
    kmeans = nolabel.KMeans(10, init=centres, device="cpu").fit(part)
    gmm = nolabel.GaussianMixture(10, covariance_type="diag", means_init=centres,
                                  device="cpu", max_iter=20, tol=0.0).fit(part)
    save_file({"kmeans_centres": torch.from_numpy(kmeans.cluster_centers_),
               "gmm_means": torch.from_numpy(gmm.means_),
               "gmm_covariances": torch.from_numpy(gmm.covariances_),
               "gmm_weights": torch.from_numpy(gmm.weights_)}, str(out / f"fit{rank}.safetensors"))
    (out / f"info{rank}.json").write_text(json.dumps({
        "inertia": kmeans.inertia_, "gmm_lower_bound": gmm.lower_bound_,
        "gmm_n_iter": gmm.n_iter_}))


def killed_peer(out: Path, rank: int) -> None:
    """Rank 1 dies (SIGKILL) in its third batch; rank 0 must fail with a clear error."""
    batches = [0]

    def loss(module, batch):
        batches[0] += 1
        if rank == 1 and batches[0] == 3:
            os.kill(os.getpid(), 9)
        return (module(batch[0]) - batch[0]).square().mean()

    module = torch.nn.Linear(64, 64)
    objective = train_loop.Objective("mse", loss, torch.optim.SGD(module.parameters(), lr=0.01))
    config = train_loop.TrainConfig(epochs=50, batch_size=16, device=torch.device("cpu"),
                                    seed=0, verbose=0)
    try:
        train_loop.fit(module, (torch.from_numpy(digits(400)),), [objective], config)
    except nolabel.TrainingError as exc:
        (out / f"error{rank}.txt").write_text(str(exc))
        sys.exit(3)


if __name__ == "__main__":
    torch.set_num_threads(1)
    scenario, out = sys.argv[1], Path(sys.argv[2])
    globals()[scenario](out, int(os.environ.get("RANK", "0")))
