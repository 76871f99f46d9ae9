import matplotlib.pyplot as plt
from matplotlib.patches import Circle

fig, ax = plt.subplots(figsize=(6, 6))
for (x, y), color, name in (((0, 0.6), "tab:red", "A"), ((-0.55, -0.35), "tab:blue", "B"), ((0.55, -0.35), "tab:green", "C")):
    ax.add_patch(Circle((x, y), 1, color=color, alpha=0.25))
    ax.add_patch(Circle((x, y), 1, fill=False, color=color, lw=2))
    ax.text(x * 1.9, y * 1.9 + (0.35 if y > 0 else -0.1), name, fontsize=18, ha="center", color=color)
counts = {(0, 1.0): 12, (-0.9, -0.6): 9, (0.9, -0.6): 7, (-0.5, 0.25): 4, (0.5, 0.25): 3, (0, -0.75): 5, (0, 0): 2}
for (x, y), n in counts.items():
    ax.text(x, y, str(n), ha="center", va="center", fontsize=13)
ax.add_patch(plt.Rectangle((-2.2, -2.0), 4.4, 4.0, fill=False))
ax.text(-2.1, 1.75, "U", fontsize=14)
ax.text(1.5, -1.8, "6", fontsize=13)
ax.set_xlim(-2.3, 2.3)
ax.set_ylim(-2.1, 2.1)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Students taking Art (A), Biology (B), Chemistry (C)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
