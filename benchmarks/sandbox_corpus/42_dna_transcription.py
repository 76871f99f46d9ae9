import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

template = "TACGGATCCATG"
mrna = "".join({"A": "U", "T": "A", "G": "C", "C": "G"}[b] for b in template)
fig, ax = plt.subplots(figsize=(6, 6))
for i, (t, m) in enumerate(zip(template, mrna)):
    ax.text(i * 0.5, 2.0, t, ha="center", fontsize=13, family="monospace", color="tab:blue")
    if i < 8:
        ax.text(i * 0.5, 1.3, m, ha="center", fontsize=13, family="monospace", color="tab:red")
        ax.plot([i * 0.5, i * 0.5], [1.55, 1.95], color="gray", lw=0.8)
ax.add_patch(Ellipse((3.75, 1.7), 1.6, 1.3, color="tab:purple", alpha=0.25))
ax.text(3.75, 2.5, "RNA polymerase", ha="center")
ax.text(-1.3, 2.0, "template\n3'→5'", fontsize=9, color="tab:blue", va="bottom")
ax.text(-1.3, 1.2, "mRNA\n5'→3'", fontsize=9, color="tab:red")
ax.annotate("direction of transcription", xy=(5.5, 0.7), xytext=(1.5, 0.7), arrowprops=dict(arrowstyle="-|>"), va="center")
codons = [mrna[i:i + 3] for i in range(0, 12, 3)]
ax.text(0, 0.1, "codons: " + " | ".join(codons) + "  →  Met-Pro-Arg-Tyr", fontsize=10)
ax.set_xlim(-1.5, 6.2)
ax.set_ylim(-0.2, 3)
ax.axis("off")
ax.set_title("Transcription")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
