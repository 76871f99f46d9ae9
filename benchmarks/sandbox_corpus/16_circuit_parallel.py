import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle

fig, ax = plt.subplots(figsize=(6, 6))
def resistor(x, y0, y1, label):
    ys = np.linspace(y0, y1, 13)
    xs = x + 0.15 * np.array([0, 1, -1] * 4 + [0])
    ax.plot(xs, ys, "k", lw=2)
    ax.text(x + 0.3, (y0 + y1) / 2, label, fontsize=12, va="center")
ax.plot([0, 5], [4, 4], "k", lw=2)
ax.plot([0, 5], [0, 0], "k", lw=2)
for x, lbl in ((2, "$R_1 = 6\\,\\Omega$"), (3.5, "$R_2 = 3\\,\\Omega$"), (5, "$R_3 = 2\\,\\Omega$")):
    ax.plot([x, x], [4, 3], "k", lw=2)
    resistor(x, 3, 1, lbl)
    ax.plot([x, x], [1, 0], "k", lw=2)
ax.plot([0, 0], [0, 1.5], "k", lw=2)
ax.plot([0, 0], [2.5, 4], "k", lw=2)
ax.add_patch(Circle((0, 2), 0.5, fill=False, lw=2))
ax.text(0, 2, "V", ha="center", va="center", fontsize=14)
ax.text(-1.3, 2, "6 V", fontsize=12, va="center")
ax.text(0.5, -0.8, r"$\frac{1}{R_{eq}} = \frac{1}{6}+\frac{1}{3}+\frac{1}{2} \Rightarrow R_{eq}=1\,\Omega$", fontsize=13)
ax.set_xlim(-1.5, 6.5)
ax.set_ylim(-1.3, 4.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Resistors in parallel")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
