"""Small data and small runs shared by the command-line tests (seconds each)."""

import numpy as np

from nolabel.cli import main

SPECIES = ("ant", "bee", "cat")


def write_blobs_csv(path, n=150, outlier=None):
    """Three separated blobs in 4 columns, a text label column, and maybe one far outlier."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 10]], float)
    lines = ["height,width,depth,weight,species"]
    for i in range(n):
        x = centres[i % 3] + rng.normal(size=4)
        if i == outlier:
            x = x + 30
        lines.append(",".join(f"{v:.4f}" for v in x) + f",{SPECIES[i % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def fit(*args):
    """``nolabel fit ...`` quietly; fails the test with stderr unless it succeeds."""
    code = main(["fit", *args, "--verbose", "0"])
    assert code == 0, f"nolabel fit {' '.join(args)} exited {code}"


TINY_AUTOENCODER = ["--param", "epochs=2", "--param", "hidden_dims=32",
                    "--param", "latent_dim=4"]
TINY_VADE = ["--param", "epochs=1", "--param", "pretrain_epochs=1", "--param", "hidden_dims=32",
             "--param", "latent_dim=3", "--param", "n_clusters=3", "--param", "n_init=1"]
