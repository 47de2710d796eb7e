import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from nolabel import CheckpointError, ParameterError, TrainingError
from nolabel.train import Callbacks, Objective, TrainConfig, fit, load_checkpoint, read_tensors


def _regression_data(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])


def _setup(seed=0, lr=0.05):
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    def mse(model, batch):
        return ((model(batch[0]) - batch[1]) ** 2).mean()

    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    return module, [Objective("mse", mse, optimizer)]


def _config(epochs, **kwargs):
    return TrainConfig(epochs=epochs, batch_size=16, device=torch.device("cpu"), seed=0,
                       verbose=0, **kwargs)


def test_loss_falls_and_history_is_per_epoch():
    module, objectives = _setup()
    result = fit(module, _regression_data(), objectives, _config(15))
    losses = result.history["loss"]
    assert len(losses) == 15 and len(result.history["epoch_time"]) == 15
    assert losses[-1] < 0.2 * losses[0]
    assert not module.training  # left in eval mode


def test_same_seed_gives_identical_weights():
    runs = []
    for _ in range(2):
        module, objectives = _setup()
        fit(module, _regression_data(), objectives, _config(3))
        runs.append(module.state_dict())
    for key in runs[0]:
        assert torch.equal(runs[0][key], runs[1][key])


def test_resume_matches_uninterrupted(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    full, objectives = _setup()
    straight = fit(full, _regression_data(), objectives, _config(6))

    first, objectives = _setup()
    fit(first, _regression_data(), objectives, _config(3, checkpoint_path=path))
    resumed, objectives = _setup(seed=123)  # different init: the checkpoint must overwrite it
    result = fit(resumed, _regression_data(), objectives, _config(6), resume_from=path)
    for key, value in full.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key])
    assert result.history["loss"] == straight.history["loss"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]  # no temp files


def test_nan_loss_names_epoch_and_keeps_last_good_weights():
    module, _ = _setup()
    calls = {"n": 0}

    def exploding(model, batch):
        calls["n"] += 1
        loss = ((model(batch[0]) - batch[1]) ** 2).mean()
        return loss * float("nan") if calls["n"] > 9 else loss  # 4 batches/epoch: epoch 3, batch 2

    objectives = [Objective("mse", exploding, torch.optim.SGD(module.parameters(), lr=0.01))]
    snapshots = []

    class Snapshots(Callbacks):
        def on_epoch_end(self, epoch, means):
            snapshots.append({k: v.clone() for k, v in module.state_dict().items()})

    with pytest.raises(TrainingError, match=r"mse|loss.*epoch 3, batch 2 of 4.*learning rate"):
        fit(module, _regression_data(), objectives, _config(5), callbacks=Snapshots())
    assert len(snapshots) == 2
    for key, value in module.state_dict().items():
        assert torch.isfinite(value).all()
        assert torch.equal(value, snapshots[-1][key])


def test_several_objectives_are_stepped_and_logged():
    module, _ = _setup()
    head = list(module.parameters())

    def first(model, batch):
        return ((model(batch[0]) - batch[1]) ** 2).mean(), {"first_extra": torch.tensor(1.0)}

    def second(model, batch):
        return (model(batch[0]) ** 2).mean() * 0.0 + 0.5

    objectives = [Objective("a", first, torch.optim.SGD(head, lr=0.01), steps=2),
                  Objective("b", lambda m, b: second(m, b) + 0 * sum(p.sum() for p in head),
                            torch.optim.SGD(head, lr=0.01))]
    result = fit(module, _regression_data(), objectives, _config(2))
    assert set(result.history) == {"a_loss", "b_loss", "first_extra", "epoch_time"}
    assert result.history["first_extra"] == [1.0, 1.0]


def test_pickle_renamed_as_checkpoint_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    module, objectives = _setup()
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_checkpoint(path, module, objectives, torch.Generator())
    with pytest.raises(CheckpointError):
        read_tensors(path)
    assert not marker.exists()


def test_checkpoint_of_other_architecture_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    module, objectives = _setup()
    fit(module, _regression_data(), objectives, _config(1, checkpoint_path=path))
    other = nn.Linear(4, 1)
    with pytest.raises(CheckpointError, match="architecture"):
        load_checkpoint(path, other, [Objective("mse", None, torch.optim.SGD(other.parameters(),
                                                                              lr=0.1))],
                        torch.Generator())
    np.testing.assert_equal(path.exists(), True)


def test_gradient_clipping_bounds_every_step():
    module, objectives = _setup(lr=1.0)
    norms = []
    step = objectives[0].optimizer.step

    def recording_step(*args, **kwargs):
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(g) for g in grads]))))
        return step(*args, **kwargs)

    objectives[0].optimizer.step = recording_step
    x, y = _regression_data()
    fit(module, (x, y * 100), objectives, _config(2, grad_clip=0.5))
    assert len(norms) == 8 and max(norms) <= 0.5 + 1e-5
    module, objectives = _setup(lr=1.0)
    objectives[0].optimizer.step = recording_step
    norms.clear()
    fit(module, (x, y * 100), objectives, _config(1))
    assert max(norms) > 0.5  # without the option the same data gives larger gradients


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_and_keeps_float32_weights(precision):
    module, objectives = _setup()
    result = fit(module, _regression_data(), objectives, _config(15, precision=precision))
    assert result.history["loss"][-1] < 0.3 * result.history["loss"][0]
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_bad_training_settings_are_refused():
    with pytest.raises(ParameterError, match="precision"):
        _config(1, precision="fp8")
    with pytest.raises(ParameterError, match="grad_clip"):
        _config(1, grad_clip=-1.0)


class _Rows:
    """A row source as the loop sees a .npy file on disk: only ``take`` of sorted rows."""

    def __init__(self, tensor):
        self.tensor, self.calls = tensor, []

    def __len__(self):
        return len(self.tensor)

    def take(self, rows):
        assert (np.diff(rows) > 0).all()
        self.calls.append(len(rows))
        return self.tensor[torch.from_numpy(rows)]


def test_row_sources_train_like_tensors():
    x, y = _regression_data()
    module, objectives = _setup()
    in_memory = fit(module, (x, y), objectives, _config(3))
    module2, objectives2 = _setup()
    rows = _Rows(x)
    from_rows = fit(module2, (rows, y), objectives2, _config(3))
    assert rows.calls == [16] * 12
    assert in_memory.history["loss"] == from_rows.history["loss"]
    for a, b in zip(module.parameters(), module2.parameters(), strict=True):
        assert torch.equal(a, b)


class _Counter(Callbacks):
    """Stops at iteration ``stop``; counts calls in a tensor that checkpoints carry."""

    def __init__(self, stop=None):
        self.stop, self.seen = stop, torch.zeros(1)

    def before_batch(self, iteration):
        self.seen += 1
        return self.stop is not None and iteration >= self.stop

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, tensors):
        self.seen.copy_(tensors["seen"])


def test_a_callback_stops_training_and_a_resume_after_the_stop_trains_no_more(tmp_path):
    module, objectives = _setup()
    path = tmp_path / "checkpoint.safetensors"
    result = fit(module, _regression_data(), objectives,
                 _config(10, checkpoint_path=path), callbacks=_Counter(stop=6))
    assert result.stopped and result.epochs_run == 2  # 4 batches an epoch: stopped in the 2nd
    assert len(result.history["loss"]) == 2
    weights = {k: v.clone() for k, v in module.state_dict().items()}
    again = fit(module, _regression_data(), objectives, _config(10), resume_from=path,
                callbacks=_Counter(stop=6))
    assert again.stopped and again.epochs_run == 2
    assert all(torch.equal(v, module.state_dict()[k]) for k, v in weights.items())


def test_callback_state_travels_in_checkpoints(tmp_path):
    module, objectives = _setup()
    path = tmp_path / "checkpoint.safetensors"
    fit(module, _regression_data(), objectives, _config(2, checkpoint_path=path),
        callbacks=_Counter())
    module, objectives = _setup()
    counter = _Counter()
    fit(module, _regression_data(), objectives, _config(3), resume_from=path, callbacks=counter)
    assert float(counter.seen) == 12  # 8 batches before the checkpoint, 4 after


def test_a_checkpoint_of_another_phase_is_refused(tmp_path):
    module, objectives = _setup()
    path = tmp_path / "checkpoint.safetensors"
    fit(module, _regression_data(), objectives, _config(1, checkpoint_path=path, phase="pretrain"))
    with pytest.raises(CheckpointError, match="pretrain"):
        fit(module, _regression_data(), objectives, _config(2, phase="cluster"), resume_from=path)


def test_progress_shows_in_a_notebook_kernel_and_never_with_verbose_0(monkeypatch):
    import sys
    import types

    from nolabel.train.loop import _progress_enabled

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not _progress_enabled(1)  # a pipe or a log file: no bar
    shell = types.SimpleNamespace(config={"IPKernelApp": {"connection_file": "kernel.json"}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert _progress_enabled(1) and not _progress_enabled(0)


def test_adam_is_fused_on_cpu_and_steps_as_the_per_tensor_adam():
    """make_optimizer's Adam takes the fused path where the device has one (4-5x faster per
    step on CPU) and updates the weights as torch's reference per-tensor loop does."""
    from nolabel.train import make_optimizer

    torch.manual_seed(0)
    fused_net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    plain_net, start = copy.deepcopy(fused_net), copy.deepcopy(fused_net)
    fused = make_optimizer("adam", fused_net.parameters(), 1e-2, weight_decay=1e-3)
    plain = torch.optim.Adam(plain_net.parameters(), lr=1e-2, weight_decay=1e-3, foreach=False)
    assert fused.defaults["fused"] is True
    x, target = torch.randn(64, 20), torch.randn(64, 5)
    for _ in range(20):
        for net, optimizer in ((fused_net, fused), (plain_net, plain)):
            optimizer.zero_grad()
            nn.functional.mse_loss(net(x), target).backward()
            optimizer.step()
    for a, b in zip(fused_net.parameters(), plain_net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(fused_net[0].weight, start[0].weight, atol=1e-3)  # it trained


def test_passes_inside_training_autocast_to_the_training_precision():
    """DEC's target updates run under ``autocast(precision)``: bf16 products when the fit
    is bf16, float32 when it is float32."""
    from nolabel.train.precision import autocast

    layer, x = nn.Linear(8, 4), torch.randn(3, 8)
    with autocast("bf16", torch.device("cpu")):
        assert layer(x).dtype == torch.bfloat16
    with autocast("32", torch.device("cpu")):
        assert layer(x).dtype == torch.float32
