"""``nolabel fit MODEL --data ...``: fit any registered model and write a run folder."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from nolabel import registry
from nolabel._device import resolve_device
from nolabel.cli.context import Context
from nolabel.cli.data import DataSpec, fingerprint, model_input, prepare
from nolabel.cli.options import add_command, add_data_source, add_preprocessing, add_runtime
from nolabel.errors import DataError, ParameterError
from nolabel.runs import Run, environment, new_run_dir, write_json, write_run
from nolabel.train import distributed
from nolabel.train.precision import CHOICES as PRECISIONS

# Parameters the command line sets from its own options, so that there is one way to set each.
_OWNED = {"random_state": "--seed", "device": "--device", "verbose": "--verbose"}


def _read_config_file(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ParameterError(f"--config {path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise ParameterError(f"--config {path} is not a JSON file: {exc}") from None
    if not isinstance(document, dict):
        raise ParameterError(f"--config {path} must hold a JSON object")
    return document


def _params(entry: registry.Entry, from_file: dict[str, Any], pairs: list[str]) -> dict:
    """Hyper-parameters of the config file, overridden by ``--param key=value``."""
    defaults = entry.defaults
    params = {}
    for key, value in from_file.items():
        entry.check_known(key)
        params[key] = tuple(value) if isinstance(value, list) and isinstance(
            defaults[key], tuple) else value
    for key in (pair.partition("=")[0].strip() for pair in pairs):
        if key in _OWNED:
            raise ParameterError(f"set {key} with {_OWNED[key]}, not --param")
    params.update(entry.parse_params(pairs))
    return {k: v for k, v in params.items() if k not in _OWNED}


def _data_spec(args: argparse.Namespace, from_file: dict[str, Any], seed: int) -> DataSpec:
    spec = DataSpec.from_json({**from_file, "statistics": {}})
    given = {"source": args.data, "split": args.split, "limit": args.limit, "scale": args.scale,
             "label_column": args.label_column, "impute": args.impute,
             "image_size": args.image_size, "channels": args.channels, "resize": args.resize,
             "delimiter": args.delimiter}
    for key, value in given.items():
        if value is not None:
            setattr(spec, key, value)
    spec.seed = seed
    return spec


def _build(entry: registry.Entry, params: dict, seed: int, device: str,
           args: argparse.Namespace):
    owned = {"random_state": seed, "device": device, "verbose": args.verbose}
    # --precision and --grad-clip are short for --param precision=... / grad_clip=...
    shortcuts = {"precision": args.precision, "grad_clip": args.grad_clip}
    params = {**params, **{k: v for k, v in shortcuts.items() if v is not None}}
    defaults = entry.defaults
    unknown = [k for k in params if k not in defaults]
    if unknown:
        raise ParameterError(f"{entry.name} is not a neural model: it has no "
                             f"{', '.join('--' + k.replace('_', '-') for k in unknown)}")
    return entry.cls(**params, **{k: v for k, v in owned.items() if k in defaults})


def _fit(model: Any, name: str, X, data, args: argparse.Namespace) -> None:
    if distributed.is_distributed() and getattr(model, "_combines_processes", False):
        X = X[distributed.shard_rows(len(X))]  # it sums statistics over processes itself
    try:
        model.fit(X)
    except DataError as exc:
        hint = " (on the command line: --scale minmax)" if "[0, 1]" in str(exc) else ""
        raise DataError(f"{name} cannot be fitted on {data.name} (samples of shape "
                        f"{data.sample_shape}): {exc}{hint}", arguments=exc.arguments) from None


def run_fit(args: argparse.Namespace) -> int:
    from nolabel.cli.reporting import write_report

    start = time.perf_counter()
    document = _read_config_file(args.config)
    model_name = args.model or document.get("model")
    if model_name is None:
        raise ParameterError("name a MODEL (nolabel list) or give --config with a \"model\"")
    entry = registry.get(model_name)
    seed = args.seed if args.seed is not None else int(document.get("seed", 0))
    device = args.device if args.device != "auto" else document.get("device", "auto")
    resolved = resolve_device(device)  # refuse a bad device before anything is written
    distributed.setup(resolved)  # under torchrun: join the other processes
    params = _params(entry, document.get("params", {}), args.param)
    spec = _data_spec(args, document.get("data", {}), seed)
    if not spec.source:
        raise ParameterError("give --data NAME_OR_PATH (or --config with a \"data\" source)")
    data, spec = prepare(spec, verbose=args.verbose)
    model = _build(entry, params, seed, device, args)
    caps = registry.capabilities(model)
    say = print if args.verbose else (lambda *a, **k: None)
    say(f"nolabel fit: {entry.name} on {data.name}: {data.n_samples} samples of shape "
        f"{data.sample_shape}, scaling {spec.scale}, device {resolved}", flush=True)
    _fit(model, entry.name, model_input(data, caps.any_shape), data, args)
    if not distributed.is_main_process():
        return 0  # rank 0 writes the run folder
    run = new_run_dir(args.out, entry.name)
    config = {
        "command": "fit", "model": entry.name, "description": entry.description,
        "params": {k: v for k, v in model.get_params().items() if k not in _OWNED},
        "data": spec.to_json(),
        "data_info": {"name": data.name, "n_samples": data.n_samples,
                      "sample_shape": list(data.sample_shape), "has_labels": data.y is not None,
                      "sha256": fingerprint(data.X)},
        "seed": seed, "device": device, "device_used": str(resolved),
        "training": {"processes": distributed.world_size()},
        "versions": environment(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "fit_seconds": round(time.perf_counter() - start, 2),
    }
    write_run(run, model, config)
    ctx = Context(Run(run, config, model), spec, data, seed, args.verbose)
    from nolabel.cli.evaluation import evaluate, summary_lines

    say("evaluating...")
    metrics = evaluate(ctx)
    write_json(run / "metrics.json", metrics)
    for line in summary_lines(metrics):
        say(line)
    if not args.no_report:
        say("writing the report...")
        write_report(ctx, run / "report.html")
    say(f"run folder: {run}  ({time.perf_counter() - start:.1f} s)")
    say("next: " + "; ".join(f"nolabel {verb} {run}" for verb, able in (
        ("cluster", caps.cluster or caps.training_clusters), ("embed", caps.embed),
        ("detect", caps.detect), ("sample", caps.sample), ("report", True)) if able))
    return 0


def add_parser(commands) -> None:
    parser = add_command(
        commands, "fit", help="fit a model on a dataset or file and write a run folder",
        description="Fit any model of `nolabel list` on a named dataset or your own file, "
        "then write a run folder: config.json (all it takes to refit), model.safetensors, "
        "history.csv, metrics.json, figures and report.html.",
        examples="""
        nolabel fit kmeans --data table.csv --param n_clusters=3
        nolabel fit autoencoder --data digits --param epochs=30 --param hidden_dims=128,64
        nolabel fit vade --data fashion-mnist --split test --limit 2000 --param epochs=5 \\
            --param n_clusters=10 --out runs/vade
        nolabel fit pixelcnn --data fashion-mnist --scale binarize --limit 1000
        nolabel fit --config runs/vade/config.json --out runs/vade-again   (refit a run)
        torchrun --standalone --nproc_per_node=2 --no-python nolabel fit vae --data digits
        """)
    parser.add_argument("model", nargs="?", default=None,
                        help="a model name from `nolabel list` (or taken from --config)")
    add_data_source(parser, required=False, run=False)
    add_preprocessing(parser)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyper-parameter, typed like its default (`nolabel list MODEL` "
                        "shows them); repeat for more; tuples as 256,128; none for None")
    parser.add_argument("--config", default=None, metavar="JSON",
                        help="a run's config.json (or a file like it) to start from; options "
                        "given on the command line win")
    parser.add_argument("--out", default=None,
                        help="run folder to write (default runs/MODEL-<timestamp>)")
    parser.add_argument("--no-report", action="store_true", help="skip figures and report.html")
    parser.add_argument("--precision", choices=tuple(PRECISIONS), default=None,
                        help="neural models (= --param precision=...): 32, bf16, fp16 (mixed "
                        "precision, loss scaling for fp16) or auto (bf16 where the hardware "
                        "has it); default: the model's")
    parser.add_argument("--grad-clip", type=float, default=None, metavar="NORM",
                        help="neural models (= --param grad_clip=NORM): clip each step's "
                        "gradient norm to NORM")
    add_runtime(parser, "random seed of the model, the data order and --limit (default 0)")
    parser.set_defaults(handler=run_fit)
