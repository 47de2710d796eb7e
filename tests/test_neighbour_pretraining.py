"""Neighbour-embedding pretraining (parametric UMAP's loss beside the reconstruction)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from nolabel import DEC, N2D, AutoEncoder, DataError, ParameterError
from nolabel.nets import neighbours
from nolabel.nets.neighbours import neighbour_loss, neighbour_table
from nolabel.train import loop


def _agreement(codes: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Fraction of each sample's k nearest codes that share its label."""
    index = NearestNeighbors(n_neighbors=k + 1).fit(codes).kneighbors(codes)[1][:, 1:]
    return float((labels[index] == labels[:, None]).mean())


@pytest.mark.parametrize("block", [7, 2048])
def test_neighbour_table_is_the_exact_k_nearest_other_rows(block, monkeypatch):
    monkeypatch.setattr(neighbours, "_BLOCK", block)  # 7: queries and references in blocks
    X = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    table = neighbour_table(torch.from_numpy(X), 4).numpy()
    expected = NearestNeighbors(n_neighbors=5).fit(X).kneighbors(X)[1][:, 1:]
    assert table.shape == (40, 4)
    assert (table != np.arange(40)[:, None]).all()
    assert np.array_equal(np.sort(table, 1), np.sort(expected, 1))


def test_neighbour_table_reads_rows_from_disk(tmp_path):
    X = np.random.default_rng(1).random((30, 2, 3), dtype=np.float32)
    path = tmp_path / "rows.npy"
    np.save(path, X)
    model = AutoEncoder(2, hidden_dims=(8,), epochs=1, device="cpu")
    from_disk = neighbour_table(model._training_data(str(path), torch.device("cpu")), 3)
    in_memory = neighbour_table(torch.from_numpy(X), 3)
    assert torch.equal(from_disk, in_memory)


def test_neighbour_loss_is_lower_for_codes_that_keep_their_neighbours():
    generator = torch.Generator().manual_seed(0)
    codes = torch.randn(64, 4, generator=generator) * 3
    near = codes + 0.01 * torch.randn(64, 4, generator=generator)
    far = torch.randn(64, 4, generator=generator) * 3
    assert neighbour_loss(codes, near) < neighbour_loss(codes, far)
    collapsed = torch.zeros(64, 4)  # every pair at distance 0: repulsion large, still finite
    assert torch.isfinite(neighbour_loss(collapsed, collapsed))
    assert neighbour_loss(collapsed, collapsed) > neighbour_loss(codes, near)


def test_pretraining_with_neighbours_keeps_digit_neighbourhoods(digit_classes, one_thread):
    """The term's purpose: codes whose nearest neighbours share the label more often than
    those of the same autoencoder trained on reconstruction alone."""
    X, y = digit_classes(*range(10))
    settings = {"hidden_dims": (128,), "latent_dim": 4, "likelihood": "bernoulli",
                "epochs": 30, "batch_size": 128, "random_state": 0, "device": "cpu"}
    plain = AutoEncoder(**settings).fit(X)
    kept = AutoEncoder(neighbor_weight=0.1, **settings).fit(X)
    assert _agreement(kept.transform(X), y) > _agreement(plain.transform(X), y) + 0.03
    assert kept.history_["neighbours"][-1] < kept.history_["neighbours"][0]
    assert "neighbours" not in plain.history_


def test_clusterers_pretrain_with_neighbours_and_resume_exactly(digit_classes, tmp_path,
                                                                 monkeypatch, one_thread):
    X, _ = digit_classes(0, 1, 6)
    settings = {"hidden_dims": (32,), "latent_dim": 4, "pretrain_epochs": 3, "epochs": 2,
                "batch_size": 64, "n_init": 2, "update_interval": 5, "random_state": 0,
                "device": "cpu", "neighbor_weight": 0.5, "neighbor_k": 5}
    straight = DEC(3, **settings).fit(X)
    assert len(straight.history_["pretrain_neighbours"]) == 3
    assert clone(straight).get_params()["neighbor_weight"] == 0.5
    path = tmp_path / "checkpoint.safetensors"
    original, writes = loop.save_checkpoint, []

    def save_then_die(*args, **kwargs):
        original(*args, **kwargs)
        writes.append(1)
        if len(writes) == 2:  # in the middle of pretraining
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        DEC(3, checkpoint_path=str(path), **settings).fit(X)
    monkeypatch.undo()
    resumed = DEC(3, **settings).fit(X, resume_from=path)
    for key, value in straight.module_.state_dict().items():
        assert torch.equal(value, resumed.module_.state_dict()[key]), key


def test_bad_neighbour_settings_are_named(digit_classes):
    X, _ = digit_classes(0, 1)
    tiny = {"hidden_dims": (8,), "latent_dim": 2, "epochs": 1, "device": "cpu"}
    with pytest.raises(DataError, match=r"neighbor_k=20 .* below the number of training "
                                        r"samples \(12\)"):
        AutoEncoder(neighbor_weight=0.1, neighbor_k=20, **tiny).fit(X[:12])
    with pytest.raises(ParameterError, match="neighbor_weight"):
        AutoEncoder(neighbor_weight=-1.0, **tiny).fit(X)
    with pytest.raises(ParameterError, match="neighbor_k"):
        N2D(2, neighbor_weight=0.1, neighbor_k=0, pretrain_epochs=1, device="cpu").fit(X)


def test_neighbour_term_reuses_the_reconstructions_codes():
    """The batch is encoded once: the objective's loss is the reconstruction plus the weighted
    term on the codes that the reconstruction's forward pass computed, exactly."""
    from nolabel.nets.neighbours import with_neighbour_term

    torch.manual_seed(0)
    encoder, decoder = torch.nn.Linear(6, 2), torch.nn.Linear(2, 6)
    data = torch.randn(20, 6)
    table = neighbour_table(data, 3)
    calls = []

    def encode(x):
        calls.append(len(x))
        return encoder(x)

    def loss_and_codes(net, batch):
        codes = encode(batch[0])
        return ((decoder(codes) - batch[0]) ** 2).mean(), {}, codes

    objective = with_neighbour_term("pretrain", loss_and_codes, encode, data, 0.5,
                                    torch.optim.SGD(encoder.parameters(), 0.1))
    torch.manual_seed(1)
    total, extras = objective.loss(None, (data[:8], table[:8]))
    assert calls == [8, 8]  # the batch once (reconstruction), its neighbours once
    torch.manual_seed(1)
    choice = torch.randint(3, (8,))
    partners = data[table[:8][torch.arange(8), choice]]
    codes = encoder(data[:8])
    expected = ((decoder(codes) - data[:8]) ** 2).mean() + 0.5 * neighbour_loss(
        codes, encoder(partners))
    assert torch.allclose(total, expected)
    assert set(extras) == {"reconstruction", "neighbours"}
