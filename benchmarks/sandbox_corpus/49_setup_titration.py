import matplotlib.pyplot as plt
from matplotlib.patches import Polygon, Rectangle

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(Rectangle((-0.1, 0), 0.2, 6.5, color="dimgray"))
ax.add_patch(Rectangle((-1.5, -0.2), 3.0, 0.2, color="dimgray"))
ax.add_patch(Rectangle((0.1, 5.0), 0.6, 0.15, color="black"))
ax.add_patch(Rectangle((0.6, 2.6), 0.25, 3.8, fc="white", ec="k"))
ax.add_patch(Rectangle((0.6, 2.6), 0.25, 2.6, fc="lightskyblue", ec="none"))
for k in range(10):
    ax.plot([0.6, 0.7], [2.8 + 0.35 * k] * 2, "k", lw=0.7)
ax.add_patch(Polygon([[0.65, 2.6], [0.8, 2.6], [0.73, 2.2]], fc="lightskyblue", ec="k"))
ax.add_patch(Polygon([[0.1, 0.0], [1.4, 0.0], [0.95, 1.1], [0.95, 1.6], [0.55, 1.6], [0.55, 1.1]], fc="white", ec="k"))
ax.add_patch(Polygon([[0.18, 0.05], [1.32, 0.05], [1.02, 0.7], [0.48, 0.7]], fc="pink", ec="none"))
for (x, y), text, (tx, ty) in [((0.85, 4.5), "burette (0.100 M NaOH)", (1.6, 5.0)), ((0.73, 2.3), "stopcock", (1.6, 2.6)),
                               ((1.1, 0.4), "conical flask: HCl + phenolphthalein", (1.6, 1.2)), ((0.0, 3.5), "retort stand", (-2.6, 3.5))]:
    ax.annotate(text, (x, y), xytext=(tx, ty), arrowprops=dict(arrowstyle="-", lw=0.8), fontsize=10)
ax.set_xlim(-2.8, 5.5)
ax.set_ylim(-0.5, 7)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Acid-base titration apparatus")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
