"""A compatibility corpus: real-world-style figure scripts of the kinds model-written
code contains (3D axes, mathtext, tables, dates with time zones, pandas, scikit-learn,
networkx, images, subplots...). Each template is written the way people write such
scripts and comes in three variants (``V`` = 0, 1, 2: other data, sizes and styles),
saving its figure in the different ways real scripts do (``figure.png``, another name,
or not at all)."""

from __future__ import annotations

TEMPLATES: dict[str, str] = {}


def _t(name: str, code: str) -> None:
    TEMPLATES[name] = code


_t("line_damped_oscillation", """
import numpy as np
import matplotlib.pyplot as plt
t = np.linspace(0, 10, 500)
for k, zeta in enumerate([0.05, 0.2, 0.5][: V + 1]):
    plt.plot(t, np.exp(-zeta * t) * np.cos(2 * np.pi * 0.5 * t), label=f"$\\\\zeta={zeta}$")
plt.xlabel("time (s)"); plt.ylabel("displacement (m)"); plt.title("Damped oscillator")
plt.legend(); plt.grid(True, alpha=0.3)
plt.savefig("figure.png", dpi=100)
""")
_t("scatter_colorbar", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
x, y = rng.normal(size=(2, 200 + 100 * V))
c = np.hypot(x, y)
fig, ax = plt.subplots(figsize=(6, 5))
sc = ax.scatter(x, y, c=c, cmap=["viridis", "plasma", "coolwarm"][V], s=15, alpha=0.8)
fig.colorbar(sc, ax=ax, label="radius")
ax.set_aspect("equal"); ax.set_title("Samples")
fig.savefig("figure.png")
""")
_t("grouped_bars", """
import numpy as np
import matplotlib.pyplot as plt
labels = ["Q1", "Q2", "Q3", "Q4"]
a = np.array([20, 34, 30, 35]) + V
b = np.array([25, 32, 34, 20]) - V
x = np.arange(len(labels)); w = 0.35
fig, ax = plt.subplots()
r1 = ax.bar(x - w / 2, a, w, label="2023")
r2 = ax.bar(x + w / 2, b, w, label="2024")
ax.bar_label(r1, padding=2); ax.bar_label(r2, padding=2)
ax.set_xticks(x, labels); ax.set_ylabel("Revenue (k$)"); ax.legend()
fig.tight_layout()
fig.savefig("revenue.png")
""")
_t("stacked_bars_percent", """
import numpy as np
import matplotlib.pyplot as plt
cats = ["A", "B", "C", "D", "E"][: 3 + V]
parts = np.array([[30, 50, 20], [10, 60, 30], [45, 35, 20], [25, 25, 50], [60, 20, 20]])[: len(cats)]
bottom = np.zeros(len(cats))
for i, name in enumerate(["low", "mid", "high"]):
    plt.barh(cats, parts[:, i], left=bottom, label=name)
    bottom += parts[:, i]
plt.xlabel("share (%)"); plt.legend(loc="lower right"); plt.title("Composition")
""")
_t("histogram_with_pdf", """
import numpy as np
import matplotlib.pyplot as plt
from scipy import stats
rng = np.random.default_rng(10 + V)
data = rng.normal(loc=V, scale=1 + 0.5 * V, size=1000)
plt.hist(data, bins=30, density=True, alpha=0.6, color="tab:blue", edgecolor="white")
xs = np.linspace(data.min(), data.max(), 200)
plt.plot(xs, stats.norm.pdf(xs, *stats.norm.fit(data)), "r-", lw=2, label="fit")
plt.legend(); plt.title("Histogram and fitted normal")
plt.savefig("figure.png", dpi=90, bbox_inches="tight")
""")
_t("box_violin", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
groups = [rng.normal(m, 1, 100) for m in range(3 + V)]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
a1.boxplot(groups, notch=True)
a1.set_title("boxplot")
a2.violinplot(groups, showmedians=True)
a2.set_title("violin")
fig.suptitle("Distributions by group")
fig.savefig("figure.png")
""")
_t("pie_donut", """
import matplotlib.pyplot as plt
sizes = [35, 25, 20, 15, 5][: 3 + V]
labels = ["Python", "C", "Java", "Go", "Rust"][: len(sizes)]
fig, ax = plt.subplots(figsize=(5, 5))
wedges, texts, autotexts = ax.pie(sizes, labels=labels, autopct="%1.1f%%", startangle=90,
                                  wedgeprops=dict(width=0.45 if V else 1.0, edgecolor="w"))
ax.set_title("Language share")
fig.savefig("figure.png", dpi=100)
""")
_t("errorbars_log", """
import numpy as np
import matplotlib.pyplot as plt
x = np.logspace(0, 3, 10 + V)
y = 3 * x ** (0.5 + 0.1 * V)
plt.errorbar(x, y, yerr=0.2 * y, fmt="o", capsize=3, label="measured")
plt.loglog(x, 3 * x ** (0.5 + 0.1 * V), "--", label="power law")
plt.xlabel("N"); plt.ylabel("time (ms)"); plt.legend(); plt.grid(True, which="both", alpha=0.3)
plt.savefig("figure.png")
""")
_t("fill_between_confidence", """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 4 * np.pi, 200)
mean = np.sin(x) * (1 + 0.2 * V)
std = 0.2 + 0.05 * x
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(x, mean, color="C%d" % V)
ax.fill_between(x, mean - 2 * std, mean + 2 * std, alpha=0.25, color="C%d" % V, label="95% band")
ax.set_xlim(0, x[-1]); ax.legend(loc="upper left")
fig.savefig("figure.png", bbox_inches="tight")
""")
_t("step_and_stem", """
import numpy as np
import matplotlib.pyplot as plt
n = np.arange(0, 12 + 4 * V)
h = 0.8 ** n
fig, (a, b) = plt.subplots(2, 1, sharex=True)
a.step(n, np.cumsum(h), where="post"); a.set_ylabel("step response")
b.stem(n, h); b.set_ylabel("impulse response"); b.set_xlabel("n")
fig.savefig("figure.png")
""")
_t("polar_rose", """
import numpy as np
import matplotlib.pyplot as plt
theta = np.linspace(0, 2 * np.pi, 1000)
r = np.cos((3 + V) * theta)
ax = plt.subplot(projection="polar")
ax.plot(theta, np.abs(r), color="purple")
ax.set_rticks([0.25, 0.5, 0.75, 1]); ax.set_title(f"Rose curve k={3 + V}", va="bottom")
plt.savefig("figure.png")
""")
_t("surface_3d", """
import numpy as np
import matplotlib.pyplot as plt
from matplotlib import cm
X, Y = np.meshgrid(np.linspace(-3, 3, 40 + 10 * V), np.linspace(-3, 3, 40 + 10 * V))
Z = np.sin(np.hypot(X, Y)) / (1 + 0.3 * V)
fig = plt.figure(figsize=(6, 5))
ax = fig.add_subplot(projection="3d")
surf = ax.plot_surface(X, Y, Z, cmap=cm.coolwarm, linewidth=0, antialiased=False)
fig.colorbar(surf, shrink=0.5, aspect=10)
ax.set_xlabel("x"); ax.set_ylabel("y"); ax.set_zlabel("z")
fig.savefig("figure.png")
""")
_t("scatter_3d_clusters", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
ax = plt.figure().add_subplot(projection="3d")
for k in range(2 + V):
    pts = rng.normal(loc=3 * k, size=(50, 3))
    ax.scatter(*pts.T, label=f"cluster {k}", depthshade=True)
ax.view_init(elev=20 + 10 * V, azim=30)
ax.legend()
plt.savefig("figure.png")
""")
_t("wireframe_and_contour_3d", """
import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.mplot3d import axes3d
X, Y, Z = axes3d.get_test_data(0.1 + 0.05 * V)
ax = plt.figure().add_subplot(projection="3d")
ax.plot_wireframe(X, Y, Z, rstride=10, cstride=10)
ax.contour(X, Y, Z, zdir="z", offset=-100, cmap="coolwarm")
ax.set_zlim(-100, 100)
plt.savefig("figure.png")
""")
_t("contour_labels", """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(-2, 2, 200); y = np.linspace(-2, 2, 200)
X, Y = np.meshgrid(x, y)
Z = np.exp(-X ** 2 - Y ** 2) - (0.5 + 0.2 * V) * np.exp(-(X - 1) ** 2 - (Y - 1) ** 2)
fig, ax = plt.subplots()
cf = ax.contourf(X, Y, Z, levels=12, cmap="RdBu_r")
cs = ax.contour(X, Y, Z, levels=6, colors="k", linewidths=0.6)
ax.clabel(cs, inline=True, fontsize=8)
fig.colorbar(cf)
ax.set_title("Potential field")
fig.savefig("figure.png")
""")
_t("heatmap_annotated", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
m = rng.integers(0, 100, size=(4 + V, 5))
fig, ax = plt.subplots()
im = ax.imshow(m, cmap="YlGn")
ax.set_xticks(range(5), [f"c{i}" for i in range(5)])
ax.set_yticks(range(m.shape[0]), [f"r{i}" for i in range(m.shape[0])])
for i in range(m.shape[0]):
    for j in range(5):
        ax.text(j, i, m[i, j], ha="center", va="center", color="k")
fig.colorbar(im)
fig.tight_layout()
fig.savefig("figure.png")
""")
_t("pcolormesh_nonuniform", """
import numpy as np
import matplotlib.pyplot as plt
x = np.geomspace(1, 100, 20 + V); y = np.linspace(0, 1, 15)
Z = np.outer(np.sin(np.pi * y), np.log(x[:-1]))[:-1]
plt.pcolormesh(x, y, Z, shading="flat", cmap="magma")
plt.xscale("log"); plt.colorbar(label="value"); plt.title("pcolormesh on a log axis")
""")
_t("vector_fields", """
import numpy as np
import matplotlib.pyplot as plt
Y, X = np.mgrid[-3:3:100j, -3:3:100j]
U = -1 - X ** 2 + Y
W = 1 + X - Y ** 2
speed = np.hypot(U, W)
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
a.streamplot(X, Y, U, W, color=speed, cmap="autumn", density=0.8 + 0.4 * V)
s = slice(None, None, 8)
b.quiver(X[s, s], Y[s, s], U[s, s], W[s, s], speed[s, s])
a.set_title("streamplot"); b.set_title("quiver")
fig.savefig("figure.png")
""")
_t("mathtext_equations", """
import matplotlib.pyplot as plt
eqs = [r"$E = mc^2$", r"$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$",
       r"$\\nabla \\times \\mathbf{B} = \\mu_0 \\mathbf{J} + \\mu_0\\epsilon_0 \\frac{\\partial \\mathbf{E}}{\\partial t}$",
       r"$\\sum_{n=1}^{\\infty} \\frac{1}{n^2} = \\frac{\\pi^2}{6}$", r"$\\hat{H}\\psi = i\\hbar\\,\\partial_t \\psi$"]
fig = plt.figure(figsize=(6, 4))
for i, e in enumerate(eqs[: 3 + V]):
    fig.text(0.1, 0.85 - 0.18 * i, e, fontsize=16)
fig.savefig("figure.png")
""")
_t("table_under_plot", """
import numpy as np
import matplotlib.pyplot as plt
rows = ["A", "B", "C"][: 2 + (V > 0)]
cols = ["2019", "2020", "2021", "2022"]
data = np.array([[5, 7, 9, 12], [3, 4, 8, 6], [9, 8, 7, 6]])[: len(rows)]
fig, ax = plt.subplots(figsize=(6, 4))
for r, d in zip(rows, data):
    ax.plot(cols, d, marker="o", label=r)
ax.legend()
ax.table(cellText=data, rowLabels=rows, colLabels=cols, loc="bottom", bbox=[0, -0.45, 1, 0.3])
fig.subplots_adjust(bottom=0.35)
fig.savefig("figure.png")
""")
_t("pandas_dates_timezone", """
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
tz = ["US/Eastern", "Europe/Berlin", "Asia/Tokyo"][V]
idx = pd.date_range("2024-03-01", periods=96, freq="h", tz=tz)
s = pd.Series(np.sin(np.arange(96) / 6) * 10 + 20, index=idx)
ax = s.plot(figsize=(8, 3), title=f"Temperature ({tz})")
ax.set_ylabel("deg C")
plt.tight_layout()
plt.savefig("figure.png")
""")
_t("pandas_groupby_bar", """
import pandas as pd
import matplotlib.pyplot as plt
df = pd.DataFrame({"city": ["Oslo", "Rome", "Lima", "Oslo", "Rome", "Lima", "Oslo"],
                   "year": [2020, 2020, 2020, 2021, 2021, 2021, 2022],
                   "sales": [10, 15, 7, 12 + V, 18, 9, 14]})
pivot = df.pivot_table(index="year", columns="city", values="sales", aggfunc="sum").fillna(0)
ax = pivot.plot(kind="bar", stacked=bool(V % 2), rot=0)
ax.set_ylabel("units")
plt.savefig("figure.png", bbox_inches="tight")
""")
_t("pandas_rolling_mean", """
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
s = pd.Series(rng.normal(size=365).cumsum(), index=pd.date_range("2023-01-01", periods=365, freq="D"))
fig, ax = plt.subplots(figsize=(8, 4))
s.plot(ax=ax, alpha=0.4, label="daily")
s.rolling(7 * (V + 1)).mean().plot(ax=ax, label=f"{7 * (V + 1)}-day mean")
ax.legend()
fig.savefig("figure.png")
""")
_t("pandas_scatter_matrix", """
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from pandas.plotting import scatter_matrix
rng = np.random.default_rng(V)
df = pd.DataFrame(rng.normal(size=(100, 3 + V)), columns=list("abcdef")[: 3 + V])
scatter_matrix(df, figsize=(6, 6), diagonal="hist")
plt.savefig("figure.png")
""")
_t("zoneinfo_timeline", """
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
import matplotlib.pyplot as plt
import matplotlib.dates as mdates
zone = ZoneInfo(["America/New_York", "Australia/Sydney", "Europe/London"][V])
start = datetime(2024, 3, 30, tzinfo=zone)
times = [start + timedelta(hours=6 * i) for i in range(12)]
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(times, [t.utcoffset().total_seconds() / 3600 for t in times], "o-")
ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %H:%M", tz=zone))
ax.set_ylabel("UTC offset (h)"); ax.set_title(str(zone))
fig.autofmt_xdate()
fig.savefig("figure.png")
""")
_t("sklearn_regression", """
import numpy as np
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import PolynomialFeatures
from sklearn.pipeline import make_pipeline
rng = np.random.RandomState(V)
X = np.sort(rng.uniform(-3, 3, 60))[:, None]
y = X.ravel() ** 3 - 2 * X.ravel() + rng.normal(scale=3, size=60)
model = make_pipeline(PolynomialFeatures(1 + 2 * V if V else 3), LinearRegression()).fit(X, y)
xs = np.linspace(-3, 3, 200)[:, None]
plt.scatter(X, y, s=12, label="data")
plt.plot(xs, model.predict(xs), "r", label="fit")
plt.legend(); plt.title(f"R^2 = {model.score(X, y):.3f}")
plt.savefig("figure.png")
""")
_t("sklearn_kmeans", """
import numpy as np
import matplotlib.pyplot as plt
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
X, _ = make_blobs(n_samples=300, centers=3 + V, random_state=V)
km = KMeans(n_clusters=3 + V, n_init=5, random_state=0).fit(X)
plt.scatter(X[:, 0], X[:, 1], c=km.labels_, cmap="tab10", s=10)
plt.scatter(*km.cluster_centers_.T, marker="x", s=120, c="k")
plt.title("k-means")
plt.savefig("figure.png")
""")
_t("sklearn_pca_iris", """
import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
iris = load_iris()
Z = PCA(n_components=2, random_state=V).fit_transform(iris.data[:, V:])
for k, name in enumerate(iris.target_names):
    plt.scatter(*Z[iris.target == k].T, label=name, s=14)
plt.legend(); plt.xlabel("PC1"); plt.ylabel("PC2"); plt.title("Iris, PCA")
plt.savefig("figure.png")
""")
_t("sklearn_decision_boundary", """
import numpy as np
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.svm import SVC
X, y = make_moons(n_samples=200, noise=0.2, random_state=V)
clf = SVC(kernel="rbf", gamma=1 + V).fit(X, y)
xx, yy = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 200))
zz = clf.decision_function(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
plt.contourf(xx, yy, zz > 0, alpha=0.3, cmap="coolwarm")
plt.contour(xx, yy, zz, levels=[0], colors="k")
plt.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=15)
plt.savefig("figure.png")
""")
_t("networkx_graph", """
import matplotlib.pyplot as plt
import networkx as nx
G = [nx.karate_club_graph(), nx.petersen_graph(), nx.grid_2d_graph(4, 5)][V]
pos = nx.spring_layout(G, seed=42)
plt.figure(figsize=(6, 6))
nx.draw_networkx(G, pos, node_size=120, with_labels=V == 1, node_color="tab:orange", edge_color="gray")
plt.axis("off"); plt.title("graph")
plt.savefig("figure.png")
""")
_t("networkx_weighted_dag", """
import matplotlib.pyplot as plt
import networkx as nx
G = nx.DiGraph()
edges = [("s", "a", 3), ("s", "b", 2), ("a", "c", 4), ("b", "c", 1), ("c", "t", 5), ("a", "t", 7 + V)]
G.add_weighted_edges_from(edges[: 4 + V])
pos = nx.shell_layout(G) if V == 2 else nx.circular_layout(G)
nx.draw(G, pos, with_labels=True, node_color="lightblue", node_size=700, arrows=True)
nx.draw_networkx_edge_labels(G, pos, edge_labels=nx.get_edge_attributes(G, "weight"))
plt.savefig("figure.png")
""")
_t("image_processing_pil", """
import numpy as np
import matplotlib.pyplot as plt
from PIL import Image, ImageDraw, ImageFilter
img = Image.new("RGB", (200, 150), "white")
d = ImageDraw.Draw(img)
d.ellipse((20, 20, 120, 120), fill=(200, 30, 30))
d.rectangle((100, 60, 180, 140), outline=(0, 0, 200), width=4)
blurred = img.filter(ImageFilter.GaussianBlur(2 + 2 * V))
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].imshow(img); axes[0].set_title("original")
axes[1].imshow(np.asarray(blurred)); axes[1].set_title("blurred")
for a in axes:
    a.axis("off")
fig.savefig("figure.png")
""")
_t("pil_font_by_name", """
import matplotlib.pyplot as plt
from PIL import Image, ImageDraw, ImageFont
font = ImageFont.truetype(["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf"][V], 28)
img = Image.new("RGB", (360, 80), "white")
ImageDraw.Draw(img).text((10, 20), "Hello, sandbox", font=font, fill="black")
plt.imshow(img); plt.axis("off")
plt.savefig("figure.png")
""")
_t("gridspec_dashboard", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
fig = plt.figure(figsize=(8, 6), layout="constrained")
gs = fig.add_gridspec(2, 3)
ax1 = fig.add_subplot(gs[0, :2]); ax1.plot(rng.normal(size=100).cumsum())
ax2 = fig.add_subplot(gs[0, 2]); ax2.hist(rng.normal(size=200), bins=15, orientation="horizontal")
ax3 = fig.add_subplot(gs[1, :]); ax3.bar(range(10), rng.integers(1, 10, 10))
fig.suptitle("Dashboard")
fig.savefig("figure.png")
""")
_t("twin_axes", """
import numpy as np
import matplotlib.pyplot as plt
months = np.arange(1, 13)
temp = 10 + 12 * np.sin((months - 4) / 12 * 2 * np.pi) + V
rain = 60 + 30 * np.cos(months / 12 * 2 * np.pi)
fig, ax = plt.subplots()
ax.bar(months, rain, color="tab:blue", alpha=0.5); ax.set_ylabel("rain (mm)", color="tab:blue")
ax2 = ax.twinx(); ax2.plot(months, temp, "r-o"); ax2.set_ylabel("temperature (C)", color="r")
ax.set_xticks(months)
fig.savefig("climate.png", dpi=100)
""")
_t("annotated_function", """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(-2, 3, 300)
f = x ** 3 - 3 * x ** 2 + V
plt.plot(x, f)
plt.axhline(0, color="k", lw=0.5); plt.axvline(0, color="k", lw=0.5)
for xc in (0, 2):
    plt.annotate(f"critical point ({xc}, {xc ** 3 - 3 * xc ** 2 + V})", xy=(xc, xc ** 3 - 3 * xc ** 2 + V),
                 xytext=(xc - 1, xc ** 3 - 3 * xc ** 2 + V + 3), arrowprops=dict(arrowstyle="->"))
plt.title(r"$f(x) = x^3 - 3x^2 + c$")
plt.savefig("figure.png")
""")
_t("geometry_patches", """
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Polygon, Wedge, FancyArrowPatch
fig, ax = plt.subplots(figsize=(5, 5))
ax.add_patch(Polygon([[0, 0], [4, 0], [1 + V * 0.5, 3]], fill=False, lw=2))
ax.add_patch(Circle((2, 1), 0.8, fill=False, ls="--"))
ax.add_patch(Wedge((0, 0), 1, 0, 37 + 10 * V, alpha=0.3))
ax.add_patch(FancyArrowPatch((3, 3), (4, 0), arrowstyle="-|>", mutation_scale=15))
for name, (x, y) in {"A": (0, 0), "B": (4, 0), "C": (1 + V * 0.5, 3)}.items():
    ax.text(x, y + 0.15, name, fontsize=13)
ax.set_xlim(-1, 5); ax.set_ylim(-1, 4); ax.set_aspect("equal"); ax.axis("off")
fig.savefig("figure.png")
""")
_t("inset_zoom", """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 10, 1000)
y = np.sin(x) + 0.05 * np.sin(40 * x) * (V + 1)
fig, ax = plt.subplots()
ax.plot(x, y)
axins = ax.inset_axes([0.55, 0.55, 0.4, 0.4])
axins.plot(x, y); axins.set_xlim(4, 5); axins.set_ylim(-1.1, -0.6)
ax.indicate_inset_zoom(axins, edgecolor="black")
fig.savefig("figure.png")
""")
_t("hexbin_density", """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(V)
x = rng.standard_normal(20000); y = 2.0 + 3.0 * x + 4.0 * rng.standard_normal(20000)
fig, ax = plt.subplots()
hb = ax.hexbin(x, y, gridsize=30 + 10 * V, bins="log" if V else None, cmap="inferno")
fig.colorbar(hb, ax=ax, label="counts")
fig.savefig("figure.png")
""")
_t("legend_outside_many_series", """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 1, 50)
fig, ax = plt.subplots(figsize=(7, 4))
for k in range(5 + 3 * V):
    ax.plot(x, x ** (k / 3 + 0.3), label=f"$x^{{{k / 3 + 0.3:.2f}}}$")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), ncol=1 + V // 2)
fig.savefig("figure.png", bbox_inches="tight")
""")
_t("physics_projectile_subplots", """
import numpy as np
import matplotlib.pyplot as plt
g = 9.81
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
for ax, angle in zip(axes.flat, [15, 30, 45, 60]):
    v0 = 20 + 5 * V
    t = np.linspace(0, 2 * v0 * np.sin(np.radians(angle)) / g, 100)
    ax.plot(v0 * np.cos(np.radians(angle)) * t, v0 * np.sin(np.radians(angle)) * t - 0.5 * g * t ** 2)
    ax.set_title(f"{angle} deg"); ax.set_xlabel("x (m)"); ax.set_ylabel("y (m)")
fig.tight_layout()
fig.savefig("figure.png")
""")
_t("spectrogram_signal", """
import numpy as np
import matplotlib.pyplot as plt
from scipy import signal
fs = 1000
t = np.arange(0, 2, 1 / fs)
x = signal.chirp(t, f0=10, t1=2, f1=200 + 100 * V) + 0.1 * np.random.default_rng(V).normal(size=t.size)
f, tt, S = signal.spectrogram(x, fs, nperseg=128)
plt.pcolormesh(tt, f, 10 * np.log10(S + 1e-12), shading="gouraud")
plt.ylabel("Hz"); plt.xlabel("s"); plt.title("chirp spectrogram")
plt.savefig("figure.png")
""")
_t("vectorised_text_labels", """
import matplotlib.pyplot as plt
import numpy as np
elements = ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne"]
mass = [1.008, 4.0026, 6.94, 9.0122, 10.81, 12.011, 14.007, 15.999, 18.998, 20.180]
fig, ax = plt.subplots(figsize=(7, 3))
ax.scatter(range(1, 11), mass, c=np.arange(10), cmap="tab10")
for z, (el, m) in enumerate(zip(elements, mass), start=1):
    ax.annotate(el, (z, m), textcoords="offset points", xytext=(0, 6 + 2 * V), ha="center")
ax.set_xlabel("Z"); ax.set_ylabel("atomic mass (u)")
fig.savefig("figure.png")
""")
_t("no_explicit_save_open_figure", """
import numpy as np
import matplotlib.pyplot as plt
theta = np.linspace(0, 2 * np.pi, 100)
plt.figure(figsize=(4 + V, 4))
plt.plot(np.cos(theta), np.sin(theta)); plt.gca().set_aspect("equal")
plt.title("unit circle")
""")
_t("object_oriented_transparent", """
import numpy as np
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(5, 4), facecolor="#f4f4f4")
x = np.arange(8)
ax.bar(x, (x + V) ** 1.5, color=plt.cm.viridis(x / 8))
ax.spines[["top", "right"]].set_visible(False)
fig.savefig("figure.png", transparent=V == 1, facecolor=fig.get_facecolor() if V != 1 else "none")
""")
_t("sparse_points_only", """
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(8, 8))
ax = fig.add_axes([0, 0, 1, 1]); ax.axis("off")
ax.scatter([0.2, 0.5, 0.8][: 1 + V], [0.3, 0.7, 0.4][: 1 + V], s=10, c="k")
ax.set_xlim(0, 1); ax.set_ylim(0, 1)
fig.savefig("figure.png", dpi=100)
""")
_t("threads_in_script", """
import threading
import numpy as np
import matplotlib.pyplot as plt
results = {}
def work(k):
    results[k] = np.sort(np.random.default_rng(k).normal(size=1000)).cumsum()[-1]
threads = [threading.Thread(target=work, args=(k,)) for k in range(4 + V)]
for t in threads: t.start()
for t in threads: t.join()
plt.bar(sorted(results), [results[k] for k in sorted(results)])
plt.savefig("figure.png")
""")
_t("getpass_and_tempfile", """
import getpass, os, tempfile
import matplotlib.pyplot as plt
user = getpass.getuser()
with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
    fh.write("x,y\\n" + "\\n".join(f"{i},{i * i + V}" for i in range(10)))
import pandas as pd
df = pd.read_csv(fh.name)
os.remove(fh.name)
plt.plot(df.x, df.y, "s-"); plt.title("from a temporary CSV")
plt.savefig("figure.png")
""")
_t("style_context", """
import numpy as np
import matplotlib.pyplot as plt
with plt.style.context(["ggplot", "bmh", "seaborn-v0_8-whitegrid"][V]):
    fig, ax = plt.subplots()
    for k in range(3):
        ax.plot(np.arange(10), np.arange(10) * (k + 1), label=f"k={k}")
    ax.legend()
    fig.savefig("figure.png")
""")


def scripts() -> list[tuple[str, str]]:
    """(name, code) for every template and variant."""
    return [(f"{name}_v{v}", f"V = {v}\n" + code.lstrip("\n")) for name, code in TEMPLATES.items() for v in range(3)]
