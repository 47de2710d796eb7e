import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from nolabel import DAC, DEC, IDEC, DataError, NotFittedError, ParameterError, VaDE, load_model
from nolabel.clustering.dec import (
    clustering_kl,
    student_t_assignment,
    student_t_log_assignment,
    target_distribution,
)
from nolabel.clustering.mixture import (
    MixturePrior,
    cluster_log_posterior,
    log_component_densities,
    mixture_log_density,
)
from nolabel.clustering.vade import vade_kl_terms
from nolabel.metrics.clustering import nmi
from nolabel.registry import get

# Digits 0, 4 and 7 (539 images of 8x8 in [0, 1]): well separated; k-means on the pixels
# reaches NMI 0.92 and these small deep models do not beat it by a margin, so the test asks
# for a high floor instead. Measured NMI with these settings, seeds 0-4 (seed 0 is tested):
# DEC 0.926 (0.90-0.95), IDEC 0.899 (0.88-0.92), VaDE 0.919 (0.66-0.92), DAC 0.939 (0.94-0.96).
NMI_FLOOR = 0.85
COMMON = {"hidden_dims": (64, 64, 128), "latent_dim": 5, "pretrain_epochs": 60,
          "batch_size": 64, "random_state": 0}
SETTINGS = {
    DEC: {"epochs": 20, "update_interval": 10},
    IDEC: {"epochs": 20, "update_interval": 10},
    VaDE: {"epochs": 30},
    DAC: {"epochs": 30, "lr": 1e-3, "discriminator_dims": (64, 64)},
}
TINY = {"hidden_dims": (16,), "latent_dim": 2, "pretrain_epochs": 2, "epochs": 2,
        "batch_size": 64, "random_state": 5}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits(digit_classes):
    return digit_classes(0, 4, 7)


@pytest.fixture(scope="module")
def fitted(digits):
    torch.set_num_threads(1)
    with threadpool_limits(1):
        return {cls: cls(3, **COMMON, **settings).fit(digits[0])
                for cls, settings in SETTINGS.items()}


# -- the losses against hand computations ---------------------------------------------------------
def test_dec_assignment_target_and_kl_by_hand():
    z = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
    centers = np.array([[0.0, 0.0], [2.0, 0.0]])
    for alpha in (1.0, 3.0):
        squared = ((z[:, None] - centers[None]) ** 2).sum(2)
        kernel = (1 + squared / alpha) ** (-(alpha + 1) / 2)
        q = kernel / kernel.sum(1, keepdims=True)
        got = student_t_assignment(torch.tensor(z), torch.tensor(centers), alpha)
        np.testing.assert_allclose(got.numpy(), q, rtol=1e-12)
    # alpha = 1: the first point's kernel values are 1 and 1/5
    first = student_t_assignment(torch.tensor(z[:1]), torch.tensor(centers))
    np.testing.assert_allclose(first.numpy(), [[5 / 6, 1 / 6]], rtol=1e-12)
    q = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    f = q.sum(0)
    p = q**2 / f / (q**2 / f).sum(1, keepdims=True)
    np.testing.assert_allclose(target_distribution(torch.tensor(q)).numpy(), p, rtol=1e-12)
    kl = (p * np.log(p / q)).sum(1)
    np.testing.assert_allclose(clustering_kl(torch.tensor(p), torch.tensor(np.log(q))).numpy(),
                               kl, rtol=1e-12)
    assert clustering_kl(torch.tensor([[1.0, 0.0]]),
                         torch.tensor([[0.5, 0.5]]).log()).item() == pytest.approx(math.log(2))


def test_dec_loss_stays_finite_where_q_underflows_and_at_a_centre():
    """Far from every centre but one, q_ij underflows to 0 in float32; log q from the
    log-kernel keeps the KL and its gradient finite, and a code on a centre has a finite
    gradient (no square root of a zero distance)."""
    centers = torch.tensor([[0.0, 0.0], [1e3, 0.0]])
    z = torch.tensor([[0.0, 0.0], [2e3, 0.0]], requires_grad=True)
    log_q = student_t_log_assignment(z, centers, alpha=100.0)  # kernel ~ d^-101
    assert student_t_assignment(z, centers, alpha=100.0)[0, 1] == 0  # underflowed
    p = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    kl = clustering_kl(p, log_q).sum()
    kl.backward()
    assert torch.isfinite(kl) and torch.isfinite(z.grad).all()


def test_tied_mixture_shares_the_weighted_mean_variance():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(0, 0.5, (200, 3)), rng.normal(4, 2.0, (100, 3))])
    codes = torch.from_numpy(codes.astype(np.float32))
    tied, free = MixturePrior(2, 3, tied=True), MixturePrior(2, 3)
    tied.initialise(codes, n_init=3, seed=0)
    free.initialise(codes, n_init=3, seed=0)
    log_weights, _, logvars = (v.detach().numpy() for v in tied.distribution())
    free_weights, _, free_logvars = (v.detach().numpy() for v in free.distribution())
    assert tied.logvars.shape == (1, 3) and logvars.shape == (2, 3)
    np.testing.assert_allclose(logvars[0], logvars[1])
    expected = (np.exp(free_weights)[:, None] * np.exp(free_logvars)).sum(0)
    np.testing.assert_allclose(np.exp(logvars[0]), expected, rtol=1e-5)
    np.testing.assert_allclose(np.exp(log_weights), np.exp(free_weights), rtol=1e-6)


def test_vade_elbo_pieces_by_hand():
    rng = np.random.default_rng(0)
    mean, logvar = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)) * 0.5
    means, logvars = rng.normal(size=(3, 2)) * 2, rng.normal(size=(3, 2)) * 0.5
    weights = np.array([0.5, 0.3, 0.2])
    t = [torch.tensor(a) for a in (mean, logvar, np.log(weights), means, logvars)]
    # log p(z|c): a product of univariate normals
    log_pzc = norm.logpdf(mean[:, None], means[None], np.exp(0.5 * logvars)[None]).sum(2)
    np.testing.assert_allclose(log_component_densities(t[0], t[3], t[4]).numpy(), log_pzc,
                               rtol=1e-12)
    # γ = π_c p(z|c) / Σ π_c' p(z|c'), and log p(z)
    joint = weights * np.exp(log_pzc)
    gamma = joint / joint.sum(1, keepdims=True)
    log_gamma = cluster_log_posterior(t[0], t[2], t[3], t[4])
    np.testing.assert_allclose(log_gamma.exp().numpy(), gamma, rtol=1e-10)
    np.testing.assert_allclose(mixture_log_density(t[0], t[2], t[3], t[4]).numpy(),
                               logsumexp(np.log(weights) + log_pzc, axis=1), rtol=1e-12)
    # the two KL terms: Σ_c γ_c KL(N(μ̃, σ̃²) || N(μ_c, σ²_c)) and KL(γ || π)
    kl_z, kl_c = vade_kl_terms(t[0], t[1], log_gamma, t[2], t[3], t[4])
    v, vc = np.exp(logvar)[:, None], np.exp(logvars)[None]
    kl_pairs = 0.5 * (np.log(vc / v) + v / vc + (mean[:, None] - means[None]) ** 2 / vc - 1).sum(2)
    np.testing.assert_allclose(kl_z.numpy(), (gamma * kl_pairs).sum(1), rtol=1e-10)
    np.testing.assert_allclose(kl_c.numpy(), (gamma * np.log(gamma / weights)).sum(1),
                               rtol=1e-10)
    # together: the paper's eq. 12 without its reconstruction term, sign flipped
    paper = (0.5 * (gamma * (logvars[None] + v / vc + (mean[:, None] - means[None]) ** 2 / vc)
                    .sum(2)).sum(1)
             - (gamma * np.log(weights / gamma)).sum(1) - 0.5 * (1 + logvar).sum(1))
    np.testing.assert_allclose((kl_z + kl_c).numpy(), paper, rtol=1e-10)


# -- the models on real data ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda c: c.__name__)
def test_clusters_separable_digits(fitted, digits, cls):
    model, (X, y) = fitted[cls], digits
    assert nmi(y, model.labels_) >= NMI_FLOOR
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    proba = model.predict_proba(X[:50])
    assert proba.shape == (50, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), model.labels_[:50])
    codes = model.transform(X[:50])
    assert codes.shape == (50, 5)
    np.testing.assert_array_equal(codes, model.transform(X[:50]))
    assert model.cluster_centers_.shape == (3, 5)
    history = model.history_
    assert history["pretrain_loss"][-1] < 0.5 * history["pretrain_loss"][0]
    assert 1 <= model.n_epochs_ <= SETTINGS[cls]["epochs"]


def test_training_histories(fitted):
    dec, idec, vade, dac = (fitted[c] for c in (DEC, IDEC, VaDE, DAC))
    assert dec.history_["label_change"][-1] < dec.tol or dec.n_epochs_ == 20
    assert {"reconstruction", "kl"} <= set(idec.history_)
    parts = np.add(np.add(vade.history_["reconstruction"], vade.history_["kl_z"]),
                   vade.history_["kl_c"])
    np.testing.assert_allclose(vade.history_["loss"], parts, rtol=1e-5)
    assert vade.history_["loss"][-1] < vade.history_["loss"][0]
    assert {"discriminator_loss", "d_real_accuracy", "nll", "adversarial"} <= set(dac.history_)
    np.testing.assert_allclose(vade.weights_.sum(), 1.0, rtol=1e-5)
    assert (dac.covariances_ > 0).all()


def test_dec_stops_when_labels_settle(digits):
    model = DEC(3, tol=1.0, update_interval=1, **{**TINY, "epochs": 5}).fit(digits[0])
    # every check sees fewer than 100 % of the labels change: stop at the first one
    assert len(model.history_["label_change"]) == 1 and len(model.history_["loss"]) == 1


@pytest.mark.parametrize("cls", [VaDE, DAC], ids=lambda c: c.__name__)
def test_samples_of_a_cluster_are_assigned_to_it(fitted, cls):
    model = fitted[cls]
    for cluster in range(3):
        samples = model.sample(100, cluster=cluster, random_state=1)
        assert samples.shape == (100, 64)
        assert (model.predict(samples) == cluster).mean() > 0.6
    np.testing.assert_array_equal(model.sample(5, random_state=2), model.sample(5, random_state=2))
    with pytest.raises(ParameterError, match="cluster"):
        model.sample(3, cluster=3)


@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda c: c.__name__)
def test_same_seed_same_labels(digits, cls):
    a = cls(3, **TINY).fit(digits[0])
    np.testing.assert_array_equal(a.labels_, clone(a).fit(digits[0]).labels_)


@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda c: c.__name__)
def test_save_load_round_trip(fitted, digits, tmp_path, cls):
    model = fitted[cls]
    assert get(cls._registry_name).cls is cls
    loaded = load_model(model.save(tmp_path / "model.safetensors"))
    X = digits[0]
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    assert loaded.history_ == model.history_


def test_conv_architecture(digits):
    images = digits[0].reshape(-1, 1, 8, 8)
    conv = {"architecture": "conv", "channels": (8,), **{k: v for k, v in TINY.items()
                                                         if k != "hidden_dims"}}
    for cls in (IDEC, VaDE):
        model = cls(3, **conv).fit(images)
        assert model.transform(images[:4]).shape == (4, 2)
        assert model.predict(images).shape == (len(images),)
    assert model.sample(3, cluster=0).shape == (3, 1, 8, 8)
    with pytest.raises(DataError, match="images"):
        model.predict(digits[0])


@pytest.mark.parametrize("cls, name, value", [
    (DEC, "n_clusters", 0), (DEC, "alpha", 0.0), (DEC, "update_interval", 0),
    (DEC, "tol", -0.1), (DEC, "architecture", "rnn"), (DEC, "pretrain_epochs", -1),
    (DEC, "hidden_dims", (64, 0)), (DEC, "init", "random"), (IDEC, "gamma", -1.0),
    (VaDE, "likelihood", "poisson"), (VaDE, "init", "em"), (DAC, "init", "random"),
    (VaDE, "lr_decay", 1.5), (VaDE, "decay_every", 0), (DAC, "gmm_weight", -1.0),
    (DAC, "d_steps", 0), (DAC, "n_init", 0), (DAC, "covariance", "full"),
    (DAC, "mixture_lr", 0.0),
])
def test_bad_parameters_are_named(digits, cls, name, value):
    with pytest.raises(ParameterError, match=name.split("_dims")[0]):
        cls(**{"n_clusters": 3, **TINY, name: value}).fit(digits[0][:100])


def test_dac_mixture_learns_at_its_own_rate(digits):
    frozen = DAC(3, **{**TINY, "mixture_lr": 1e-12}).fit(digits[0])
    moving = DAC(3, **{**TINY, "mixture_lr": 1e-2}).fit(digits[0])
    start = DAC(3, **{**TINY, "epochs": 1, "mixture_lr": 1e-12}).fit(digits[0])
    np.testing.assert_allclose(frozen.cluster_centers_, start.cluster_centers_, atol=1e-6)
    assert np.abs(moving.cluster_centers_ - start.cluster_centers_).max() > 1e-3


def test_bad_data_and_unfitted(digits):
    with pytest.raises(DataError, match="n_clusters=3"):
        DEC(3, **TINY).fit(digits[0][:2])
    with pytest.raises(DataError, match="likelihood='bernoulli'"):
        VaDE(3, likelihood="bernoulli", **TINY).fit(digits[0] * 16)
    with pytest.raises(NotFittedError):
        DAC(3).predict(digits[0])


# -- the clustering phase does what it is for --------------------------------------------------
# DAC at its default lr (1e-4) never lost NMI against its k-means-started EM, but its gain is
# small next to the seed-to-seed spread: +0.009 to +0.026 over seeds 0-4 in bf16 (Zen 5);
# +0.020 / +0.013 / +0.0003 / +0.027 / +0.033 in float32 (Zen 3, no bf16). At lr 1e-3 the gain
# ranged from -0.05 to +0.03 with the seed, so the test holds DAC to its defaults, judges it on
# the mean gain of three seeds, and asks for about half the smallest mean measured.
@pytest.mark.parametrize(("cls", "settings", "seeds", "gain"), [
    (DEC, {"optimizer": "adam", "lr": 1e-3, "update_interval": 20}, (2,), 0.02),
    (IDEC, {"update_interval": 20}, (2,), 0.02),
    (VaDE, {"lr": 5e-4}, (2,), 0.02),
    (DAC, {}, (0, 1, 2), 0.005),
])
def test_clustering_phase_improves_on_its_own_start(cls, settings, seeds, gain, one_thread):
    """On all 1,797 digits, from a small pretrained autoencoder, the clustering phase ends with
    clusters closer to the digits than the k-means / EM start it was given on the same codes;
    with the phase switched off the two would be equal."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = (data.data / 16).astype(np.float32), data.target
    starts, ends = [], []
    for seed in seeds:
        model = cls(10, hidden_dims=(256, 128), latent_dim=10, pretrain_epochs=50, epochs=50,
                    random_state=seed, device="cpu", **settings).fit(X)
        starts.append(nmi(y, model.initial_labels_))
        ends.append(nmi(y, model.labels_))
    assert np.mean(ends) > np.mean(starts) + gain, (starts, ends)


# Measured with this autoencoder, seed 0, NMI of the start and the end, k-means/EM start
# against N2D's clusters: DEC 0.699 -> 0.693 against 0.827 -> 0.746, IDEC 0.699 -> 0.703
# against 0.827 -> 0.771 (DEC and IDEC start from N2D's posterior itself), VaDE 0.728 -> 0.751
# against 0.774 -> 0.786, DAC 0.713 -> 0.717 against 0.751 -> 0.754.
# Each threshold is about half of its measured gap.
@pytest.mark.parametrize(("cls", "start_gain", "end_gain"), [
    (DEC, 0.064, 0.026), (IDEC, 0.064, 0.034), (VaDE, 0.023, 0.017), (DAC, 0.019, 0.018),
])
def test_manifold_start_is_n2d_clusters_closer_to_the_digits(cls, start_gain, end_gain,
                                                              one_thread):
    """init="manifold" starts the clustering phase from N2D's clusters of the same codes:
    on all 1,797 digits they are closer to the digits than the k-means (DEC, IDEC) or EM
    (VaDE, DAC) start, and the phase keeps most of that lead."""
    pytest.importorskip("umap")
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = (data.data / 16).astype(np.float32), data.target
    common = {"hidden_dims": (256, 128), "latent_dim": 10, "pretrain_epochs": 30,
              "epochs": 5, "random_state": 0, "device": "cpu"}
    kmeans = cls(10, **common).fit(X)
    manifold = cls(10, init="manifold", **common).fit(X)
    assert manifold.get_params()["init"] == "manifold"
    assert nmi(y, manifold.initial_labels_) > nmi(y, kmeans.initial_labels_) + start_gain
    assert nmi(y, manifold.labels_) > nmi(y, kmeans.labels_) + end_gain


def test_dec_manifold_start_is_n2d_posterior_itself(monkeypatch, one_thread):
    """DEC's init="manifold" takes N2D's posterior as its first Q, so the phase starts from
    N2D's clusters themselves; read through their mean codes (the nearest centre) they lose
    accuracy, the codes' clusters not being round (benchmark, digits: 0.835 against 0.891)."""
    pytest.importorskip("umap")
    from sklearn.datasets import load_digits

    import nolabel.clustering.dec as dec_module

    X = (load_digits().data / 16).astype(np.float32)
    real, seen = dec_module.manifold_responsibilities, []
    monkeypatch.setattr(dec_module, "manifold_responsibilities",
                        lambda *args: seen.append(real(*args)) or seen[-1])
    model = DEC(10, init="manifold", hidden_dims=(256, 128), latent_dim=10, pretrain_epochs=30,
                epochs=5, random_state=0, device="cpu").fit(X)
    n2d = seen[0].argmax(1).cpu().numpy()
    np.testing.assert_array_equal(model.initial_labels_, n2d)


def test_manifold_mixture_start_has_the_moments_of_n2d_clusters():
    """init="manifold" sets π, μ, σ² to the weights, means and variances of the clusters N2D
    finds. On two concentric rings, which EM in code space splits into halves (means on
    either side of the centre), N2D's clusters are the rings: both means at the centre, each
    ring's variance r² / 2 per axis."""
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 600)
    radii = np.repeat([1.0, 5.0], [200, 400]) + rng.normal(0, 0.05, 600)
    codes = torch.from_numpy(np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)
                             .astype(np.float32))
    em, manifold = MixturePrior(2, 2), MixturePrior(2, 2)
    em.initialise(codes, n_init=3, seed=0)
    manifold.initialise(codes, n_init=3, seed=0, init="manifold")
    assert np.abs(em.means.detach().numpy()).max() > 1.5  # EM halves the rings
    log_weights, means, logvars = (v.detach().numpy() for v in manifold.distribution())
    order = np.argsort(logvars.sum(1))  # inner ring first
    np.testing.assert_allclose(np.exp(log_weights[order]), [1 / 3, 2 / 3], atol=0.01)
    np.testing.assert_allclose(means, 0, atol=0.3)
    np.testing.assert_allclose(np.exp(logvars[order]), [[0.5, 0.5], [12.5, 12.5]], rtol=0.2)
