"""The independence model (MarginalDensity) and the detector built on it (MarginalDetector)."""

import numpy as np
import pytest
from scipy.special import log_ndtr, logsumexp
from sklearn.metrics import roc_auc_score

from _shared_data import adbench_table
from nolabel import MarginalDensity, MarginalDetector, ParameterError, load_model
from test_autoencoder import planted_outliers


@pytest.fixture(scope="module")
def skewed():
    """Three features of different shapes: normal, exponential, bimodal."""
    rng = np.random.default_rng(0)
    return np.c_[rng.standard_normal(3000), rng.exponential(size=3000),
                 np.r_[rng.normal(-3, 0.3, 1500), rng.normal(3, 1, 1500)]].astype(np.float32)


def _exact(train, queries, bandwidth):
    """Unbinned 1-D Gaussian KDE: log density, log CDF, log survival."""
    z = (queries[:, None].astype(np.float64) - train[None, :]) / bandwidth
    log_n = np.log(len(train))
    return (logsumexp(-0.5 * z**2, 1) - log_n - np.log(bandwidth * np.sqrt(2 * np.pi)),
            logsumexp(log_ndtr(z), 1) - log_n, logsumexp(log_ndtr(-z), 1) - log_n)


def test_binned_tables_match_the_exact_kernel_density(skewed):
    model = MarginalDensity().fit(skewed)
    queries = np.r_[skewed[:200], np.linspace(skewed.min(0), skewed.max(0), 50)]
    scores = model.feature_scores(queries)
    for j in range(skewed.shape[1]):
        exact = _exact(skewed[:, j], queries[:, j], model.bandwidth_[j])
        for name, values in zip(("log_density", "log_cdf", "log_sf"), exact, strict=True):
            np.testing.assert_allclose(scores[name][:, j].numpy(), values, atol=2e-3,
                                       err_msg=f"{name}, feature {j}")
    total = np.asarray(model.score_samples(queries))
    np.testing.assert_allclose(total, scores["log_density"].sum(1).numpy())


def test_silverman_bandwidth_and_constant_features():
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(size=500), np.zeros(500), 5 * rng.normal(size=500)].astype(np.float32)
    model = MarginalDensity().fit(X)
    sd = X[:, 0].std(ddof=1)
    iqr = np.subtract(*np.percentile(X[:, 0], [75, 25]))
    expected = 0.9 * min(sd, iqr / 1.34) * 500 ** -0.2
    assert model.bandwidth_[0] == pytest.approx(expected, rel=1e-3)
    # the constant column borrows the median of the others' bandwidths
    assert model.bandwidth_[1] == pytest.approx(np.median(model.bandwidth_[[0, 2]]), rel=1e-6)
    assert np.isfinite(np.asarray(model.score_samples(X + 1.0))).all()


def test_scores_keep_falling_beyond_the_data(skewed):
    """Far outside the grid, density and tail probability still rank by distance."""
    model = MarginalDensity().fit(skewed)
    far = np.zeros((6, 3), np.float32)
    far[:, 1] = [-1, -2, -5, 12, 20, 40]  # the exponential feature: both sides
    scores = model.feature_scores(far)
    density = scores["log_density"][:, 1].numpy()
    assert (np.diff(density[:3]) < 0).all() and (np.diff(density[3:]) < 0).all()
    assert (np.diff(scores["log_cdf"][:3, 1].numpy()) < 0).all()
    assert (np.diff(scores["log_sf"][3:, 1].numpy()) < 0).all()
    assert np.isfinite(density).all()


def test_samples_follow_each_marginal(skewed):
    """The drawn values' empirical CDF is the model's CDF (a Kolmogorov-Smirnov distance of
    a few percent for 4000 draws)."""
    model = MarginalDensity().fit(skewed)
    drawn = model.sample(4000, random_state=0)
    np.testing.assert_array_equal(drawn, model.sample(4000, random_state=0))
    points = np.quantile(skewed, np.linspace(0.02, 0.98, 25), axis=0).astype(np.float32)
    model_cdf = np.exp(model.feature_scores(points)["log_cdf"].numpy())
    drawn_cdf = (drawn[None, :, :] <= points[:, None, :]).mean(1)
    assert np.abs(model_cdf - drawn_cdf).max() < 0.03


def test_save_and_load_give_the_same_scores(skewed, tmp_path):
    for model in (MarginalDensity(bandwidth=0.2).fit(skewed), MarginalDetector().fit(skewed)):
        path = model.save(tmp_path / type(model).__name__)
        loaded = load_model(path)
        np.testing.assert_array_equal(np.asarray(loaded.score_samples(skewed)),
                                      np.asarray(model.score_samples(skewed)))


def test_bad_parameters_are_named():
    X = np.zeros((10, 2), np.float32)
    with pytest.raises(ParameterError, match="bandwidth"):
        MarginalDensity(bandwidth="wide").fit(X)
    with pytest.raises(ParameterError, match="bandwidth"):
        MarginalDensity(bandwidth=-1.0).fit(X)
    with pytest.raises(ParameterError, match="scores"):
        MarginalDetector(scores=("density", "nope")).fit(X)


def test_detector_flags_planted_outliers_at_its_defaults():
    X, y = planted_outliers()
    model = MarginalDetector().fit(X)
    normality = np.asarray(model.score_samples(X))
    assert roc_auc_score(y, -normality) > 0.95
    # robust z-scores: a typical training row scores about 0
    assert abs(np.median(normality)) < 0.1
    # deterministic: no seed anywhere
    np.testing.assert_array_equal(normality, MarginalDetector().fit(X).score_samples(X))


def test_each_score_flags_what_the_other_misses():
    """A value in the gap of a bimodal feature is central by its tails but improbable by its
    density; a value just past a skewed feature's bulk is the reverse. The combination
    ranks both below every inlier."""
    rng = np.random.default_rng(2)
    bimodal = np.r_[rng.normal(-4, 0.5, 1000), rng.normal(4, 0.5, 1000)]
    skew = rng.exponential(size=2000)
    X = np.c_[bimodal, skew].astype(np.float32)
    gap, tail = np.array([[0.0, 1.0]], np.float32), np.array([[4.0, 9.0]], np.float32)
    density, tails = (MarginalDetector(scores=(name,)).fit(X) for name in ("density", "tails"))
    assert density.score_samples(gap)[0] < np.quantile(density.score_samples(X), 0.01)
    assert tails.score_samples(gap)[0] > np.quantile(tails.score_samples(X), 0.3)
    both = MarginalDetector().fit(X)
    inliers = both.score_samples(X)
    assert both.score_samples(gap)[0] < np.quantile(inliers, 0.01)
    assert both.score_samples(tail)[0] < np.quantile(inliers, 0.01)


def test_adbench_cardio_beats_a_gaussian():
    """Real tabular anomalies (ADBench cardio, 1831 rows, 21 features), fitted on all rows."""
    from nolabel import GaussianDensity

    X, y = adbench_table("6_cardio.npz")
    ours = roc_auc_score(y, -MarginalDetector().fit(X).score_samples(X))
    gaussian = roc_auc_score(y, -GaussianDensity().fit(X).score_samples(X))
    assert ours > gaussian + 0.02 and ours > 0.92, (ours, gaussian)
