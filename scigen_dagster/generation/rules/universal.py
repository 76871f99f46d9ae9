"""Universal templates: plots and charts, graphs and flowcharts, tables, experimental setups."""

from __future__ import annotations

import math
import re

from scigen_dagster.generation.rules.codegen import template
from scigen_dagster.generation.rules.context import STOP_WORDS, Ctx, num
from scigen_dagster.generation.rules.layout import Canvas, callout, dot, fmt, line, point_name, unit
from scigen_dagster.problems.quantities import Quantity, normalize_text

_TIME_UNITS = ("s", "ms", "min", "h", "hr", "days", "day", "years", "year", "yr")


def _series(ctx: Ctx) -> tuple[str, str, list[tuple[float, float]], list[Quantity], list[Quantity]]:
    """x symbol, y symbol and the (x, y) points the text states, read left to right."""
    syms: list[str] = []
    for q in ctx.quantities:
        if q.symbol and num(q) is not None and q.symbol not in syms:
            syms.append(q.symbol)
    if len(syms) < 2:
        return "", "", [], [], []
    m = re.search(r"\b(\w+) on the vertical axis", normalize_text(ctx.question))
    timed = [s for s in syms if s == "t" or any(q.symbol == s and q.unit in _TIME_UNITS for q in ctx.quantities)]
    if m and m.group(1) in syms:
        ysym = m.group(1)
        xsym = next(s for s in syms if s != ysym)
    else:
        xsym = timed[0] if timed else syms[0]
        ysym = next(s for s in syms if s != xsym)
    xs = [q for q in ctx.quantities if q.symbol == xsym]
    ys = [q for q in ctx.quantities if q.symbol == ysym]
    text = ctx.question
    points: list[tuple[float, float]] = []
    cur, pending, last_end = None, None, 0
    if re.search(r"\b(?:rest|origin|from zero|starts at zero)\b", ctx.low):
        points.append((0.0, 0.0))
        cur = 0.0 if re.search(r"\b(?:rest|from zero|starts at zero)\b", ctx.low) else None
    for q in [q for q in ctx.quantities if q.symbol in (xsym, ysym)]:
        at = text.find(q.text, last_end)
        between = text[last_end: at if at >= 0 else last_end].lower()
        last_end = at + len(q.text) if at >= 0 else last_end
        if q.symbol == ysym:
            cur = num(q)
            if pending is not None:
                points.append((pending, cur))
                pending = None
        else:
            if re.search(r"\bzero\b|\brest\b", between):
                cur = 0.0
            if cur is None:
                pending = num(q)
            else:
                points.append((num(q), cur))
    return xsym, ysym, points, xs, ys


@template("Universal - Plot & Chart", "chart")
def _tpl_chart(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    pcts = [q for q in ctx.quantities if q.unit == "%" and num(q)]
    names = {m.group(2): m.group(1) for m in re.finditer(r"([A-Za-z]+)\s*\(\s*(\d+(?:\.\d+)?)\s*%\s*\)", text)}
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*%\s+([a-z]+)", text):  # "40% walk"
        if m.group(2) not in STOP_WORDS | {"of", "to", "is", "are", "in", "for", "by", "on"}:
            names.setdefault(m.group(1), m.group(2))
    bars = ctx.has("bar chart", "bar graph", "histogram", "column chart")
    if pcts and (ctx.has("pie", "sector") or (abs(sum(num(q) for q in pcts) - 100) < 1.5 and not bars)):
        c.frame((-1.8, 1.8), (-1.8, 1.8))
        total = sum(num(q) for q in pcts)
        start = 90.0
        for i, q in enumerate(pcts):
            sweep = 360 * num(q) / total
            c.draw(f"ax.add_patch(matplotlib.patches.Wedge((0, 0), 1.3, {fmt(start - sweep)}, {fmt(start)}, "
                   f"fc='{0.55 + 0.4 * i / max(1, len(pcts) - 1):.2f}', ec='white', lw=2))")
            mid = math.radians(start - sweep / 2)
            c.value(q, 0.75 * math.cos(mid), 0.75 * math.sin(mid), size=10, boxed=True)
            name = names.get(q.value)
            if name:
                c.text(1.55 * math.cos(mid), 1.5 * math.sin(mid), name, size=11, entity=True,
                       ha="left" if math.cos(mid) > 0.2 else "right" if math.cos(mid) < -0.2 else "center")
            start -= sweep
        shape = f"a pie chart of {len(pcts)} sectors sized by the given percentages, each sector named"
    elif pcts or bars:
        vals = pcts or [q for q in ctx.quantities if num(q) is not None][:8]
        top = max([num(q) for q in vals] + [1.0]) * 1.25
        c.frame((-0.7, len(vals) - 0.3), (0, top), axes=True, equal=False,
                ylabel="Percentage (%)" if pcts else "Value")
        c.draw(f"ax.bar(range({len(vals)}), {[num(q) for q in vals]!r}, color='0.6', edgecolor=INK, width=0.6)")
        c.ticks("x", [(i, names.get(q.value, q.symbol or chr(65 + i))) for i, q in enumerate(vals)])
        for i, q in enumerate(vals):
            c.value(q, i, num(q) + top * 0.02, va="bottom", size=10)
        shape = f"a bar chart of the {len(vals)} given values"
    else:
        xsym, ysym, points, xs, ys = _series(ctx)
        if points:
            xmax = max(p[0] for p in points) * 1.2 or 1.0
            ymax = max(p[1] for p in points) * 1.25 or 1.0
            xu = next((q.unit for q in xs if q.unit), "")
            yu = next((q.unit for q in ys if q.unit), "")
            c.frame((0, xmax), (0, ymax), axes=True, equal=False, xlabel=f"{xsym} ({xu})" if xu else xsym,
                    ylabel=f"{ysym} ({yu})" if yu else ysym)
            c.ticks("x", [(num(q), q.value) for q in xs])
            c.ticks("y", [(num(q), q.value) for q in ys])
            px, py = [p[0] for p in points], [p[1] for p in points]
            c.draw(f"ax.plot({px!r}, {py!r}, color=INK, lw=2, marker='o', ms=4)",
                   *[line([(x, 0), (x, y), (0, y)], lw=0.8, color="GREY", dashed=True) for x, y in points if x and y])
            shape = f"a line graph of {ysym} against {xsym} through the points the problem states"
        else:
            c.frame((0, 10), (0, 10), axes=True, equal=False, xlabel="x", ylabel="y")
            c.ticks("x", [])
            c.ticks("y", [])
            c.draw("xs = np.linspace(0.5, 9.5, 50)", "ax.plot(xs, 1 + 0.8 * xs, color=INK, lw=2)")
            shape = "a schematic line graph (no data points could be read)"
    for x, y in ((0.97, 0.97), (0.5, 0.97)):
        c.anchor(c.xlim[0] + x * (c.xlim[1] - c.xlim[0]), c.ylim[0] + y * (c.ylim[1] - c.ylim[0]), ha="right" if x > 0.9 else "center", va="top")
    c.describe(f"A chart: {shape}.", "Plot axes with given values as ticks or labels.",
               "Only stated data are plotted; areas, slopes, sector angles or totals asked for are not written.")


def _layers(nodes: list[str], edges: list[tuple[str, str]], directed: bool = True) -> dict[str, tuple[float, float]]:
    """Left-to-right layered positions: a directed node one layer after its furthest
    predecessor; an undirected one by its hop distance from the first node."""
    layer = {n: 0 for n in nodes}
    if directed:
        for _ in range(len(nodes)):
            for a, b in edges:
                if layer[b] < layer[a] + 1 <= len(nodes):
                    layer[b] = layer[a] + 1
    else:
        seen, frontier = {nodes[0]}, [nodes[0]]
        while frontier:
            nxt = []
            for a, b in edges:
                for u, v in ((a, b), (b, a)):
                    if u in frontier and v not in seen:
                        seen.add(v)
                        layer[v] = layer[u] + 1
                        nxt.append(v)
            frontier = nxt
    top = max(layer.values()) or 1
    groups: dict[int, list[str]] = {}
    for n in nodes:
        groups.setdefault(layer[n], []).append(n)
    return {n: (1.0 + 8.0 * layer[n] / top, 5.0 + (len(g) - 1) * 1.4 - 2.8 * i)
            for g in groups.values() for i, n in enumerate(g)}


@template("Universal - Graph & Flow", "flowchart / graph")
def _tpl_flow(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    weighted = [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(
        r"\b([A-Z])\s*[–—-]\s*([A-Z])\s*(?:=|:|\(|of)\s*(\d+(?:\.\d+)?\s*[A-Za-z]{0,5})", text)]
    after: list[tuple[str, str]] = []
    for clause in re.split(r"[;.]", text):
        m = re.search(r"after (?:both )?((?:[A-Z](?![\w])(?:\s*(?:,|and)\s*)?)+)", clause)
        if m:
            pre = re.findall(r"(?<![\w])[A-Z](?![\w])", m.group(1))
            subj = [x for x in re.findall(r"(?<![\w])[A-Z](?![\w])", clause[: m.start()]) if x not in pre]
            after += [(p, s) for s in subj for p in pre]
    if ctx.has("flowchart", "algorithm", "program", "decision box", "pseudocode") and not weighted:
        box = "ax.add_patch(FancyBboxPatch(({x}, {y}), {w}, {h}, boxstyle='{style}', fc={fc}, ec=INK, lw=1.5))"
        c.draw(box.format(x=2.3, y=8.85, w=2.4, h=0.7, style="round,pad=0.1,rounding_size=0.35", fc="LIGHT"),
               box.format(x=1.9, y=7.3, w=3.2, h=0.8, style="square,pad=0.05", fc="'white'"),
               "ax.add_patch(Polygon([(3.5, 6.6), (5.3, 5.6), (3.5, 4.6), (1.7, 5.6)], closed=True, fc='white', ec=INK, lw=1.5))",
               box.format(x=1.9, y=2.6, w=3.2, h=1.4, style="square,pad=0.05", fc="'white'"),
               "ax.add_patch(Polygon([(6.7, 5.15), (9.5, 5.15), (9.1, 6.05), (6.3, 6.05)], closed=True, fc='white', ec=INK, lw=1.5))",
               box.format(x=6.7, y=2.9, w=2.4, h=0.7, style="round,pad=0.1,rounding_size=0.35", fc="LIGHT"),
               "arrow(3.5, 8.75, 3.5, 8.2)", "arrow(3.5, 7.2, 3.5, 6.65)", "arrow(3.5, 4.55, 3.5, 4.1)",
               "ax.plot([1.8, 0.8, 0.8, 3.5], [3.3, 3.3, 6.9, 6.9], color=INK, lw=1.5)", "arrow(5.35, 5.6, 6.45, 5.6)",
               "arrow(7.9, 5.05, 7.9, 3.7)")
        c.text(3.5, 9.2, "Start", size=11, nudge=False)
        c.text(7.9, 3.25, "End", size=11, nudge=False)
        init = [q for q in ctx.quantities if q.symbol and num(q) is not None][:3]
        if init:
            if c.text(3.5, 7.7, ", ".join(q.label() for q in init), size=10, nudge=False, given=True):
                c.used_values.extend(q.label() for q in init)
        quoted = re.search(r"[\"“]([^\"”]{1,24})[\"”]", text)
        comp = re.search(r"\b(\w\s*(?:≤|<|>|≥|<=|>=)\s*\w+)\s*\??", text)
        cond = quoted.group(1) if quoted else (comp.group(1) + "?" if comp else "condition?")
        c.text(3.5, 5.6, cond, size=10, nudge=False, entity=True)
        updates = [m.group(0).strip() for m in re.finditer(r"\b[A-Za-z]\s*=\s*[A-Za-z][^,;.]*?(?=\s+(?:and|then)\b|[,;.]|$)", text)][:3]
        c.text(3.5, 3.3, "\n".join(updates) or "process", size=10, nudge=False, entity=True)
        out = re.search(r"\boutputs?\s+([A-Za-z]\w{0,3})\b", text)
        c.text(7.9, 5.6, f"Output {out.group(1)}" if out else "Output", size=10, nudge=False, entity=True)
        c.text(3.7, 4.35, "yes", ha="left", va="top", size=10)
        c.text(5.5, 5.7, "no", ha="left", va="bottom", size=10)
        shape = "a flowchart: Start, initialisation, a decision diamond with a yes-loop through the process box, output and End"
    else:
        if weighted:
            edges = [(a, b) for a, b, _ in weighted]
            nodes = list(dict.fromkeys([n for e in edges for n in e]))
            directed = False
        elif after:
            acts = list(dict.fromkeys([e for e in ctx.entities if re.fullmatch(r"[A-Z]", e)] + [n for e in after for n in e]))
            acts = [a for a in acts if re.search(rf"(?<![\w]){a}(?![\w])", text)]
            first = [a for a in acts if not any(b == a for _, b in after)]
            last = [a for a in acts if not any(p == a for p, _ in after)]
            nodes = ["Start"] + acts + ["Finish"]
            edges = [("Start", a) for a in first] + after + [(a, "Finish") for a in last]
            directed = True
        else:
            nodes = [e for e in ctx.entities if re.fullmatch(r"[A-Z]\w?", e)][:6] or ["A", "B", "C", "D"]
            edges = list(zip(nodes, nodes[1:]))
            directed = True
        pos = _layers(nodes, edges, directed)
        for a, b in edges:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            ux, uy = unit(x2 - x1, y2 - y1)
            c.draw(f"arrow({fmt(x1 + 0.45 * ux)}, {fmt(y1 + 0.45 * uy)}, {fmt(x2 - 0.45 * ux)}, {fmt(y2 - 0.45 * uy)}, lw=1.4, "
                   f"style={'-|>' if directed else '-'!r})")
        for n, (x, y) in pos.items():
            c.draw(f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), 0.42, fc='white', ec=INK, lw=1.6, zorder=3))")
            size = 12 if len(n) == 1 else 8
            c.name(x, y, n, size=size, nudge=False, force=True)
            c.block(x - 0.42, y - 0.42, x + 0.42, y + 0.42)
        for a, b, w in weighted:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            c.text((x1 + x2) / 2, (y1 + y2) / 2, w, size=10, boxed=True, entity=True)
        for q in ctx.quantities:  # activity durations beside their nodes
            m = re.fullmatch(r"t_?([A-Z])", q.symbol)
            if m and m.group(1) in pos:
                x, y = pos[m.group(1)]
                c.value(q, x, y - 0.55, va="top", size=9)
        shape = (f"a {'weighted ' if weighted else ''}{'directed ' if directed else ''}graph of {len(nodes)} nodes"
                 + (" with the stated edge lengths" if weighted else " from the stated precedences" if after else ""))
    for x, y in ((0.5, 9.6), (9.5, 9.6), (9.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"A graph / flow diagram: {shape}.", "Flow from top to bottom or left to right; labels inside their boxes or on their edges.",
               "The output, shortest route or project duration asked for is not written or highlighted.")


@template("Universal - Table / Grid", "data table / grid")
def _tpl_table(c: Canvas) -> None:
    ctx = c.ctx
    if ctx.has("grid", "lattice", "squares wide", "chessboard", "paths") and not ctx.has("table"):
        ints = [int(num(q)) for q in ctx.quantities if not q.symbol and num(q) and float(num(q)).is_integer() and 1 < num(q) <= 12]
        w, h = (ints + [4, 3])[:2]
        cell = min(8.0 / w, 7.0 / h)
        x0, y0 = 5 - w * cell / 2, 1.6
        c.draw(f"for i in range({w + 1}):", f"    ax.plot([{fmt(x0)} + i * {fmt(cell)}] * 2, [{fmt(y0)}, {fmt(y0 + h * cell)}], color=INK, lw=1.4)",
               f"for j in range({h + 1}):", f"    ax.plot([{fmt(x0)}, {fmt(x0 + w * cell)}], [{fmt(y0)} + j * {fmt(cell)}] * 2, color=INK, lw=1.4)",
               dot(x0, y0, 0.12), dot(x0 + w * cell, y0 + h * cell, 0.12))
        pts = [p for p in ctx.points()][:2]
        for name, (x, y, ha, va) in zip(pts, ((x0 - 0.2, y0 - 0.2, "right", "top"), (x0 + w * cell + 0.2, y0 + h * cell + 0.2, "left", "bottom"))):
            point_name(c, name, x, y, ha=ha, va=va, size=13)
        c.slot(r"s|a|l|d", x0 + cell / 2, y0 - 0.3, va="top", size=10)
        shape = f"a rectangular grid {w} squares wide and {h} squares tall with the named corners marked"
    else:
        if not ctx.quantities:
            c.decline("the problem gives no values to tabulate and describes no grid")
        c.specific = True  # the cells are the problem's own values
        cols: dict[str, list[Quantity]] = {}
        for q in ctx.quantities:
            cols.setdefault(q.symbol or q.unit or "value", []).append(q)
        keys = list(cols)[:4] or ["value"]
        rows = max([len(cols.get(k, [])) for k in keys] + [2])
        rows = min(rows, 8)
        width, rh = 8.6 / len(keys), min(0.9, 7.0 / (rows + 1))
        top = 8.6
        c.draw(f"for j in range({rows + 2}):", f"    ax.plot([0.7, 9.3], [{fmt(top)} - j * {fmt(rh)}] * 2, color=INK, lw=1.8 if j < 2 else 1)",
               f"for i in range({len(keys) + 1}):", f"    ax.plot([0.7 + i * {fmt(width)}] * 2, [{fmt(top)}, {fmt(top - (rows + 1) * rh)}], color=INK, lw=1.2)",
               f"ax.add_patch(Rectangle((0.7, {fmt(top - rh)}), 8.6, {fmt(rh)}, fc=LIGHT, ec='none', zorder=0))")
        for i, k in enumerate(keys):
            qs = cols.get(k, [])
            unit = next((q.unit for q in qs if q.unit), "")
            head = (f"{k} ({unit})" if unit and k != unit else f"({unit})" if unit else k)
            x = 0.7 + (i + 0.5) * width
            c.text(x, top - rh / 2, head, size=11, bold=True, nudge=False, entity=True)
            for j, q in enumerate(qs[:rows]):
                c.text(x, top - (j + 1.5) * rh, q.value, size=11, nudge=False, given=True)
        shape = f"a data table with {len(keys)} column(s) ({', '.join(keys)}) and {rows} data row(s) filled with the given values"
    for x, y in ((0.5, 9.6), (9.5, 9.6), (9.5, 0.4), (0.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"A table / grid figure: {shape}.", "Table or grid centred; headers on a shaded first row.",
               "No derived column (ratios, constants, counts) is added: those are the answer.")


@template("Universal - Exp. Setup", "apparatus diagram")
def _tpl_apparatus(c: Canvas) -> None:
    ctx = c.ctx
    parts: list[tuple[str, tuple[float, float], tuple[float, float], str]] = []
    if ctx.has("burette", "titrat", "pipette"):
        c.draw("ax.add_patch(Rectangle((1.2, 0.6), 3.0, 0.3, fc=LIGHT, ec=INK))", line([(1.6, 0.9), (1.6, 9.6)], lw=3),
               line([(1.6, 7.6), (4.7, 7.6)], lw=2.2),
               "ax.add_patch(Rectangle((4.7, 4.6), 0.6, 5.0, fc='white', ec=INK, lw=1.5))",
               "ax.add_patch(Rectangle((4.7, 4.6), 0.6, 3.6, fc='0.85', ec='none'))",
               "for y in np.arange(5.0, 9.5, 0.4):", "    ax.plot([4.7, 4.95], [y, y], color=INK, lw=0.8)",
               line([(5.0, 4.6), (5.0, 4.0)], lw=2), line([(4.75, 4.3), (5.25, 4.3)], lw=3),
               "ax.add_patch(Polygon([(4.75, 3.4), (5.25, 3.4), (5.25, 2.9), (6.6, 0.9), (3.4, 0.9), (4.75, 2.9)], closed=True, fc='white', ec=INK, lw=1.5))",
               "ax.add_patch(Polygon([(3.85, 1.6), (6.15, 1.6), (6.6, 0.9), (3.4, 0.9)], closed=True, fc='0.8', ec='none'))")
        parts = [("Burette", (5.3, 8.6), (6.0, 9.0), "left"), ("Stand", (1.6, 5.0), (1.4, 5.0), "right"),
                 ("Conical flask", (6.2, 1.5), (7.0, 2.6), "left")]
        c.slot(r"c|C|c_\w+|M", 6.0, 8.2, ha="left", size=10)
        c.slot(r"V|V_\w+", 6.0, 7.5, ha="left", size=10)
        for q in [q for q in ctx.quantities if q.unit in ("mL", "ml", "cm³") and not q.symbol][:1]:
            c.value(q, 7.0, 1.6, ha="left", size=10)
        for s in ctx.species()[:1]:
            c.entity(s, 7.0, 0.9, ha="left", size=10)
        shape = "a titration set-up: a burette held by a clamp on a stand above a conical flask"
    elif ctx.has("slit", "young", "interference", "fringe", "grating"):
        c.draw("ax.add_patch(Circle((0.9, 5.0), 0.35, fc='0.75', ec=INK))",
               *[f"arrow(1.3, {y}, 3.4, {y}, color=GREY, lw=1.1)" for y in (4.2, 5.0, 5.8)],
               line([(3.8, 1.2), (3.8, 4.4)], lw=3), line([(3.8, 4.7), (3.8, 5.3)], lw=3), line([(3.8, 5.6), (3.8, 8.8)], lw=3),
               line([(8.6, 1.0), (8.6, 9.0)], lw=3),
               "ys = np.linspace(1.2, 8.8, 400)", "ax.plot(8.75 + 0.6 * np.cos((ys - 5.0) * 3.2) ** 2, ys, color=INK, lw=1.2)",
               *[line([(3.8, y0), (8.6, y1)], lw=0.7, color="GREY", dashed=True) for y0 in (4.55, 5.45) for y1 in (5.0, 6.9)],
               "arrow(3.8, 0.7, 8.6, 0.7, style='<|-|>', lw=1.1)")
        for name, y in (("S1", 4.55), ("S2", 5.45)):
            if name in ctx.entities:
                c.entity(name, 3.55, y, ha="right", size=10, nudge=False)
        c.slot(r"d|a|s", 3.1, 6.4, ha="right", size=10)
        c.slot(r"L|D", 6.2, 0.45, va="top", size=10, default="L")
        c.slot(r"λ", 1.0, 6.6, ha="left", size=10)
        c.text(8.6, 9.3, "screen", size=10, va="bottom")
        c.text(0.9, 4.3, "source", size=10, va="top")
        shape = "a double-slit set-up: light source, a barrier with two slits, the screen with its fringe pattern"
    elif ctx.has("calorimet", "specific heat", "heat capacity", "insulated"):
        c.draw("ax.add_patch(Rectangle((2.2, 0.8), 5.6, 5.6, fc='white', ec=INK, lw=1.6, hatch='..'))",
               "ax.add_patch(Rectangle((2.7, 1.3), 4.6, 5.1, fc='white', ec=INK, lw=1.4))",
               "ax.add_patch(Rectangle((2.7, 1.3), 4.6, 3.6, fc='0.88', ec='none'))",
               "ax.add_patch(Rectangle((4.2, 1.6), 1.4, 1.2, fc='0.5', ec=INK, lw=1.2))",
               "ax.add_patch(Rectangle((6.0, 2.2), 0.22, 6.8, fc='white', ec=INK, lw=1.2))", "ax.add_patch(Circle((6.11, 2.2), 0.25, fc='0.4', ec=INK))",
               line([(3.3, 8.6), (3.3, 1.9)], lw=1.6), line([(2.9, 1.9), (3.7, 1.9)], lw=2.2))
        parts = [("Thermometer", (6.2, 8.0), (6.6, 8.6), "left"), ("Stirrer", (3.3, 7.0), (2.9, 8.6), "right"),
                 ("Water", (3.8, 4.2), (1.8, 5.2), "right"), ("Metal block", (4.9, 1.6), (4.9, 0.3), "center"),
                 ("Insulation", (7.55, 5.5), (8.2, 5.5), "left")]
        c.slot(r"m|m_\w+|M", 4.9, 3.2, va="bottom", size=9)
        shape = "a calorimeter: insulated container with water, a metal block in it, a thermometer and a stirrer"
    else:
        c.draw("ax.add_patch(Polygon([(3.4, 7.0), (3.6, 3.6), (6.4, 3.6), (6.6, 7.0)], closed=True, fc='white', ec=INK, lw=1.6))",
               "ax.add_patch(Polygon([(3.5, 5.4), (3.6, 3.6), (6.4, 3.6), (6.5, 5.4)], closed=True, fc='0.85', ec='none'))",
               line([(3.0, 3.5), (7.0, 3.5)], lw=2.5), line([(3.4, 3.5), (2.9, 0.6)], lw=2), line([(6.6, 3.5), (7.1, 0.6)], lw=2),
               "ax.add_patch(Rectangle((4.7, 0.6), 0.6, 1.4, fc=LIGHT, ec=INK))",
               "ax.add_patch(Polygon([(4.8, 2.0), (5.0, 3.0), (5.2, 2.0)], closed=True, fc='0.6', ec=INK))",
               "ax.add_patch(Rectangle((5.6, 4.0), 0.2, 5.2, fc='white', ec=INK, lw=1.2))", "ax.add_patch(Circle((5.7, 4.0), 0.22, fc='0.4', ec=INK))")
        parts = [("Beaker", (3.5, 6.2), (1.6, 6.8), "right"), ("Thermometer", (5.8, 8.4), (6.4, 8.8), "left"),
                 ("Tripod", (3.1, 1.8), (1.6, 2.2), "right"), ("Bunsen burner", (5.3, 1.2), (6.6, 1.0), "left")]
        shape = "a beaker of liquid with a thermometer, on a tripod over a Bunsen burner"
    for name, target, at, ha in parts:
        callout(c, name, target, at, ha=ha)
    for x, y in ((0.5, 9.6), (9.5, 9.6), (9.5, 0.4), (0.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"An apparatus diagram: {shape}; parts named with leader lines.", "Apparatus centred; labels beside the parts.",
               "Readings or results asked for (concentration, fringe spacing, final value) are not written.")
