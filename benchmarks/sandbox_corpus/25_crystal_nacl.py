import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
for i in range(6):
    for j in range(6):
        na = (i + j) % 2 == 0
        ax.scatter(i, j, s=300 if not na else 130, color="tab:green" if not na else "tab:purple", zorder=2, edgecolor="k")
        if i < 5:
            ax.plot([i, i + 1], [j, j], color="lightgray", zorder=1)
        if j < 5:
            ax.plot([i, i], [j, j + 1], color="lightgray", zorder=1)
ax.add_patch(plt.Rectangle((0.9, 0.9), 2.2, 2.2, fill=False, ls="--", color="tab:red", lw=2))
ax.text(1.0, 3.25, "unit cell (a = 564 pm)", color="tab:red")
ax.scatter([], [], s=130, color="tab:purple", edgecolor="k", label="Na$^+$")
ax.scatter([], [], s=300, color="tab:green", edgecolor="k", label="Cl$^-$")
ax.legend(loc="upper right", bbox_to_anchor=(1.0, 1.12), ncol=2)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("NaCl rock-salt lattice (100) plane", pad=30)
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
