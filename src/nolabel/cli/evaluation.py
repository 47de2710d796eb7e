"""``nolabel evaluate``: every metric that applies to the model and the data, nothing faked."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from nolabel.cli import abilities
from nolabel.cli.context import Context
from nolabel.data.registry import is_dataset_name
from nolabel.runs import history_of

_QUALITY_SAMPLES = 1000


def _clustering(ctx: Context) -> dict[str, Any]:
    clusters = abilities.clusters(ctx.model, ctx.X, ctx.same_as_training)
    found = np.unique(clusters)
    result: dict[str, Any] = {"n_clusters_found": len(found),
                              "largest_cluster_fraction": float(
                                  np.bincount(clusters - clusters.min()).max() / len(clusters))}
    if ctx.data.y is not None:
        from nolabel.metrics import clustering_scores

        result.update(clustering_scores(ctx.data.y, clusters))
    return result


def _likelihood(ctx: Context) -> dict[str, Any]:
    nll = float(-np.mean(abilities.as_numpy(ctx.model.score_samples(ctx.X))))
    result = {"nll_nats": nll}
    if ctx.data.is_image:
        result["bits_per_dim"] = nll / (ctx.data.n_features * math.log(2.0))
    return result


def _reconstruction(ctx: Context) -> dict[str, Any]:
    rebuilt = abilities.reconstructions(ctx.model, ctx.X).reshape(ctx.data.n_samples, -1)
    return {"mse": float(np.mean((rebuilt - ctx.data.flat()) ** 2))}


def _sample_quality(ctx: Context) -> dict[str, Any]:
    from nolabel.metrics.generation import feature_network_path, sample_quality

    name = ctx.spec.source
    if not (ctx.data.is_image and is_dataset_name(name)):
        return {"skipped": "needs a named image dataset with a feature network"}
    if not feature_network_path(name).is_file():
        return {"skipped": f"no cached feature network for {name}; build one with "
                f"`nolabel feature-network {name}` (never trained implicitly)"}
    quality = sample_quality(ctx.model, ctx.data, name,
                             n_samples=min(_QUALITY_SAMPLES, ctx.data.n_samples),
                             random_state=ctx.seed, clip=True)
    return {"fd": quality.fd, "precision": quality.precision, "recall": quality.recall,
            "n_samples": quality.n_samples, "classes_covered": quality.sample_classes}


def evaluate(ctx: Context) -> dict[str, Any]:
    """The metrics of the run's model on ``ctx.data``, grouped by kind."""
    start = time.perf_counter()
    caps = ctx.caps
    metrics: dict[str, Any] = {
        "model": ctx.name,
        "data": {"source": ctx.data.source or ctx.data.name, "n_samples": ctx.data.n_samples,
                 "has_labels": ctx.data.y is not None,
                 "same_as_training": ctx.same_as_training},
    }
    steps = (("clustering", caps.cluster or (caps.training_clusters and ctx.same_as_training),
              _clustering),
             ("likelihood", caps.likelihood, _likelihood),
             ("reconstruction", caps.reconstruct, _reconstruction),
             ("sample_quality", caps.sample, _sample_quality))
    for name, applies, compute in steps:
        if applies:
            ctx.say(f"  {name}...")
            metrics[name] = compute(ctx)
    history = history_of(ctx.model)
    if history:
        metrics["training"] = {f"final_{k}": v[-1] for k, v in history.items()}
    metrics["seconds"] = round(time.perf_counter() - start, 2)
    return metrics


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """One line per group of numbers, for the terminal."""
    lines = []
    for group, values in metrics.items():
        if isinstance(values, dict) and group != "data":
            shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in values.items())
            lines.append(f"  {group:<15} {shown}")
    return lines


def run_evaluate(args) -> int:
    from nolabel.cli.context import READING, default_out, open_run
    from nolabel.runs import write_json

    ctx = open_run(args)
    ctx.say(f"nolabel evaluate: {ctx.name} on {ctx.spec.source} ({ctx.data.n_samples} samples)")
    metrics = evaluate(ctx)
    own = all(getattr(args, name) is None for name in ("data", "split", "limit", *READING))
    path = default_out(args, "metrics.json" if own else "metrics-other-data.json")
    write_json(path, metrics)
    print("\n".join(summary_lines(metrics)) + f"\n{path}")
    return 0


def add_parser(commands) -> None:
    from nolabel.cli.options import add_command, add_data_source, add_runtime

    parser = add_command(
        commands, "evaluate", help="metrics of a run: clustering, likelihood, reconstruction...",
        description="Compute every metric that applies: clustering ACC/NMI/ARI against the "
        "labels (when the data has them), negative log-likelihood and bits/dim, "
        "reconstruction MSE, and sample quality (only where a feature network is cached: "
        "`nolabel feature-network NAME`; otherwise it says it was skipped).",
        examples="""
        nolabel evaluate runs/vade                    (the run's own data -> RUN/metrics.json)
        nolabel evaluate runs/vade --data fashion-mnist --split test --limit 1000
        """)
    parser.add_argument("run", help="a run folder written by `nolabel fit`")
    add_data_source(parser, required=False)
    parser.add_argument("--out", default=None, help="metrics file (default RUN/metrics.json "
                        "for the run's own data, else RUN/metrics-other-data.json)")
    add_runtime(parser, "seed of the samples scored (default: the run's)")
    parser.set_defaults(handler=run_evaluate)
