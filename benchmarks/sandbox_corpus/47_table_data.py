import matplotlib.pyplot as plt

rows = [["0", "20.0", "0.00"], ["30", "27.5", "0.25"], ["60", "34.8", "0.49"], ["90", "41.9", "0.73"], ["120", "48.7", "0.96"]]
fig, ax = plt.subplots(figsize=(6, 6))
ax.axis("off")
table = ax.table(cellText=rows, colLabels=["time (s)", "temperature (°C)", "energy (kJ)"], loc="center", cellLoc="center")
table.auto_set_font_size(False)
table.set_fontsize(12)
table.scale(1, 2)
for (r, c), cell in table.get_celld().items():
    if r == 0:
        cell.set_facecolor("lightsteelblue")
        cell.set_text_props(fontweight="bold")
ax.set_title("Heating 0.5 kg of water at 8 W", pad=10)
ax.text(0.5, 0.12, r"$c = \frac{Q}{m\,\Delta T} \approx 4.18\ \mathrm{kJ\,kg^{-1}K^{-1}}$", ha="center", transform=ax.transAxes, fontsize=12)
fig.savefig("figure.png", dpi=100, bbox_inches="tight", metadata={"Software": "scigen-bench"}, pil_kwargs={"compress_level": 1})
