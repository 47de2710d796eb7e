"""
Anomaly detection: the one-class protocol on digits
===================================================

Fit on one class only (here the 8s), then score every held-out digit: a model of the 8s
should find the other digits unusual. An autoencoder's score is its reconstruction error;
a density model's is its negative log-density. ROC AUC says how well the scores rank
anomalies above normal samples (1 is perfect, 0.5 is chance).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_curve

import nolabel
from nolabel.metrics import one_class_split, roc_auc

digits = nolabel.load("digits")
X, y = digits.flat(), digits.y
rng = np.random.default_rng(0)
eights = np.flatnonzero(y == 8)
train = rng.choice(eights, size=120, replace=False)
test = np.setdiff1d(np.arange(len(X)), train)
is_anomaly = one_class_split(y[test], normal_class=8)

models = {
    "autoencoder": nolabel.AutoEncoder(latent_dim=4, hidden_dims=(64,), epochs=150,
                                       batch_size=32, random_state=0),
    "PCA (4 components)": nolabel.PCA(n_components=4),
    "Gaussian (diag)": nolabel.GaussianDensity(covariance_type="diag"),
}
fig, axis = plt.subplots(figsize=(5, 4.2))
for name, model in models.items():
    model.fit(X[train])
    scores = -model.score_samples(X[test])  # higher = more anomalous
    auc = roc_auc(is_anomaly, scores)
    false, true, _ = roc_curve(is_anomaly, scores)
    axis.plot(false, true, label=f"{name}: AUC {auc:.3f}")
    print(f"{name:>20}: ROC AUC {auc:.3f}")
axis.plot([0, 1], [0, 1], color="0.7", linestyle="--")
axis.set_xlabel("false positive rate")
axis.set_ylabel("true positive rate")
axis.set_title("normal class: 8; anomalies: the other digits")
axis.legend(loc="lower right", fontsize=8)
