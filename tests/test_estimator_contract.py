"""What every registered neural estimator must do, parametrised over the registry so that a
new model cannot miss it: train from a ``.npy`` path as from an array, write checkpoints and
resume exactly in every training phase, leave the global random generators alone, declare a
constraint for every hyper-parameter, pickle, and draw fresh samples when unseeded.

``NOLABEL_TEST_DEVICE=cuda pytest tests/test_estimator_contract.py`` runs the same checks on
a GPU (skipped when none is there); exact equalities become close ones there, since CUDA
kernels need not be bit-reproducible.
"""

from __future__ import annotations

import inspect
import os
import pickle
import random

import numpy as np
import pytest
import torch
from sklearn.base import clone

from nolabel import ParameterError, registry
from nolabel.models.base import NeuralEstimator
from nolabel.train import loop

DEVICE = os.environ.get("NOLABEL_TEST_DEVICE", "cpu")
ON_GPU = DEVICE.startswith("cuda")

pytestmark = pytest.mark.skipif(ON_GPU and not torch.cuda.is_available(),
                                reason=f"NOLABEL_TEST_DEVICE={DEVICE} but CUDA is not available")

NEURAL = sorted(entry.name for entry in registry.entries()
                if issubclass(entry.cls, NeuralEstimator))

# Tiny networks and schedules: each setting is used where the model has that parameter.
TINY = {"hidden_dims": (16,), "latent_dim": 4, "channels": (4, 8), "generator_dims": (16,),
        "discriminator_dims": (16,), "pretrain_epochs": 2, "epochs": 2, "batch_size": 32,
        "n_clusters": 3, "n_neighbors": 5, "n_init": 1, "update_interval": 3, "n_layers": 2,
        "n_importance": 4, "random_state": 0, "device": DEVICE, "verbose": 0}


def _settings(name: str, **changes) -> dict:
    defaults = registry.get(name).defaults
    chosen = {k: v for k, v in {**TINY, **changes}.items() if k in defaults}
    if "hidden_channels" in defaults:  # PixelCNN/RNN: one width for every layer
        chosen["hidden_channels"] = 8
    return chosen


def _data(name: str) -> np.ndarray:
    """Digits in [0, 1]: binary 8x8 images for the pixel models, images for the image
    models, vectors for the others."""
    from sklearn.datasets import load_digits

    X = (load_digits().data[:240] / 16).astype(np.float32)
    cls = registry.get(name).cls
    if name in ("pixelcnn", "pixelrnn"):
        return (X > 0.5).astype(np.float32).reshape(-1, 1, 8, 8)
    if cls.__dict__.get("_image_input") is True or any(
            base.__dict__.get("_image_input") is True for base in cls.__mro__[1:-1]):
        return X.reshape(-1, 1, 8, 8)
    return X


def _same_state(a, b) -> None:
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        if ON_GPU:
            torch.testing.assert_close(sa[key], sb[key], rtol=1e-4, atol=1e-5)
        else:
            assert torch.equal(sa[key], sb[key]), key


def test_the_registry_has_the_neural_models():
    assert {"autoencoder", "vae", "dcgan", "dec", "vade", "dac", "n2d", "infogan"} <= set(NEURAL)


@pytest.mark.parametrize("name", NEURAL)
def test_every_parameter_is_declared(name):
    """Every __init__ argument has a constraint, so validation cannot silently skip one."""
    cls = registry.get(name).cls
    declared = {}
    for klass in reversed(cls.__mro__):
        declared.update(klass.__dict__.get("_parameter_constraints", {}))
    missing = set(inspect.signature(cls.__init__).parameters) - {"self"} - set(declared)
    missing -= {"device"}  # resolved (and its errors raised) by resolve_device
    assert not missing, f"{name}: no constraint for {sorted(missing)}"


@pytest.mark.parametrize("name", NEURAL)
def test_bad_parameter_is_named_at_fit_not_at_construction(name):
    model = registry.get(name).cls(**_settings(name, batch_size=0))
    with pytest.raises(ParameterError, match="batch_size"):
        model.fit(_data(name))


@pytest.mark.parametrize("name", NEURAL)
def test_npy_path_trains_like_the_array_and_leaves_global_generators_alone(name, tmp_path,
                                                                         one_thread):
    X = _data(name)
    np.save(tmp_path / "X.npy", X)
    random.seed(5)
    legacy = np.random  # the global generator code outside nolabel may use: must stay as it was
    legacy.seed(5)
    torch.manual_seed(5)
    before = (random.getstate(), legacy.get_state()[1].copy(), torch.get_rng_state())
    cls = registry.get(name).cls
    in_memory = cls(**_settings(name)).fit(X)
    from_disk = cls(**_settings(name)).fit(tmp_path / "X.npy")
    after = (random.getstate(), legacy.get_state()[1].copy(), torch.get_rng_state())
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert torch.equal(before[2], after[2])
    _same_state(in_memory, from_disk)
    if hasattr(in_memory, "labels_"):
        assert np.array_equal(in_memory.labels_, from_disk.labels_)


class _Killed(Exception):
    pass


def _kill_after_writes(monkeypatch, writes: int) -> None:
    """Make the ``writes``-th checkpoint write the last: training dies right after it."""
    original, count = loop.save_checkpoint, {"n": 0}

    def save_then_maybe_die(*args, **kwargs):
        path = original(*args, **kwargs)
        count["n"] += 1
        if count["n"] == writes:
            raise _Killed
        return path

    monkeypatch.setattr(loop, "save_checkpoint", save_then_maybe_die)


def _phases(name: str) -> int:
    return 2 if registry.get(name).defaults.get("pretrain_epochs") is not None else 1


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("killed_after", [1, 3])
def test_resume_from_a_checkpoint_in_any_phase_gives_the_uninterrupted_model(
        name, killed_after, tmp_path, monkeypatch, one_thread):
    """Two-phase models write checkpoints 1-2 while pretraining and 3-4 while clustering;
    killed after the 1st or 3rd, the resumed fit ends on the uninterrupted weights."""
    if name == "n2d" and killed_after == 3:
        pytest.skip("N2D has no clustering epochs: its only checkpoints are pretraining's")
    if _phases(name) == 1 and killed_after == 3:
        killed_after = 1  # one phase of 2 epochs: a kill after the 1st write covers it
    cls, X = registry.get(name).cls, _data(name)
    straight = cls(**_settings(name)).fit(X)
    path = tmp_path / "checkpoint.safetensors"
    _kill_after_writes(monkeypatch, killed_after)
    with pytest.raises(_Killed):
        cls(**_settings(name, checkpoint_path=str(path))).fit(X)
    monkeypatch.undo()
    resumed = cls(**_settings(name)).fit(X, resume_from=path)
    _same_state(straight, resumed)
    keys = sorted(k for k in straight.history_ if not k.endswith("epoch_time"))
    assert keys == sorted(k for k in resumed.history_ if not k.endswith("epoch_time"))
    for key in keys:
        assert np.allclose(straight.history_[key], resumed.history_[key]), key
    if hasattr(straight, "labels_"):
        assert np.array_equal(straight.labels_, resumed.labels_)


@pytest.mark.parametrize("name", NEURAL)
def test_fitted_estimators_pickle_and_clone(name, one_thread):
    X = _data(name)
    model = registry.get(name).cls(**_settings(name, epochs=1, pretrain_epochs=1)).fit(X)
    copy = pickle.loads(pickle.dumps(model))
    _same_state(model, copy)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "module_")


@pytest.mark.parametrize("name", [n for n in NEURAL if hasattr(registry.get(n).cls, "sample")])
def test_sampling_is_fresh_unseeded_and_repeatable_seeded(name, one_thread):
    X = _data(name)
    cls = registry.get(name).cls
    seeded = cls(**_settings(name, epochs=1, pretrain_epochs=1)).fit(X)
    assert np.array_equal(seeded.sample(3), seeded.sample(3))
    assert np.array_equal(seeded.sample(3, random_state=1), seeded.sample(3, random_state=1))
    unseeded = cls(**_settings(name, epochs=1, pretrain_epochs=1, random_state=None)).fit(X)
    assert not np.array_equal(unseeded.sample(3), unseeded.sample(3))


# -- the same methods wherever the model supports them -------------------------------------------
LIKELIHOOD_MODELS = ["vae", "vade", "pixelcnn", "pixelrnn"]
DECODING_CLUSTERERS = ["dec", "idec", "vade", "dac", "n2d"]


@pytest.mark.parametrize("name", LIKELIHOOD_MODELS)
def test_likelihood_models_share_score_samples_nll_and_bits_per_dim(name, one_thread):
    X = _data(name)
    model = registry.get(name).cls(**_settings(name, epochs=1, pretrain_epochs=1)).fit(X)
    scores = np.asarray(model.score_samples(X[:20]))
    assert scores.shape == (20,) and np.isfinite(scores).all()
    assert model.nll(X[:20]) == pytest.approx(-scores.mean(), rel=1e-5)
    dims = int(np.prod(X.shape[1:]))
    assert model.bits_per_dim(X[:20]) == pytest.approx(model.nll(X[:20]) / (dims * np.log(2)))
    assert registry.capabilities(model).likelihood


@pytest.mark.parametrize("name", DECODING_CLUSTERERS)
def test_clusterers_with_a_decoder_reconstruct(name, one_thread):
    X = _data(name)
    model = registry.get(name).cls(**_settings(name, epochs=1, pretrain_epochs=3)).fit(X)
    rebuilt = model.reconstruct(X[:10])
    assert rebuilt.shape == X[:10].shape and np.isfinite(rebuilt).all()
    if hasattr(model, "inverse_transform"):  # transform gives the codes: the decoder inverts
        np.testing.assert_allclose(model.inverse_transform(model.transform(X[:10])), rebuilt,
                                   rtol=1e-4, atol=1e-5)
    else:
        assert name == "n2d"  # transform is the UMAP embedding: no decoder from there


def test_vade_elbo_is_below_its_importance_weighted_likelihood(one_thread):
    X = _data("vade")
    model = registry.get("vade").cls(**_settings("vade", epochs=2, n_importance=50)).fit(X)
    elbo = np.asarray(model.elbo(X[:50], n_samples=50))
    iwae = np.asarray(model.score_samples(X[:50]))
    assert np.mean(iwae) > np.mean(elbo)  # the IWAE bound is tighter than the ELBO
