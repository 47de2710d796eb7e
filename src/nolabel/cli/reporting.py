"""``nolabel report RUN``: gather what the model can show and write report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nolabel.cli import abilities
from nolabel.cli.context import Context, default_out, open_run
from nolabel.cli.options import add_command, add_runtime
from nolabel.errors import ParameterError
from nolabel.report import embed_2d
from nolabel.report.run_report import ReportInputs, write_run_report
from nolabel.runs import history_of

_SHOWN = 10  # originals/reconstructions and anomalies shown
_PER_CLUSTER = 10
_SAMPLES = 64
_EMBEDDED = 2000  # points in the 2-D embedding (t-SNE is quadratic-ish)
_COVERAGE_SAMPLES = 1000  # generated samples whose modes are counted


def _one_per_class(ctx: Context) -> np.ndarray:
    y = ctx.data.y
    if y is None:
        return np.arange(min(_SHOWN, ctx.data.n_samples))
    return np.array([np.flatnonzero(y == c)[0] for c in np.unique(y)[:_SHOWN]])


def _summary(ctx: Context) -> list[tuple[str, object]]:
    config = ctx.run.config
    params = ", ".join(f"{k}={v}" for k, v in sorted(config["params"].items()))
    return [("model", f"{ctx.name}: {config.get('description', '')}"),
            ("data", f"{ctx.spec.source} ({ctx.data.n_samples} samples of shape "
                     f"{ctx.data.sample_shape}, split {ctx.spec.split}, scaling {ctx.spec.scale})"),
            ("parameters", params), ("seed", config.get("seed")),
            ("device", config.get("device_used")),
            ("versions", ", ".join(f"{k} {v}" for k, v in config.get("versions", {}).items())),
            ("run folder", str(ctx.run.path.resolve()))]


def _samples(ctx: Context, inputs: ReportInputs) -> None:
    caps, k = ctx.caps, abilities.n_clusters(ctx.model)
    if not caps.sample:
        return
    ctx.say("  samples...")
    if not ctx.data.is_image:  # a table: enough samples to compare distributions with
        inputs.samples = abilities.draw(ctx.model, min(1000, max(_SAMPLES, ctx.data.n_samples)),
                                        ctx.seed)
    elif caps.sample_by_cluster and k:
        drawn, missing = [], []
        for cluster in range(k):
            try:  # CatGAN samples a cluster by rejection: an empty cluster gives none
                drawn.append(abilities.draw(ctx.model, _PER_CLUSTER, ctx.seed, cluster))
                inputs.sample_clusters.append(cluster)
            except ParameterError as error:
                missing.append(f"cluster {cluster}: {error}")
        if drawn:
            inputs.samples_by_cluster = drawn
        inputs.notes += [f"No samples of {reason}" for reason in missing]
    else:
        inputs.samples = abilities.draw(ctx.model, _SAMPLES, ctx.seed)
    if not caps.likelihood and hasattr(ctx.model, "module_"):
        # A generator without a likelihood (the GANs, VaDE's decoder): do its samples cover
        # the data's modes? Label-free: k-means clusters of the data play the classes.
        from nolabel.metrics.generation import mode_coverage

        ctx.say("  mode coverage...")
        inputs.coverage = mode_coverage(ctx.model, ctx.X, n_samples=_COVERAGE_SAMPLES,
                                        random_state=ctx.seed)


def _clusters(ctx: Context, inputs: ReportInputs) -> None:
    """What the silhouettes are measured in: a neural model's codes, else the data."""
    if inputs.clusters is None:
        return
    if ctx.caps.embed and ctx.caps.any_shape:
        inputs.cluster_features = abilities.codes(ctx.model, ctx.X)
        inputs.cluster_space = "the model's features"
    else:
        inputs.cluster_features = ctx.data.flat()
        inputs.cluster_space = "the data"
    inputs.cluster_data = ctx.data.X if ctx.data.is_image else ctx.data.flat()


def _embedding(ctx: Context, inputs: ReportInputs) -> None:
    caps = ctx.caps
    if not (caps.embed or inputs.clusters is not None):
        return
    ctx.say("  2-D embedding...")
    features = abilities.codes(ctx.model, ctx.X) if caps.embed else ctx.data.flat()
    if features.reshape(len(features), -1).shape[1] < 2:
        return
    features = features.reshape(len(features), -1)
    method = "tsne" if features.shape[1] > 2 else "auto"  # "auto" shows 2-D features as is
    inputs.points, inputs.point_rows = embed_2d(features, method=method, random_state=ctx.seed,
                                                max_samples=_EMBEDDED)
    what = "the model's features" if caps.embed else "the data"
    inputs.embedding_method = (f"t-SNE of {what}" if method == "tsne"
                               else f"{what[0].upper()}{what[1:]} (already 2-D)")


def _anomalies(ctx: Context, inputs: ReportInputs) -> None:
    if not ctx.caps.detect:
        return
    ctx.say("  anomaly scores...")
    scores = abilities.anomaly_scores(ctx.model, ctx.X)
    inputs.anomaly_scores = scores
    inputs.likelihood = ctx.caps.likelihood
    inputs.anomalies = np.argsort(-scores, kind="stable")[:_SHOWN]
    inputs.anomaly_images = ctx.data.X[inputs.anomalies] if ctx.data.is_image else None


def gather(ctx: Context, metrics: dict) -> ReportInputs:
    caps = ctx.caps
    inputs = ReportInputs(title=f"nolabel run: {ctx.name} on {ctx.spec.source}",
                          summary=_summary(ctx), metrics=metrics, images=ctx.data.is_image,
                          history=history_of(ctx.model), labels=ctx.data.y,
                          class_names=ctx.data.classes, feature_names=ctx.data.feature_names)
    if not ctx.data.is_image:
        inputs.table = ctx.data.flat()
    if caps.reconstruct and ctx.data.is_image:
        shown = _one_per_class(ctx)
        inputs.originals = ctx.data.X[shown]
        inputs.reconstructions = abilities.reconstructions(ctx.model, ctx.X[shown])
    elif caps.reconstruct:
        inputs.table_reconstructions = abilities.reconstructions(ctx.model, ctx.X)
    ratios = getattr(ctx.model, "explained_variance_ratio_", None)
    if ratios is not None:
        inputs.explained_variance_ratio = abilities.as_numpy(ratios)
    if caps.cluster or (caps.training_clusters and ctx.same_as_training):
        inputs.clusters = abilities.clusters(ctx.model, ctx.X, ctx.same_as_training)
    _clusters(ctx, inputs)
    _samples(ctx, inputs)
    _embedding(ctx, inputs)
    _anomalies(ctx, inputs)
    return inputs


def write_report(ctx: Context, path: Path) -> Path:
    """Figures beside ``path`` and the page itself."""
    return write_run_report(path, gather(ctx, ctx.run.metrics()))


def run_report(args: argparse.Namespace) -> int:
    ctx = open_run(args)
    path = default_out(args, "report.html")
    ctx.say(f"nolabel report: {ctx.name}, {ctx.data.n_samples} samples")
    write_report(ctx, path)
    print(f"report: {path.resolve()}")
    return 0


def add_parser(commands) -> None:
    parser = add_command(
        commands, "report", help="write report.html of a run (one self-contained file)",
        description="Write one self-contained HTML page for a fitted run: metrics, training "
        "curves, reconstructions, explained variance (PCA), samples (per cluster when the "
        "model generates by cluster; against the data for a table) and mode coverage "
        "(GANs), 2-D embedding coloured by cluster and label, cluster sizes, silhouettes "
        "and centres, clusters vs labels, a histogram of log-densities or anomaly scores "
        "and the most anomalous samples. Sections that do not apply to the model are left "
        "out.",
        examples="""
        nolabel report runs/vade
        nolabel report runs/vade --out /tmp/vade.html
        """)
    parser.add_argument("run", help="a run folder written by `nolabel fit`")
    parser.add_argument("--out", default=None, help="the HTML file (default RUN/report.html)")
    add_runtime(parser, "seed of the samples and the embedding (default: the run's)")
    parser.set_defaults(handler=run_report)
