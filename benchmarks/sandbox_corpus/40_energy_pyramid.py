import matplotlib.pyplot as plt

levels = [("producers", 10000, "tab:green"), ("primary consumers", 1000, "yellowgreen"),
          ("secondary consumers", 100, "orange"), ("tertiary consumers", 10, "tab:red")]
fig, ax = plt.subplots(figsize=(6, 6))
for i, (name, energy, color) in enumerate(levels):
    width = 4 - i * 0.9
    ax.add_patch(plt.Rectangle((-width / 2, i), width, 0.9, fc=color, ec="k"))
    ax.text(0, i + 0.45, f"{name}\n{energy:,} kJ/m²/yr", ha="center", va="center", fontsize=10)
ax.annotate("~10% transfer", xy=(2.3, 3.3), xytext=(2.3, 0.5), arrowprops=dict(arrowstyle="-|>"), rotation=90, va="bottom")
ax.set_xlim(-2.5, 3)
ax.set_ylim(-0.2, 4.2)
ax.axis("off")
ax.set_title("Pyramid of energy")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
