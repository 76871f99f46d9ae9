import matplotlib.pyplot as plt

nodes = {"grass": (0.5, 0.05), "algae": (0.85, 0.05), "rabbit": (0.2, 0.38), "grasshopper": (0.5, 0.38), "snail": (0.85, 0.38),
         "frog": (0.65, 0.68), "snake": (0.4, 0.68), "hawk": (0.45, 0.95)}
eats = [("grass", "rabbit"), ("grass", "grasshopper"), ("algae", "snail"), ("grasshopper", "frog"), ("snail", "frog"),
        ("rabbit", "snake"), ("frog", "snake"), ("snake", "hawk"), ("rabbit", "hawk")]
fig, ax = plt.subplots(figsize=(6, 6))
for prey, predator in eats:
    ax.annotate("", xy=nodes[predator], xytext=nodes[prey],
                arrowprops=dict(arrowstyle="-|>", color="tab:brown", shrinkA=14, shrinkB=14, lw=1.3))
for name, (x, y) in nodes.items():
    level = "lightgreen" if name in ("grass", "algae") else "lightblue"
    ax.text(x, y, name, ha="center", va="center", fontsize=11, bbox=dict(boxstyle="round", fc=level))
ax.text(0.0, -0.08, "arrows point from food to consumer", fontsize=9, style="italic")
ax.set_xlim(-0.05, 1.05)
ax.set_ylim(-0.1, 1.05)
ax.axis("off")
ax.set_title("Meadow food web")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
