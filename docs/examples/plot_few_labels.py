"""
Representations with few labels
===============================

Unsupervised features are worth what a classifier trained on a few labels can do with
them. ``nolabel.metrics.probe`` trains a logistic regression (linear probe) and a k-NN
classifier on 10 and 100 labelled digits, several times on class-balanced subsets, and
reports their test accuracy, for raw pixels, PCA codes and autoencoder codes.
"""

import matplotlib.pyplot as plt
import numpy as np

import nolabel
from nolabel.metrics import probe

digits = nolabel.load("digits")
X, y = digits.flat(), digits.y
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
train, test = order[:1300], order[1300:]

pca = nolabel.PCA(n_components=10).fit(X[train])
autoencoder = nolabel.AutoEncoder(latent_dim=10, hidden_dims=(128, 64), epochs=150,
                                  batch_size=64, random_state=0).fit(X[train])
features = {"pixels": X, "PCA codes": pca.transform(X),
            "autoencoder codes": autoencoder.transform(X)}

budgets = [10, 100, None]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for name, values in features.items():
    results = probe(values[train], y[train], values[test], y[test],
                    label_budgets=budgets, n_subsets=5, random_state=0)
    for axis, method in zip(axes, ("linear", "knn"), strict=True):
        mine = [r for r in results if r.method == method]
        axis.errorbar(np.arange(len(mine)), [r.mean_accuracy for r in mine],
                      yerr=[r.std_accuracy for r in mine], marker="o", capsize=3, label=name)
        axis.set_xticks(np.arange(len(mine)), [str(r.n_labels) for r in mine])
        axis.set_title(f"{method} probe")
        axis.set_xlabel("labelled training digits")
    print(name, [(r.method, r.n_labels, round(r.mean_accuracy, 3)) for r in results])
axes[0].set_ylabel("test accuracy")
axes[0].legend()
