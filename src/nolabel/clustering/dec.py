"""Deep Embedded Clustering (Xie et al. 2016) and Improved DEC (Guo et al. 2017).

An autoencoder is pretrained on reconstruction; k-means on its codes places the cluster
centres μ_j. Training then sharpens the soft assignment of codes z_i to centres

    q_ij ∝ (1 + ||z_i − μ_j||² / α)^(−(α+1)/2)            (Student's t, α = 1)

towards the target p_ij ∝ q_ij² / f_j with f_j = Σ_i q_ij (confident assignments count more,
large clusters less), minimising KL(P || Q) over encoder weights and centres. P is
recomputed on all the data every ``update_interval`` mini-batch iterations and held fixed in
between; training stops when fewer than ``tol`` of the labels changed since the last update.
DEC drops the decoder after pretraining; IDEC keeps training it, adding the reconstruction
error so the codes keep the data's local structure: loss = reconstruction + γ KL(P || Q).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from nolabel._validation import Choice, Constraints, Float, Int, check_is_fitted
from nolabel.classical import KMeans
from nolabel.clustering.base import AutoEncoderClusterer, CodeInverse
from nolabel.clustering.mixture import diagonal_moments, manifold_responsibilities
from nolabel.models.autoencoder import reconstruction_error
from nolabel.models.base import Phase
from nolabel.registry import register
from nolabel.train import Callbacks, Objective
from nolabel.train.precision import autocast


# -- losses -------------------------------------------------------------------------------------
def squared_distances(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Exact ||z_i − μ_j||² (n, k): the differences are squared, not ``cdist``'s norms
    squared back (whose square root has an infinite gradient at a centre)."""
    return ((z[:, None, :] - centers[None]) ** 2).sum(-1)


def student_t_log_assignment(z: torch.Tensor, centers: torch.Tensor,
                             alpha: float = 1.0) -> torch.Tensor:
    """log q (n, k), by log-softmax of the Student's t log-kernel: finite where q underflows."""
    log_kernel = -(alpha + 1) / 2 * torch.log1p(squared_distances(z, centers) / alpha)
    return torch.log_softmax(log_kernel, dim=1)


def student_t_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0):
    """DEC's soft assignment q (n, k) of codes ``z`` (n, d) to ``centers`` (k, d)."""
    return student_t_log_assignment(z, centers, alpha).exp()


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij."""
    weight = q**2 / q.sum(0)
    return weight / weight.sum(1, keepdim=True)


def clustering_kl(p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Per-sample KL(p_i || q_i) = Σ_j p_ij (log p_ij − log q_ij) (0 log 0 = 0), from log q."""
    return torch.special.xlogy(p, p).sum(1) - (p * log_q).sum(1)


# -- network ------------------------------------------------------------------------------------
class DECNet(nn.Module):
    """An autoencoder's encoder and decoder with learnable cluster centres in code space."""

    def __init__(self, autoencoder: nn.Module, n_clusters: int, latent_dim: int) -> None:
        super().__init__()
        self.encoder = autoencoder.encoder
        self.decoder = autoencoder.decoder
        self.centers = nn.Parameter(torch.zeros(n_clusters, latent_dim))


# -- training -------------------------------------------------------------------------------------
class _TargetUpdates(Callbacks):
    """DEC's target distribution P, recomputed from Q on all the data every
    ``update_interval`` mini-batches; training stops when at most a ``tol`` fraction of the
    labels changed since the previous update. P, the labels and the changes are saved in
    checkpoints, so a resumed run updates exactly as an uninterrupted one."""

    def __init__(self, model: DEC, data) -> None:
        self.model, self.data = model, data
        self.p = torch.zeros(len(data), model.n_clusters, device=model.module_.centers.device)
        self.labels = torch.full((len(data),), -1, dtype=torch.long, device=self.p.device)
        self.first_q: torch.Tensor | None = None  # the start's Q when not the centres' own
        self.changes: list[float] = []

    def before_batch(self, iteration: int) -> bool:
        if iteration % self.model.update_interval:
            return False
        if iteration == 0 and self.first_q is not None:  # init="manifold": N2D's posterior
            q, self.first_q = self.first_q.to(self.p.device, torch.float32), None
        else:
            with autocast(self.model.precision, self.p.device):
                q = self.model._batched(self.model._cluster_probabilities, self.data).float()
        labels = q.argmax(1)  # at first the start's labels
        if iteration > 0:
            change = float((labels != self.labels).float().mean())
            self.changes.append(change)
            if change < self.model.tol:
                return True
        self.labels.copy_(labels)
        self.p.copy_(target_distribution(q))
        return False

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"p": self.p, "labels": self.labels,
                "label_change": torch.tensor(self.changes, dtype=torch.float64)}

    def load_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        self.p.copy_(tensors["p"])
        self.labels.copy_(tensors["labels"])
        self.changes = tensors["label_change"].tolist()


# -- estimators ---------------------------------------------------------------------------------
@register("dec", "Deep Embedded Clustering: pretrained autoencoder, k-means init, "
          "KL(P||Q) self-training of Student-t assignments")
class DEC(CodeInverse, AutoEncoderClusterer):
    """Deep Embedded Clustering.

    Parameters
    ----------
    n_clusters : number of clusters.
    architecture : ``"mlp"`` (vectors; images are flattened) or ``"conv"`` (images
        ``(n, c, h, w)``, as :class:`~nolabel.ConvAutoEncoder`).
    hidden_dims : MLP encoder hidden sizes, the paper's d-500-500-2000-10 by default (the
        decoder mirrors them).
    channels : conv encoder stages (the decoder mirrors them).
    latent_dim : size of the code (10 in the paper).
    activation : hidden activation (ReLU in the paper).
    likelihood : the observation model of the reconstruction: ``"gaussian"`` (squared
        error, the paper's) or ``"bernoulli"`` (cross-entropy; data in [0, 1]).
    alpha : degrees of freedom of the Student's t kernel.
    pretrain_epochs, pretrain_lr : autoencoder pretraining with Adam.
    pretrained : a fitted autoencoder whose encoder and decoder start the model instead of
        pretraining (an AutoEncoder, a DEC..., wrapped in sklearn's FrozenEstimator to survive
        ``clone``), or the path of one saved with ``.save()``; architecture and loss
        must match.
    augment : ``True``: DEC-DA's random shifts and rotations of the images (Guo et al. 2018)
        in pretraining and in the clustering phase; ``"pretrain"``: in pretraining only;
        ``False`` (default): none. Needs images, or flat vectors of square length (784).
    noise, noise_level : denoising pretraining, as DEC's stacked denoising autoencoder:
        ``"masking"`` zeroes a ``noise_level`` fraction of each input (0.2 in the paper),
        ``"gaussian"`` adds noise of that standard deviation; None (default): plain.
    neighbor_weight, neighbor_k : neighbour-embedding pretraining, as in
        :class:`~nolabel.AutoEncoder`: the codes of each sample's ``neighbor_k`` nearest
        inputs are pulled together (parametric UMAP's loss) beside the reconstruction.
        0 (default): the paper's reconstruction alone.
    init : where the clustering phase starts: ``"kmeans"`` (the paper), the centres of
        k-means on the codes, or ``"manifold"``, the clusters that N2D finds
        (:class:`~nolabel.ManifoldMixture` on the codes: UMAP, then a full-covariance
        Gaussian mixture with 10 EM restarts; needs umap-learn): their mean codes are the
        centres and their posterior is the first Q, from which the first target P is
        sharpened. DEC then refines N2D's clusters instead of k-means'. The first target
        matters because the codes' clusters are not round: read through the nearest mean
        code, N2D's clusters of the digits lose ACC (0.835 against 0.891, benchmark's 5
        seeds), and DEC ended at 0.866 from there, at 0.889 from the posterior. All of
        Fashion-MNIST, 5 seeds of one shared autoencoder each (50 epochs, bf16): k-means
        starts DEC 0.581, IDEC 0.580; N2D's clusters (0.642) DEC 0.640, IDEC 0.644.
    n_init : k-means restarts for the initial centres (20 as in the paper).
    update_interval : mini-batch iterations between updates of the target P (140 in the paper
        for MNIST-size data, about half an epoch of 256-sample batches; use fewer on small data).
    tol : stop when at most this fraction of labels changed between two updates (0.1 %).
    optimizer, lr, weight_decay : clustering-phase optimizer (SGD with momentum 0.9 and lr 0.01
        as in the paper, or ``"adam"``).
    epochs : at most this many passes over the data in the clustering phase.
    batch_size, random_state, device, verbose : as in :class:`~nolabel.AutoEncoder`.
    precision : ``"auto"`` (default): bf16 mixed precision where the hardware multiplies bf16
        natively (CPUs with AVX-512 BF16 or AMX, most CUDA GPUs), float32 elsewhere; or
        ``"32"``, ``"bf16"``, ``"fp16"``. Measured for DEC on 10,000 Fashion-MNIST images on an
        AVX-512 BF16 CPU (3 seeds, benchmarks/results/precision.md): ACC 0.500 in bf16
        against 0.476 in float32, in about half the time.
    grad_clip, checkpoint_path, checkpoint_every : as in :class:`~nolabel.AutoEncoder`;
        checkpoints are written and resumed in both phases (``fit(X, resume_from=path)``).

    Attributes: ``labels_`` (argmax q on the training data), ``cluster_centers_`` (in code
    space), ``history_`` (``pretrain_loss`` and ``loss`` per epoch, ``label_change`` per
    target update), ``n_epochs_`` (clustering passes over the data, rounded up).
    """

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        architecture: str = "mlp",
        hidden_dims: Sequence[int] = (500, 500, 2000),
        channels: Sequence[int] = (32, 64),
        latent_dim: int = 10,
        activation: str = "relu",
        likelihood: str = "gaussian",
        alpha: float = 1.0,
        pretrain_epochs: int = 50,
        pretrain_lr: float = 1e-3,
        pretrained=None,
        augment: bool | str = False,
        noise: str | None = None,
        noise_level: float = 0.2,
        neighbor_weight: float = 0.0,
        neighbor_k: int = 10,
        init: str = "kmeans",
        n_init: int = 20,
        update_interval: int = 140,
        tol: float = 1e-3,
        optimizer: str = "sgd",
        lr: float = 0.01,
        weight_decay: float = 0.0,
        epochs: int = 100,
        batch_size: int = 256,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "auto",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.architecture = architecture
        self.hidden_dims = hidden_dims
        self.channels = channels
        self.latent_dim = latent_dim
        self.activation = activation
        self.likelihood = likelihood
        self.alpha = alpha
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.pretrained = pretrained
        self.augment = augment
        self.noise = noise
        self.noise_level = noise_level
        self.neighbor_weight = neighbor_weight
        self.neighbor_k = neighbor_k
        self.init = init
        self.n_init = n_init
        self.update_interval = update_interval
        self.tol = tol
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.precision = precision
        self.grad_clip = grad_clip
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    _parameter_constraints: ClassVar[Constraints] = {
        "alpha": Float(0.0, strict=True), "init": Choice("kmeans", "manifold"),
        "n_init": Int(), "update_interval": Int(),
        "tol": Float(0.0), "gamma": Float(0.0),
    }

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        return DECNet(self._autoencoder(sample_shape), self.n_clusters, self.latent_dim)

    def _cluster_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return student_t_assignment(self._code(x), self.module_.centers, float(self.alpha))

    def _initialise(self, codes: torch.Tensor, seed: int) -> torch.Tensor | None:
        if self.init == "manifold":  # the phase starts from N2D's clusters themselves
            posterior = manifold_responsibilities(codes, self.n_clusters, seed)
            _, centres, _ = diagonal_moments(codes, posterior)
            self.module_.centers.data.copy_(torch.from_numpy(centres))
            self._target_updates.first_q = posterior
            return posterior
        kmeans = KMeans(self.n_clusters, n_init=self.n_init, random_state=seed,
                        device=codes.device).fit(codes)
        self.module_.centers.data.copy_(torch.from_numpy(kmeans.cluster_centers_))
        return None

    def _clustering_loss(self, x: torch.Tensor, p: torch.Tensor):
        log_q = student_t_log_assignment(self._code(x), self.module_.centers, float(self.alpha))
        return clustering_kl(p, log_q).mean()

    def _objectives(self, module: nn.Module) -> list[Objective]:
        def loss(net: DECNet, batch: tuple[torch.Tensor, ...]):
            return self._clustering_loss(*batch)

        return [Objective("clustering", loss, self._make_optimizer(self._trained(module)))]

    def _trained(self, module: DECNet) -> list[nn.Parameter]:
        return [*module.encoder.parameters(), module.centers]

    def _cluster_phase(self, data, seed: int) -> Phase:
        """k-means on the codes, then self-training against P, recomputed on all the data
        every ``update_interval`` mini-batches (stopping once labels settle, see ``tol``)."""
        targets = self._target_updates = _TargetUpdates(self, data)
        return Phase("cluster", self.epochs, lambda: self._objectives(self.module_),
                     lambda: (data, targets.p), start=lambda: self._initialise_on(data, seed),
                     callbacks=targets)

    def _fitted(self, data) -> None:
        targets = self.__dict__.pop("_target_updates")  # holds the data: not kept
        self.history_["label_change"] = list(targets.changes)
        super()._fitted(data)

    @property
    def cluster_centers_(self):
        """Cluster centres in code space, shape (n_clusters, latent_dim)."""
        check_is_fitted(self, ["module_"])
        return self.module_.centers.detach().cpu().numpy()


@register("idec", "Improved DEC: DEC's KL(P||Q) plus the autoencoder's reconstruction loss, "
          "decoder kept")
class IDEC(DEC):
    """Improved Deep Embedded Clustering: DEC whose decoder keeps training.

    Loss per batch: reconstruction error + ``gamma`` · KL(P || Q), over encoder, decoder and
    centres (γ = 0.1 in the paper). The clustering phase uses Adam with lr 1e-3, as IDEC's
    reference code does on MNIST (DEC's SGD 0.01 left IDEC below DEC: the reconstruction
    term needs the adaptive steps). Other parameters and attributes as in :class:`DEC`; the
    history adds ``reconstruction`` and ``kl`` per epoch.
    """

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        gamma: float = 0.1,
        architecture: str = "mlp",
        hidden_dims: Sequence[int] = (500, 500, 2000),
        channels: Sequence[int] = (32, 64),
        latent_dim: int = 10,
        activation: str = "relu",
        likelihood: str = "gaussian",
        alpha: float = 1.0,
        pretrain_epochs: int = 50,
        pretrain_lr: float = 1e-3,
        pretrained=None,
        augment: bool | str = False,
        noise: str | None = None,
        noise_level: float = 0.2,
        neighbor_weight: float = 0.0,
        neighbor_k: int = 10,
        init: str = "kmeans",
        n_init: int = 20,
        update_interval: int = 140,
        tol: float = 1e-3,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 100,
        batch_size: int = 256,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "auto",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        super().__init__(
            n_clusters, architecture=architecture, hidden_dims=hidden_dims, channels=channels,
            latent_dim=latent_dim, activation=activation, likelihood=likelihood, alpha=alpha,
            pretrain_epochs=pretrain_epochs, pretrain_lr=pretrain_lr, pretrained=pretrained,
            augment=augment, noise=noise, noise_level=noise_level,
            neighbor_weight=neighbor_weight, neighbor_k=neighbor_k,
            init=init, n_init=n_init,
            update_interval=update_interval, tol=tol, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, epochs=epochs, batch_size=batch_size,
            random_state=random_state, device=device, verbose=verbose, precision=precision,
            grad_clip=grad_clip, checkpoint_path=checkpoint_path,
            checkpoint_every=checkpoint_every,
        )
        self.gamma = gamma

    def _trained(self, module: DECNet) -> list[nn.Parameter]:
        return [*super()._trained(module), *module.decoder.parameters()]

    def _clustering_loss(self, x: torch.Tensor, p: torch.Tensor):
        z = self._code(x)
        reconstruction = reconstruction_error(self.module_.decoder(z), x,
                                              self._likelihood).mean()
        kl = clustering_kl(p, student_t_log_assignment(z, self.module_.centers,
                                                       float(self.alpha))).mean()
        return reconstruction + float(self.gamma) * kl, {"reconstruction": reconstruction.detach(),
                                                         "kl": kl.detach()}
