from itertools import product

import matplotlib.pyplot as plt

gametes = ["".join(g) for g in product("Rr", "Yy")]
fig, ax = plt.subplots(figsize=(6, 6))
colors = {"RY": "gold", "Ry": "yellowgreen", "rY": "khaki", "ry": "darkseagreen"}
for i, g1 in enumerate(gametes):
    ax.text(i + 1.5, 4.6, g1, ha="center", fontsize=13, fontweight="bold")
    ax.text(0.5, 3.5 - i, g1, ha="center", va="center", fontsize=13, fontweight="bold")
    for j, g2 in enumerate(gametes):
        geno = "".join(sorted(g1[0] + g2[0])) + "".join(sorted(g1[1] + g2[1]))
        pheno = ("R" if "R" in geno else "r") + ("Y" if "Y" in geno else "y")
        ax.add_patch(plt.Rectangle((j + 1, 3 - i), 1, 1, fc=colors[pheno], ec="k"))
        ax.text(j + 1.5, 3.5 - i, geno, ha="center", va="center", fontsize=11)
ax.text(1, -0.5, "9 round yellow : 3 round green : 3 wrinkled yellow : 1 wrinkled green", fontsize=9)
ax.set_title("Dihybrid cross RrYy × RrYy")
ax.set_xlim(0, 5.2)
ax.set_ylim(-0.8, 5)
ax.set_aspect("equal")
ax.axis("off")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
