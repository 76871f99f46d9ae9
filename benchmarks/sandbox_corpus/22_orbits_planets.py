import matplotlib.pyplot as plt
import numpy as np

planets = {"Mercury": 0.39, "Venus": 0.72, "Earth": 1.0, "Mars": 1.52}
fig, ax = plt.subplots(figsize=(6, 6))
t = np.linspace(0, 2 * np.pi, 300)
rng = np.random.default_rng(7)
for (name, r), color in zip(planets.items(), ("gray", "goldenrod", "tab:blue", "tab:red")):
    ax.plot(r * np.cos(t), r * np.sin(t), color="lightgray", lw=1)
    phi = rng.uniform(0, 2 * np.pi)
    ax.plot(r * np.cos(phi), r * np.sin(phi), "o", color=color, ms=8)
    ax.text(r * np.cos(phi) + 0.05, r * np.sin(phi) + 0.07, f"{name}\n{r} AU", fontsize=8)
ax.plot(0, 0, "o", color="gold", ms=20)
ax.text(-1.7, -1.75, r"$T^2 \propto a^3$", fontsize=14)
ax.set_aspect("equal")
ax.set_xlim(-1.8, 1.8)
ax.set_ylim(-1.8, 1.8)
ax.set_facecolor("black")
ax.set_xticks([])
ax.set_yticks([])
ax.set_title("Inner planets (orbits to scale)")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
