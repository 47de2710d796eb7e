"""Starting the autoencoder clusterers from an autoencoder fitted once (``pretrained``)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from nolabel import DAC, DEC, IDEC, N2D, AutoEncoder, DataError, ParameterError, VaDE, load_model
from nolabel.metrics.clustering import nmi

pytestmark = pytest.mark.usefixtures("one_thread")
NETWORK = {"hidden_dims": (32, 32), "latent_dim": 4}


@pytest.fixture(scope="module")
def digits(digit_classes):
    return digit_classes(0, 4, 7)


@pytest.fixture(scope="module")
def autoencoder(digits):
    torch.set_num_threads(1)
    return AutoEncoder(**NETWORK, epochs=40, batch_size=64,
                       random_state=0).fit(digits[0])


def weights(model):
    return [p.detach().clone() for p in model.module_.parameters()]


@pytest.mark.parametrize("cls, settings", [(DEC, {}), (IDEC, {}), (DAC, {}),
                                           (VaDE, {"likelihood": "gaussian"})])
def test_the_clusters_start_on_the_pretrained_codes(cls, settings, digits, autoencoder,
                                                     monkeypatch):
    X = digits[0]
    seen = []
    initialise = cls._initialise
    monkeypatch.setattr(cls, "_initialise",
                        lambda self, codes, seed: (seen.append(codes.clone()),
                                                   initialise(self, codes, seed))[1])
    model = cls(3, **NETWORK, **settings, epochs=1, pretrain_epochs=50,
                pretrained=autoencoder, random_state=0).fit(X)
    np.testing.assert_allclose(seen[0], autoencoder.transform(X), rtol=0, atol=1e-6)
    assert model.history_["pretrain_loss"] == []  # pretraining was skipped


def test_clustering_from_a_pretrained_autoencoder_copies_its_weights(digits, autoencoder):
    X, y = digits
    before = weights(autoencoder)
    model = IDEC(3, **NETWORK, epochs=20, update_interval=10, batch_size=64,
                 pretrained=autoencoder, random_state=0).fit(X)
    assert all(torch.equal(a, b) for a, b in zip(before, weights(autoencoder), strict=True))
    assert not np.allclose(model.transform(X), autoencoder.transform(X))  # IDEC trained on
    assert nmi(y, model.labels_) > 0.85


def test_a_saved_file_and_a_frozen_estimator_give_the_same_model(digits, autoencoder,
                                                                  tmp_path):
    X = digits[0]
    path = autoencoder.save(tmp_path / "ae.safetensors")
    settings = {**NETWORK, "epochs": 3, "update_interval": 10, "random_state": 2}
    from_object = DEC(3, pretrained=autoencoder, **settings).fit(X)
    from_file = DEC(3, pretrained=path, **settings).fit(X)
    from_clone = clone(DEC(3, pretrained=FrozenEstimator(autoencoder), **settings)).fit(X)
    for other in (from_file, from_clone):
        np.testing.assert_array_equal(other.labels_, from_object.labels_)
        np.testing.assert_allclose(other.transform(X), from_object.transform(X), atol=1e-6)
    assert load_model(from_file.save(tmp_path / "dec.safetensors")).pretrained == str(path)


def test_a_model_fitted_from_an_estimator_saves_and_loads(digits, autoencoder, tmp_path):
    X = digits[0]
    model = DAC(3, **NETWORK, epochs=2, discriminator_dims=(16,), pretrained=autoencoder,
                random_state=0).fit(X)
    loaded = load_model(model.save(tmp_path / "dac.safetensors"))
    assert loaded.pretrained is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_n2d_reuses_the_codes(digits, autoencoder):
    pytest.importorskip("umap")
    X, y = digits
    model = N2D(3, **NETWORK, pretrained=autoencoder, random_state=0).fit(X)
    np.testing.assert_allclose(model.reference_codes_.cpu().numpy(), autoencoder.transform(X),
                               atol=1e-6)
    assert model.transform(X).shape == (len(X), 3)  # the manifold, where the clusters are
    assert nmi(y, model.labels_) > 0.85


def test_a_pretrained_model_that_does_not_fit_is_refused(digits, autoencoder):
    X = digits[0]
    with pytest.raises(ParameterError, match=r"pretrained encoder .*0\.weight.*hidden_dims"):
        DEC(3, hidden_dims=(64, 32), latent_dim=4, pretrained=autoencoder).fit(X)
    with pytest.raises(ParameterError, match=r"got AutoEncoder that is not fitted.*Frozen"):
        clone(DEC(3, **NETWORK, pretrained=autoencoder)).fit(X)
    with pytest.raises(ParameterError, match=r"trained for likelihood='gaussian'.*VaDE "
                                             r"reconstructs with likelihood='bernoulli'"):
        VaDE(3, **NETWORK, pretrained=autoencoder).fit(X)
    with pytest.raises(ParameterError, match=r"activation='relu' but this DEC uses "
                                             r"activation='tanh'"):
        DEC(3, **NETWORK, activation="tanh", pretrained=autoencoder).fit(X)
    with pytest.raises(ParameterError, match="got int"):
        DEC(3, **NETWORK, pretrained=3).fit(X)
    with pytest.raises(DataError, match=r"X has 32 features .* fitted on 64"):
        DEC(3, **NETWORK, pretrained=autoencoder).fit(X[:, :32])
