import numpy as np
import pytest

import nolabel
from nolabel import AutoEncoder, CheckpointError, KMeans, ParameterError, load_model, registry
from nolabel.train import read_tensors, write_tensors


def test_every_estimator_is_registered_by_name():
    names = {entry.name: entry.cls for entry in registry.entries()}
    assert names["kmeans"] is KMeans and names["autoencoder"] is AutoEncoder
    assert registry.get("KMeans").cls is KMeans  # case-insensitive


def test_unknown_model_suggests_the_closest():
    with pytest.raises(ParameterError, match="did you mean 'kmeans'"):
        registry.get("kmean")


def test_loading_a_model_from_another_version_warns_with_both(tmp_path, monkeypatch):
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    path = tmp_path / "km.safetensors"
    monkeypatch.setattr(nolabel, "__version__", "0.0.1")
    KMeans(2, random_state=0).fit(X).save(path)
    monkeypatch.undo()
    expected = rf"saved by nolabel 0\.0\.1; this is nolabel {nolabel.__version__}"
    with pytest.warns(UserWarning, match=expected):
        load_model(path)


def test_checkpoint_is_not_a_model(tmp_path):
    path = write_tensors(tmp_path / "c.safetensors", {}, {"kind": "checkpoint"})
    assert read_tensors(path) == ({}, {"kind": "checkpoint"})
    with pytest.raises(CheckpointError, match="not a saved model"):
        load_model(path)
