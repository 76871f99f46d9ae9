import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
species = {"CH$_3$CH$_2$OH": (0.1, 0.8), "CH$_3$CHO": (0.5, 0.8), "CH$_3$COOH": (0.9, 0.8),
           "CH$_2$=CH$_2$": (0.1, 0.3), "CH$_3$COOC$_2$H$_5$": (0.7, 0.3)}
for name, (x, y) in species.items():
    ax.text(x, y, name, ha="center", va="center", fontsize=12, bbox=dict(boxstyle="round", fc="lightyellow", ec="k"))
arrows = [((0.2, 0.8), (0.4, 0.8), "[O]"), ((0.6, 0.8), (0.78, 0.8), "[O]"), ((0.1, 0.74), (0.1, 0.36), "conc. H$_2$SO$_4$\n170 °C"),
          ((0.88, 0.74), (0.74, 0.36), "+ ethanol\nH$^+$")]
for (x0, y0), (x1, y1), cond in arrows:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="-|>", lw=1.5))
    ax.text((x0 + x1) / 2 + 0.02, (y0 + y1) / 2 + 0.03, cond, fontsize=9, color="tab:blue")
ax.set_xlim(-0.1, 1.1)
ax.set_ylim(0.1, 1.0)
ax.axis("off")
ax.set_title("Reactions of ethanol")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
