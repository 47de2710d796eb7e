import re

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


def test_defaults_come_from_the_signature_including_keyword_only():
    defaults = registry.get("kmeans").defaults
    assert defaults["n_clusters"] == KMeans().n_clusters and defaults["init"] == "k-means++"
    assert registry.get("autoencoder").defaults["hidden_dims"] == (256, 128)
    for entry in registry.entries():  # every default builds the estimator it describes
        assert entry.cls(**entry.defaults).get_params() == entry.cls().get_params()


@pytest.mark.parametrize(("pair", "expected"), [
    ("n_clusters=3", {"n_clusters": 3}),
    ("tol=1e-3", {"tol": 0.001}),
    ("n_init=10", {"n_init": 10}),  # a str default ("auto") also takes a number
    ("init=random", {"init": "random"}),
    ("random_state=none", {"random_state": None}),
])
def test_parse_params_types_values_like_their_defaults(pair, expected):
    assert registry.get("kmeans").parse_params([pair]) == expected


def test_parse_params_tuples_and_bools():
    parsed = registry.get("vae").parse_params(["hidden_dims=64,32", "binarize=true",
                                                "beta=2"])
    assert parsed == {"hidden_dims": (64, 32), "binarize": True, "beta": 2.0}
    assert isinstance(parsed["beta"], float)
    assert registry.get("gan").parse_params(["betas=0.5,0.9"]) == {"betas": (0.5, 0.9)}


@pytest.mark.parametrize(("pair", "message"), [
    ("n_clusters=2.5", "n_clusters expects an integer, got '2.5'"),
    ("tol=tiny", "tol expects a number"),
    ("n_clusterz=3", "did you mean 'n_clusters'"),
    ("n_clusters", "key=value"),
])
def test_parse_params_errors_name_the_parameter(pair, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        registry.get("kmeans").parse_params([pair])


def test_capabilities_are_read_from_the_methods():
    caps = {entry.name: registry.capabilities(entry.cls) for entry in registry.entries()}
    assert caps["kmeans"].cluster and not caps["kmeans"].sample and not caps["kmeans"].detect
    assert caps["dbscan"].training_clusters and not caps["dbscan"].cluster
    assert caps["vade"].sample_by_cluster and caps["infogan"].sample_by_cluster
    assert caps["vae"].sample and not caps["vae"].sample_by_cluster and caps["vae"].likelihood
    assert caps["gmm"].likelihood and caps["pixelcnn"].likelihood
    assert caps["autoencoder"].detect and not caps["autoencoder"].likelihood  # -recon. error
    assert caps["pca"].reconstruct and caps["autoencoder"].reconstruct
    assert caps["conv-autoencoder"].any_shape and not caps["kmeans"].any_shape
