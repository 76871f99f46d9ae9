import matplotlib.pyplot as plt
import numpy as np

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")
theta = np.linspace(0, 2 * np.pi, 60)
z = np.linspace(0, 2, 30)
T, Z = np.meshgrid(theta, z)
R = 1 - Z / 2
ax.plot_surface(R * np.cos(T), R * np.sin(T), Z, color="tab:orange", alpha=0.35, linewidth=0)
ax.plot(np.cos(theta), np.sin(theta), 0, color="k")
ax.plot([0, 0], [0, 0], [0, 2], "k--")
ax.plot([0, 1], [0, 0], [0, 0], "tab:blue", lw=2)
ax.plot([1, 0], [0, 0], [0, 2], "tab:red", lw=2)
ax.text(0.5, 0, -0.2, "r", color="tab:blue", fontsize=14)
ax.text(0.05, 0, 1.0, "h", fontsize=14)
ax.text(0.6, 0, 1.1, "l", color="tab:red", fontsize=14)
ax.set_title(r"Right circular cone  $V=\frac{1}{3}\pi r^2 h$")
ax.set_box_aspect((1, 1, 1))
ax.set_axis_off()
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
