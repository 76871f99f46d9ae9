import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Ellipse

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(Ellipse((0, 0), 8, 6.5, color="mistyrose", ec="k", lw=2))
ax.add_patch(Circle((0.5, 0.3), 1.3, color="plum", ec="purple", lw=2))
ax.add_patch(Circle((0.7, 0.5), 0.4, color="purple"))
organelles = [((-2.3, 1.0), "mitochondrion", "orange"), ((-2.0, -1.5), "mitochondrion", "orange"), ((2.4, -1.3), "lysosome", "tab:green")]
for (x, y), name, color in organelles:
    ax.add_patch(Ellipse((x, y), 1.2 if name == "mitochondrion" else 0.6, 0.6, color=color, ec="k"))
labels = {"nucleus": (0.5, -0.6, 3.5, -3.6), "nucleolus": (0.7, 0.5, 3.2, 3.4), "cell membrane": (-3.9, 0.5, -5.5, 2.8),
          "mitochondrion": (-2.3, 1.0, -3.5, 3.6), "lysosome": (2.4, -1.3, 4.6, -1.8), "cytoplasm": (-1.0, -2.0, -4.5, -3.5)}
for name, (x, y, tx, ty) in labels.items():
    ax.annotate(name, (x, y), xytext=(tx, ty), arrowprops=dict(arrowstyle="-", lw=0.8), fontsize=10)
ax.set_xlim(-6, 6)
ax.set_ylim(-4.5, 4.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Animal cell")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
