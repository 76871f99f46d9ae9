import matplotlib.pyplot as plt
import numpy as np

A, B, C = np.array([0.0, 0.0]), np.array([6.0, 0.0]), np.array([2.0, 4.5])
a, b, c = np.linalg.norm(B - C), np.linalg.norm(A - C), np.linalg.norm(A - B)
incenter = (a * A + b * B + c * C) / (a + b + c)
s = (a + b + c) / 2
r = np.sqrt((s - a) * (s - b) * (s - c) / s)

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(plt.Polygon([A, B, C], fill=False, lw=2))
ax.add_patch(plt.Circle(incenter, r, fill=False, color="tab:blue", lw=1.5))
ax.plot(*incenter, "ko", ms=4)
for name, p, off in (("A", A, (-0.3, -0.3)), ("B", B, (0.15, -0.3)), ("C", C, (0, 0.2))):
    ax.annotate(name, p, xytext=(p[0] + off[0], p[1] + off[1]), fontsize=14)
ax.annotate("I", incenter, xytext=(incenter[0] + 0.1, incenter[1] + 0.1))
ax.plot([incenter[0], incenter[0]], [incenter[1], 0], "--", color="gray")
ax.text(incenter[0] + 0.05, incenter[1] / 2, "r", color="gray")
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Incircle of triangle ABC")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
