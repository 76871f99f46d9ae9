from itertools import product

import matplotlib.pyplot as plt
import numpy as np

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")
corners = np.array(list(product([0, 1], repeat=3)))
for i, p in enumerate(corners):
    for q in corners[i + 1:]:
        if np.sum(np.abs(p - q)) == 1:
            ax.plot(*zip(p, q), color="gray", lw=1)
ax.scatter(*corners.T, s=250, color="tab:blue", edgecolor="k", depthshade=False)
ax.scatter([0.5], [0.5], [0.5], s=250, color="tab:orange", edgecolor="k", depthshade=False)
ax.plot([0, 1], [0, 1], [0, 1], "k--", lw=1)
ax.text(0.55, 0.55, 0.62, "body centre", fontsize=10)
ax.text2D(0.02, 0.02, r"$4r = \sqrt{3}a$, 2 atoms per cell", transform=ax.transAxes, fontsize=12)
ax.set_title("Body-centred cubic (bcc) unit cell")
ax.set_box_aspect((1, 1, 1))
ax.set_axis_off()
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
