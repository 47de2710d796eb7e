"""
A GAN on the digits, and a check for mode collapse
==================================================

A generator G turns noise z into digits and a discriminator D tells them from real ones;
they are trained in turn on the min-max objective (here with the non-saturating generator
loss). A GAN has no likelihood to watch, so two checks help: look at the samples, and count
how many of the data's modes they cover (``mode_coverage``: k-means clusters of the real
digits play the classes when no labelled feature network is at hand).
"""

import matplotlib.pyplot as plt

import nolabel
from nolabel.metrics.generation import mode_coverage

digits = nolabel.load("digits")
gan = nolabel.GAN(latent_dim=16, generator_dims=(128, 128), discriminator_dims=(128, 128),
                  epochs=60, batch_size=64, random_state=0).fit(digits.X)
coverage = mode_coverage(gan, digits.X, n_samples=500)
print(f"the samples cover {coverage.sample_classes} of {coverage.real_classes} modes"
      + (f"; {coverage.warning}" if coverage.warning else ""))

samples = gan.sample(40, random_state=1)
fig, axes = plt.subplots(4, 10, figsize=(8, 3.4))
for axis, image in zip(axes.flat, samples, strict=True):
    axis.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
fig.suptitle(f"GAN samples ({coverage.sample_classes} of {coverage.real_classes} modes "
             "covered)")

# %%
# The training curves tell whether the two players stayed balanced: a discriminator
# whose accuracy on fakes sits at 1 has won, and the generator learns little from it.

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for axis, name in zip(axes, ("generator_loss", "discriminator_loss"), strict=True):
    axis.plot(gan.history_[name])
    axis.set_title(name)
    axis.set_xlabel("epoch")
fig.tight_layout()
