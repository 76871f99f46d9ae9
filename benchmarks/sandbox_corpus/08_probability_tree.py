import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
root = (0, 0.5)
first = {"R": (0.4, 0.8), "B": (0.4, 0.2)}
p_first = {"R": "3/5", "B": "2/5"}
p_second = {"R": {"R": "2/4", "B": "2/4"}, "B": {"R": "3/4", "B": "1/4"}}
for k, (x, y) in first.items():
    ax.plot([root[0], x], [root[1], y], "k-")
    ax.text((root[0] + x) / 2 - 0.03, (root[1] + y) / 2 + 0.03, p_first[k], fontsize=11, color="tab:blue")
    ax.text(x + 0.01, y + 0.02, k, fontsize=14, fontweight="bold")
    for j, k2 in enumerate(("R", "B")):
        y2 = y + (0.12 if j == 0 else -0.12)
        ax.plot([x + 0.04, 0.8], [y, y2], "k-")
        ax.text(0.6, (y + y2) / 2 + 0.02, p_second[k][k2], fontsize=11, color="tab:blue")
        ax.text(0.82, y2 - 0.01, f"{k}{k2}", fontsize=12)
ax.plot(*root, "ko")
ax.text(-0.02, 0.94, "Two draws without replacement: 3 red, 2 blue", fontsize=12)
ax.set_xlim(-0.05, 1.0)
ax.set_ylim(-0.05, 1.0)
ax.axis("off")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
