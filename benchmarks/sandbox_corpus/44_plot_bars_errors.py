import matplotlib.pyplot as plt
import numpy as np

conditions = ["control", "low N", "high N", "low P", "high P"]
means = np.array([12.1, 14.3, 19.8, 13.0, 16.2])
sd = np.array([1.2, 1.5, 2.1, 1.1, 1.8])
fig, ax = plt.subplots(figsize=(6, 6))
bars = ax.bar(conditions, means, yerr=sd, capsize=5, color=["gray", "tab:green", "darkgreen", "tab:orange", "darkorange"])
for bar, m in zip(bars, means):
    ax.text(bar.get_x() + bar.get_width() / 2, m + 2.4, f"{m:.1f}", ha="center")
ax.plot([2, 2, 0, 0], [23.5, 24, 24, 23.5], "k", lw=1)
ax.text(1, 24.2, "p < 0.01", ha="center")
ax.set_ylim(0, 27)
ax.set_ylabel("plant height after 4 weeks (cm)")
ax.set_title("Effect of fertiliser on growth (n = 8)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
