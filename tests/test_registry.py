import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
    monkeypatch.setattr(nolabel._version, "__version__", "0.0.1")
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
    assert registry.get("autoencoder").defaults["hidden_dims"] is None  # sized from the data
    assert registry.get("deep-autoencoder").defaults["hidden_dims"] == (500, 500, 2000)
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


_EVERY_MODULE = """
import importlib, json, pkgutil
from nolabel import registry  # the package root runs first, as for any submodule
before = [e.name for e in registry.entries()]
import nolabel
for module in pkgutil.walk_packages(nolabel.__path__, "nolabel."):
    if not module.name.endswith(".__main__"):  # that one runs the command line
        importlib.import_module(module.name)
print(json.dumps({"before": before, "after": [e.name for e in registry.entries()],
                  "classes": sorted({e.cls.__module__ for e in registry.entries()})}))
"""


def test_importing_the_registry_alone_registers_every_estimator():
    # The registry imports no estimator (they import it): what makes it complete is that the
    # package root, which imports every estimator package, runs before any submodule. Any
    # module whose import registers another estimator would show up in "after".
    done = subprocess.run([sys.executable, "-c", _EVERY_MODULE], capture_output=True,
                          text=True, check=True, timeout=300)
    names = __import__("json").loads(done.stdout.splitlines()[-1])
    assert names["before"] == names["after"], (
        f"registered only once their module is imported: "
        f"{sorted(set(names['after']) - set(names['before']))}; import them in their package")
    assert {"kmeans", "dec", "vae", "gan", "pixelcnn"} <= set(names["before"])
    assert {m.split(".")[1] for m in names["classes"]} == {"classical", "clustering", "models"}


def test_the_version_lives_in_one_place_that_setuptools_reads():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert module == "nolabel._version"
    assert getattr(nolabel._version, name) == nolabel.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", nolabel.__version__)
