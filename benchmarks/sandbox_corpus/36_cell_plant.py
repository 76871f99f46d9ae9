import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse, FancyBboxPatch

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(FancyBboxPatch((-3, -3.5), 6, 7, boxstyle="round,pad=0.1", color="palegreen", ec="darkgreen", lw=4))
ax.add_patch(FancyBboxPatch((-2.75, -3.25), 5.5, 6.5, boxstyle="round,pad=0.1", fill=False, ec="green", lw=1))
ax.add_patch(FancyBboxPatch((-1.5, -2.0), 3.2, 3.8, boxstyle="round,pad=0.2", color="lightcyan", ec="tab:blue"))
ax.add_patch(Ellipse((-1.9, 2.3), 1.2, 1.0, color="tan", ec="k"))
for x, y in ((2.0, 2.5), (2.1, -1.0), (-2.2, -2.4), (1.9, 0.8)):
    ax.add_patch(Ellipse((x, y), 0.9, 0.5, angle=30, color="forestgreen", ec="k"))
labels = {"cell wall": (3.05, 3.0, 4.0, 3.8), "cell membrane": (2.75, -2.8, 4.0, -3.6), "central vacuole": (0.1, 0.0, 3.8, 0.2),
          "chloroplast": (2.0, 2.5, 4.0, 2.2), "nucleus": (-1.9, 2.3, -5.2, 3.2)}
for name, (x, y, tx, ty) in labels.items():
    ax.annotate(name, (x, y), xytext=(tx, ty), arrowprops=dict(arrowstyle="-", lw=0.8), fontsize=10)
ax.set_xlim(-5.5, 6)
ax.set_ylim(-4.5, 4.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Plant cell")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
