"""
Density estimation and information theory
=========================================

Three ways to put a probability density on the same points: one Gaussian, a kernel
density estimate (a small Gaussian on every point, bandwidth by Scott's rule or by
cross-validation) and a Gaussian mixture fitted by EM. ``score_samples`` gives the
log-density of any point; ``sample`` draws new ones. The information-theory functions of
``nolabel.metrics.information`` work on arrays and on tensors alike.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

import nolabel
from nolabel.metrics.information import entropy, kl_divergence, mutual_information

X, _ = make_moons(500, noise=0.08, random_state=1)
X = X.astype(np.float32)
train, test = X[:400], X[400:]

models = {
    "one Gaussian": nolabel.GaussianDensity(),
    "kernel density (cv)": nolabel.KernelDensity(bandwidth="cv"),
    "mixture of 8 Gaussians": nolabel.GaussianMixture(8, covariance_type="full",
                                                      random_state=0),
}
grid_x, grid_y = np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1, 1.5, 100))
grid = np.c_[grid_x.ravel(), grid_y.ravel()].astype(np.float32)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for axis, (name, model) in zip(axes, models.items(), strict=True):
    model.fit(train)
    held_out = float(np.mean(model.score_samples(test)))
    density = np.exp(model.score_samples(grid)).reshape(grid_x.shape)
    axis.contourf(grid_x, grid_y, density, levels=20, cmap="viridis")
    axis.scatter(train[:, 0], train[:, 1], s=2, color="white", alpha=0.5)
    axis.set_title(f"{name}\nheld-out log-density {held_out:.2f}")
    axis.set_xticks([])
    axis.set_yticks([])
    print(f"{name:>24}: mean held-out log-density {held_out:.3f} nats")
fig.tight_layout()

# %%
# Information theory on small distributions: entropy in bits, KL divergence (not
# symmetric) and the mutual information of a joint table.

p = np.array([0.5, 0.25, 0.25])
q = np.array([1 / 3, 1 / 3, 1 / 3])
print("H(p) =", float(entropy(p, base=2)), "bits")
print("KL(p || q) =", round(float(kl_divergence(p, q)), 4),
      " KL(q || p) =", round(float(kl_divergence(q, p)), 4), "nats")
joint = np.array([[0.4, 0.1], [0.1, 0.4]])
print("I(X; Y) =", round(float(mutual_information(joint, base=2)), 4), "bits")
