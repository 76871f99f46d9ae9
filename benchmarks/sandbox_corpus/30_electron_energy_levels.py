import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
levels = {n: -13.6 / n**2 for n in range(1, 7)}
for n, E in levels.items():
    ax.hlines(E, 0, 4, color="k")
    ax.text(4.1, E, f"n = {n}  ({E:.2f} eV)", va="center", fontsize=10)
series = [("Lyman", 1, 0.5, "tab:purple"), ("Balmer", 2, 1.7, "tab:red"), ("Paschen", 3, 3.0, "tab:brown")]
for name, low, x, color in series:
    for k, up in enumerate(range(low + 1, low + 4)):
        ax.annotate("", xy=(x + 0.2 * k, levels[low]), xytext=(x + 0.2 * k, levels[up]),
                    arrowprops=dict(arrowstyle="-|>", color=color))
    ax.text(x, levels[low] - 0.6, name, color=color, fontsize=11)
ax.set_ylabel("energy (eV)")
ax.set_xticks([])
ax.set_xlim(0, 6)
ax.set_title("Hydrogen energy levels and spectral series")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
