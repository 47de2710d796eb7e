"""
PixelCNN: an exact likelihood, pixel by pixel
=============================================

PixelCNN factorises p(x) = Π p(x_i | x_<i) over the pixels in raster order with masked
convolutions (type A on the input, then type B), so the log-likelihood of an image is exact
and training runs over all pixels in parallel. Sampling is sequential: one pixel at a time.
We fit it on binarised digits and report the negative log-likelihood in nats and bits per
dimension.
"""

import matplotlib.pyplot as plt
import numpy as np

import nolabel

digits = nolabel.load("digits")
X = (digits.X > 0.5).astype(np.float32)  # binary images for a Bernoulli output
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
train, test = X[order[:1500]], X[order[1500:]]

model = nolabel.PixelCNN(n_layers=4, epochs=10, batch_size=64,
                         random_state=0).fit(train)
print(f"test NLL {model.nll(test):.2f} nats per image, "
      f"{model.bits_per_dim(test):.3f} bits per pixel")

samples = model.sample(30, random_state=0)
fig, axes = plt.subplots(3, 10, figsize=(8, 2.6))
for axis, image in zip(axes.flat, samples, strict=True):
    axis.imshow(np.asarray(image).reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
fig.suptitle("PixelCNN samples, drawn pixel by pixel")
