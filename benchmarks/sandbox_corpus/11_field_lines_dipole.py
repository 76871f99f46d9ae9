import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-3, 3, 120)
X, Y = np.meshgrid(x, x)
def field(q, x0):
    r3 = ((X - x0) ** 2 + Y**2) ** 1.5 + 1e-9
    return q * (X - x0) / r3, q * Y / r3
E1, E2 = field(1, -1), field(-1, 1)
Ex, Ey = E1[0] + E2[0], E1[1] + E2[1]
fig, ax = plt.subplots(figsize=(6, 6))
ax.streamplot(X, Y, Ex, Ey, color=np.log(np.hypot(Ex, Ey)), cmap="plasma", density=1.4, linewidth=1)
ax.add_patch(plt.Circle((-1, 0), 0.15, color="tab:red"))
ax.add_patch(plt.Circle((1, 0), 0.15, color="tab:blue"))
ax.text(-1, 0, "+", color="w", ha="center", va="center", fontsize=14)
ax.text(1, 0, "-", color="w", ha="center", va="center", fontsize=14)
ax.set_aspect("equal")
ax.set_title("Electric field of a dipole")
ax.set_xlabel("x (m)")
ax.set_ylabel("y (m)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
