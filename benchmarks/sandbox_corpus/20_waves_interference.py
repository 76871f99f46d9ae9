import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-4, 4, 300)
X, Y = np.meshgrid(x, np.linspace(0, 8, 300))
k = 2 * np.pi / 0.8
r1 = np.hypot(X + 1, Y)
r2 = np.hypot(X - 1, Y)
I = np.cos(k * (r1 - r2) / 2) ** 2
fig, ax = plt.subplots(figsize=(6, 6))
im = ax.imshow(I, extent=(-4, 4, 0, 8), origin="lower", cmap="magma")
ax.plot([-1, 1], [0, 0], "c^", ms=10)
ax.text(-1.3, 0.3, "$S_1$", color="c", fontsize=13)
ax.text(0.9, 0.3, "$S_2$", color="c", fontsize=13)
fig.colorbar(im, ax=ax, label="relative intensity", shrink=0.8)
ax.set_xlabel("x (m)")
ax.set_ylabel("y (m)")
ax.set_title(r"Two-source interference, $d\sin\theta = m\lambda$")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
