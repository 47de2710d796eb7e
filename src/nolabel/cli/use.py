"""``nolabel cluster | embed | detect | sample RUN``: ask a fitted run for one thing, write it."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

from nolabel._atomic import atomic_write
from nolabel.cli import abilities
from nolabel.cli.context import default_out, open_run
from nolabel.cli.data import unscale
from nolabel.cli.options import add_command, add_data_source, add_runtime, positive_int
from nolabel.errors import ParameterError


def _write_csv(path: Path, header: tuple[str, str], rows) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue().encode())


def run_cluster(args: argparse.Namespace) -> int:
    ctx = open_run(args)
    abilities.require(ctx.name, ctx.model, "cluster")
    labels = abilities.clusters(ctx.model, ctx.X, ctx.same_as_training)
    path = default_out(args, "labels.csv")
    _write_csv(path, ("index", "label"), enumerate(labels.tolist()))
    sizes = ", ".join(f"{c}: {n}" for c, n in zip(*np.unique(labels, return_counts=True),
                                                  strict=True))
    print(f"{len(labels)} samples in {len(np.unique(labels))} clusters ({sizes})\n{path}")
    return 0


def run_embed(args: argparse.Namespace) -> int:
    ctx = open_run(args)
    abilities.require(ctx.name, ctx.model, "embed")
    codes = abilities.codes(ctx.model, ctx.X)
    path = default_out(args, "codes.npy")
    with atomic_write(path) as handle:
        np.save(handle, codes)
    print(f"codes of shape {codes.shape} (float32)\n{path}")
    return 0


def run_detect(args: argparse.Namespace) -> int:
    ctx = open_run(args)
    abilities.require(ctx.name, ctx.model, "detect")
    scores = abilities.anomaly_scores(ctx.model, ctx.X)
    order = np.arange(len(scores))
    if args.top is not None:
        order = np.argsort(-scores, kind="stable")[:args.top]
    path = default_out(args, "scores.csv")
    _write_csv(path, ("index", "score"), ((int(i), repr(float(scores[i]))) for i in order))
    if args.top is not None:
        print(f"the {len(order)} most anomalous of {len(scores)} samples (higher = more "
              "anomalous):")
        names = ctx.data.classes
        for i in order:
            label = "" if ctx.data.y is None else f"  label {ctx.data.y[i]}"
            if names is not None and ctx.data.y is not None:
                label += f" ({names[ctx.data.y[i]]})"
            print(f"  index {int(i):>7}  score {scores[i]:.6g}{label}")
    else:
        print(f"anomaly scores of {len(scores)} samples (higher = more anomalous), from "
              f"{scores.min():.4g} to {scores.max():.4g}")
    print(path)
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from nolabel.report import sample_grid

    ctx = open_run(args)
    abilities.require(ctx.name, ctx.model, "sample")
    path = default_out(args, "samples.png")
    if path.suffix not in (".png", ".npy"):
        raise ParameterError(f"--out {path} must end in .png (a grid) or .npy (the array)")
    if path.suffix == ".png" and not ctx.data.is_image:
        raise ParameterError(f"{ctx.name} was fitted on a table, whose samples are not images; "
                             "use --out samples.npy")
    samples = abilities.draw(ctx.model, args.n, ctx.seed, args.cluster)
    if path.suffix == ".npy":
        with atomic_write(path) as handle:
            np.save(handle, unscale(ctx.spec, samples))
    else:
        which = "" if args.cluster is None else f" of cluster {args.cluster}"
        sample_grid(samples, path, title=f"{ctx.name}: {args.n} samples{which}")
    print(f"{args.n} samples{'' if args.cluster is None else f' of cluster {args.cluster}'} "
          f"of shape {samples.shape[1:]}\n{path}")
    return 0


def _run_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="a run folder written by `nolabel fit`")


def add_parsers(commands) -> None:
    cluster = add_command(
        commands, "cluster", help="cluster of every sample -> labels.csv (index,label)",
        description="Assign every sample of --data (default: the run's own data) to a "
        "cluster of the fitted model, and write index,label rows.",
        examples="""
        nolabel cluster runs/kmeans --data table.csv --out labels.csv
        nolabel cluster runs/vade --data fashion-mnist --split test --limit 500
        """)
    embed = add_command(
        commands, "embed", help="features of every sample -> codes.npy",
        description="Write the model's features (transform) of every sample as a float32 "
        "(n, d) .npy array.",
        examples="""
        nolabel embed runs/ae --data digits --out codes.npy
        """)
    detect = add_command(
        commands, "detect", help="anomaly score of every sample -> scores.csv (index,score)",
        description="Score every sample; higher = more anomalous (minus the model's "
        "score_samples: negative log-likelihood or reconstruction error).",
        examples="""
        nolabel detect runs/ae --data table.csv --out scores.csv
        nolabel detect runs/ae --top 10     (print and keep the 10 most anomalous)
        """)
    sample = add_command(
        commands, "sample", help="generate samples -> a grid .png (or .npy)",
        description="Draw new samples from a generative model: a .png grid of images, or "
        "a .npy array (tables: in the units of the original data).",
        examples="""
        nolabel sample runs/vae -n 64 --out grid.png
        nolabel sample runs/vade -n 20 --cluster 3 --out cluster3.png
        nolabel sample runs/gmm -n 100 --out samples.npy
        """)
    for parser, handler, name, data in ((cluster, run_cluster, "labels.csv", True),
                                        (embed, run_embed, "codes.npy", True),
                                        (detect, run_detect, "scores.csv", True),
                                        (sample, run_sample, "samples.png", False)):
        _run_argument(parser)
        if data:
            add_data_source(parser, required=False)
        parser.add_argument("--out", default=None, help=f"output file (default RUN/{name})")
        add_runtime(parser, "random seed (default: the run's)")
        parser.set_defaults(handler=handler)
    detect.add_argument("--top", type=positive_int, default=None, metavar="N",
                        help="print the N most anomalous samples and keep only them, most "
                        "anomalous first")
    sample.add_argument("-n", type=positive_int, default=64, help="how many (default 64)")
    sample.add_argument("--cluster", type=int, default=None, metavar="C",
                        help="generate from cluster C (models that generate by cluster)")
