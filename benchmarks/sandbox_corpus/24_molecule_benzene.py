import matplotlib.pyplot as plt
import numpy as np

ang = np.radians(np.arange(6) * 60 + 90)
C = np.c_[np.cos(ang), np.sin(ang)]
H = 1.8 * C
fig, ax = plt.subplots(figsize=(6, 6))
for i in range(6):
    a, b = C[i], C[(i + 1) % 6]
    ax.plot(*zip(a, b), "k", lw=2)
    if i % 2 == 0:
        inner = 0.8
        ax.plot(*zip(inner * a + 0.2 * b * 0, inner * b), "k", lw=2)
    ax.plot(*zip(C[i], H[i] * 0.85), "k", lw=1.5)
    ax.text(*H[i], "H", ha="center", va="center", fontsize=13)
    ax.text(*(C[i] * 1.15), "C", ha="center", va="center", fontsize=11, color="tab:gray")
ax.text(2.2, -1.8, "C$_6$H$_6$", fontsize=16)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Benzene (Kekulé structure)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
