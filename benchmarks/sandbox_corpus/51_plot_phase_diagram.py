import matplotlib.pyplot as plt
import numpy as np

T = np.linspace(200, 647, 300)
p_lv = 0.006 * np.exp(5400 * (1 / 273.16 - 1 / T))
fig, ax = plt.subplots(figsize=(6, 6))
ax.semilogy(T, p_lv, "k")
Ts = np.linspace(200, 273.16, 100)
ax.semilogy(Ts, 0.006 * np.exp(6140 * (1 / 273.16 - 1 / Ts)), "k")
ax.semilogy([273.16, 272.0], [0.006, 1e4], "k")
ax.plot(273.16, 0.006, "ro")
ax.plot(647, p_lv[-1], "bo")
ax.annotate("triple point", (273.16, 0.006), xytext=(300, 0.0005), arrowprops=dict(arrowstyle="->"))
ax.annotate("critical point", (647, p_lv[-1]), xytext=(480, 2000), arrowprops=dict(arrowstyle="->"))
for text, xy in (("solid", (220, 10)), ("liquid", (400, 100)), ("vapour", (450, 0.01))):
    ax.text(*xy, text, fontsize=14)
ax.set_xlabel("temperature (K)")
ax.set_ylabel("pressure (bar)")
ax.set_title("Phase diagram of water (schematic)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
