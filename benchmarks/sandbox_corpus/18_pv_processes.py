import matplotlib.pyplot as plt
import numpy as np

v = np.linspace(1, 4, 200)
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot(v, 4 / v, label="isothermal  pV = const")
ax.plot(v, 4 / v**1.67, label=r"adiabatic  $pV^{\gamma}$ = const")
ax.hlines(4, 1, 4, colors="tab:green", label="isobaric")
ax.vlines(4, 4 / 4**1.67, 4, colors="tab:red", label="isochoric")
ax.fill_between(v, 0, 4 / v, alpha=0.1)
ax.text(2.2, 0.6, r"$W = nRT\ln\frac{V_2}{V_1}$", fontsize=13)
ax.set_xlim(0.8, 4.3)
ax.set_ylim(0, 4.6)
ax.set_xlabel("V (m$^3$)")
ax.set_ylabel("p (Pa)")
ax.legend()
ax.set_title("Thermodynamic processes of an ideal gas")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
