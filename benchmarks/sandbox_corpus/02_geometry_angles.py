import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

fig, ax = plt.subplots(figsize=(6, 6))
ax.plot([-1, 7], [0, 0], "k", lw=1.5)
ax.plot([-1, 7], [3, 3], "k", lw=1.5)
ax.plot([0.5, 5.5], [-1.2, 4.2], "tab:red", lw=2)
theta = np.degrees(np.arctan2(5.4, 5.0))
for x, y, t1, t2, lbl in ((1.61, 0, 0, theta, r"$\alpha$"), (4.39, 3, 180, 180 + theta, r"$\beta$")):
    ax.add_patch(Arc((x, y), 1.2, 1.2, theta1=t1, theta2=t2, color="tab:blue"))
    ax.text(x + (0.7 if t1 == 0 else -0.9), y + (0.2 if t1 == 0 else -0.4), lbl, fontsize=16)
ax.text(6.5, 0.15, "$l_1$", fontsize=14)
ax.text(6.5, 3.15, "$l_2$", fontsize=14)
ax.text(5.3, 3.9, "t", fontsize=14, color="tab:red")
ax.text(0, -1.6, r"$l_1 \parallel l_2 \Rightarrow \alpha = \beta$ (alternate angles)", fontsize=12)
ax.set_xlim(-1.5, 7.5)
ax.set_ylim(-2, 5)
ax.set_aspect("equal")
ax.axis("off")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
