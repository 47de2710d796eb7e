"""Augmented and denoising pretraining on the autoencoders and autoencoder clusterers."""

import numpy as np
import pytest
import torch

from nolabel import DEC, IDEC, AutoEncoder, ParameterError, VaDE
from nolabel.train import loop

TINY = {"hidden_dims": (32,), "latent_dim": 4, "pretrain_epochs": 2, "epochs": 2,
        "batch_size": 64, "n_init": 2, "update_interval": 5, "random_state": 0,
        "device": "cpu"}


def _weights(model):
    return {k: v.clone() for k, v in model.module_.state_dict().items()}


def _differ(a, b) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def digits(digit_classes):
    return digit_classes(0, 1, 6)


@pytest.mark.parametrize("augment", [True, "pretrain"])
def test_augmentation_changes_training_and_repeats_with_the_seed(digits, augment, one_thread):
    X = digits[0]
    plain = DEC(3, **TINY).fit(X)
    first = DEC(3, augment=augment, **TINY).fit(X)
    again = DEC(3, augment=augment, **TINY).fit(X)
    assert _differ(_weights(plain), _weights(first))
    assert not _differ(_weights(first), _weights(again))
    assert np.array_equal(first.labels_, again.labels_)


def test_augment_true_reaches_the_clustering_phase(digits, one_thread):
    """True augments the clustering losses too; 'pretrain' only the pretraining: from the
    same pretrained weights the clustering phases then differ."""
    X = digits[0]
    settings = {**TINY, "pretrain_epochs": 1}
    only_pretraining = IDEC(3, augment="pretrain", **settings).fit(X)
    both = IDEC(3, augment=True, **settings).fit(X)
    assert only_pretraining.history_["pretrain_loss"] == both.history_["pretrain_loss"]
    assert only_pretraining.history_["loss"] != both.history_["loss"]


def test_augmented_training_resumes_exactly(digits, tmp_path, monkeypatch, one_thread):
    X = digits[0]
    straight = DEC(3, augment=True, **TINY).fit(X)
    path = tmp_path / "checkpoint.safetensors"
    original, writes = loop.save_checkpoint, []

    def save_then_die(*args, **kwargs):
        original(*args, **kwargs)
        writes.append(1)
        if len(writes) == 3:  # the first checkpoint of the clustering phase
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        DEC(3, augment=True, checkpoint_path=str(path), **TINY).fit(X)
    monkeypatch.undo()
    resumed = DEC(3, augment=True, **TINY).fit(X, resume_from=path)
    assert not _differ(_weights(straight), _weights(resumed))


def test_autoencoder_augmentation_and_its_errors(digits, one_thread):
    X = digits[0]
    settings = {"hidden_dims": (32,), "latent_dim": 4, "epochs": 2, "random_state": 0,
                "device": "cpu"}
    plain = AutoEncoder(**settings).fit(X)
    augmented = AutoEncoder(augment=True, **settings).fit(X)
    assert _differ(_weights(plain), _weights(augmented))
    with pytest.raises(ParameterError, match=r"augment needs images.*63 values"):
        AutoEncoder(augment=True, **settings).fit(X[:, :63])
    with pytest.raises(ParameterError, match="augment"):
        DEC(3, augment="always", **TINY).fit(X)


def test_denoising_pretraining(digits, one_thread):
    X = digits[0]
    settings = {k: v for k, v in TINY.items() if k != "update_interval"}
    plain = VaDE(3, **settings).fit(X)
    denoised = VaDE(3, noise="masking", noise_level=0.2, **settings).fit(X)
    assert _differ(_weights(plain), _weights(denoised))
    # the corrupted input is harder to reconstruct than the clean one
    assert denoised.history_["pretrain_loss"][0] > plain.history_["pretrain_loss"][0]
    with pytest.raises(ParameterError, match="noise_level is the masked fraction"):
        DEC(3, noise="masking", noise_level=1.0, **TINY).fit(X)
