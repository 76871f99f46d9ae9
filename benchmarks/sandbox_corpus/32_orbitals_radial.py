import matplotlib.pyplot as plt
import numpy as np

r = np.linspace(0, 20, 600)
P = {"1s": 4 * r**2 * np.exp(-2 * r),
     "2s": r**2 * (2 - r) ** 2 * np.exp(-r) / 8,
     "2p": r**4 * np.exp(-r) / 24,
     "3s": r**2 * (27 - 18 * r + 2 * r**2) ** 2 * np.exp(-2 * r / 3) * 4 / 19683 / 3}
fig, ax = plt.subplots(figsize=(6, 6))
for name, p in P.items():
    ax.plot(r, p / np.trapezoid(p, r), label=name)
ax.axvline(1, color="gray", ls=":")
ax.text(1.2, 0.5, "$a_0$", color="gray")
ax.set_xlabel("r / $a_0$")
ax.set_ylabel("radial probability $r^2|R(r)|^2$")
ax.legend(title="hydrogen")
ax.set_title("Radial distribution functions")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
