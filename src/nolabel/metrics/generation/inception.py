"""Standard FID on Inception-v3 features, where the user already has the network's weights.

Uses torch-fidelity or pytorch-fid, whichever is installed with its weights in torch's hub
cache (``$TORCH_HOME/hub/checkpoints``); nolabel never downloads them. The weights file is
first opened with ``torch.load(weights_only=True)``, which refuses anything but tensors, before
the package loads it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch

from nolabel._device import resolve_device
from nolabel.metrics.generation.frechet import frechet_distance

# (import name, pip name, weights file each package looks for in the hub cache)
_BACKENDS = (
    ("torch_fidelity", "torch-fidelity", "weights-inception-2015-12-05-6726825d.pth"),
    ("pytorch_fid", "pytorch-fid", "pt_inception-2015-12-05-6726825d.pth"),
)
_BATCH = 50


@dataclass(frozen=True)
class InceptionFID:
    value: float | None
    note: str


def _weights_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _backend() -> tuple[str, Path] | str:
    """(package, weights file) of the first usable backend, or why there is none."""
    missing = []
    for module, pip_name, weights in _BACKENDS:
        if find_spec(module) is None:
            continue
        path = _weights_dir() / weights
        if path.is_file():
            return module, path
        missing.append(f"{pip_name} is installed but {path} is missing")
    if not missing:
        return "neither torch-fidelity nor pytorch-fid is installed"
    return "; ".join(missing) + " (nolabel never downloads Inception weights)"


def _extractor(module: str, weights: Path):
    """A function from float images (n, 3, h, w) in [0, 1] to 2048 pool features."""
    if module == "torch_fidelity":
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                          feature_extractor_weights_path=str(weights))
        return net, lambda x: net((x * 255).round().to(torch.uint8))[0]
    from pytorch_fid.inception import InceptionV3

    net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    return net, lambda x: net(x)[0].flatten(1)


@torch.no_grad()
def _features(extract, net, images: np.ndarray, device: torch.device) -> np.ndarray:
    net.to(device).eval()
    parts = []
    for start in range(0, len(images), _BATCH):
        x = torch.from_numpy(images[start:start + _BATCH]).to(device)
        parts.append(extract(x.expand(-1, 3, -1, -1)).double().cpu())
    return torch.cat(parts).numpy()


def inception_fid(real_images: np.ndarray, fake_images: np.ndarray,
                  device: str = "auto") -> InceptionFID:
    """FID of two image sets (n, c, h, w) in [0, 1], c = 1 or 3; None with the reason if the
    Inception network is not available here."""
    found = _backend()
    if isinstance(found, str):
        return InceptionFID(None, found)
    if real_images.shape[1] not in (1, 3):
        return InceptionFID(None, f"Inception takes 1 or 3 channels, not {real_images.shape[1]}")
    module, weights = found
    torch.load(weights, map_location="cpu", weights_only=True)  # refuses non-tensor pickles
    net, extract = _extractor(module, weights)
    device = resolve_device(device)
    value = frechet_distance(_features(extract, net, real_images, device),
                             _features(extract, net, fake_images, device))
    return InceptionFID(value, f"Inception-v3 pool features via {module}")
