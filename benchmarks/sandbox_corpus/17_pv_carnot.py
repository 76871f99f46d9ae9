import matplotlib.pyplot as plt
import numpy as np

gamma, Th, Tc, nR = 1.4, 500.0, 300.0, 8.314
VA, VB = 1.0, 2.5
VC = VB * (Th / Tc) ** (1 / (gamma - 1))
VD = VA * (Th / Tc) ** (1 / (gamma - 1))
fig, ax = plt.subplots(figsize=(6, 6))
for (v0, v1), kind, T in (((VA, VB), "iso", Th), ((VB, VC), "adi", Th), ((VD, VC), "iso", Tc), ((VA, VD), "adi", Th)):
    v = np.linspace(v0, v1, 100)
    p = nR * T / v if kind == "iso" else nR * Th * v0 ** (gamma - 1) / v**gamma
    ax.plot(v, p, "tab:red" if kind == "iso" else "tab:blue", lw=2)
for name, v, T in (("A", VA, Th), ("B", VB, Th), ("C", VC, Tc), ("D", VD, Tc)):
    ax.plot(v, nR * T / v, "ko")
    ax.annotate(name, (v, nR * T / v), xytext=(5, 5), textcoords="offset points", fontsize=13)
ax.text(1.5, 3100, r"$T_h = 500\,$K", color="tab:red")
ax.text(4.5, 500, r"$T_c = 300\,$K", color="tab:red")
ax.set_xlabel("Volume V (L)")
ax.set_ylabel("Pressure p (kPa)")
ax.set_title("Carnot cycle")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
