"""Math templates (plane, solid, analytic geometry, sets and probability) and their geometry helpers."""

from __future__ import annotations

import math
import re

from scigen_dagster.generation.rules.codegen import template
from scigen_dagster.generation.rules.context import POINT_NAME_RE, SEGMENT_RE, Ctx
from scigen_dagster.generation.rules.layout import Canvas, dot, fmt, line, point_name, unit
from scigen_dagster.problems.quantities import Quantity, normalize_text

# --------------------------------------------------------------------------------------
# Geometry helpers (plan time)
# --------------------------------------------------------------------------------------


def _angle_mark(c: Canvas, at, p1, p2, q: Quantity | None, radius: float = 0.55, arms: bool = False) -> None:
    """Arc (or right-angle square) at ``at`` between rays to p1 and p2, with its value."""
    if arms:
        c.draw(line([p1, at, p2], lw=1.5))
    u1, u2 = unit(p1[0] - at[0], p1[1] - at[1]), unit(p2[0] - at[0], p2[1] - at[1])
    right = q is not None and re.fullmatch(r"90(?:\.0+)?", q.value) is not None
    if right:
        s = 0.32
        c.draw(line([(at[0] + s * u1[0], at[1] + s * u1[1]),
                     (at[0] + s * (u1[0] + u2[0]), at[1] + s * (u1[1] + u2[1])),
                     (at[0] + s * u2[0], at[1] + s * u2[1])], lw=1.2))
    else:
        a1 = math.degrees(math.atan2(u1[1], u1[0]))
        a2 = math.degrees(math.atan2(u2[1], u2[0]))
        t1, t2 = (a1, a2) if (a2 - a1) % 360 <= 180 else (a2, a1)
        c.draw(f"ax.add_patch(Arc(({fmt(at[0])}, {fmt(at[1])}), {fmt(2 * radius)}, {fmt(2 * radius)}, "
               f"theta1={fmt(t1)}, theta2={fmt(t2)}, color=INK, lw=1.3))")
    if q is not None:
        b = unit(u1[0] + u2[0], u1[1] + u2[1])
        if abs(u1[0] + u2[0]) + abs(u1[1] + u2[1]) < 1e-6:
            b = (-u1[1], u1[0])
        c.value(q, at[0] + (radius + 0.55) * b[0], at[1] + (radius + 0.45) * b[1], size=10)


def _geometry_values(c: Canvas, where: dict, centre, neighbours: dict, drawn: set) -> None:
    """Segments named in the problem and segment / angle values, on the drawn points."""
    ctx = c.ctx
    seg_names = list(ctx.segments()) + [q.symbol for q in ctx.quantities if SEGMENT_RE.fullmatch(q.symbol)]
    for seg in seg_names:
        a, b = SEGMENT_RE.fullmatch(seg).groups()
        if a in where and b in where and frozenset((a, b)) not in drawn:
            drawn.add(frozenset((a, b)))
            c.draw(line([where[a], where[b]], lw=1.5))
    for q in ctx.quantities:
        sym = q.symbol
        names = POINT_NAME_RE.findall(sym.lstrip("∠")) if sym else []
        if sym.startswith("∠") or q.unit == "°":
            if len(names) == 3 and all(n in where for n in names):
                arms = not {frozenset(names[:2]), frozenset(names[1:])} <= drawn
                drawn.update({frozenset(names[:2]), frozenset(names[1:])})
                _angle_mark(c, where[names[1]], where[names[0]], where[names[2]], q, arms=arms)
            elif len(names) == 1 and len(neighbours.get(names[0], ())) == 2:
                n1, n2 = neighbours[names[0]]
                _angle_mark(c, where[names[0]], where[n1], where[n2], q)
        elif SEGMENT_RE.fullmatch(sym or "-") and all(n in where for n in names):
            (x1, y1), (x2, y2) = where[names[0]], where[names[1]]
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            nx, ny = unit(-(y2 - y1), x2 - x1)
            if (mx - centre[0]) * nx + (my - centre[1]) * ny < 0:
                nx, ny = -nx, -ny
            c.value(q, mx + 0.5 * nx, my + 0.5 * ny, size=10)
    for seg in ctx.segments():  # a named segment without a value: its name at its middle
        a, b = SEGMENT_RE.fullmatch(seg).groups()
        if seg not in c.used_entities and a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            nx, ny = unit(-(y2 - y1), x2 - x1)
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            if (mx - centre[0]) * nx + (my - centre[1]) * ny > 0:
                nx, ny = -nx, -ny
            c.entity(seg, mx + 0.4 * nx, my + 0.4 * ny, size=10)


def _label_points(c: Canvas, where: dict, centre, neighbours: dict, drawn: set) -> None:
    """Point names outside the figure, then the values; a centre point last, away from
    the segments that meet there."""
    for name, (x, y) in where.items():
        c.block(x - 0.12, y - 0.12, x + 0.12, y + 0.12)
    for name, (x, y) in where.items():
        if (x, y) != centre:
            ux, uy = unit(x - centre[0], y - centre[1])
            point_name(c, name, x + 0.45 * ux, y + 0.45 * uy)
    _geometry_values(c, where, centre, neighbours, drawn)
    for name, (x, y) in where.items():
        if (x, y) == centre:
            ux, uy = _free_direction(where, drawn, name)
            point_name(c, name, x + 0.45 * ux, y + 0.45 * uy)


def _free_direction(where: dict, drawn: set, name: str, default=(-0.7, -0.7)) -> tuple[float, float]:
    """Direction away from the segments that meet at a point (for its label)."""
    x, y = where[name]
    sx = sy = 0.0
    for pair in drawn:
        if name in pair and len(pair) == 2:
            (other,) = pair - {name}
            if other in where:
                ux, uy = unit(where[other][0] - x, where[other][1] - y)
                sx, sy = sx + ux, sy + uy
    return unit(-sx, -sy) if abs(sx) + abs(sy) > 1e-6 else unit(*default)


def _polygon_shape(ctx: Ctx, n: int, names: list[str]) -> list[tuple[float, float]]:
    low = ctx.low
    if n == 3:
        right = None
        for q in ctx.quantities:
            m = re.fullmatch(r"∠([A-Z])", q.symbol or "")
            if m and m.group(1) in names and re.fullmatch(r"90(?:\.0+)?", q.value):
                right = names.index(m.group(1))
        m = re.search(r"right angle (?:is )?at (?:vertex )?([A-Z])\b", normalize_text(ctx.question))
        if right is None and m and m.group(1) in names:
            right = names.index(m.group(1))
        if right is not None:
            legs = []
            for other in [names[(right + 1) % 3], names[(right + 2) % 3]]:
                pair = {names[right] + other, other + names[right]}
                val = next((q for q in ctx.quantities if q.symbol in pair), None)
                try:
                    legs.append(float(val.value) if val else None)
                except ValueError:
                    legs.append(None)
            lx, ly = (legs[0], legs[1]) if None not in legs else (5.5, 4.5)
            k = 6.2 / max(lx, ly)
            lx, ly = max(2.0, lx * k), max(2.0, ly * k)
            pts = {right: (1.8, 1.8), (right + 1) % 3: (1.8 + lx, 1.8), (right + 2) % 3: (1.8, 1.8 + ly)}
            return [pts[i] for i in range(3)]
        if "isosceles" in low or "equilateral" in low:
            return [(1.8, 2.0), (8.2, 2.0), (5.0, 7.5)]
        return [(1.8, 2.0), (8.2, 2.0), (3.8, 7.6)]
    if n == 4:
        for words, shape in ((("square",), [(2.2, 2.0), (7.8, 2.0), (7.8, 7.6), (2.2, 7.6)]),
                             (("rectangle",), [(1.6, 2.4), (8.4, 2.4), (8.4, 7.0), (1.6, 7.0)]),
                             (("parallelogram", "rhombus"), [(1.4, 2.4), (6.8, 2.4), (8.6, 7.0), (3.2, 7.0)]),
                             (("trapezoid", "trapezium"), [(1.4, 2.4), (8.6, 2.4), (6.6, 7.0), (3.4, 7.0)])):
            if any(w in low for w in words):
                return shape
        return [(1.6, 2.2), (8.2, 1.8), (7.4, 7.4), (2.6, 6.8)]
    return [(5 + 3.4 * math.cos(math.radians(-90 - 180 / n + 360 * i / n)),
             5 + 3.4 * math.sin(math.radians(-90 - 180 / n + 360 * i / n))) for i in range(n)]


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------


@template("Math - Plane Geometric", "plane-geometry figure")
def _tpl_plane(c: Canvas) -> None:
    ctx = c.ctx
    pts = ctx.points()
    where: dict[str, tuple[float, float]] = {}
    drawn: set = set()
    neighbours: dict[str, tuple[str, str]] = {}
    if ctx.has("circle", "chord", "tangent", "radius", "diameter", "inscribed", "circumference", " arc"):
        centre, rad = (5.0, 5.0), 3.2
        c.draw(f"ax.add_patch(Circle((5, 5), {rad}, fill=False, ec=INK, lw=1.8))", dot(5, 5))
        if "O" in pts:
            where["O"] = centre
        for name, ang in zip([p for p in pts if p != "O"], (215, 325, 95, 145, 35, 270)):
            where[name] = (5 + rad * math.cos(math.radians(ang)), 5 + rad * math.sin(math.radians(ang)))
            c.draw(dot(*where[name]))
        radius = next((q for q in ctx.quantities if q.symbol in ("r", "R")), None)
        if radius is not None:
            c.draw(line([centre, (5 + rad * math.cos(0.3), 5 + rad * math.sin(0.3))], lw=1.3, dashed=True))
            c.value(radius, 5 + 1.7 * math.cos(0.3) + 0.1, 5 + 1.7 * math.sin(0.3) + 0.4, size=10)
        shape = "a circle with its centre marked and the named points on the circle"
    else:
        n = next((k for words, k in ((("triangle",), 3), (("pentagon",), 5), (("hexagon",), 6),
                                     (("quadrilateral", "rectangle", "square", "parallelogram", "rhombus",
                                       "trapezoid", "trapezium"), 4)) if ctx.has(*words)),
                 max(3, min(len([p for p in pts if p != "O"]), 6)))
        names = [p for p in pts if p != "O"][:n]
        verts = _polygon_shape(ctx, n, names)
        c.draw(f"ax.add_patch(Polygon({[(round(x, 2), round(y, 2)) for x, y in verts]!r}, closed=True, "
               "fc=LIGHT, ec=INK, lw=1.8))")
        centre = (sum(v[0] for v in verts) / n, sum(v[1] for v in verts) / n)
        for i, name in enumerate(names):
            where[name] = verts[i]
            neighbours[name] = (names[i - 1], names[(i + 1) % n]) if len(names) == n else ()
            drawn.add(frozenset((name, names[(i + 1) % len(names)])))
        text = normalize_text(ctx.question)
        for k, name in enumerate([p for p in pts if p != "O"][n:]):
            foot = re.search(rf"\b{name}\b[^.]*?(?:foot|altitude|perpendicular)[^.]*?from ([A-Z])\b", text)
            mid = re.search(rf"\b{name}\b[^.]*?midpoint of ([A-Z])([A-Z])\b", text)
            if foot and foot.group(1) in names and len(names) == 3:
                apex = where[foot.group(1)]
                b1, b2 = [where[x] for x in names if x != foot.group(1)]
                ux, uy = unit(b2[0] - b1[0], b2[1] - b1[1])
                t = (apex[0] - b1[0]) * ux + (apex[1] - b1[1]) * uy
                where[name] = (b1[0] + t * ux, b1[1] + t * uy)
                c.draw(line([apex, where[name]], lw=1.4, dashed=True))
                drawn.add(frozenset((foot.group(1), name)))
            elif mid and mid.group(1) in where and mid.group(2) in where:
                (x1, y1), (x2, y2) = where[mid.group(1)], where[mid.group(2)]
                where[name] = ((x1 + x2) / 2, (y1 + y2) / 2)
            else:
                (x1, y1), (x2, y2) = verts[k % n], verts[(k + 1) % n]
                where[name] = (x1 + 0.45 * (x2 - x1), y1 + 0.45 * (y2 - y1))
            c.draw(dot(*where[name]))
        if "O" in pts:
            where["O"] = centre
            c.draw(dot(*centre))
        shape = f"a {('triangle', 'quadrilateral', 'pentagon', 'hexagon')[min(n, 6) - 3]} with its vertices labelled"
    _label_points(c, where, centre, neighbours, drawn)
    for x, y in ((0.8, 9.4), (9.2, 9.4), (0.8, 0.6), (9.2, 0.6)):
        c.anchor(x, y)
    c.describe(f"A plane-geometry figure: {shape}; named segments drawn; given lengths and angles "
               "written on their sides and angles.",
               "Figure centred in a 10 x 10 frame; vertex names just outside the figure, values beside "
               "their sides, angle arcs at their vertices.",
               "Only the given lengths and angles are written; the length or angle asked for is not marked.")


@template("Math - Solid Geometric", "solid-geometry figure")
def _tpl_solid(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    pts = ctx.points()
    where: dict[str, tuple[float, float]] = {}
    if ctx.has("cone", "cylinder", "sphere", "ball", "hemisphere"):
        kind = "cone" if ctx.has("cone") else "cylinder" if ctx.has("cylinder") else "sphere"
        dash = "ls=(0, (4, 3))"
        if kind == "sphere":
            c.draw("ax.add_patch(Circle((5, 5), 3.2, fill=False, ec=INK, lw=1.8))",
                   "ax.add_patch(Arc((5, 5), 6.4, 1.4, theta1=180, theta2=360, color=INK, lw=1.3))",
                   f"ax.add_patch(Arc((5, 5), 6.4, 1.4, theta1=0, theta2=180, color=GREY, lw=1.2, {dash}))",
                   line([(5, 5), (8.2, 5)], lw=1.3, dashed=True), dot(5, 5))
            c.slot(r"r|R|d", 6.6, 5.35, default="r", size=10)
            centre = (5.0, 5.0)
        else:
            top = 8.4 if kind == "cone" else 7.6
            c.draw("ax.add_patch(Arc((5, 2.4), 6.4, 1.6, theta1=180, theta2=360, color=INK, lw=1.8))",
                   f"ax.add_patch(Arc((5, 2.4), 6.4, 1.6, theta1=0, theta2=180, color=GREY, lw=1.3, {dash}))",
                   line([(5, 2.4), (5, top)], lw=1.3, dashed=True),
                   line([(5, 2.4), (8.2, 2.4)], lw=1.3, dashed=True), dot(5, 2.4))
            if kind == "cone":
                c.draw(line([(1.8, 2.4), (5, 8.4), (8.2, 2.4)]))
                c.slot(r"l|s|L", 7.0, 5.6, ha="left", default="l", size=10)
            else:
                c.draw("ax.add_patch(Ellipse((5, 7.6), 6.4, 1.6, fill=False, ec=INK, lw=1.8))",
                       line([(1.8, 2.4), (1.8, 7.6)]), line([(8.2, 2.4), (8.2, 7.6)]))
            c.slot(r"h|H", 4.85, 5.2, ha="right", default="h", size=10)
            c.slot(r"r|R|d", 6.6, 2.05, va="top", default="r", size=10)
            centre = (5.0, 2.4)
        if "O" in pts:
            c.entity("O", 4.7, centre[1] - 0.35)
        c.describe(f"A {kind} drawn in oblique view: outline solid, hidden half of the base dashed, "
                   "with its height and radius marked.", "Solid centred in the frame; values next to the "
                   "lines they measure.", "The asked quantity (slant height, area, volume) is not written.")
        for x, y in ((0.8, 9.4), (9.2, 9.4), (0.8, 0.6), (9.2, 0.6)):
            c.anchor(x, y)
        return
    m_cube = re.search(r"\b([A-Z]{4})-([A-Z]{4}|(?:[A-Z]1){4})\b", text)
    m_pyr = re.search(r"\b([A-Z])-([A-Z]{3,4})\b", text)
    if ctx.has("pyramid", "tetrahedron") or (m_pyr and not m_cube):
        if m_pyr:
            apex, base = m_pyr.group(1), list(m_pyr.group(2))
        else:
            apex = next((p for p in ("P", "S", "V") if p in pts), "")
            base = [p for p in pts if p not in (apex, "O", "M")][:4]
        n = 3 if (len(base) == 3 or ctx.has("tetrahedron", "triangular")) else 4
        corners = [(1.6, 2.0), (6.6, 2.0), (8.4, 3.8), (3.4, 3.8)] if n == 4 else [(1.8, 2.0), (7.6, 2.0), (5.6, 3.9)]
        centre = (sum(p[0] for p in corners) / n, sum(p[1] for p in corners) / n)
        top = (centre[0], 8.4)
        base = (base + [""] * n)[:n]
        for name, p in zip(base, corners):
            if name:
                where[name] = p
        if apex:
            where[apex] = top
        back = n - 1 if n == 4 else 2
        for i in range(n):
            seg = (corners[i], corners[(i + 1) % n])
            c.draw(line(list(seg), dashed=back in (i, (i + 1) % n)))
            c.draw(line([corners[i], top], dashed=(i == back)))
        c.draw(line([top, centre], lw=1.3, dashed=True), dot(*centre))
        if "O" in pts:
            where["O"] = centre
        c.slot(r"h|H", centre[0] + 0.15, 6.0, ha="left", size=10)
        drawn = {frozenset((base[i], base[(i + 1) % n])) for i in range(n)} | {frozenset((b, apex)) for b in base}
        drawn.add(frozenset((apex, "O")))
        shape = "a pyramid with its apex above the base centre; hidden edges dashed"
    else:
        if m_cube:
            names = list(m_cube.group(1)) + ([m_cube.group(2)[i:i + 2] for i in range(0, 8, 2)]
                                             if "1" in m_cube.group(2) else list(m_cube.group(2)))
        else:
            names = [p for p in pts if p not in ("O", "M")][:8]
        names = (names + [""] * 8)[:8]
        hgt = 3.6 if ctx.has("cuboid", "rectangular box", "prism") else 4.5
        bottom = [(1.6, 1.6), (6.1, 1.6), (8.1, 3.4), (3.6, 3.4)]
        corners = bottom + [(x, y + hgt) for x, y in bottom]
        for name, p in zip(names, corners):
            if name:
                where[name] = p
        edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
        for i, j in edges:
            c.draw(line([corners[i], corners[j]], dashed=3 in (i, j)))
        centre = (4.85, 2.5 + hgt / 2)
        drawn = {frozenset((names[i], names[j])) for i, j in edges}
        c.slot(r"a|s|l|e|x", 3.85, 1.1, size=10)
        shape = "a cube (cuboid) in oblique projection with hidden edges dashed"
    c.draw(*[dot(x, y, 0.07) for x, y in where.values()])
    _label_points(c, where, centre, {}, drawn)
    for x, y in ((0.8, 9.4), (9.2, 9.4), (0.8, 0.6), (9.2, 0.6)):
        c.anchor(x, y)
    c.describe(f"A solid-geometry figure: {shape}; vertices labelled, named segments drawn and given "
               "lengths written beside them.", "Solid centred in the frame, vertex names just outside it.",
               "Hidden edges are dashed (oblique projection); the length asked for is not written.")


_EQ_CHARS = frozenset("0123456789xy²^/*.+-− ")
_MONOMIAL_CODE = {"x²": "X**2", "xy": "X*Y", "y²": "Y**2", "x": "X", "y": "Y", "1": "1"}


def _poly(side: str) -> dict[str, float] | None:
    s = side.replace("−", "-").replace("^2", "²").replace(" ", "").replace("*", "").rstrip(".")
    terms = re.findall(r"[+-]?[^+-]+", s)
    if not s or "".join(terms) != s:
        return None
    out: dict[str, float] = {}
    for t in terms:
        m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)?(x²|y²|xy|x|y)?(?:/(\d+(?:\.\d+)?))?", t)
        if not m or (m.group(2) is None and m.group(3) is None) or float(m.group(4) or 1) == 0:
            return None
        coef = float(m.group(2) or 1) * (-1 if m.group(1) == "-" else 1) / float(m.group(4) or 1)
        out[m.group(3) or "1"] = out.get(m.group(3) or "1", 0.0) + coef
    return out


def _find_conic(text: str) -> tuple[str, dict[str, float]] | None:
    """The first equation in x and y of degree <= 2 (as written, and its coefficients)."""
    best = None
    for eq in [m.start() for m in re.finditer("=", text)]:
        i, j = eq, eq + 1
        while i > 0 and text[i - 1] in _EQ_CHARS:
            i -= 1
        while j < len(text) and text[j] in _EQ_CHARS:
            j += 1
        left, right = text[i:eq], text[eq + 1 : j]
        if i > 0 and text[i - 1].isalpha() and not left.startswith(" "):  # glued to a word
            left = left.split(" ", 1)[1] if " " in left else ""
        if j < len(text) and text[j].isalpha() and not right.endswith(" "):
            right = right.rsplit(" ", 1)[0] if " " in right else ""
        lhs, rhs = _poly(left), _poly(right)
        if lhs is None or rhs is None:
            continue
        coef = {k: lhs.get(k, 0.0) - rhs.get(k, 0.0) for k in _MONOMIAL_CODE}
        if not any(coef[k] for k in ("x²", "xy", "y²", "x", "y")):
            continue
        cand = (f"{left.strip()} = {right.strip().rstrip('.')}", coef)
        if any(coef[k] for k in ("x²", "xy", "y²")) or (coef["x"] and coef["y"]):
            return cand
        best = best or cand
    return best


def _conic_extent(coef: dict[str, float], points: list[tuple[float, float]]) -> float:
    import numpy as np

    g = np.linspace(-30, 30, 601)
    X, Y = np.meshgrid(g, g)
    F = sum(v * {"x²": X**2, "xy": X * Y, "y²": Y**2, "x": X, "y": Y, "1": 1.0}[k] for k, v in coef.items())
    s = np.sign(F)
    cross = (s[:-1, :-1] != s[1:, :-1]) | (s[:-1, :-1] != s[:-1, 1:])
    ys, xs = np.nonzero(cross)
    far = max([abs(v) for p in points for v in p] + [0.0]) * 1.25
    if len(xs) and xs.min() > 3 and xs.max() < 597 and ys.min() > 3 and ys.max() < 597:
        reach = max(abs(g[xs]).max(), abs(g[ys]).max()) * 1.25
    else:
        reach = 6.0
        for window in (6.0, 12.0, 24.0):
            inside = (abs(g[xs]) < window * 0.8) & (abs(g[ys]) < window * 0.8)
            if inside.any():
                reach = window
                break
    return float(min(30, max(4, math.ceil(max(reach, far)))))


@template("Math - Analytic Geometry", "coordinate-plane figure")
def _tpl_analytic(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    conic = _find_conic(text)
    given_pts = []
    for q in ctx.quantities:
        nums = re.findall(r"[-−]?\d+(?:\.\d+)?", q.value) if q.value.startswith("(") else []
        if len(nums) == 2:
            given_pts.append((q, float(nums[0].replace("−", "-")), float(nums[1].replace("−", "-"))))
    L = _conic_extent(conic[1], [(x, y) for _, x, y in given_pts]) if conic else max(
        [6.0] + [math.ceil(1.25 * max(abs(x), abs(y))) for _, x, y in given_pts])
    c.frame((-L, L), (-L, L), axes=True, equal=True)
    c.axis_lines += ['ax.spines[["left", "bottom"]].set_position("zero")', "ax.set_xticks([])", "ax.set_yticks([])",
                     'ax.plot(1, 0, ">", color=INK, ms=7, transform=ax.get_yaxis_transform(), clip_on=False)',
                     'ax.plot(0, 1, "^", color=INK, ms=7, transform=ax.get_xaxis_transform(), clip_on=False)']
    u = L / 10
    c.text(L - 0.4 * u, -0.55 * u, "x", size=12, va="top", nudge=False)
    c.text(-0.45 * u, L - 0.1 * u, "y", size=12, ha="right", va="top", nudge=False)
    c.text(-0.35 * u, -0.35 * u, "O", size=11, ha="right", va="top", nudge=False)
    where: dict[str, tuple[float, float]] = {}
    if conic:
        c.specific = True  # the curve is the problem's own equation
        eq, k = conic
        expr = " + ".join(f"({v:.10g})*{_MONOMIAL_CODE[m]}" for m, v in k.items() if v)
        c.draw(f"g = np.linspace({fmt(-L)}, {fmt(L)}, 600)", "X, Y = np.meshgrid(g, g)",
               f"ax.contour(X, Y, {expr}, levels=[0], colors=INK, linewidths=2)")
        c.text(-L + 0.3 * u, L - 0.3 * u, eq, ha="left", va="top", entity=True, boxed=True)
        A, B, C_, D, E, F = (k[m] for m in ("x²", "xy", "y²", "x", "y", "1"))
        if A and C_ and not B and A * C_ > 0:
            cx, cy = -D / (2 * A), -E / (2 * C_)
            if ctx.has("centre", "center"):
                for name in ("C", "O", "M", "P"):
                    if name in ctx.entities and name not in where:
                        where[name] = (cx, cy)
                        break
            r2x, r2y = (D * D / (4 * A) + E * E / (4 * C_) - F) / A, (D * D / (4 * A) + E * E / (4 * C_) - F) / C_
            if r2x > 0 and r2y > 0 and abs(r2x - r2y) > 1e-9:
                a, b = math.sqrt(r2x), math.sqrt(r2y)
                f = math.sqrt(abs(r2x - r2y))
                foci = [(cx - f, cy), (cx + f, cy)] if r2x > r2y else [(cx, cy - f), (cx, cy + f)]
                names = [n for n in ctx.entities if re.fullmatch(r"F\d?['′]?", n)][:2]
                for name, p in zip(names, foci):
                    where[name] = p
                if "P" in ctx.points() or any(n.startswith("P") and n[1:] in names for n in ctx.entities):
                    where["P"] = (cx + a * math.cos(1.0), cy + b * math.sin(1.0))
                    for name in names:
                        c.draw(line([where["P"], where[name]], lw=1.3, color="GREY"))
        shape = f"the curve {eq} drawn from its equation"
    else:
        c.draw(f"xs = np.linspace({fmt(-L * 0.75)}, {fmt(L * 0.75)}, 200)",
               f"ax.plot(xs, {0.6 / L:.4g} * xs**2 - {fmt(L * 0.3)}, color=INK, lw=2)")
        shape = "a schematic curve (no equation could be read)"
    for q, x, y in given_pts:
        c.draw(dot(x, y, 0.07 * u * 1.5), line([(x, 0), (x, y), (0, y)], lw=1, color="GREY", dashed=True))
        c.value(q, x + 0.3 * u, y + 0.3 * u, ha="left", va="bottom")
        c.mark_used(q.symbol)
    for name, (x, y) in where.items():
        c.draw(dot(x, y, 0.1 * u))
        c.entity(name, x + 0.3 * u, y + 0.35 * u, ha="left", va="bottom")
    for name in ctx.entities:  # segments between drawn points: PF1, AB ...
        for cut in range(1, len(name)):
            a, b = name[:cut], name[cut:]
            if a in where and b in where:
                (x1, y1), (x2, y2) = where[a], where[b]
                c.entity(name, (x1 + x2) / 2 + 0.25 * u, (y1 + y2) / 2, ha="left", size=10)
    for x, y in ((-0.8 * L, -0.85 * L), (0.8 * L, -0.85 * L), (0.8 * L, 0.85 * L)):
        c.anchor(x, y)
    c.describe(f"A coordinate plane with x and y axes through the origin O and {shape}; given points "
               "marked with their coordinates.", "Square window centred on the origin, large enough for the "
               "curve and the given points; the equation in a box at the top left.",
               "No tick numbers: the figure must not let the reader read off the asked coordinates, "
               "intercepts or radius; only given points carry coordinates.")


_COLOURS = ("red", "blue", "green", "white", "black", "yellow", "orange", "purple")


_SET_SYMBOLS = re.compile(r"[∩∪⊂⊆∅]|\bP\s*\(")


@template("Math - Set & Probability", "Venn / tree diagram")
def _tpl_sets(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    if ctx.has("tree", "without replacement", "one after another", "successive", "coin", "drawn", "bag", "urn"):
        words = [w for w in _COLOURS if re.search(rf"\b{w}\b", ctx.low)][:2]
        coin = ctx.has("coin")
        letters = [e for e in ctx.entities if re.fullmatch(r"[A-Z]", e)]
        if coin:
            outcomes = ["H", "T"]
        elif len(words) == 2:
            outcomes = [w.capitalize() for w in words]
        elif letters:
            outcomes = [letters[0], f"not {letters[0]}"]
        else:
            c.decline("the problem names neither the outcomes nor the events of the stages a tree would show")
        c.specific = True  # the branches are the problem's outcomes
        step = "toss" if coin else "draw" if ctx.has("draw", "drawn", "bag", "urn") else "trial"
        c.draw(dot(1.0, 5.0, 0.12))
        c.block(0.8, 4.8, 1.2, 5.2)
        c.text(4.6, 9.6, f"1st {step}", size=11, va="top", nudge=False)
        c.text(8.2, 9.6, f"2nd {step}", size=11, va="top", nudge=False)
        for i, y1 in enumerate((7.2, 2.8)):
            c.draw(line([(1.0, 5.0), (4.2, y1)], lw=1.5), dot(4.2, y1, 0.1))
            c.text(4.45, y1, outcomes[i], ha="left", size=12, entity=outcomes[i] in ctx.entities)
            for j, y2 in enumerate((y1 + 1.3, y1 - 1.3)):
                c.draw(line([(5.9, y1), (7.8, y2)], lw=1.5), dot(7.8, y2, 0.1))
                c.text(8.05, y2, outcomes[j], ha="left", size=12, entity=outcomes[j] in ctx.entities)
        c.describe("A two-stage probability tree: a root, two branches for the first "
                   f"{step} and two more from each for the second, outcome names at the branch ends.",
                   "Tree grows left to right; stage headings along the top.",
                   "Branch probabilities are not written: they are part of the working, not the setting.")
        for x, y in ((0.6, 9.4), (0.6, 0.6), (2.6, 0.6)):
            c.anchor(x, y, ha="left")
        return
    if ctx.has("square", "rectangle", "triangle", "dartboard", "region", "circle") and not ctx.has("venn", " set"):
        _tpl_plane(c)
        c.notes.append("Geometric probability: the region is drawn as a plane figure.")
        return
    if not (ctx.has("venn", " set", "∩", "∪", "union", "intersect", "both", "neither", "either", "event",
                    "mutually", "complement", "p(") or _SET_SYMBOLS.search(text)):
        c.decline("the problem describes no sets or events that a Venn diagram or a probability tree shows")
    named = {m.group(2): m.group(1) for m in re.finditer(r"\b([A-Z][a-z]+)\s*\(([A-Z])\)", text)}
    sets = [e for e in ctx.entities if re.fullmatch(r"[A-Z]", e) and e not in ("U", "S", "Ω")]
    sets += [k for k in named if k not in sets and k not in ("U", "S")]
    n = 3 if len(sets) >= 3 else 2
    sets = (sets + ["A", "B", "C"][len(sets):])[:n] if len(sets) < n else sets[:n]
    c.draw("ax.add_patch(Rectangle((0.6, 1.2), 8.8, 7.6, fill=False, ec=INK, lw=1.6))")
    if n == 2:
        circles, spots = [(3.9, 5.0), (6.1, 5.0)], [(1.4, 8.2, "left"), (8.6, 8.2, "right")]
        rad = 2.3
    else:
        circles, spots = [(4.0, 5.7), (6.0, 5.7), (5.0, 3.9)], [(1.0, 8.2, "left"), (9.0, 8.2, "right"),
                                                                 (8.8, 1.6, "right")]
        rad = 2.0
    for (x, y), name, (lx, ly, ha) in zip(circles, sets, spots):
        c.draw(f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), {fmt(rad)}, fc=LIGHT, ec=INK, lw=1.6, alpha=0.6))")
        label = f"{name} ({named[name]})" if name in named else name
        if c.text(lx, ly, label, ha=ha, size=12, entity=True):
            c.mark_used(name)
    if "U" in ctx.entities:
        c.entity("U", 0.85, 1.4, ha="left", va="bottom")
    else:
        c.text(0.85, 1.4, "U", ha="left", va="bottom", size=12)
    for x, y in ((5.0, 9.4), (3.0, 9.4), (7.0, 9.4), (5.0, 0.5)):
        c.anchor(x, y)
    c.describe(f"A Venn diagram of {n} overlapping sets ({', '.join(sets)}) inside the universal set U.",
               "Universal rectangle fills the frame; set circles overlap in the middle, set names at "
               "the top corners outside the circles.",
               "Region counts are not filled in: working them out is the task.")
