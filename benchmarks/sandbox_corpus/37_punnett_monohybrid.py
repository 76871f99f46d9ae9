import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
parent1, parent2 = ["T", "t"], ["T", "t"]
for i, a in enumerate(parent1):
    ax.text(i + 1.5, 3.3, a, ha="center", va="center", fontsize=22, fontweight="bold")
for j, b in enumerate(parent2):
    ax.text(0.5, 2.5 - j, b, ha="center", va="center", fontsize=22, fontweight="bold")
for i, a in enumerate(parent1):
    for j, b in enumerate(parent2):
        geno = "".join(sorted(a + b))
        color = "palegreen" if "T" in geno else "khaki"
        ax.add_patch(plt.Rectangle((i + 1, 2 - j), 1, 1, fc=color, ec="k", lw=2))
        ax.text(i + 1.5, 2.5 - j, geno, ha="center", va="center", fontsize=20)
ax.text(0.2, 0.5, "tall : short = 3 : 1", fontsize=14)
ax.text(0.2, 3.9, "Tt × Tt (pea plant height)", fontsize=14)
ax.set_xlim(0, 3.3)
ax.set_ylim(0.2, 4.2)
ax.set_aspect("equal")
ax.axis("off")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
