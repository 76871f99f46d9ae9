import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

f, do, ho = 2.0, 5.0, 1.2
di = 1 / (1 / f - 1 / do)
hi = -ho * di / do
fig, ax = plt.subplots(figsize=(6, 6))
ax.axhline(0, color="k", lw=0.8)
ax.add_patch(Ellipse((0, 0), 0.4, 4, color="lightblue", alpha=0.6))
ax.annotate("", xy=(-do, ho), xytext=(-do, 0), arrowprops=dict(arrowstyle="-|>", color="tab:green", lw=2))
ax.annotate("", xy=(di, hi), xytext=(di, 0), arrowprops=dict(arrowstyle="-|>", color="tab:purple", lw=2))
ax.plot([-do, 0, di], [ho, ho, hi], "tab:red")
ax.plot([-do, di], [ho, hi], "tab:orange")
ax.plot([-do, -f, 0, di], [ho, 0, hi, hi], "tab:blue")
for x in (-f, f):
    ax.plot(x, 0, "ko", ms=4)
    ax.text(x, -0.3, "F", ha="center")
ax.text(-do, ho + 0.2, "object", ha="center")
ax.text(di, hi - 0.35, "image", ha="center")
ax.set_xlim(-6, 5)
ax.set_ylim(-2.5, 2.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title(r"Converging lens: $\frac{1}{f}=\frac{1}{d_o}+\frac{1}{d_i}$")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
