import matplotlib.pyplot as plt
import numpy as np

k = np.linspace(4000, 500, 1400)
bands = [(3350, 200, 0.6, "O-H"), (2950, 40, 0.5, "C-H"), (1715, 25, 0.85, "C=O"), (1250, 30, 0.4, "C-O")]
T = 100 - sum(depth * 100 * np.exp(-((k - c) ** 2) / (2 * w**2)) for c, w, depth, _ in bands)
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot(k, T, "k", lw=1)
for c, _, depth, name in bands:
    ax.annotate(name, (c, 100 - depth * 100), xytext=(c, 100 - depth * 100 - 10), ha="center", arrowprops=dict(arrowstyle="-"))
ax.set_xlim(4000, 500)
ax.set_ylim(0, 105)
ax.set_xlabel("wavenumber (cm$^{-1}$)")
ax.set_ylabel("transmittance (%)")
ax.set_title("IR spectrum of a carboxylic acid")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
