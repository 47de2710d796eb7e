"""One process of the throughput benchmark: AutoEncoder epochs on Fashion-MNIST.

Run alone or under ``torchrun``; rank 0 prints one JSON line with the timings.
"""

import json
import sys

import torch

import nolabel
from nolabel.train import distributed

threads, n_samples, epochs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
X = nolabel.load("fashion-mnist", split="train").flat()[:n_samples]
model = nolabel.AutoEncoder(latent_dim=10, hidden_dims=(500, 500, 2000), epochs=epochs,
                            batch_size=256, random_state=0, device="cpu", verbose=0).fit(X)
if distributed.is_main_process():
    times = model.history_["epoch_time"]
    print(json.dumps({"processes": distributed.world_size(), "threads": threads,
                      "epoch_s": times, "samples_per_s": n_samples / min(times),
                      "final_loss": model.history_["loss"][-1]}))
