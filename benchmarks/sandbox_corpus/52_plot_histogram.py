import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
heights = rng.normal(170, 8, 400)
fig, ax = plt.subplots(figsize=(6, 6))
counts, edges, _ = ax.hist(heights, bins=20, color="tab:cyan", ec="k", alpha=0.8, label="sample (n = 400)")
x = np.linspace(140, 200, 300)
ax.plot(x, 400 * (edges[1] - edges[0]) * np.exp(-((x - 170) ** 2) / 128) / np.sqrt(128 * np.pi), "tab:red", label="normal model")
for k, style in ((0, "-"), (1, "--"), (-1, "--")):
    ax.axvline(170 + 8 * k, color="k", ls=style, lw=1)
ax.text(171, counts.max() * 1.02, r"$\mu$", fontsize=13)
ax.text(179, counts.max() * 0.9, r"$\mu+\sigma$")
ax.set_xlabel("height (cm)")
ax.set_ylabel("frequency")
ax.legend(loc="upper left")
ax.set_title("Distribution of student heights")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
