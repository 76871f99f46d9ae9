import matplotlib.pyplot as plt
import numpy as np

z = np.linspace(0, 4 * np.pi, 400)
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot(np.sin(z), z, color="tab:blue", lw=3)
ax.plot(np.sin(z + np.pi), z, color="tab:red", lw=3)
pairs = "ATGCCGTAATGCAT"
complement = {"A": "T", "T": "A", "G": "C", "C": "G"}
for k, zi in enumerate(np.linspace(0.3, 4 * np.pi - 0.3, len(pairs))):
    x1, x2 = np.sin(zi), np.sin(zi + np.pi)
    ax.plot([x1, x2], [zi, zi], color="gray", lw=1.5)
    ax.text(x1 - 0.25 * np.sign(x1 - x2 + 1e-9), zi, pairs[k], ha="center", va="center", fontsize=8)
    ax.text(x2 + 0.25 * np.sign(x1 - x2 + 1e-9), zi, complement[pairs[k]], ha="center", va="center", fontsize=8)
ax.text(1.4, 0, "5'", fontsize=12)
ax.text(1.4, 4 * np.pi, "3'", fontsize=12)
ax.text(1.4, 2 * np.pi, "3.4 nm per turn", fontsize=10)
ax.set_xlim(-2, 2.6)
ax.axis("off")
ax.set_title("DNA double helix with complementary bases")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
