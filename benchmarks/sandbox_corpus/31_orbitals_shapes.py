import matplotlib.pyplot as plt
import numpy as np

t = np.linspace(0, 2 * np.pi, 400)
fig, axes = plt.subplots(2, 2, figsize=(6, 6))
r_p = np.abs(np.cos(t))
shapes = {"1s": (np.ones_like(t), 0), "2p$_x$": (r_p, 0), "2p$_y$": (r_p, np.pi / 2), "3d$_{xy}$": (np.abs(np.sin(2 * t)), 0)}
for ax, (name, (r, rot)) in zip(axes.flat, shapes.items()):
    x, y = r * np.cos(t + rot), r * np.sin(t + rot)
    ax.fill(x, y, color="tab:blue", alpha=0.35)
    ax.plot(x, y, color="tab:blue")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_title(name)
    ax.set_aspect("equal")
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Angular shapes of atomic orbitals")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
