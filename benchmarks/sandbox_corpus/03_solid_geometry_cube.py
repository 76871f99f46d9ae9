from itertools import product

import matplotlib.pyplot as plt
import numpy as np

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")
corners = np.array(list(product([0, 1], repeat=3)))
for i, p in enumerate(corners):
    for q in corners[i + 1:]:
        if np.sum(np.abs(p - q)) == 1:
            hidden = (p == [0, 1, 0]).all() or (q == [0, 1, 0]).all()
            ax.plot(*zip(p, q), color="k", ls="--" if hidden else "-", lw=1.5)
ax.plot([0, 1], [0, 1], [0, 1], color="tab:red", lw=2, label="space diagonal")
ax.plot([0, 1], [0, 1], [0, 0], color="tab:blue", lw=2, label="face diagonal")
for name, p in zip("ABCDEFGH", corners):
    ax.text(*(p + 0.05), name, fontsize=12)
ax.set_title(r"Cube: $d = a\sqrt{3}$")
ax.legend(loc="upper left")
ax.set_box_aspect((1, 1, 1))
ax.view_init(elev=20, azim=-60)
ax.set_axis_off()
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
