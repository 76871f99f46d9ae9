import matplotlib.pyplot as plt
import numpy as np

lines = {656.3: "H$\\alpha$", 486.1: "H$\\beta$", 434.0: "H$\\gamma$", 410.2: "H$\\delta$"}
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6, 6), height_ratios=[1, 2])
wl = np.linspace(380, 700, 600)
ax1.imshow(wl[np.newaxis, :], extent=(380, 700, 0, 1), aspect="auto", cmap="nipy_spectral", alpha=0.3)
for w, name in lines.items():
    ax1.axvline(w, color="k", lw=3)
    ax1.text(w, 1.1, name, ha="center")
ax1.set_yticks([])
ax1.set_title("Balmer emission lines of hydrogen", pad=20)
spectrum = sum(np.exp(-((wl - w) ** 2) / 2) * h for w, h in zip(lines, (1.0, 0.45, 0.25, 0.15)))
ax2.plot(wl, spectrum, "k")
ax2.set_xlabel("wavelength (nm)")
ax2.set_ylabel("relative intensity")
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
