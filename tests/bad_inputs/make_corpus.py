"""Write the bad-input files into a folder: ``python tests/bad_inputs/make_corpus.py OUT``.

Every broken file is generated here from a valid one (nothing binary is committed), so
each case says in code exactly how its file is damaged.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

PICKLE_MARKER = "pickle-payload-ran"


class Payload:
    """Unpickling this writes ``marker``: proof that a loader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def write_pickle_payload(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"weights": Payload(marker)}))
    return path


def _idx(dims: tuple[int, ...], code: int = 0x08) -> bytes:
    payload = bytes(int(np.prod(dims)))
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def _flip(data: bytes, position: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 0xFF
    return bytes(damaged)


def _idx_files(folder: Path) -> None:
    good = gzip.compress(_idx((20, 28, 28)), mtime=0)
    (folder / "truncated.idx.gz").write_bytes(good[: len(good) // 2])
    (folder / "corrupt.idx.gz").write_bytes(_flip(good, len(good) // 2))
    (folder / "wrong-magic.idx").write_bytes(b"\x01\x02" + _idx((2, 3))[2:])
    (folder / "unknown-type.idx").write_bytes(b"\x00\x00\x07" + _idx((2, 3))[3:])
    (folder / "truncated-payload.idx").write_bytes(_idx((20, 28, 28))[:1000])
    (folder / "extra-bytes.idx").write_bytes(_idx((2, 3)) + b"\x00")
    (folder / "header-cut.idx").write_bytes(_idx((2, 3, 4))[:7])
    (folder / "empty.idx").write_bytes(b"")
    (folder / "zero-dims.idx").write_bytes(b"\x00\x00\x08\x00")
    huge = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1)
    (folder / "huge-dims.idx").write_bytes(huge + bytes(10))
    (folder / "a-folder.idx").mkdir()
    # A Fashion-MNIST folder whose training images are a truncated gzip.
    fashion = folder / "fashion-corrupt"
    fashion.mkdir()
    for name, dims in (("train-images-idx3-ubyte", (60000, 28, 28)),
                       ("train-labels-idx1-ubyte", (60000,)),
                       ("t10k-images-idx3-ubyte", (10000, 28, 28)),
                       ("t10k-labels-idx1-ubyte", (10000,))):
        data = gzip.compress(_idx(dims), compresslevel=1, mtime=0)
        if name.startswith("train-images"):
            data = data[: len(data) // 3]
        (fashion / f"{name}.gz").write_bytes(data)
    small = folder / "fashion-wrong-shape"
    small.mkdir()
    for name, dims in (("train-images-idx3-ubyte", (2, 28, 28)),
                       ("train-labels-idx1-ubyte", (2,)),
                       ("t10k-images-idx3-ubyte", (2, 28, 28)),
                       ("t10k-labels-idx1-ubyte", (2,))):
        (small / name).write_bytes(_idx(dims))
    (folder / "fashion-empty").mkdir()


def _csv_files(folder: Path) -> None:
    texts = {
        "header-only.csv": "a,b,c\n",
        "empty.csv": "",
        "blank-lines.csv": "\n  \n\n",
        "ragged.csv": "a,b,c\n1,2,3\n4,5\n",
        "non-numeric.csv": "a,color,b\n1,2,3\n4,red,6\n",
        "nan-cell.csv": "a,b\n1,2\n3,nan\n",
        "inf-cell.csv": "a,b\n1,inf\n2,3\n",
        "beyond-float32.csv": "a,b\n1,1e39\n2,3\n",
        "nul-byte.csv": "a,b\n1,2\n3,\x004\n",
        "huge-field.csv": "a,b\n1," + "9" * 200_000 + "\n",
        "label-only.csv": "kind\n1\n2\n",
        "one-row.csv": "1.5,2.5,3.5\n",
        "constant.csv": "a,b\n" + "7,7\n" * 5,
        "huge-values.csv": "a,b\n1e30,-1e30\n2e30,5\n",
        "labels-nan.csv": "a,kind\n1,0\n2,nan\n",
        "all-nan-column.csv": "a,b\n1,nan\n2,nan\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "not-utf8.csv").write_bytes(b"a,b\n1,\xff\xfe\n")
    (folder / "a-folder.csv").mkdir()
    _unreadable(folder / "unreadable.csv", b"a,b\n1,2\n")


def _unreadable(path: Path, content: bytes) -> None:
    """A file that cannot be read: mode 000, or for root (who may read anything) a link to
    /proc/self/mem, whose first page reads as an I/O error."""
    if os.geteuid() == 0:
        os.symlink("/proc/self/mem", path)
    else:
        path.write_bytes(content)
        path.chmod(0)


def _npy_files(folder: Path) -> None:
    np.save(folder / "good.npy", np.ones((5, 3)))
    good = (folder / "good.npy").read_bytes()
    (folder / "truncated.npy").write_bytes(good[:-7])
    (folder / "huge-shape.npy").write_bytes(good.replace(b"(5, 3)", b"(10000000000, 3)"))
    (folder / "bad-header.npy").write_bytes(good[:10] + b"x" * 118)
    (folder / "unparsable-header.npy").write_bytes(good.replace(b"(5, 3)", b"\xd7)   "))
    (folder / "not-numpy.npy").write_text("just text")
    np.save(folder / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(folder / "one-d.npy", np.arange(5.0))
    np.save(folder / "no-samples.npy", np.zeros((0, 3)))
    np.save(folder / "no-features.npy", np.zeros((3, 0)))
    np.save(folder / "strings.npy", np.array([["1", "2"], ["3", "abc"]]))
    np.save(folder / "complex.npy", np.ones((3, 2), dtype=complex))
    np.save(folder / "structured.npy", np.zeros((3, 2), dtype=[("a", "f4"), ("b", "i4")]))
    np.save(folder / "five-d.npy", np.zeros((2, 2, 2, 2, 2)))
    np.save(folder / "nan.npy", np.array([[0, 1], [2, 3], [4, np.nan]]))
    np.save(folder / "beyond-float32.npy", np.full((3, 2), 1e300))
    (folder / "a-folder.npy").mkdir()
    _unreadable(folder / "unreadable.npy", good)
    np.savez(folder / "good.npz", X=np.ones((4, 3)))
    good_npz = (folder / "good.npz").read_bytes()
    (folder / "not-zip.npz").write_text("PK? no")
    (folder / "truncated.npz").write_bytes(good_npz[: len(good_npz) // 2])
    np.savez(folder / "no-x.npz", data=np.ones((4, 3)))
    np.savez(folder / "label-count.npz", X=np.ones((4, 3)), y=np.zeros(3, dtype=int))
    np.savez(folder / "float-labels.npz", X=np.ones((3, 2)), y=np.array([0.5, 1, 2]))
    np.savez(folder / "objects.npz", X=np.array([None, {}], dtype=object))
    with zipfile.ZipFile(folder / "huge-shape.npz", "w") as archive:
        archive.writestr("X.npy", good.replace(b"(5, 3)", b"(10000000000, 3)"))
    np.savez_compressed(folder / "corrupt.npz", X=np.arange(4000.0).reshape(1000, 4))
    data = (folder / "corrupt.npz").read_bytes()
    (folder / "corrupt.npz").write_bytes(_flip(_flip(data, 200), 201))


def _parquet_files(folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1.0, 2.0], "deep": [[1, 2], [3]]}), folder / "nested.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "point": [{"x": 1}, {"x": 2}]}),
                   folder / "struct.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "name": ["u", "v"]}), folder / "text.parquet")
    pq.write_table(pa.table({"a": pa.array([], pa.float64())}), folder / "no-rows.parquet")
    pq.write_table(pa.table({"a": [1.0, None, 3.0]}), folder / "null.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "y": [[1], [2]]}), folder / "list-label.parquet")
    data = (folder / "null.parquet").read_bytes()
    (folder / "truncated.parquet").write_bytes(data[: len(data) // 2])


def _png(width: int, height: int) -> bytes:
    """A PNG whose header announces ``width x height`` gray pixels, with a tiny body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b""))


def _image_files(folder: Path) -> None:
    from PIL import Image

    def image(path: Path, array: np.ndarray) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(path)
        return path

    rng = np.random.default_rng(0)
    noise = (rng.random((64, 64)) * 255).astype(np.uint8)
    image(folder / "mixed-sizes" / "small.png", np.zeros((4, 4), np.uint8))
    image(folder / "mixed-sizes" / "wide.png", np.zeros((4, 6), np.uint8))
    image(folder / "corrupt-image" / "good.png", np.zeros((4, 4), np.uint8))
    (folder / "corrupt-image" / "broken.png").write_text("not a png")
    path = image(folder / "truncated-image" / "cut.png", noise)
    path.write_bytes(path.read_bytes()[:200])
    image(folder / "truncated-image" / "whole.png", noise)
    (folder / "no-images").mkdir()
    (folder / "no-images" / "notes.txt").write_text("no pictures here")
    image(folder / "mixed-layout" / "top.png", np.zeros((4, 4), np.uint8))
    image(folder / "mixed-layout" / "cats" / "cat.png", np.zeros((4, 4), np.uint8))
    (folder / "bomb-image").mkdir()
    (folder / "bomb-image" / "bomb.png").write_bytes(_png(60000, 60000))
    (folder / "unreadable-image").mkdir()
    _unreadable(folder / "unreadable-image" / "locked.png", _png(4, 4))


def _model_files(folder: Path) -> None:
    from nolabel import KMeans

    model = KMeans(2, random_state=0, device="cpu").fit(np.eye(4, dtype=np.float32))
    path = model.save(folder / "kmeans.safetensors")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["nolabel"])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}

    def tampered(name: str, tensors: dict[str, torch.Tensor], header: dict[str, str]) -> None:
        (folder / name).write_bytes(save(tensors, metadata=header))

    write_pickle_payload(folder / "pickle.safetensors", folder / PICKLE_MARKER)
    data = path.read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    tampered("foreign.safetensors", tensors, {"format": "pt"})
    tampered("bad-json.safetensors", tensors, {"nolabel": "{not json"})
    tampered("no-state.safetensors", tensors,
             {"nolabel": json.dumps({k: v for k, v in meta.items() if k != "state"})})
    tampered("unknown-model.safetensors", tensors,
             {"nolabel": json.dumps({**meta, "model": "no-such-model"})})
    tampered("unexpected-param.safetensors", tensors,
             {"nolabel": json.dumps({**meta, "params": {**meta["params"], "bogus": 1}})})
    tampered("missing-tensor.safetensors", {}, {"nolabel": json.dumps(meta)})
    tampered("checkpoint-kind.safetensors", tensors,
             {"nolabel": json.dumps({**meta, "kind": "checkpoint"})})
    (folder / "a-folder.safetensors").mkdir()


def build(folder: str | os.PathLike[str]) -> Path:
    """Write every bad-input file under ``folder`` (created if needed) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for make in (_idx_files, _csv_files, _npy_files, _parquet_files, _image_files,
                 _model_files):
        make(folder)
    (folder / "table.json").write_text("{}")
    (folder / "in-use").write_text("an ordinary file where a run folder should go")
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUTPUT_FOLDER")
    print(build(sys.argv[1]))
