"""Physics templates: mechanics, fields, optics, circuits, thermodynamics, waves, astronomy."""

from __future__ import annotations

import math
import re

from scigen_dagster.generation.rules.codegen import template
from scigen_dagster.generation.rules.context import SEGMENT_RE, Ctx, num
from scigen_dagster.generation.rules.layout import Canvas, dot, fmt, line, point_name, unit
from scigen_dagster.problems.quantities import Quantity, normalize_text


@template("Physics - Mechanical", "mechanics diagram")
def _tpl_mechanics(c: Canvas) -> None:
    ctx = c.ctx
    theta = next((q for q in ctx.quantities if q.unit == "°"), None)
    if ctx.has("pulley", "atwood"):
        c.draw("ax.add_patch(Rectangle((2.5, 9.2), 5, 0.3, fc=LIGHT, ec=INK, hatch='///'))",
               line([(5, 9.2), (5, 8.0)], lw=1.5), "ax.add_patch(Circle((5, 8.0), 0.8, fc='white', ec=INK, lw=1.8))",
               dot(5, 8.0), line([(4.2, 8.0), (4.2, 5.4)], lw=1.4), line([(5.8, 8.0), (5.8, 3.6)], lw=1.4),
               "ax.add_patch(Rectangle((3.5, 4.2), 1.4, 1.2, fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Rectangle((5.2, 2.6), 1.2, 1.0, fc=LIGHT, ec=INK, lw=1.6))")
        c.block(3.5, 4.2, 4.9, 5.4)
        c.block(5.2, 2.6, 6.4, 3.6)
        masses = [q for q in ctx.quantities if q.unit in ("kg", "g")]
        for q, (x, y, ha) in zip(masses, ((3.3, 4.8, "right"), (6.6, 3.1, "left"))):
            c.value(q, x, y, ha=ha)
        if not masses:
            c.text(3.3, 4.8, "m1", ha="right")
        if len(masses) < 2:
            c.text(6.6, 3.1, "m2", ha="left")
        shape = "an Atwood machine: a pulley hanging from a ceiling with two masses on one string"
        where = "Pulley at the top centre, masses hanging left and right."
    elif ctx.has("thrown", "projectile", "launched", "fired", "cliff", "kicked", "horizontally"):
        c.draw("ax.add_patch(Rectangle((0.4, 1.5), 2.2, 5.5, fc=LIGHT, ec=INK, lw=1.5))",
               line([(0.2, 1.5), (9.8, 1.5)], lw=1.8),
               "xs = np.linspace(2.6, 8.6, 60)", "ax.plot(xs, 7.0 - 5.5 * ((xs - 2.6) / 6.0) ** 2, color=INK, lw=1.6, ls=(0, (4, 3)))",
               "ax.add_patch(Circle((2.6, 7.0), 0.18, fc=INK))", "arrow(2.8, 7.0, 4.6, 7.0)", dot(8.6, 1.5),
               "arrow(0.2, 1.5, 0.2, 7.0, style='<|-|>', lw=1.2)")
        c.block(0.4, 1.5, 2.6, 7.0)
        c.slot(r"v0|v_0|u|v|v_i", 3.7, 7.35, va="bottom", default="v0")
        c.slot(r"h|H|y0|y_0", 0.45, 4.25, ha="left", default="h")
        c.slot(r"g", 6.8, 8.6, default=None)
        c.text(0.2, 0.9, "ground", ha="left", size=10, color="GREY")
        shape = "a projectile leaving the top of a cliff, its dashed path to the ground"
        where = "Cliff at the left, path curving down to the right."
    elif ctx.has("spring"):
        c.need("zigzag")
        c.draw("ax.add_patch(Rectangle((0.6, 2.0), 0.4, 4.0, fc=LIGHT, ec=INK, hatch='///'))",
               line([(1.0, 2.0), (9.5, 2.0)], lw=1.8), "zigzag(1.0, 3.2, 5.6, 3.2, n=10, amp=0.35)",
               "ax.add_patch(Rectangle((5.6, 2.0), 2.0, 2.4, fc=LIGHT, ec=INK, lw=1.6))")
        c.block(5.6, 2.0, 7.6, 4.4)
        c.slot(r"k", 3.3, 4.0, default="k")
        c.slot(r"m|M", 6.6, 4.7, va="bottom", default="m")
        c.slot(r"x|A|Δx", 6.6, 1.4, va="top")
        shape = "a block on a horizontal surface attached to a wall by a spring"
        where = "Wall at the left, spring in the middle, block at the right."
    else:
        ang = math.radians(min(60.0, max(15.0, num(theta, 30.0) or 30.0)))
        base = 7.6
        top = (1.0 + base, 1.5 + base * math.tan(ang))
        if top[1] > 8.0:
            base = 6.5 / math.tan(ang)
            top = (1.0 + base, 8.0)
        ux, uy = math.cos(ang), math.sin(ang)
        nx, ny = -uy, ux
        s, w = 0.45 * base / math.cos(ang), 1.3
        p0 = (1.0 + s * ux, 1.5 + s * uy)
        block = [p0, (p0[0] + w * ux, p0[1] + w * uy), (p0[0] + w * (ux + nx), p0[1] + w * (uy + ny)),
                 (p0[0] + w * nx, p0[1] + w * ny)]
        cx, cy = p0[0] + w / 2 * (ux + nx), p0[1] + w / 2 * (uy + ny)
        c.draw(f"ax.add_patch(Polygon([(1.0, 1.5), ({fmt(top[0])}, 1.5), ({fmt(top[0])}, {fmt(top[1])})], "
               "closed=True, fc=LIGHT, ec=INK, lw=1.8))",
               f"ax.add_patch(Polygon({[(round(x, 2), round(y, 2)) for x, y in block]!r}, closed=True, fc='white', ec=INK, lw=1.8))",
               f"ax.add_patch(Arc((1.0, 1.5), 2.4, 2.4, theta1=0, theta2={fmt(math.degrees(ang))}, color=INK, lw=1.3))",
               f"arrow({fmt(cx)}, {fmt(cy)}, {fmt(cx)}, {fmt(cy - 2.0)}, color=GREY)",
               f"arrow({fmt(cx)}, {fmt(cy)}, {fmt(cx + 1.6 * nx)}, {fmt(cy + 1.6 * ny)}, color=GREY)")
        c.block(min(p[0] for p in block), min(p[1] for p in block), max(p[0] for p in block), max(p[1] for p in block))
        c.slot(r"θ|α|φ", 2.5, 1.85, ha="left", default="θ")
        c.text(cx + 0.2, cy - 2.1, "mg", ha="left", va="top", color="GREY")
        c.text(cx + 1.75 * nx, cy + 1.75 * ny, "N", ha="right", va="bottom", color="GREY")
        if ctx.has("friction") and not ctx.has("frictionless", "smooth"):
            c.draw(f"arrow({fmt(p0[0])}, {fmt(p0[1] + 0.15)}, {fmt(p0[0] - 1.4 * ux)}, {fmt(p0[1] - 1.4 * uy + 0.15)}, color=GREY)")
            c.slot(r"μ|μ_k|μ_s|f", p0[0] - 1.7 * ux, p0[1] - 1.7 * uy + 0.6, default="f")
        c.slot(r"m|M", cx - 1.2 * nx - 0.4, cy - 1.2 * ny + 1.4, ha="right", default="m")
        c.slot(r"L|d|s|l", top[0] - 2.4, top[1] - 0.6, ha="right")
        shape = "a block on an inclined plane with the incline angle marked and its weight and normal force drawn"
        where = "Incline rising to the right across the frame, block half-way up."
    for x, y in ((0.8, 9.4), (9.2, 9.4), (9.2, 0.6)):
        c.anchor(x, y)
    c.describe(f"A mechanics diagram: {shape}.", where,
               "Only the given forces, masses and angles are labelled; the asked acceleration, tension or "
               "distance is not written.")


@template("Physics - Field Diagram", "field-line diagram")
def _tpl_field(c: Canvas) -> None:
    ctx = c.ctx
    if ctx.has("magnetic") or any(q.unit in ("T", "mT", "μT", "µT") for q in ctx.quantities):
        mark = "x" if ctx.has("into the page", "into the plane", "into page") or not ctx.has("out of") else "o"
        c.draw("for gx in np.arange(1.0, 9.6, 1.2):", "    for gy in np.arange(1.2, 9.0, 1.2):",
               f"        ax.plot(gx, gy, marker={mark!r}, color=GREY, ms=7, mew=1.4, ls='none')",
               "ax.add_patch(Circle((2.2, 4.2), 0.28, fc='white', ec=INK, lw=1.6, zorder=3))",
               "arrow(2.5, 4.2, 4.4, 4.2, lw=2)",
               "ax.add_patch(Arc((2.2, 6.2), 4.0, 4.0, theta1=-90, theta2=10, color=INK, lw=1.5, ls=(0, (4, 3))))")
        c.text(2.2, 4.2, "+" if ctx.has("proton", "positive", "alpha", "ion") else "q", size=12, nudge=False, force=True)
        c.text(0.5, 9.7, "B into the page" if mark == "x" else "B out of the page", ha="left", va="top", size=10)
        c.slot(r"B|B0", 0.5, 9.05, ha="left", va="top", boxed=True)
        c.slot(r"v|v0|u", 3.5, 3.6, va="top", default="v", boxed=True)
        c.slot(r"q|e|Q", 2.2, 2.6, va="top", boxed=True)
        shape = "a uniform magnetic field drawn as a grid of field symbols with a charged particle entering it"
        where = "Field marks fill the frame; the particle and its velocity arrow at the lower left."
    elif ctx.has("plate", "capacitor", "uniform electric", "uniform field"):
        c.draw("ax.add_patch(Rectangle((0.8, 7.4), 6.4, 0.35, fc=LIGHT, ec=INK, lw=1.5))",
               "ax.add_patch(Rectangle((0.8, 2.25), 6.4, 0.35, fc=LIGHT, ec=INK, lw=1.5))",
               "for gx in np.linspace(1.5, 6.5, 6):",
               "    arrow(gx, 7.3, gx, 2.7, color=GREY, lw=1.3)",
               "arrow(7.6, 2.6, 7.6, 7.4, style='<|-|>', lw=1.2)")
        top_pos = not ctx.has("lower plate positive", "bottom plate positive")
        for x in (1.2, 2.6, 4.0, 5.4, 6.8):
            c.text(x, 7.95, "+" if top_pos else "−", size=13, va="bottom", nudge=False)
            c.text(x, 2.05, "−" if top_pos else "+", size=13, va="top", nudge=False)
        c.block(0.8, 2.25, 7.2, 7.75)
        c.slot(r"d|s", 7.8, 5.0, ha="left", default="d")
        c.slot(r"V|ΔV|U|ε", 7.5, 8.6, ha="left")
        c.text(4.0, 1.0, "E", size=12)
        shape = "two parallel charged plates with uniform field arrows between them"
        where = "Plates across the frame, gap marked at the right."
    else:
        charges = [q for q in ctx.quantities if re.search(r"C$", q.unit) or re.fullmatch(r"[qQ]\d?", q.symbol)][:2]
        signs = []
        for i in range(2):
            q = charges[i] if i < len(charges) else None
            neg = q is not None and q.value.startswith(("-", "−"))
            raw = normalize_text(q.text) if q is not None else ""
            if q is None:
                neg = i == 1 and not ctx.has("like charges", "two positive", "both positive")
            elif "−" not in raw and "-" not in raw and "+" not in raw and ctx.has("negative") and i == 1:
                neg = True
            mag = abs(num(q, 1.0) or 1.0)
            signs.append((-1 if neg else 1) * mag)
        big = max(abs(s) for s in signs)
        signs = [math.copysign(max(0.25, abs(s) / big), s) for s in signs]
        c.draw("xs, ys = np.meshgrid(np.linspace(0, 10, 120), np.linspace(0, 10, 120))",
               f"Q = [(3.0, 5.0, {signs[0]:.3g}), (7.0, 5.0, {signs[1]:.3g})]",
               "Ex = sum(q * (xs - x) / np.hypot(xs - x, ys - y) ** 3 for x, y, q in Q)",
               "Ey = sum(q * (ys - y) / np.hypot(xs - x, ys - y) ** 3 for x, y, q in Q)",
               "ax.streamplot(xs, ys, Ex, Ey, color=GREY, density=1.1, linewidth=1, arrowsize=1)",
               "for x, y, q in Q:",
               "    ax.add_patch(Circle((x, y), 0.38, fc='white', ec=INK, lw=1.8, zorder=3))")
        for (x, s), q in zip(((3.0, signs[0]), (7.0, signs[1])), charges + [None, None]):
            c.text(x, 5.0, "+" if s > 0 else "−", size=15, nudge=False, force=True, bold=True)
            c.block(x - 0.45, 4.55, x + 0.45, 5.45)
            if q is not None:
                c.value(q, x, 6.0, va="bottom", boxed=True, size=10)
        pts = [p for p in ctx.points() if p not in ("O",)][:2]
        for name, x in zip(pts, (3.0, 7.0)):
            point_name(c, name, x, 4.1, va="top", boxed=True)
        for q in ctx.quantities:
            if SEGMENT_RE.fullmatch(q.symbol or "-") or q.symbol in ("d", "r", "L"):
                c.draw("arrow(3.0, 2.6, 7.0, 2.6, style='<|-|>', lw=1.2)")
                c.value(q, 5.0, 2.2, va="top", boxed=True)
                break
        shape = "two point charges with the electric field lines of the pair"
        where = "Charges on a horizontal line, field lines filling the frame."
    for x, y in ((0.6, 0.5), (9.4, 0.5), (9.4, 9.5)):
        c.anchor(x, y)
    c.describe(f"A field diagram: {shape}.", where,
               "Field lines are computed from the charge signs and relative sizes; the asked field "
               "strength, radius or null point is not marked.")


def _ray_end(p: tuple[float, float], d: tuple[float, float], lo: float = 0.2, hi: float = 9.8) -> tuple[float, float]:
    """Where the ray from ``p`` along ``d`` leaves the frame [lo, hi]^2."""
    ts = []
    for k in (0, 1):
        if d[k] > 1e-9:
            ts.append((hi - p[k]) / d[k])
        elif d[k] < -1e-9:
            ts.append((lo - p[k]) / d[k])
    t = max(0.0, min(ts)) if ts else 0.0
    return p[0] + t * d[0], p[1] + t * d[1]


@template("Physics - Optical Ray", "ray diagram")
def _tpl_optics(c: Canvas) -> None:
    ctx = c.ctx
    f = abs(num(next(iter(ctx.find(r"f|F|f_\w+")), None), 0.0) or 0.0)
    u = abs(num(next(iter(ctx.find(r"u|d_o|do|s|x|d")), None), 0.0) or 0.0)
    if ctx.has("refract", "snell", "refractive index", "glass block", "interface") and not ctx.has("lens", "mirror"):
        t1 = num(next(iter(ctx.find(r"θ1|θ_1|θ|i|α|θi|θ_i")), None), 40.0) or 40.0
        n = num(next(iter(ctx.find(r"n|n2|n_2|μ")), None), None)
        t1 = min(75.0, max(10.0, t1))
        t2 = math.degrees(math.asin(min(1.0, math.sin(math.radians(t1)) / n))) if n and n > 0 else 0.65 * t1
        medium = "glass" if ctx.has("glass") else "water" if ctx.has("water") else "medium"
        a1, a2 = math.radians(90 + t1), math.radians(-90 + t2)
        p1 = (5 + 4.2 * math.cos(a1), 5 + 4.2 * math.sin(a1))
        p2 = (5 + 4.2 * math.cos(a2), 5 + 4.2 * math.sin(a2))
        c.draw("ax.add_patch(Rectangle((0.2, 0.6), 9.6, 4.4, fc=LIGHT, ec='none'))", line([(0.2, 5), (9.8, 5)], lw=1.6),
               line([(5, 0.8), (5, 9.2)], lw=1.1, color="GREY", dashed=True),
               f"arrow({fmt(p1[0])}, {fmt(p1[1])}, 5, 5, lw=1.8)", f"arrow(5, 5, {fmt(p2[0])}, {fmt(p2[1])}, lw=1.8)",
               f"ax.add_patch(Arc((5, 5), 3.0, 3.0, theta1=90, theta2={fmt(90 + t1)}, color=INK, lw=1.2))",
               f"ax.add_patch(Arc((5, 5), 3.0, 3.0, theta1=-90, theta2={fmt(-90 + t2)}, color=INK, lw=1.2))")
        c.text(9.6, 9.4, "air", ha="right", va="top", size=12)
        c.text(9.6, 1.0, medium, ha="right", va="bottom", size=12)
        c.text(5.15, 9.3, "normal", ha="left", va="top", size=10, color="GREY")
        m1, m2 = math.radians(90 + t1 / 2), math.radians(-90 + t2 / 2)
        c.slot(r"θ1|θ_1|θ|i|α|θi|θ_i", 5 + 2.0 * math.cos(m1), 5 + 2.0 * math.sin(m1) + 0.15, ha="right", default="θ1")
        c.slot(r"θ2|θ_2|r|β|θr|θ_r", 5 + 2.0 * math.cos(m2) + 0.1, 5 + 2.0 * math.sin(m2), ha="left", default="θ2")
        c.slot(r"n|n2|n_2|μ", 1.0, 1.6, ha="left", va="bottom")
        c.slot(r"n1|n_1", 1.0, 8.4, ha="left", va="top")
        shape = "a ray refracting at a flat interface, with the normal and the angles to it"
        where = "Interface across the middle, upper medium air, lower medium shaded."
    elif ctx.has("mirror"):
        R = abs(num(next(iter(ctx.find(r"R|r|R_c")), None), 0.0) or 0.0) or 2 * f
        scale = 7.6 / max(u, R, 1e-9) if (u or R) else 0.0
        Rx = min(7.0, max(2.6, R * scale)) if R else 5.0
        ux_ = min(7.9, max(1.0, u * scale)) if u else 6.5
        pole, cx = 8.8, 8.8 - Rx
        half = math.degrees(math.asin(min(0.95, 3.4 / Rx)))
        ox, h = pole - ux_, 1.5
        mx = cx + math.sqrt(Rx * Rx - h * h)
        fx = pole - Rx / 2
        end1 = _ray_end((mx, 5 + h), unit(fx - mx, -h))
        c.draw(f"ax.add_patch(Arc(({fmt(cx)}, 5), {fmt(2 * Rx)}, {fmt(2 * Rx)}, theta1={fmt(-half)}, "
               f"theta2={fmt(half)}, color=INK, lw=2.4))", line([(0.2, 5), (9.8, 5)], lw=1.0, color="GREY"),
               f"arrow({fmt(ox)}, 5, {fmt(ox)}, {fmt(5 + h)}, lw=2)",
               line([(ox, 5 + h), (mx, 5 + h), end1], lw=1.3),
               *[dot(x, 5, 0.07) for x in (cx, fx)])
        for name, x, ha in (("C", cx, "center"), ("F", fx, "center"), ("P", pole + 0.15, "left")):
            point_name(c, name, x, 4.75, va="top", ha=ha)
        c.slot(r"h|h_o|ho|y", ox + 0.15, 5 + h / 2, ha="left")
        if R:
            c.draw(f"arrow({fmt(cx)}, 3.4, {fmt(pole)}, 3.4, style='<|-|>', lw=1.1)")
            c.slot(r"R|r|R_c", (cx + pole) / 2, 3.25, va="top")
        if u:
            c.draw(f"arrow({fmt(ox)}, 2.2, {fmt(pole)}, 2.2, style='<|-|>', lw=1.1)")
            c.slot(r"u|d_o|do|s|x|d", (ox + pole) / 2, 2.05, va="top")
        c.slot(r"f", fx, 6.0, va="bottom")
        shape = "a concave mirror on its principal axis with C, F and the pole P, an object arrow and a ray parallel to the axis reflected through F"
        where = "Axis across the middle, mirror at the right, object at the left."
    else:
        if not ctx.has("lens", "focal", "converging", "diverging", "convex", "magnif", "projector", "camera",
                       "eyepiece", "telescope", "microscope", "spectacle"):
            c.decline("the problem describes no refraction, mirror or lens that the ray template draws")
        diverging = ctx.has("diverging", "concave lens")
        scale = 4.2 / max(u, 1.25 * f, 1e-9) if (u or f) else 0.0
        fx = min(4.4, max(1.0, f * scale)) if f else 2.0
        ux_ = min(4.6, max(0.8, u * scale)) if u else 3.4
        ox, h = 5 - ux_, 1.6
        through = (5 + fx, 5) if not diverging else (5 - fx, 5)
        d1 = unit(through[0] - 5, through[1] - 5 - h) if not diverging else unit(5 - through[0], h)
        end1 = _ray_end((5, 5 + h), d1)
        end2 = _ray_end((ox, 5 + h), unit(5 - ox, -h))
        lens = ("ax.add_patch(Ellipse((5, 5), 0.5, 6.4, fc=LIGHT, ec=INK, lw=1.6))" if not diverging else
                "ax.plot([4.7, 5.3, 5, 5, 4.7, 5.3], [8.4, 8.4, 8.2, 1.8, 1.6, 1.6], color=INK, lw=1.6)")
        c.draw(lens, line([(0.2, 5), (9.8, 5)], lw=1.0, color="GREY"),
               f"arrow({fmt(ox)}, 5, {fmt(ox)}, {fmt(5 + h)}, lw=2)",
               line([(ox, 5 + h), (5, 5 + h), end1], lw=1.3), line([(ox, 5 + h), end2], lw=1.3),
               dot(5 - fx, 5, 0.07), dot(5 + fx, 5, 0.07))
        c.block(4.7, 1.7, 5.3, 8.3)
        c.text(5 - fx, 4.75, "F", va="top", size=12)
        c.text(5 + fx, 4.75, "F′", va="top", size=12)
        c.slot(r"h|h_o|ho|y", ox + 0.15, 5 + h / 2, ha="left")
        if u:
            c.draw(f"arrow({fmt(ox)}, 3.2, 5, 3.2, style='<|-|>', lw=1.1)")
            c.slot(r"u|d_o|do|s|x|d", (ox + 5) / 2, 3.05, va="top")
        if f:
            c.draw(f"arrow(5, 2.0, {fmt(5 + fx)}, 2.0, style='<|-|>', lw=1.1)")
            c.slot(r"f|F|f_\w+", 5 + fx / 2, 1.85, va="top")
        shape, where = (f"a {'diverging' if diverging else 'converging'} lens on its principal axis with both focal "
                        "points, an upright object arrow and two principal rays"), "Axis across the middle, lens at the centre, object at the left."
    for x, y in ((0.6, 9.5), (0.6, 0.4), (9.4, 0.4)):
        c.anchor(x, y)
    c.describe(f"A ray diagram: {shape}.", where,
               "Distances are drawn to scale from the given values where possible; the image and "
               "the asked distance or angle are not labelled.")


_OHMS = ("Ω", "kΩ", "MΩ", "mΩ")
_FARADS = ("F", "mF", "μF", "µF", "uF", "nF", "pF")
_HENRYS = ("H", "mH", "μH", "µH")


def _circuit_parts(ctx: Ctx) -> tuple[list[tuple[str, str, Quantity | None]], Quantity | None]:
    """Components (kind R/C/L/S, symbol, value) in order of mention, and the source."""
    parts: list[tuple[str, str, Quantity | None]] = []
    source = None
    for q in ctx.quantities:
        sym, unit = q.symbol, q.unit
        kind = ("R" if unit in _OHMS or re.fullmatch(r"R\w*|r", sym) and unit not in ("V", "A") else
                "C" if unit in _FARADS or re.fullmatch(r"C\d*|C_\w+", sym) and unit in _FARADS else
                "L" if unit in _HENRYS else "")
        if kind and (not sym or sym not in [p[1] for p in parts]):
            parts.append((kind, sym, q))
        elif source is None and unit in ("V", "kV", "mV") and re.fullmatch(r"ε\d*|E|emf|V0?|V_s|Vs|ℰ", sym or "ε"):
            source = q
    for name in ctx.entities:
        m = re.fullmatch(r"([RCLS])\d*", name)
        if m and name not in [p[1] for p in parts]:
            parts.append((m.group(1), name, None))
    kinds = [p[0] for p in parts]
    if ctx.has("switch") and "S" not in kinds:
        parts.append(("S", "S", None))
    if ctx.has("rlc", "lcr"):
        for k in "RLC":
            if k not in kinds:
                parts.append((k, k, None))
    if not any(p[0] in "RCL" for p in parts):
        parts.insert(0, ("R", "R", None))
    return parts[:7], source


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNTED = re.compile(r"\b(" + "|".join(_COUNT_WORDS) + r")\s+(?:identical\s+|equal\s+|similar\s+)?"
                      r"(?:resistors|capacitors|bulbs|lamps|cells|batteries|inductors)")


@template("Physics - Circuit", "circuit diagram")
def _tpl_circuit(c: Canvas) -> None:
    ctx = c.ctx
    for name in ("zigzag", "plates", "coil", "switch"):
        c.need(name)
    parts, source = _circuit_parts(ctx)
    x0, x1, y0, y1 = 1.2, 7.2, 2.0, 8.0
    parallel = ctx.has("parallel") and len(parts) >= 2
    series = parts[:-2] if parallel else parts
    capacity = 4 if parallel else 5
    counted = _COUNTED.search(ctx.low)
    wanted = _COUNT_WORDS.get(counted.group(1), 0) if counted else 0
    if len(series) > capacity or wanted > max(len(parts), 1) or (parallel and wanted > 2):
        c.decline(f"the problem has {max(len(parts), wanted)} components (or more than two in parallel); "
                  f"the template's loop draws {capacity} in series and two in parallel")
    slots = [((2.2, y1), (3.8, y1), "top"), ((4.6, y1), (6.2, y1), "top"),
             ((6.2, y0), (4.6, y0), "bottom"), ((3.8, y0), (2.2, y0), "bottom")]
    if not parallel:
        slots.insert(2, ((x1, 5.9), (x1, 4.1), "right"))
    placed = list(zip(series, slots))  # parts beyond the slots stay in the Given box
    gaps = {"left": [(4.3, 5.7)], "top": [], "bottom": [], "right": []}
    for _, (a, b, side) in placed:
        gaps[side].append(tuple(sorted((a[0], b[0]) if side in ("top", "bottom") else (a[1], b[1]))))
    if parallel:
        gaps["right"].append((3.6, 6.4))
    for side, (start, end) in (("left", ((x0, y0), (x0, y1))), ("top", ((x0, y1), (x1, y1))),
                               ("right", ((x1, y0), (x1, y1))), ("bottom", ((x0, y0), (x1, y0)))):
        k = 1 if side in ("left", "right") else 0
        pos = start[k]
        for lo, hi in sorted(gaps[side]) + [(end[k], end[k])]:
            a, b = list(start), list(start)
            a[k], b[k] = pos, lo
            if lo > pos:
                c.draw(line([tuple(a), tuple(b)]))
            pos = hi
    code = {"R": "zigzag", "C": "plates", "L": "coil", "S": "switch"}

    def put(part, a, b, lx, ly, ha, va):
        kind, sym, q = part
        c.draw(f"{code[kind]}({fmt(a[0])}, {fmt(a[1])}, {fmt(b[0])}, {fmt(b[1])})")
        c.block(min(a[0], b[0]) - 0.3, min(a[1], b[1]) - 0.3, max(a[0], b[0]) + 0.3, max(a[1], b[1]) + 0.3)
        if q is not None:
            c.value(q, lx, ly, ha=ha, va=va, size=10)
        elif sym in ctx.entities:
            c.entity(sym, lx, ly, ha=ha, va=va, size=11)
        else:
            c.text(lx, ly, sym, ha=ha, va=va)

    for part, (a, b, side) in placed:
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        if side == "top":
            put(part, a, b, mx, my + 0.5, "center", "bottom")
        elif side == "bottom":
            put(part, a, b, mx, my - 0.5, "center", "top")
        else:
            put(part, a, b, mx + 0.75, my, "left", "center")
    if parallel:
        bx = (6.4, 8.0)
        c.draw(line([(x1, 6.4), (bx[0], 6.4), (bx[0], 5.9)]), line([(x1, 6.4), (bx[1], 6.4), (bx[1], 5.9)]),
               line([(bx[0], 4.1), (bx[0], 3.6), (bx[1], 3.6), (bx[1], 4.1)]),
               dot(x1, 6.4, 0.08), dot(x1, 3.6, 0.08))
        put(parts[-2], (bx[0], 5.9), (bx[0], 4.1), bx[0] - 0.4, 5.0, "right", "center")
        put(parts[-1], (bx[1], 5.9), (bx[1], 4.1), bx[1] + 0.35, 5.0, "left", "center")
    if ctx.has("ac ", "a.c.", "alternating", "ac source", "ac voltage"):
        c.draw(line([(x0, 4.3), (x0, 5.7)], lw=1.8), f"ax.add_patch(Circle(({x0}, 5.0), 0.5, fc='white', ec=INK, lw=1.8, zorder=3))",
               f"xs = np.linspace({x0 - 0.3}, {x0 + 0.3}, 30)", "ax.plot(xs, 5.0 + 0.15 * np.sin((xs - xs[0]) / 0.6 * 2 * np.pi), color=INK, lw=1.4, zorder=4)")
    else:
        c.draw(f"plates({x0}, 4.3, {x0}, 5.7, long=0.5, short=0.25)")
        c.text(x0 - 0.6, 4.8, "+", size=12, ha="center", va="top")
    c.block(x0 - 0.6, 4.2, x0 + 0.6, 5.8)
    if source is not None:
        c.value(source, x0 + 0.7, 5.0, ha="left", size=10)
    else:
        c.text(x0 + 0.7, 5.0, "ε", ha="left")
    for x, y in ((0.5, 9.4), (9.5, 9.4), (9.5, 0.6), (0.5, 0.6)):
        c.anchor(x, y)
    names = ", ".join(p[1] or p[0] for p in parts)
    c.describe(f"A circuit diagram: a source and {len(parts)} component(s) ({names}) on a rectangular loop"
               + (", the last two in parallel branches" if parallel else "") + "; standard symbols (zigzag "
               "resistors, plate capacitors, coil inductors, open switch).",
               "Source on the left side of the loop; components along the top, right and bottom sides; "
               "each label beside its symbol.",
               "Currents and voltages asked for are not written; no current direction is implied.")


_VOLUME_UNITS = ("L", "mL", "ml", "m³", "m^3", "cm³", "cm^3", "dm³", "m3")
_PRESSURE_UNITS = ("Pa", "kPa", "MPa", "atm", "bar", "mbar", "mmHg", "torr", "Torr", "N/m²", "psi")


def _axis_positions(values: list[Quantity], lo: float = 2.0, hi: float = 8.0) -> list[tuple[Quantity, float]]:
    """Given values mapped linearly onto [lo, hi] (to scale when they are plain numbers)."""
    nums = [(q, num(q)) for q in values]
    known = [v for _, v in nums if v is not None]
    if len(known) >= 2 and max(known) > min(known):
        a, b = min(known), max(known)
        return [(q, lo + (v - a) / (b - a) * (hi - lo) if v is not None else lo) for q, v in nums]
    return [(q, lo + i * (hi - lo) / max(1, len(values) - 1)) for i, (q, _) in enumerate(nums)]


@template("Physics - Thermodynamic", "thermodynamics diagram")
def _tpl_thermo(c: Canvas) -> None:
    ctx = c.ctx
    if ctx.has("engine", "reservoir", "refrigerator", "heat pump") and not ctx.has("p-v", "p–v", "pv diagram", "pressure-volume"):
        fridge = ctx.has("refrigerator", "heat pump")
        c.draw("ax.add_patch(FancyBboxPatch((2.0, 8.0), 6.0, 1.4, boxstyle='round,pad=0.05', fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(FancyBboxPatch((2.0, 0.6), 6.0, 1.4, boxstyle='round,pad=0.05', fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Circle((5.0, 5.0), 1.2, fc='white', ec=INK, lw=1.8))",
               "arrow(5.0, 7.9, 5.0, 6.3, lw=2.5)" if not fridge else "arrow(5.0, 6.3, 5.0, 7.9, lw=2.5)",
               "arrow(5.0, 3.7, 5.0, 2.1, lw=2.5)" if not fridge else "arrow(5.0, 2.1, 5.0, 3.7, lw=2.5)",
               "arrow(6.3, 5.0, 8.6, 5.0, lw=2.5)" if not fridge else "arrow(8.6, 5.0, 6.3, 5.0, lw=2.5)")
        c.text(5.0, 9.05, "Hot reservoir", size=11, nudge=False)
        c.text(5.0, 1.55, "Cold reservoir", size=11, nudge=False)
        c.text(5.0, 5.0, "Pump" if fridge else "Engine", size=11, nudge=False)
        c.slot(r"T_H|TH|T_h|T1|T_1|T_hot", 5.0, 8.45, size=10, default="T_H", nudge=False)
        c.slot(r"T_C|TC|T_c|T2|T_2|T_cold", 5.0, 1.05, size=10, default="T_C", nudge=False)
        c.block(2.0, 8.0, 8.0, 9.4)
        c.block(2.0, 0.6, 8.0, 2.0)
        c.block(3.8, 3.8, 6.2, 6.2)
        c.slot(r"Q_H|QH|Q_h|Q1|Q_1|Q_in", 5.3, 7.1, ha="left", default="Q_H")
        c.slot(r"Q_C|QC|Q_c|Q2|Q_2|Q_out", 5.3, 2.9, ha="left", default="Q_C")
        c.slot(r"W|W_out|W_in", 7.4, 5.35, va="bottom", default="W")
        shape, where = (f"an energy-flow diagram of a {'heat pump' if fridge else 'heat engine'}: hot and cold "
                        "reservoirs, the device between them, heat and work arrows"), "Hot reservoir at the top, cold at the bottom, device in the middle, work to the right."
    elif ctx.has("heating curve", "melting", "boiling", "phase change", "latent"):
        c.frame((0, 10), (0, 10), axes=True, equal=False, xlabel="Time", ylabel="Temperature")
        c.ticks("x", [])
        temps = [q for q in ctx.quantities if q.unit in ("°C", "K", "℃")]
        marks = _axis_positions(temps[:4], 1.5, 7.5) if temps else []
        c.ticks("y", [(y, q.label()) for q, y in marks])
        lv = sorted(y for _, y in marks)
        lv = lv if len(lv) >= 3 else [1.5, 3.5, 6.5]
        c.draw(f"ax.plot([0.5, 2.5, 4.5, 5.5, 8.0, 9.0], [{fmt(lv[0])}, {fmt(lv[1])}, {fmt(lv[1])}, "
               f"{fmt(lv[2])}, {fmt(lv[2])}, {fmt(min(9.6, lv[2] + 2.0))}], color=INK, lw=2)")
        c.text(3.5, lv[1] + 0.3, "melting", va="bottom", size=10)
        c.text(6.75, lv[2] + 0.3, "boiling", va="bottom", size=10)
        shape, where = "a heating curve: temperature against time with two plateaus", "Temperature up, time across."
    else:
        vols = [q for q in ctx.quantities if q.unit in _VOLUME_UNITS or re.fullmatch(r"V\d|V_\w+", q.symbol)]
        pres = [q for q in ctx.quantities if q.unit in _PRESSURE_UNITS or re.fullmatch(r"[Pp]\d|[Pp]_\w+", q.symbol)]
        vunit = next((q.unit for q in vols if q.unit), "")
        punit = next((q.unit for q in pres if q.unit), "")
        c.frame((0, 10), (0, 10), axes=True, equal=False, xlabel=f"V ({vunit})" if vunit else "V",
                ylabel=f"P ({punit})" if punit else "P")
        vx = [x for _, x in _axis_positions(vols[:2], 2.5, 7.5)] or [2.5, 7.5]
        py = [y for _, y in _axis_positions(pres[:2], 2.5, 7.5)] or [2.5, 7.5]
        vx, py = (vx + [7.5])[:2], (py + [7.5])[:2]
        c.ticks("x", [(x, q.symbol or q.label()) for (q, _), x in zip(_axis_positions(vols[:2], 2.5, 7.5), vx)])
        c.ticks("y", [(y, q.symbol or q.label()) for (q, _), y in zip(_axis_positions(pres[:2], 2.5, 7.5), py)])
        states = [e for e in ctx.entities if re.fullmatch(r"[A-D]", e)]
        if ctx.has("cycle", "→a", "->a", "cyclic") or len(states) >= 3:
            (xa, xb), (ya, yb) = sorted(vx), sorted(py)
            corners = [(xa, ya), (xa, yb), (xb, yb), (xb, ya)]
            c.draw(line(corners, closed=True, lw=2),
                   *[f"arrow({fmt(x0)}, {fmt(y0)}, {fmt(x0 + 0.55 * (x1 - x0))}, {fmt(y0 + 0.55 * (y1 - y0))}, lw=2)"
                     for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1])],
                   line([(xa, 0), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   line([(xb, 0), (xb, ya)], lw=0.8, color="GREY", dashed=True),
                   line([(0, ya), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   line([(0, yb), (xa, yb)], lw=0.8, color="GREY", dashed=True))
            names = states[:4] if len(states) >= 4 else ["A", "B", "C", "D"]
            for name, (x, y), (dx, dy) in zip(names, corners, ((-0.35, -0.45), (-0.35, 0.45), (0.35, 0.45), (0.35, -0.45))):
                point_name(c, name, x + dx, y + dy, size=12) if name in ctx.entities else c.text(x + dx, y + dy, name, size=12)
            shape = "a rectangular cycle on a P-V diagram with direction arrows and the state corners labelled"
        else:
            k = {"isotherm": 1.0, "adiabat": 1.4}
            gamma = next((v for w, v in k.items() if ctx.has(w)), None)
            xa, xb = sorted(vx)
            ya = 8.0
            if gamma is None and ctx.has("isobaric", "constant pressure"):
                c.draw(f"arrow({fmt(xa)}, {fmt(ya - 2)}, {fmt(xb)}, {fmt(ya - 2)}, lw=2)")
                yb, ya = ya - 2, ya - 2
            elif gamma is None and ctx.has("isochoric", "constant volume"):
                c.draw(f"arrow({fmt(xa)}, 3.0, {fmt(xa)}, 8.0, lw=2)")
                xb, yb = xa, 3.0
                ya = 8.0
            else:
                g = gamma or 1.0
                yb = ya * (xa / xb) ** g
                c.draw(f"vs = np.linspace({fmt(xa)}, {fmt(xb)}, 80)",
                       f"ax.plot(vs, {fmt(ya)} * ({fmt(xa)} / vs) ** {g}, color=INK, lw=2)",
                       f"arrow({fmt((xa + xb) / 2 - 0.1)}, {fmt(ya * (xa / ((xa + xb) / 2 - 0.1)) ** g)}, "
                       f"{fmt((xa + xb) / 2 + 0.1)}, {fmt(ya * (xa / ((xa + xb) / 2 + 0.1)) ** g)}, lw=2)")
            c.draw(line([(xa, 0), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   line([(xb, 0), (xb, yb)], lw=0.8, color="GREY", dashed=True), dot(xa, ya, 0.08), dot(xb, yb, 0.08))
            for name, (x, y) in zip((states + ["A", "B"])[:2] if states else ["A", "B"], ((xa, ya), (xb, yb))):
                (point_name(c, name, x + 0.3, y + 0.4, ha="left") if name in ctx.entities
                 else c.text(x + 0.3, y + 0.4, name, ha="left", size=12))
            c.slot(r"T|T_?\d|T_\w+", (xa + xb) / 2 + 0.3, (ya + yb) / 2 + 0.8, ha="left", size=10)
            shape = "a P-V diagram of the process between the two given states"
        where = "P up, V across; the given volumes and pressures mark the axes; states at the curve ends."
    for x, y in ((9.5, 9.5), (9.5, 0.5)):
        c.anchor(x, y, ha="right")
    c.describe(f"A thermodynamics diagram: {shape}.", where,
               "The asked work, heat or efficiency is not written; no shaded work area is labelled with a value.")


_ORDINALS = {"fundamental": 1, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}


@template("Physics - Waveform", "waveform sketch")
def _tpl_wave(c: Canvas) -> None:
    ctx = c.ctx
    if ctx.has("standing", "harmonic", "fixed at both ends", "node", "overtone", "resonan"):
        n = next((v for w, v in _ORDINALS.items() if re.search(rf"\b{w}\b", ctx.low)), 2)
        m = re.search(r"\bn\s*=\s*(\d)\b", ctx.low)
        n = int(m.group(1)) if m and 1 <= int(m.group(1)) <= 6 else n
        c.draw("ax.add_patch(Rectangle((0.6, 3.6), 0.4, 2.8, fc=LIGHT, ec=INK, hatch='///'))",
               "ax.add_patch(Rectangle((9.0, 3.6), 0.4, 2.8, fc=LIGHT, ec=INK, hatch='///'))",
               "xs = np.linspace(1, 9, 400)",
               f"ax.plot(xs, 5 + 1.8 * np.sin({n} * np.pi * (xs - 1) / 8), color=INK, lw=2)",
               f"ax.plot(xs, 5 - 1.8 * np.sin({n} * np.pi * (xs - 1) / 8), color=GREY, lw=1.4, ls=(0, (4, 3)))",
               "arrow(1, 2.2, 9, 2.2, style='<|-|>', lw=1.1)")
        for k in range(n + 1):
            x = 1 + 8 * k / n
            c.draw(dot(x, 5, 0.08))
            if "N" in ctx.entities and "N" not in c.used_entities:
                c.entity("N", x, 4.6, va="top", nudge=False)
            else:
                c.text(x, 4.6, "N", va="top", size=11, nudge=False)
        for k in range(n):
            c.text(1 + 8 * (k + 0.5) / n, 7.1, "A", va="bottom", size=11, nudge=False)
        c.slot(r"L|l", 5, 2.0, va="top", default="L")
        shape = f"a standing wave on a string fixed at both ends ({n} loop(s)), nodes N and antinodes A marked"
        where = "String across the frame between two clamps; envelope above and below; length marked underneath."
    else:
        timey = ctx.has("oscilloscope", "against time", "versus time", "vs time", "period", "alternating", "ac ")
        tq = next(iter(ctx.find(r"T|τ|t")), None) if timey else next(iter(ctx.find(r"λ|L")), None)
        xunit = tq.unit if tq is not None and tq.unit else ""
        yname = "V" if ctx.has("voltage", "emf") else "I" if ctx.has("current") else "y"
        aq = next(iter(ctx.find(r"A|A0|V0|V_0|Vm|V_m|V_max|V_peak|I0|I_0|y0|y_m|E0|x0")), None)
        yunit = aq.unit if aq is not None and aq.unit else ""
        xname = "t" if timey else "x"
        c.frame((0, 10), (-2.3, 2.8), axes=True, equal=False, xlabel=f"{xname} ({xunit})" if xunit else xname,
                ylabel=f"{yname} ({yunit})" if yunit else yname)
        c.ticks("x", [])
        c.ticks("y", [])
        c.draw("ax.axhline(0, color=GREY, lw=0.8)", "xs = np.linspace(0, 9.6, 400)",
               "ax.plot(xs, 1.5 * np.sin(2 * np.pi * (xs - 0) / 4), color=INK, lw=2)",
               "arrow(1, 0, 1, 1.5, style='<|-|>', lw=1.1)", "arrow(1, 1.95, 5, 1.95, style='<|-|>', lw=1.1)",
               line([(1, 1.5), (1, 2.1)], lw=0.8, color="GREY", dashed=True),
               line([(5, 1.5), (5, 2.1)], lw=0.8, color="GREY", dashed=True))
        c.slot(r"A|A0|V0|V_0|Vm|V_m|V_max|V_peak|I0|I_0|y0|y_m|E0|x0", 1.2, 0.75, ha="left", size=10, default="A")
        c.slot(r"T|τ" if timey else r"λ|L", 3.0, 2.05, va="bottom", size=10, default="T" if timey else "λ")
        if not timey and ctx.has("travel", "to the right", "propagat"):
            c.draw("arrow(7.0, 2.25, 8.6, 2.25, lw=1.4)")
            c.text(7.8, 2.4, "direction of travel", va="bottom", size=9)
        shape = (f"{'a sinusoidal signal against time' if timey else 'a snapshot of a sinusoidal wave'} over two "
                 f"cycles, amplitude and {'period' if timey else 'wavelength'} marked")
        where = "Axes kept (plot); the curve spans the width; marks at the first crest."
    c.describe(f"A waveform sketch: {shape}.", where,
               "No tick numbers; only given amplitude, wavelength or period values are written; the asked "
               "speed, frequency or rms value is not.")


@template("Physics - Astronomical", "orbit diagram")
def _tpl_astro(c: Canvas) -> None:
    ctx = c.ctx
    bodies = [e for e in ctx.entities if e in ("Sun", "Earth", "Moon", "Mercury", "Venus", "Mars", "Jupiter",
                                                "Saturn", "Uranus", "Neptune", "Pluto")]
    if ctx.has("tilt", "solstice", "equinox", "latitude", "season"):
        tilt = math.radians(min(45.0, max(5.0, num(next(iter(ctx.find(r"ε|δ|θ|α|i")), None), 23.5) or 23.5)))
        ax_dx, ax_dy = 3.2 * math.sin(tilt), 3.2 * math.cos(tilt)
        eq_dx, eq_dy = 2.4 * math.cos(tilt), -2.4 * math.sin(tilt)
        c.draw("ax.add_patch(Circle((6.0, 5.0), 2.4, fc=LIGHT, ec=INK, lw=1.8))",
               line([(6 - ax_dx, 5 - ax_dy), (6 + ax_dx, 5 + ax_dy)], lw=1.5),
               line([(6 - eq_dx, 5 - eq_dy), (6 + eq_dx, 5 + eq_dy)], lw=1.2, color="GREY", dashed=True),
               line([(6, 7.4), (6, 8.6)], lw=0.9, color="GREY", dashed=True),
               *[f"arrow(0.4, {y}, 3.2, {y}, color=GREY, lw=1.3)" for y in (3.0, 4.2, 5.4, 6.6)])
        c.block(3.6, 2.6, 8.4, 7.4)
        c.text(6 + ax_dx + 0.1, 5 + ax_dy + 0.1, "N", ha="left", va="bottom", size=12)
        c.text(0.4, 7.2, "sunlight", ha="left", va="bottom", size=10)
        if "Sun" in bodies:
            c.entity("Sun", 0.4, 2.4, ha="left", va="top")
        if "Earth" in bodies:
            c.entity("Earth", 6.0, 2.2, va="top")
        c.text(8.5, 4.4, "equator", ha="left", size=9, color="GREY")
        c.slot(r"ε|δ|θ|α|i", 6.5, 8.4, ha="left", size=10)
        lat = num(next(iter(ctx.find(r"φ|λ|ϕ|L")), None), None)
        if lat is not None:
            a = math.radians(lat) + math.atan2(eq_dy, eq_dx) + math.pi
            ox, oy = 6 - 2.4 * math.cos(a - math.pi), 5 - 2.4 * math.sin(a - math.pi)
            c.draw(dot(ox, oy, 0.1), line([(6, 5), (ox, oy)], lw=0.9, color="GREY"))
            c.slot(r"φ|λ|ϕ|L", ox - 0.2, oy + 0.3, ha="right", size=10)
        shape = "the Earth with its tilted axis and equator, parallel sunlight from the left, the observer's latitude"
    elif ctx.has("satellite", "altitude", "above the earth", "above the surface") and not ctx.has("ellip"):
        c.draw("ax.add_patch(Circle((5, 5), 2.2, fc=LIGHT, ec=INK, lw=1.8))",
               "ax.add_patch(Circle((5, 5), 3.6, fill=False, ec=INK, lw=1.4, ls=(0, (4, 3))))",
               dot(5 + 3.6 * math.cos(0.8), 5 + 3.6 * math.sin(0.8), 0.16), dot(5, 5, 0.06),
               line([(5, 5), (5 - 2.2, 5)], lw=1.1),
               f"arrow({fmt(5 + 2.2 * math.cos(-0.6))}, {fmt(5 + 2.2 * math.sin(-0.6))}, "
               f"{fmt(5 + 3.6 * math.cos(-0.6))}, {fmt(5 + 3.6 * math.sin(-0.6))}, style='<|-|>', lw=1.1)")
        c.entity("Earth", 5, 5.5, va="bottom") or c.text(5, 5.5, "Earth", va="bottom")
        c.slot(r"R_E|R|Re|R_e|r_E", 3.9, 4.7, va="top", size=10, nudge=False)
        c.block(2.8, 2.8, 7.2, 7.2)
        c.slot(r"h|H", 5 + 2.9 * math.cos(-0.6) + 0.45, 5 + 2.9 * math.sin(-0.6) - 0.35, ha="left", size=10, default="h")
        c.text(5 + 3.6 * math.cos(0.8) + 0.3, 5 + 3.6 * math.sin(0.8) + 0.2, "satellite", ha="left", va="bottom", size=10)
        shape = "the Earth with a satellite on a circular orbit, the Earth's radius and the altitude marked"
    else:
        cf = math.sqrt(4.0 ** 2 - 2.6 ** 2)
        c.draw("ax.add_patch(Ellipse((5, 5), 8.0, 5.2, fill=False, ec=INK, lw=1.6))",
               f"ax.add_patch(Circle(({fmt(5 - cf)}, 5), 0.45, fc='0.75', ec=INK, lw=1.2))",
               dot(5, 7.6, 0.18), line([(1, 5), (9, 5)], lw=0.8, color="GREY", dashed=True),
               "arrow(5, 4.7, 9, 4.7, style='<|-|>', lw=1.1)", dot(1, 5, 0.07), dot(9, 5, 0.07))
        sun = "Sun" if "Sun" in bodies else None
        (c.entity(sun, 5 - cf, 5.6, va="bottom") if sun else c.text(5 - cf, 5.6, "star", va="bottom", size=10))
        planet = next((b for b in bodies if b != "Sun"), None)
        (c.entity(planet, 5, 7.95, va="bottom") if planet else c.text(5, 7.95, "planet", va="bottom", size=10))
        if ctx.has("perihelion"):
            c.text(1.0, 4.6, "perihelion", va="top", size=9)
        if ctx.has("aphelion"):
            c.text(9.0, 5.3, "aphelion", va="bottom", size=9)
        c.slot(r"a|R|r|d", 7.0, 4.55, va="top", size=10, default="a")
        shape = "an elliptical orbit with the star at one focus, the planet on the orbit and the semi-major axis marked"
    for x, y in ((0.5, 9.5), (9.5, 9.5), (9.5, 0.5), (0.5, 0.5)):
        c.anchor(x, y)
    c.describe(f"An astronomy diagram: {shape}.", "Central body in the middle of the frame, orbit around it.",
               "Not to scale; the asked period, speed or angle is not written.")
