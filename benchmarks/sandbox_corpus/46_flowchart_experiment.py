import matplotlib.pyplot as plt

steps = ["Collect pond water sample", "Filter through 0.45 µm membrane", "Incubate membrane on agar\n37 °C, 24 h",
         "Count colonies", "Calculate CFU per 100 mL"]
fig, ax = plt.subplots(figsize=(6, 6))
ys = [0.9 - i * 0.2 for i in range(len(steps))]
for i, (y, step) in enumerate(zip(ys, steps)):
    ax.text(0.5, y, f"{i + 1}. {step}", ha="center", va="center", fontsize=12,
            bbox=dict(boxstyle="round,pad=0.6", fc="aliceblue", ec="tab:blue"))
    if i:
        ax.annotate("", xy=(0.5, y + 0.06), xytext=(0.5, ys[i - 1] - 0.06), arrowprops=dict(arrowstyle="-|>", lw=1.5))
ax.text(0.93, 0.5, "aseptic\ntechnique\nthroughout", ha="center", va="center", fontsize=10, rotation=90, color="tab:red")
ax.set_xlim(0, 1)
ax.set_ylim(0, 1)
ax.axis("off")
ax.set_title("Membrane filtration procedure")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
