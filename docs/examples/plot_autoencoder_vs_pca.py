"""
Autoencoders against PCA
========================

An autoencoder squeezes each sample through a small code and rebuilds it; with linear
layers and a squared error it can do no better than PCA at the same code size, and with
non-linear layers it can. Here both reduce the 64 pixels of the 8x8 digits to 2, 5 and 10
numbers, and we compare the reconstruction error on held-out digits. The denoising variant
learns to rebuild clean digits from corrupted ones.
"""

import matplotlib.pyplot as plt
import numpy as np

import nolabel

digits = nolabel.load("digits")
X = digits.flat()
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
train, test = X[order[:1400]], X[order[1400:]]

sizes = [2, 5, 10]
errors = {"PCA": [], "autoencoder": []}
for size in sizes:
    pca = nolabel.PCA(n_components=size).fit(train)
    rebuilt = pca.inverse_transform(pca.transform(test))
    errors["PCA"].append(float(np.mean((rebuilt - test) ** 2)))
    autoencoder = nolabel.AutoEncoder(latent_dim=size, hidden_dims=(128, 64), epochs=80,
                                      batch_size=64, random_state=0).fit(train)
    errors["autoencoder"].append(float(np.mean((autoencoder.reconstruct(test) - test) ** 2)))
    print(f"code size {size:>2}: PCA MSE {errors['PCA'][-1]:.4f}, "
          f"autoencoder MSE {errors['autoencoder'][-1]:.4f}")

fig, axis = plt.subplots(figsize=(5.5, 3.5))
for name, values in errors.items():
    axis.plot(sizes, values, marker="o", label=name)
axis.set_xlabel("code size")
axis.set_ylabel("held-out reconstruction MSE")
axis.set_xticks(sizes)
axis.legend()
axis.set_title("8x8 digits: error at each code size")

# %%
# A denoising autoencoder sees digits with 30 % of their pixels zeroed and is trained to
# give back the clean digit; at test time it cleans corrupted digits it never saw.

denoising = nolabel.AutoEncoder(latent_dim=10, hidden_dims=(128, 64), epochs=80,
                                batch_size=64, noise="masking", noise_level=0.3,
                                random_state=0).fit(train)
corrupted = test[:8] * (rng.random(test[:8].shape) > 0.3)
cleaned = denoising.reconstruct(corrupted.astype(np.float32))
fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
for column in range(8):
    for row, images in enumerate((test[:8], corrupted, cleaned)):
        axes[row, column].imshow(images[column].reshape(8, 8), cmap="gray", vmin=0, vmax=1)
        axes[row, column].set_axis_off()
for row, name in enumerate(("clean", "30 % masked", "denoised")):
    axes[row, 0].set_title(name, fontsize=8, loc="left")
fig.tight_layout()
