import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
boxes = [(0.5, 0.93, "Start", "round"), (0.5, 0.78, "read n", "square"), (0.5, 0.62, "n > 1 ?", "darrow"),
         (0.5, 0.45, "n even ?", "darrow"), (0.25, 0.28, "n = n / 2", "square"), (0.75, 0.28, "n = 3n + 1", "square"),
         (0.85, 0.62, "Stop", "round")]
for x, y, text, style in boxes:
    ax.text(x, y, text, ha="center", va="center", fontsize=12,
            bbox=dict(boxstyle=style if style != "darrow" else "sawtooth", fc="lightyellow" if style != "round" else "lightgreen"))
arrow = dict(arrowstyle="-|>", lw=1.3)
for (x0, y0), (x1, y1) in [((0.5, 0.90), (0.5, 0.81)), ((0.5, 0.75), (0.5, 0.66)), ((0.5, 0.58), (0.5, 0.49)),
                           ((0.45, 0.42), (0.27, 0.31)), ((0.55, 0.42), (0.73, 0.31)), ((0.58, 0.62), (0.8, 0.62))]:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)
ax.annotate("", xy=(0.38, 0.62), xytext=(0.25, 0.25), arrowprops=dict(arrowstyle="-|>", connectionstyle="angle,angleA=180,angleB=-90,rad=0", lw=1.3))
ax.annotate("", xy=(0.38, 0.62), xytext=(0.75, 0.25), arrowprops=dict(arrowstyle="-|>", connectionstyle="arc3,rad=0.6", lw=1.3))
ax.text(0.32, 0.38, "yes", fontsize=10)
ax.text(0.63, 0.38, "no", fontsize=10)
ax.text(0.66, 0.64, "no", fontsize=10)
ax.text(0.52, 0.53, "yes", fontsize=10)
ax.axis("off")
ax.set_title("Collatz sequence flowchart")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
