import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 6))
t = np.linspace(0, 2 * np.pi, 200)
for r in (0.5, 1.0, 1.6, 2.3):
    ax.plot(r * np.cos(t), r * np.sin(t), color="tab:blue", lw=1.2)
    ax.annotate("", xy=(r * np.cos(0.8), r * np.sin(0.8)), xytext=(r * np.cos(0.7), r * np.sin(0.7)),
                arrowprops=dict(arrowstyle="-|>", color="tab:blue", mutation_scale=15))
ax.add_patch(plt.Circle((0, 0), 0.12, color="k"))
ax.plot(0, 0, "w.", ms=6)
ax.text(0.15, -0.35, "I (out of page)", fontsize=11)
ax.text(-2.9, 2.6, r"$B = \frac{\mu_0 I}{2\pi r}$", fontsize=15)
ax.set_xlim(-3, 3)
ax.set_ylim(-3, 3)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Magnetic field around a straight wire")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
