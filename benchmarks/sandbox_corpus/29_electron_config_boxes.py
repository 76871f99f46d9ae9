import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
subshells = [("1s", 1, 2), ("2s", 1, 2), ("2p", 3, 6), ("3s", 1, 2), ("3p", 3, 4)]
for row, (name, boxes, electrons) in enumerate(subshells):
    y = len(subshells) - row
    ax.text(-0.3, y + 0.3, name, fontsize=14, ha="right", va="center")
    fill = [0] * boxes
    for e in range(electrons):  # Hund's rule: singly occupy first
        fill[e % boxes] += 1
    for b in range(boxes):
        ax.add_patch(plt.Rectangle((b * 0.7, y), 0.7, 0.6, fill=False, lw=1.5))
        if fill[b] >= 1:
            ax.annotate("", xy=(b * 0.7 + 0.25, y + 0.55), xytext=(b * 0.7 + 0.25, y + 0.05), arrowprops=dict(arrowstyle="-|>", lw=1.5))
        if fill[b] == 2:
            ax.annotate("", xy=(b * 0.7 + 0.45, y + 0.05), xytext=(b * 0.7 + 0.45, y + 0.55), arrowprops=dict(arrowstyle="-|>", lw=1.5))
ax.text(0, 0.2, "S: 1s$^2$ 2s$^2$ 2p$^6$ 3s$^2$ 3p$^4$", fontsize=14)
ax.set_xlim(-1, 3)
ax.set_ylim(0, 6)
ax.axis("off")
ax.set_title("Orbital box diagram of sulfur")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
