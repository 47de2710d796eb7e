"""Loading never runs code from a file: no unpickling anywhere in nolabel, planted pickles
are refused before they execute, and files from another nolabel version say so."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.torch import save

import nolabel
from bad_inputs.make_corpus import Payload, write_pickle_payload
from nolabel import AutoEncoder, KMeans, MiniBatchKMeans, load_model
from nolabel.data import load
from nolabel.errors import CheckpointError, DataError
from nolabel.train.checkpoint import read_tensors

SOURCE = Path(nolabel.__file__).parent
UNPICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def unsafe_calls(source: str) -> list[str]:
    """Lines of ``source`` that could unpickle or evaluate data."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names]
            if any(name and name.split(".")[0] in UNPICKLERS for name in names):
                found.append(f"line {node.lineno}: imports {names}")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("eval", "exec", "__import__"):
            found.append(f"line {node.lineno}: {func.id}()")
        if not isinstance(func, ast.Attribute):
            continue
        owner = ast.unparse(func.value)
        if func.attr == "load" and owner == "torch" and _keyword(node, "weights_only") is not True:
            found.append(f"line {node.lineno}: torch.load without weights_only=True")
        if func.attr == "load" and owner in ("np", "numpy") and (
                _keyword(node, "allow_pickle") is not False):
            found.append(f"line {node.lineno}: np.load without allow_pickle=False")
        if _keyword(node, "allow_pickle") is True:
            found.append(f"line {node.lineno}: allow_pickle=True")
    return found


def test_the_scanner_finds_what_it_looks_for():
    planted = (
        "import pickle\nimport numpy as np, torch\n"
        "pickle.loads(b'')\ntorch.load('w.pt')\nnp.load('a.npy')\n"
        "np.load('b.npy', allow_pickle=True)\neval('1')\nexec('x = 1')\n"
        "torch.load('w.pt', weights_only=True)\nnp.load('c.npy', allow_pickle=False)\n"
        "model.eval()\n"
    )
    found = unsafe_calls(planted)
    assert [line.split(":")[0] for line in found] == [
        "line 1", "line 4", "line 5", "line 6", "line 6", "line 7", "line 8"]


def test_nolabel_never_unpickles_or_evaluates():
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 30  # the whole package is scanned
    problems = [f"{path.relative_to(SOURCE)} {problem}"
                for path in files for problem in unsafe_calls(path.read_text(encoding="utf-8"))]
    assert problems == []


# --- planted pickles -----------------------------------------------------------------------


def test_the_payload_really_runs_when_unpickled(tmp_path):
    """Without this, a marker that never appears would prove nothing."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))  # the point of this test
    assert marker.read_text() == "unpickled"


@pytest.fixture
def planted(tmp_path):
    marker = tmp_path / "ran"
    paths = [write_pickle_payload(tmp_path / name, marker)
             for name in ("model.safetensors", "checkpoint.safetensors")]
    return paths, marker


def test_pickle_named_as_a_model_is_refused_without_running(planted):
    paths, marker = planted
    for path in paths:
        with pytest.raises(CheckpointError, match=r"not a valid safetensors file.*never unpickles"):
            load_model(path)
        with pytest.raises(CheckpointError, match="not a valid safetensors file"):
            read_tensors(path)
    assert not marker.exists()


def test_pickle_named_as_a_checkpoint_is_refused_by_resume(planted):
    paths, marker = planted
    X = np.random.default_rng(0).random((8, 3)).astype(np.float32)
    with pytest.raises(CheckpointError, match=r"checkpoint\.safetensors is not a valid"):
        AutoEncoder(2, hidden_dims=(4,), epochs=1, device="cpu").fit(X, resume_from=paths[1])
    assert not marker.exists()


def test_npy_holding_a_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "data.npy"
    np.save(path, np.array([Payload(marker), Payload(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"data\.npy holds Python objects"):
        load(path)
    with pytest.raises(DataError, match="never unpickles"):
        MiniBatchKMeans(2, device="cpu").fit(path)  # reads .npy row blocks itself
    np.savez(tmp_path / "data.npz", X=np.array([Payload(marker)], dtype=object))
    with pytest.raises(DataError, match=r"data\.npz holds Python objects"):
        load(tmp_path / "data.npz")
    assert not marker.exists()


# --- versions ------------------------------------------------------------------------------


def _with_version(path: Path, version: str) -> Path:
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["nolabel"])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    meta["nolabel_version"] = version
    target = path.with_name(f"v{version}.safetensors")
    target.write_bytes(save(tensors, metadata={"nolabel": json.dumps(meta)}))
    return target


@pytest.mark.parametrize("version", ["0.0.1", "99.0"])
def test_model_from_another_version_warns_with_both_versions(tmp_path, version):
    X = np.random.default_rng(0).random((10, 2)).astype(np.float32)
    model = KMeans(2, random_state=0, device="cpu").fit(X)
    path = _with_version(model.save(tmp_path / "kmeans.safetensors"), version)
    with pytest.warns(UserWarning) as caught:
        loaded = load_model(path)
    message = str(caught[0].message)
    assert f"saved by nolabel {version}" in message
    assert f"this is nolabel {nolabel.__version__}" in message
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_model_from_this_version_loads_silently(tmp_path, recwarn):
    X = np.random.default_rng(0).random((10, 2)).astype(np.float32)
    load_model(KMeans(2, random_state=0, device="cpu").fit(X).save(tmp_path / "k.safetensors"))
    assert not [w for w in recwarn if "saved by nolabel" in str(w.message)]


def test_a_model_saved_for_another_device_loads_on_the_one_asked_for(tmp_path):
    import torch

    from nolabel.train import write_tensors

    X = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    path = nolabel.AutoEncoder(latent_dim=2, hidden_dims=(8,), epochs=1, device="cpu").fit(
        X).save(tmp_path / "ae.safetensors")
    tensors, meta = read_tensors(path)
    meta["params"]["device"] = "cuda:7"  # as if fitted on a GPU machine
    write_tensors(path, tensors, meta)
    if not torch.cuda.is_available():
        with pytest.raises(nolabel.ParameterError, match="cuda:7"):
            load_model(path)
    model = load_model(path, device="cpu")
    assert model.device == "cpu" and next(model.module_.parameters()).device.type == "cpu"
    assert model.transform(X).shape == (64, 2)
