import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(42)
x = np.linspace(0, 10, 25)
y = 2.1 * x + 1.3 + rng.normal(0, 1.5, x.size)
m, b = np.polyfit(x, y, 1)
r2 = 1 - np.sum((y - (m * x + b)) ** 2) / np.sum((y - y.mean()) ** 2)
fig, ax = plt.subplots(figsize=(6, 6))
ax.errorbar(x, y, yerr=1.5, fmt="o", capsize=3, label="measurements")
ax.plot(x, m * x + b, "tab:red", label=f"fit: y = {m:.2f}x + {b:.2f}")
ax.text(0.5, 20, f"$R^2$ = {r2:.3f}", fontsize=12)
ax.set_xlabel("force F (N)")
ax.set_ylabel("extension x (mm)")
ax.grid(alpha=0.3)
ax.legend(loc="lower right")
ax.set_title("Hooke's law calibration")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
