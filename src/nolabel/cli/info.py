"""``nolabel list | datasets | feature-network | demo``: what there is, and the tour."""

from __future__ import annotations

import argparse

from nolabel.cli.options import add_command

# Models that need a package beyond torch's stack: (module, pip name). umap-learn is a core
# dependency, so this shows only where it was left out (pip install --no-deps, a vendored
# environment): the model is still listed, with the install line that enables it.
_NEEDS = {"n2d": ("umap", "umap-learn")}


def _missing(name: str) -> str:
    import importlib.util

    module, package = _NEEDS.get(name, (None, None))
    if module is None or importlib.util.find_spec(module) is not None:
        return ""
    return f"  [needs {package}: pip install {package}]"


def run_list(args: argparse.Namespace) -> int:
    from nolabel import registry

    if args.model is not None:
        entry = registry.get(args.model)
        caps = registry.capabilities(entry.cls)
        print(f"{entry.name}: {entry.description}{_missing(entry.name)}\n"
              f"can: {', '.join(caps.names())}\n"
              "parameters (--param KEY=VALUE):")
        for key, value in sorted(entry.defaults.items()):
            print(f"  {key:<22} {value!r}")
        return 0
    for entry in registry.entries():
        print(f"{entry.name:<18} {entry.description}{_missing(entry.name)}")
    return 0


def run_datasets(args: argparse.Namespace) -> int:
    from nolabel.data import describe_datasets

    for info in describe_datasets():
        status = f"found: {info.where}" if info.available else info.where
        print(f"{info.name:<15} {info.description}\n{'':<15} {status}")
    return 0


def run_feature_network(args: argparse.Namespace) -> int:
    from nolabel.metrics.generation import build_feature_network, feature_network_path

    network = build_feature_network(args.dataset, force=args.force, verbose=args.verbose)
    print(f"feature network of {network.dataset}: test accuracy {network.test_accuracy:.4f}, "
          f"{network.train_seconds:.0f} s to train\n{feature_network_path(args.dataset)}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from nolabel.demo import run_demo

    run_demo(out=args.out, epochs=args.epochs, seed=args.seed, device=args.device,
             verbose=args.verbose, data=args.data)
    return 0


def add_parsers(commands) -> None:
    listing = add_command(
        commands, "list", help="the models, with one-line descriptions",
        description="List every registered model; with a MODEL, what it can do and its "
        "parameters with their defaults.",
        examples="""
        nolabel list
        nolabel list vade
        """)
    listing.add_argument("model", nargs="?", default=None, help="show this model's parameters")
    listing.set_defaults(handler=run_list)

    datasets = add_command(
        commands, "datasets", help="list the named datasets and where each is found",
        description="List the named datasets, where each is found on this machine, or how "
        "to get it.", examples="nolabel datasets")
    datasets.set_defaults(handler=run_datasets)

    features = add_command(
        commands, "feature-network", help="train (or check) the feature network that scores "
        "samples",
        description="Train the small classifier whose features give the offline Fréchet "
        "distance and precision/recall of generated samples (nolabel.metrics.generation), "
        "on a labelled image dataset's training split, and cache it with its SHA-256. An "
        "existing cached network is verified and reused unless --force.",
        examples="""
        nolabel feature-network fashion-mnist
        nolabel feature-network digits --force
        """)
    features.add_argument("dataset", help="a named labelled image dataset (nolabel datasets)")
    features.add_argument("--force", action="store_true",
                          help="train again even when a verified cached network exists")
    features.add_argument("--verbose", type=int, default=1,
                          help="0 quiet, 1 progress bars, 2 a line per epoch (default 1)")
    features.set_defaults(handler=run_feature_network)

    demo = add_command(
        commands, "demo", help="cluster the 8x8 digits without labels: k-means, a Gaussian "
        "mixture, autoencoder + k-means and N2D, with samples and anomalies",
        description="On scikit-learn's 8x8 digits (offline; about a minute on 2 CPU cores): "
        "k-means and a Gaussian mixture on the pixels, an autoencoder + k-means on its codes, "
        "and N2D (the same autoencoder, UMAP, a Gaussian mixture), scored by ACC/NMI/ARI "
        "against the true digits; new samples of each cluster and the most anomalous digits. "
        "Writes a run folder with the config, weights, metrics, figures and report.html. "
        "--data fashion-mnist runs it on Fashion-MNIST's 10,000 test images when that "
        "dataset is on the machine (nolabel datasets).",
        examples="""
        nolabel demo
        nolabel demo --out runs/mydemo --seed 1 --epochs 100
        nolabel demo --data fashion-mnist
        """)
    demo.add_argument("--out", default=None,
                      help="run folder to write (default: runs/demo-<timestamp>)")
    demo.add_argument("--data", default="digits", choices=("digits", "fashion-mnist"),
                      help="digits (default) or fashion-mnist")
    demo.add_argument("--epochs", type=int, default=None,
                      help="autoencoder epochs (default 200 on digits, 40 on fashion-mnist)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    demo.add_argument("--verbose", type=int, default=1,
                      help="0 quiet, 1 progress bars, 2 a line per epoch (default 1)")
    demo.set_defaults(handler=run_demo)
