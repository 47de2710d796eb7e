"""
k-means, DBSCAN and a Gaussian mixture on generated points
==========================================================

Three classical clusterers on two data sets made on the spot: round blobs of different
spreads, and two interleaved half-moons. k-means cuts space into Voronoi cells around its
centres, a Gaussian mixture fits one ellipse per cluster, and DBSCAN follows dense regions
whatever their shape, marking sparse points as noise (label -1).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons

import nolabel
from nolabel.metrics import clustering_scores

blobs, blob_labels = make_blobs(600, centers=3, cluster_std=[0.6, 1.6, 0.9], random_state=3)
moons, moon_labels = make_moons(600, noise=0.07, random_state=0)
data = {"blobs": (blobs.astype(np.float32), blob_labels),
        "moons": (moons.astype(np.float32), moon_labels)}

models = {
    "k-means": lambda X, k: nolabel.KMeans(k, n_init=10, random_state=0).fit_predict(X),
    "Gaussian mixture": lambda X, k: nolabel.GaussianMixture(
        k, covariance_type="full", random_state=0).fit(X).predict(X),
    "DBSCAN": lambda X, k: nolabel.DBSCAN(eps=0.2 if k == 2 else 0.9,
                                          min_samples=8).fit_predict(X),
}

fig, axes = plt.subplots(2, 3, figsize=(11, 7))
for row, (name, (X, y)) in enumerate(data.items()):
    k = len(np.unique(y))
    for column, (model, fit) in enumerate(models.items()):
        labels = fit(X, k)
        acc = clustering_scores(y, labels)["acc"]
        axis = axes[row, column]
        axis.scatter(X[:, 0], X[:, 1], c=labels, cmap="tab10", s=6, vmin=-1, vmax=9)
        axis.set_title(f"{model} on {name}: ACC {acc:.2f}")
        axis.set_xticks([])
        axis.set_yticks([])
        print(f"{model:>16} on {name}: ACC {acc:.3f}")
fig.tight_layout()

# %%
# The Gaussian mixture wins on blobs of unequal spread (k-means' cells are equal-sized by
# construction); DBSCAN is the only one that follows the moons. PCA, the fourth classical
# tool, finds the directions of largest variance: on the 64 pixels of the digits, a handful
# of components hold most of it.

digits = nolabel.load("digits")
pca = nolabel.PCA(n_components=30, random_state=0).fit(digits.flat())
ratios = pca.explained_variance_ratio_
fig, axis = plt.subplots(figsize=(6, 3.5))
axis.bar(np.arange(1, 31), ratios, alpha=0.6, label="per component")
axis.plot(np.arange(1, 31), np.cumsum(ratios), color="C3", marker=".", label="cumulative")
axis.set_xlabel("component")
axis.set_ylabel("fraction of the variance")
axis.set_title("PCA of the 8x8 digits")
axis.legend()
print(f"10 components explain {np.sum(ratios[:10]):.1%} of the variance")
