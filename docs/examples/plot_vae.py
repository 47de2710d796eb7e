"""
Variational autoencoder: samples, interpolation and the ELBO
============================================================

A VAE's encoder gives a Gaussian q(z|x) for each digit; training maximises the evidence
lower bound (reconstruction log-likelihood minus KL(q(z|x) || N(0, I))), so that codes
drawn from N(0, I) decode to plausible digits. We draw new digits from the prior and walk
in a straight line between the codes of two real digits.
"""

import matplotlib.pyplot as plt
import numpy as np

import nolabel

digits = nolabel.load("digits")
X = digits.X  # (1797, 1, 8, 8) in [0, 1]
vae = nolabel.VAE(latent_dim=4, hidden_dims=(128, 64), epochs=100, batch_size=64,
                  random_state=0).fit(X)
print(f"likelihood: {vae.likelihood_}; mean ELBO {float(np.mean(vae.elbo(X))):.2f} nats")

samples = vae.sample(40, random_state=0)
fig, axes = plt.subplots(4, 10, figsize=(8, 3.4))
for axis, image in zip(axes.flat, samples, strict=True):
    axis.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
fig.suptitle("digits drawn from the prior N(0, I) and decoded")

# %%
# Interpolation: decode evenly spaced points between the codes of a 0 and a 6.

first, second = X[digits.y == 0][0], X[digits.y == 6][0]
path = vae.interpolate(first, second, steps=10)
fig, axes = plt.subplots(1, 10, figsize=(8, 1.1))
for axis, image in zip(axes, path, strict=True):
    axis.imshow(np.asarray(image).reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
