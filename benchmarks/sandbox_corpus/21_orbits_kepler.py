import matplotlib.pyplot as plt
import numpy as np

a, e = 3.0, 0.6
b = a * np.sqrt(1 - e**2)
t = np.linspace(0, 2 * np.pi, 400)
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot(a * np.cos(t), b * np.sin(t), "k")
ax.plot(a * e, 0, "o", color="gold", ms=18, mec="orange")
for t0, col in ((-0.25, "tab:blue"), (2.9, "tab:red")):
    ts = np.linspace(t0, t0 + 0.5, 50)
    xs, ys = a * np.cos(ts), b * np.sin(ts)
    ax.fill(np.r_[a * e, xs], np.r_[0, ys], color=col, alpha=0.4)
ax.text(a * e - 0.3, -0.7, "Sun")
ax.text(2.6, 0.9, "equal areas\nin equal times", fontsize=10)
ax.annotate("perihelion", (a, 0), xytext=(2.0, -1.8), arrowprops=dict(arrowstyle="->"))
ax.annotate("aphelion", (-a, 0), xytext=(-2.8, 1.6), arrowprops=dict(arrowstyle="->"))
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Kepler's second law")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
