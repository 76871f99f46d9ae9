import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(Rectangle((-0.5, -0.5), 1, 1, color="lightgray", ec="k"))
forces = {"N": (0, 2.0), "mg": (0, -2.0), "F": (2.2, 0), "f": (-1.2, 0)}
colors = {"N": "tab:green", "mg": "tab:red", "F": "tab:blue", "f": "tab:orange"}
for name, (dx, dy) in forces.items():
    ax.add_patch(FancyArrowPatch((0, 0), (dx, dy), arrowstyle="-|>", mutation_scale=20, color=colors[name], lw=2))
    ax.text(dx * 1.1 + (0.1 if dx >= 0 else -0.4), dy * 1.1, f"$\\vec{{{name}}}$", fontsize=16, color=colors[name])
ax.plot([-3, 3], [-0.5, -0.5], "k", lw=2)
ax.text(-2.8, -1.0, r"$\sum F_x = F - f = ma$", fontsize=13)
ax.set_xlim(-3, 3)
ax.set_ylim(-3, 3)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Free-body diagram of a block")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
