import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 6))
t = np.linspace(0, 2 * np.pi, 300)
ax.plot(1 + 2 * np.cos(t), 1 + 2 * np.sin(t), "tab:blue", label=r"$(x-1)^2+(y-1)^2=4$")
x = np.linspace(-2, 4, 10)
ax.plot(x, x - 1, "tab:red", label="$y = x - 1$")
# intersections of y = x - 1 with the circle
xs = np.roots([2, -6, 1])
ax.plot(xs, xs - 1, "ko")
for xi in xs:
    ax.annotate(f"({xi:.2f}, {xi - 1:.2f})", (xi, xi - 1), xytext=(xi + 0.2, xi - 1.5), fontsize=9,
                arrowprops=dict(arrowstyle="-", color="gray"))
ax.plot(1, 1, "k+", ms=10)
ax.text(1.1, 1.15, "C(1, 1)")
ax.axhline(0, color="k", lw=0.6)
ax.axvline(0, color="k", lw=0.6)
ax.set_aspect("equal")
ax.legend(loc="upper left")
ax.set_title("Line-circle intersection")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
