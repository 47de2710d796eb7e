"""
Deep clustering: pretrain one autoencoder, start several clusterers from it
===========================================================================

Every autoencoder-based clusterer (DEC, IDEC, VaDE, DAC, N2D) begins by pretraining an
autoencoder. ``pretrained=`` lets them all start from one fitted autoencoder instead of
each pretraining its own: here k-means on its codes, DEC (which then refines the encoder so
that soft assignments sharpen) and N2D (UMAP on the codes, then a Gaussian mixture) share
one autoencoder, and we compare them with k-means on the raw pixels.
"""

import matplotlib.pyplot as plt
import numpy as np

import nolabel
from nolabel.metrics import clustering_scores, confusion

digits = nolabel.load("digits")
X, y = digits.X, digits.y
shape = {"hidden_dims": (256, 128), "latent_dim": 10}

autoencoder = nolabel.AutoEncoder(**shape, epochs=200, batch_size=256,
                                  random_state=0).fit(X)
codes = autoencoder.transform(X)
found = {
    "k-means on pixels": nolabel.KMeans(10, n_init=10, random_state=0).fit_predict(
        digits.flat()),
    "autoencoder + k-means": nolabel.KMeans(10, n_init=10, random_state=0).fit_predict(codes),
    "DEC": nolabel.DEC(10, **shape, pretrained=autoencoder, epochs=30,
                       random_state=0).fit(X).labels_,
    "N2D": nolabel.N2D(10, **shape, pretrained=autoencoder, random_state=0).fit(X).labels_,
}
scores = {name: clustering_scores(y, labels) for name, labels in found.items()}
for name, score in scores.items():
    print(f"{name:>22}: ACC {score['acc']:.3f}  NMI {score['nmi']:.3f}  ARI {score['ari']:.3f}")

fig, axis = plt.subplots(figsize=(8.5, 3.4))
names = list(scores)
for offset, metric in enumerate(("acc", "nmi", "ari")):
    axis.bar(np.arange(len(names)) + 0.27 * (offset - 1), [scores[n][metric] for n in names],
             width=0.27, label=metric.upper())
axis.set_xticks(range(len(names)), names, fontsize=9)
axis.set_ylim(0, 1)
axis.legend(ncol=3, loc="lower right")
axis.set_title("8x8 digits, labels used only to score")

# %%
# N2D's clusters against the true digits: rows are digits, columns N2D's clusters. A
# clustering that found every digit has one dark cell in each row and each column; a
# column dark in two rows is two digits merged.

table = confusion(y, found["N2D"])
fig, axis = plt.subplots(figsize=(5, 4.2))
axis.imshow(table.matrix, cmap="Blues")
axis.set_xlabel("N2D cluster")
axis.set_ylabel("digit")
axis.set_xticks(range(len(table.clusters)), table.clusters)
axis.set_yticks(range(len(table.classes)), table.classes)
