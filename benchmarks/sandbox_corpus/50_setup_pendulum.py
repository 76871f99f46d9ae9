import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Circle

L, theta = 4.0, np.radians(20)
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot([-1.5, 1.5], [0, 0], "k", lw=4)
bob = np.array([L * np.sin(theta), -L * np.cos(theta)])
ax.plot([0, bob[0]], [0, bob[1]], "k", lw=1.5)
ax.plot([0, 0], [0, -L - 0.5], "k--", lw=1)
ax.add_patch(Circle(bob, 0.25, color="tab:blue"))
ax.add_patch(Arc((0, 0), 2, 2, theta1=270, theta2=270 + 20))
ax.text(0.15, -1.35, r"$\theta$", fontsize=14)
ax.text(bob[0] / 2 + 0.2, bob[1] / 2, "L", fontsize=14)
t = np.linspace(-theta, theta, 50)
ax.plot(L * np.sin(t), -L * np.cos(t), ":", color="gray")
ax.text(-2.9, -5.0, r"$T = 2\pi\sqrt{L/g}$", fontsize=15)
ax.text(1.0, -5.0, "stopwatch: time 20 oscillations", fontsize=9)
ax.set_xlim(-3, 3)
ax.set_ylim(-5.5, 0.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Simple pendulum experiment")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
