import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Circle

fig, ax = plt.subplots(figsize=(6, 6))
O = np.array([0.0, 0.0])
half = np.radians(104.5 / 2)
H1 = O + 1.5 * np.array([-np.sin(half), -np.cos(half)])
H2 = O + 1.5 * np.array([np.sin(half), -np.cos(half)])
for H in (H1, H2):
    ax.plot(*zip(O, H), "k", lw=4, zorder=1)
ax.add_patch(Circle(O, 0.5, color="tab:red", zorder=2))
for H in (H1, H2):
    ax.add_patch(Circle(H, 0.3, color="lightgray", ec="k", zorder=2))
    ax.text(*H, "H", ha="center", va="center", fontsize=14, zorder=3)
ax.text(*O, "O", ha="center", va="center", fontsize=18, color="w", zorder=3)
ax.add_patch(Arc(O, 1.4, 1.4, theta1=270 - 52.25, theta2=270 + 52.25))
ax.text(0, -1.0, "104.5°", ha="center", fontsize=12)
for dx in (-0.35, 0.35):
    ax.plot([dx - 0.07, dx + 0.07], [0.75, 0.75], "k.", ms=6)
ax.text(0.6, 0.4, r"$\delta^-$", fontsize=14)
ax.text(H2[0] + 0.35, H2[1], r"$\delta^+$", fontsize=14)
ax.set_xlim(-2, 2)
ax.set_ylim(-2, 1.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Bent geometry of H$_2$O")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
