import matplotlib.pyplot as plt

elements = [("H", 1, 0, 0), ("He", 2, 0, 17), ("Li", 3, 1, 0), ("Be", 4, 1, 1), ("B", 5, 1, 12), ("C", 6, 1, 13), ("N", 7, 1, 14),
            ("O", 8, 1, 15), ("F", 9, 1, 16), ("Ne", 10, 1, 17), ("Na", 11, 2, 0), ("Mg", 12, 2, 1), ("Al", 13, 2, 12),
            ("Si", 14, 2, 13), ("P", 15, 2, 14), ("S", 16, 2, 15), ("Cl", 17, 2, 16), ("Ar", 18, 2, 17)]
colors = {0: "salmon", 1: "orange", 17: "plum", 16: "khaki"}
fig, ax = plt.subplots(figsize=(6, 6))
for sym, z, period, group in elements:
    col = group if group < 2 else group - 10
    ax.add_patch(plt.Rectangle((col, -period), 0.95, 0.95, fc=colors.get(group, "lightblue"), ec="k"))
    ax.text(col + 0.47, -period + 0.55, sym, ha="center", va="center", fontsize=12, fontweight="bold")
    ax.text(col + 0.08, -period + 0.8, str(z), fontsize=6)
ax.text(0, 1.3, "First three periods of the periodic table", fontsize=12)
ax.text(0, -3.5, "alkali metals (red), alkaline earth (orange), halogens (yellow), noble gases (purple)", fontsize=7)
ax.set_xlim(-0.2, 8.2)
ax.set_ylim(-3.8, 1.6)
ax.set_aspect("equal")
ax.axis("off")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
