"""Information theory on numpy arrays and torch tensors, checked against closed forms."""

import math

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from nolabel.errors import DataError, ParameterError
from nolabel.metrics import information as info


def _distribution(rng, shape):
    weights = rng.random(shape) + 0.05
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("k", [1, 2, 10])
def test_entropy_of_uniform_is_log_k(k):
    assert info.entropy(np.full(k, 1 / k)) == pytest.approx(math.log(k))


def test_entropy_of_one_hot_is_zero():
    assert info.entropy(np.array([0.0, 1.0, 0.0])) == 0.0


def test_base_two_gives_bits():
    assert info.entropy(np.full(8, 1 / 8), base=2) == pytest.approx(3.0)
    assert info.self_information(np.array([0.25, 1.0]), base=2) == pytest.approx([2.0, 0.0])
    assert info.kl_divergence([1.0, 0.0], [0.5, 0.5], base=2) == pytest.approx(1.0)


def test_self_information_is_minus_log_and_infinite_at_zero():
    np.testing.assert_allclose(info.self_information([0.5, 0.1]), -np.log([0.5, 0.1]))
    assert info.self_information(np.array([0.0]))[0] == np.inf


def test_entropy_along_axis_of_a_batch():
    p = _distribution(np.random.default_rng(0), (4, 3))
    np.testing.assert_allclose(info.entropy(p, axis=-1), scipy.stats.entropy(p, axis=-1))
    np.testing.assert_allclose(info.entropy(p.T, axis=0), scipy.stats.entropy(p, axis=-1))


def test_kl_of_a_distribution_with_itself_is_zero():
    p = _distribution(np.random.default_rng(1), (5, 7))
    np.testing.assert_array_equal(info.kl_divergence(p, p), np.zeros(5))


def test_kl_matches_scipy():
    rng = np.random.default_rng(2)
    p, q = _distribution(rng, (3, 6)), _distribution(rng, (3, 6))
    np.testing.assert_allclose(info.kl_divergence(p, q), scipy.stats.entropy(p, q, axis=-1))


def test_kl_is_infinite_where_q_misses_mass_of_p():
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    # ...but mass that p does not have costs nothing.
    assert info.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0


def _weight_pairs(size):
    weights = st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size)
    return st.tuples(weights, weights).filter(lambda pair: min(map(sum, pair)) > 1e-3)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6).flatmap(_weight_pairs))
def test_kl_is_never_negative(weight_pair):
    p, q = (np.array(w) / sum(w) for w in weight_pair)
    assert info.kl_divergence(p, q) >= -1e-12


def test_cross_entropy_is_entropy_plus_kl():
    rng = np.random.default_rng(3)
    p, q = _distribution(rng, (4, 5)), _distribution(rng, (4, 5))
    np.testing.assert_allclose(info.cross_entropy(p, q), info.entropy(p) + info.kl_divergence(p, q))


def test_mutual_information_of_independent_joint_is_zero():
    rng = np.random.default_rng(4)
    joint = np.outer(_distribution(rng, 3), _distribution(rng, 4))
    assert info.mutual_information(joint) == pytest.approx(0.0, abs=1e-12)


def test_mutual_information_of_diagonal_joint_is_entropy_of_marginal():
    marginal = np.array([0.5, 0.3, 0.2])
    assert info.mutual_information(np.diag(marginal)) == pytest.approx(info.entropy(marginal))


def test_mutual_information_of_a_batch_of_tables():
    tables = np.stack([np.diag([0.5, 0.5]), np.full((2, 2), 0.25)])
    np.testing.assert_allclose(info.mutual_information(tables, base=2), [1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mutual_information_of_labels_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-1, 4, size=150)
    b = np.where(rng.random(150) < 0.5, a, rng.integers(0, 6, size=150))
    assert info.mutual_information_labels(a, b) == pytest.approx(mutual_info_score(a, b))
    assert info.mutual_information_labels(a, b, base=2) == pytest.approx(
        mutual_info_score(a, b) / math.log(2)
    )


def test_mutual_information_of_labels_hand_worked():
    # Identical balanced binary labelings share one bit; crossed ones share nothing.
    assert info.mutual_information_labels([0, 0, 1, 1], [5, 5, 7, 7], base=2) == pytest.approx(1.0)
    assert info.mutual_information_labels([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0)
    assert info.mutual_information_labels(
        np.array([0.0, 0.0, 1.0, 1.0]), [-1, -1, 3, 3]
    ) == pytest.approx(math.log(2))
    with pytest.raises(ParameterError, match="base must not be 1"):
        info.mutual_information_labels([0, 1], [0, 1], base=1)


def test_gaussian_kl_matches_torch_distributions():
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()),
        torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu)),
    ).sum(-1)
    torch.testing.assert_close(info.gaussian_kl(mu, logvar), expected)
    np.testing.assert_allclose(info.gaussian_kl(mu.numpy(), logvar.numpy()), expected.numpy())


def test_gaussian_kl_pair_matches_torch_distributions_and_broadcasts():
    generator = torch.Generator().manual_seed(1)
    mu1, logvar1 = torch.randn(2, 4, 1, 3, generator=generator, dtype=torch.float64)
    mu2, logvar2 = torch.randn(2, 1, 5, 3, generator=generator, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu1, (0.5 * logvar1).exp()),
        torch.distributions.Normal(mu2, (0.5 * logvar2).exp()),
    ).sum(-1)
    result = info.gaussian_kl_pair(mu1, logvar1, mu2, logvar2)
    assert result.shape == (4, 5)
    torch.testing.assert_close(result, expected)
    zeros = torch.zeros(3, dtype=torch.float64)
    torch.testing.assert_close(
        info.gaussian_kl_pair(mu1, logvar1, zeros, zeros), info.gaussian_kl(mu1, logvar1)
    )


def test_torch_inputs_give_tensors_with_finite_gradients():
    logits = torch.randn(4, 5, requires_grad=True)
    p = torch.softmax(logits, dim=-1)
    q = torch.softmax(torch.randn(4, 5), dim=-1)
    mu = torch.randn(4, 3, requires_grad=True)
    logvar = torch.randn(4, 3, requires_grad=True)
    joint = torch.softmax(logits.flatten(), 0).reshape(4, 5)
    values = [
        info.entropy(p),
        info.cross_entropy(p, q),
        info.kl_divergence(p, q),
        info.self_information(p),
        info.mutual_information(joint),
        info.gaussian_kl(mu, logvar),
        info.gaussian_kl_pair(mu, logvar, mu.detach() + 1, logvar.detach()),
    ]
    for value in values:
        assert isinstance(value, torch.Tensor)
    sum(v.sum() for v in values).backward()
    for parameter in (logits, mu, logvar):
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all()
        assert parameter.grad.abs().sum() > 0


def test_gradients_stay_finite_where_probabilities_are_exactly_zero():
    p = torch.tensor([0.0, 0.5, 0.5], requires_grad=True)
    q = torch.tensor([0.0, 0.25, 0.75], requires_grad=True)
    (info.entropy(p) + info.kl_divergence(p, q) + info.cross_entropy(p, q)).backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()


def test_mixing_numpy_and_torch_gives_a_tensor():
    result = info.kl_divergence(np.array([0.5, 0.5]), torch.tensor([0.25, 0.75]))
    assert isinstance(result, torch.Tensor)
    assert float(result) == pytest.approx(scipy.stats.entropy([0.5, 0.5], [0.25, 0.75]), rel=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: info.entropy([0.5, 0.6]), "p must sum to 1 along axis -1, but it sums to 1.1"),
        (lambda: info.entropy(np.full((2, 3), 0.5)), "distribution at index \\(0,\\)"),
        (lambda: info.entropy([1.5, -0.5]), "p must hold probabilities in \\[0, 1\\]"),
        (lambda: info.entropy([float("nan"), 1.0]), "p holds a non-finite value"),
        (lambda: info.entropy(0.5), "p must be an array"),
        (lambda: info.kl_divergence([0.5, 0.5], [0.5, 0.6]), "q must sum to 1"),
        (lambda: info.kl_divergence(np.full(2, 0.5), np.full(3, 1 / 3)), "do not match"),
        (lambda: info.mutual_information([0.5, 0.5]), "joint must be a table"),
        (lambda: info.mutual_information(np.full((2, 2), 0.5)), "joint must sum to 1"),
        (lambda: info.self_information([2.0]), "p must hold probabilities"),
        (lambda: info.gaussian_kl(np.zeros(3), np.zeros(4)), "do not match"),
        (lambda: info.mutual_information_labels([0, 1], [0]), "a has 2 labels but b has 1"),
    ],
)
def test_invalid_inputs_raise_a_clear_data_error(call, message):
    with pytest.raises(DataError, match=message):
        call()


def test_validate_false_skips_the_checks():
    assert np.isfinite(info.entropy(np.array([0.5, 0.6]), validate=False))


def test_float32_rounding_is_not_an_error():
    p = torch.softmax(torch.randn(64, 1000), dim=-1)
    assert info.entropy(p).dtype == torch.float32


@pytest.mark.parametrize(("argument", "value"), [("base", 1.0), ("base", -2.0), ("axis", 2)])
def test_bad_arguments_raise_parameter_error(argument, value):
    with pytest.raises(ParameterError, match=argument):
        info.entropy(np.full(2, 0.5), **{argument: value})
