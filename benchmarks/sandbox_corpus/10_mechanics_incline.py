import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, FancyArrowPatch, Polygon

theta = np.radians(30)
fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(Polygon([[0, 0], [5, 0], [5, 5 * np.tan(theta)]], color="wheat", ec="k"))
c, s = np.cos(theta), np.sin(theta)
center = np.array([2.6 * c, 2.6 * s]) + 0.45 * np.array([-s, c])
block = np.array([[-0.5, -0.4], [0.5, -0.4], [0.5, 0.4], [-0.5, 0.4]]) @ np.array([[c, s], [-s, c]]) + center
ax.add_patch(Polygon(block, color="tab:blue", alpha=0.7))
for vec, lbl, col in (((0, -1.6), "mg", "tab:red"), ((-1.3 * s, 1.3 * c), "N", "tab:green"), ((-1.0 * c, -1.0 * s), "f", "tab:orange")):
    ax.add_patch(FancyArrowPatch(center, center + vec, arrowstyle="-|>", mutation_scale=18, color=col, lw=2))
    ax.text(*(center + np.array(vec) * 1.15), lbl, color=col, fontsize=14)
ax.add_patch(Arc((0, 0), 1.6, 1.6, theta1=0, theta2=30))
ax.text(0.9, 0.15, r"$\theta=30^\circ$", fontsize=12)
ax.set_xlim(-0.5, 5.5)
ax.set_ylim(-0.5, 4)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Block on a rough incline")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
