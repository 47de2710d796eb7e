"""Scaling out: 1 vs 2 processes (torchrun, gloo) and k-means on a .npy larger than needed.

Parts (merged into results/distributed.json and .md):
  * ``throughput``: AutoEncoder (784-500-500-2000-10, global batch 256) on Fashion-MNIST
    training images: one process with 1 and 2 threads against ``torchrun --nproc_per_node=2``
    with 1 thread each. On a 2-core CPU little gain is expected: this measures the cost of
    DDP's gradient all-reduce against intra-op threading.
  * ``memmap``: k-means (k=10, same initial centres, 10 Lloyd iterations) on a ~2.2 GB .npy
    (Fashion-MNIST's 70k images x 10 with Gaussian noise): nolabel reading the path in
    blocks, nolabel on the loaded array, scikit-learn on the loaded array; each in a fresh
    process, peak resident memory from getrusage.

    python benchmarks/distributed.py --part throughput [--n-samples 20000 --epochs 2]
    python benchmarks/distributed.py --part memmap [--copies 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from nolabel._atomic import atomic_write_text

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_json(command: list[str], threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def throughput(n_samples: int, epochs: int) -> dict:
    worker = str(HERE / "_ddp_worker.py")
    args = [str(n_samples), str(epochs)]
    rows = {
        "1 process, 1 thread": run_json([sys.executable, worker, "1", *args], 1),
        "1 process, 2 threads": run_json([sys.executable, worker, "2", *args], 2),
        "2 processes (torchrun, gloo), 1 thread each": run_json(
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             "--nproc_per_node=2", worker, "1", *args], 1),
    }
    base = rows["1 process, 1 thread"]["samples_per_s"]
    for name, row in rows.items():
        row["speedup_vs_1_process_1_thread"] = row["samples_per_s"] / base
        log(f"{name}: {row['samples_per_s']:.0f} samples/s "
            f"({row['speedup_vs_1_process_1_thread']:.2f}x), loss {row['final_loss']:.5f}")
    return {"n_samples": n_samples, "epochs": epochs, "rows": rows}


def make_big_npy(path: Path, copies: int) -> tuple[int, int]:
    """Run in a child process (``--make``) so the benchmark's own memory stays small."""
    import nolabel

    X = nolabel.load("fashion-mnist").flat().astype(np.float32)
    rng = np.random.default_rng(0)
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(len(X) * copies, X.shape[1]))
    for copy in range(copies):
        noise = rng.normal(0.0, 0.05, size=X.shape).astype(np.float32)
        big[copy * len(X):(copy + 1) * len(X)] = X + noise
    big.flush()
    del big
    return len(X) * copies, X.shape[1]


def memmap(copies: int, max_iter: int) -> dict:
    worker = str(HERE / "_memmap_worker.py")
    with tempfile.TemporaryDirectory(dir=os.environ.get("NOLABEL_BENCH_TMP")) as folder:
        path, init = Path(folder) / "big.npy", Path(folder) / "init.npy"
        subprocess.run([sys.executable, __file__, "--make", str(path), "--copies", str(copies)],
                       check=True)
        data = np.load(path, mmap_mode="r")
        n, d = data.shape
        np.save(init, np.asarray(data[np.linspace(0, n - 1, 10).astype(int)]))
        size_gb = path.stat().st_size / 1e9
        log(f"{path.name}: {n} x {d} float32, {size_gb:.2f} GB")
        rows = {}
        for mode in ("nolabel-disk", "nolabel-loaded", "sklearn-loaded"):
            rows[mode] = run_json([sys.executable, worker, mode, str(path), str(init),
                                   str(max_iter)], 2)
            log(f"{mode}: {rows[mode]}")
    reference = rows["sklearn-loaded"]
    for row in rows.values():
        row["peak_vs_sklearn"] = row["peak_rss_mb"] / reference["peak_rss_mb"]
        row["time_vs_sklearn"] = row["seconds"] / reference["seconds"]
        row["inertia_vs_sklearn"] = row["inertia"] / reference["inertia"]
    return {"n_samples": n, "n_features": d, "file_gb": size_gb, "max_iter": max_iter,
            "rows": rows}


def table(results: dict) -> str:
    lines = ["# Scaling out", ""]
    if "throughput" in results:
        part = results["throughput"]
        lines += [f"## Training throughput: AutoEncoder, {part['n_samples']} Fashion-MNIST "
                  f"images, global batch 256, best of {part['epochs']} epochs", "",
                  "| setup | samples/s | vs 1 process 1 thread | final loss |",
                  "|---|---:|---:|---:|"]
        for name, row in part["rows"].items():
            lines.append(f"| {name} | {row['samples_per_s']:.0f} | "
                         f"{row['speedup_vs_1_process_1_thread']:.2f}x | "
                         f"{row['final_loss']:.5f} |")
        lines.append("")
    if "memmap" in results:
        part = results["memmap"]
        lines += [f"## k-means on a {part['file_gb']:.2f} GB .npy ({part['n_samples']} x "
                  f"{part['n_features']}), k=10, {part['max_iter']} Lloyd iterations", "",
                  "| how | RSS before fit (MB) | peak RSS (MB) | vs scikit-learn | seconds | "
                  "vs scikit-learn | inertia vs scikit-learn |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, row in part["rows"].items():
            lines.append(f"| {name} | {row['rss_before_fit_mb']:.0f} | "
                         f"{row['peak_rss_mb']:.0f} | {row['peak_vs_sklearn']:.2f}x"
                         f" | {row['seconds']:.1f} | {row['time_vs_sklearn']:.2f}x | "
                         f"{row['inertia_vs_sklearn']:.6f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("throughput", "memmap", "table"))
    parser.add_argument("--make", help=argparse.SUPPRESS)
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--max-iter", type=int, default=10)
    args = parser.parse_args()
    if args.make:
        make_big_npy(Path(args.make), args.copies)
        return
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / "distributed.json"
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    if args.part == "throughput":
        results["throughput"] = throughput(args.n_samples, args.epochs)
    elif args.part == "memmap":
        results["memmap"] = memmap(args.copies, args.max_iter)
    atomic_write_text(json_path, json.dumps(results, indent=2) + "\n")
    atomic_write_text(RESULTS / "distributed.md", table(results))
    print(table(results))


if __name__ == "__main__":
    main()
