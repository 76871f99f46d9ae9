import matplotlib.pyplot as plt
import numpy as np

L = 1.0
x = np.linspace(0, L, 400)
fig, axes = plt.subplots(3, 1, figsize=(6, 6), sharex=True)
for n, ax in enumerate(axes, start=1):
    for phase in np.linspace(0, np.pi, 5):
        ax.plot(x, np.sin(n * np.pi * x / L) * np.cos(phase), color="tab:blue", alpha=0.4 + 0.1 * np.cos(phase))
    nodes = np.arange(n + 1) * L / n
    ax.plot(nodes, np.zeros_like(nodes), "ko")
    ax.set_ylabel(f"n = {n}")
    ax.set_yticks([])
    ax.text(1.02, 0, rf"$\lambda = {2 / n:.2f}\,L$", va="center")
axes[0].set_title("Standing waves on a string fixed at both ends")
axes[-1].set_xlabel("x / L")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
