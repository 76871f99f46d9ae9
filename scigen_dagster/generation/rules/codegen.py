"""Code generation: script header and helpers, plan sections, the template registry, ``plan_figure``."""

from __future__ import annotations

import math
from typing import Callable

from scigen_dagster.generation.plan import FigurePlan
from scigen_dagster.generation.rules.context import Ctx
from scigen_dagster.generation.rules.layout import Canvas, fmt, text_extent_pt

PLANNER_VERSION = "rules-v1"


_HEADER = '''# ImgCoder offline planner ({version}): {kind}
# problem: {pid}
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Circle, Ellipse, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

INK, GREY, LIGHT = "0.15", "0.5", "0.9"
BOX = dict(boxstyle="round,pad=0.4", fc="white", ec="0.55")

fig, ax = plt.subplots(figsize=(6, 6))


def label(x, y, s, size=11, ha="center", va="center", **kw):
    kw.setdefault("color", INK)
    ax.text(x, y, s, fontsize=size, ha=ha, va=va, parse_math=False, **kw)


def arrow(x0, y0, x1, y1, style="-|>", color=INK, lw=1.6, ls="-"):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=14,
                                 color=color, lw=lw, linestyle=ls, shrinkA=0, shrinkB=0))
'''

_HELPER_SRC = {
    "zigzag": '''
def zigzag(x0, y0, x1, y1, n=6, amp=0.2, lw=1.8):
    """A resistor (or spring) drawn as a zigzag from (x0, y0) to (x1, y1)."""
    t = np.concatenate([[0, 0.2], np.linspace(0.25, 0.75, n), [0.8, 1]])
    off = np.concatenate([[0, 0], amp * (-1.0) ** np.arange(n), [0, 0]])
    ux, uy = x1 - x0, y1 - y0
    nx, ny = -uy / np.hypot(ux, uy), ux / np.hypot(ux, uy)
    ax.plot(x0 + t * ux + off * nx, y0 + t * uy + off * ny, color=INK, lw=lw)
''',
    "plates": '''
def plates(x0, y0, x1, y1, long=0.45, short=0.45, gap=0.16, lw=1.8):
    """Two parallel plates across a wire: a capacitor (equal) or a cell (long +, short -)."""
    ux, uy = x1 - x0, y1 - y0
    d = np.hypot(ux, uy)
    ux, uy = ux / d, uy / d
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    ax.plot([x0, mx - gap * ux], [y0, my - gap * uy], color=INK, lw=lw)
    ax.plot([mx + gap * ux, x1], [my + gap * uy, y1], color=INK, lw=lw)
    for s, half, w in ((-gap, long, 2.4), (gap, short, 3.4 if short < long else 2.4)):
        cx, cy = mx + s * ux, my + s * uy
        ax.plot([cx - half * uy, cx + half * uy], [cy + half * ux, cy - half * ux], color=INK, lw=w)
''',
    "coil": '''
def coil(x0, y0, x1, y1, turns=4, r=0.22, lw=1.8):
    """An inductor: a row of semicircular loops from (x0, y0) to (x1, y1)."""
    ux, uy = x1 - x0, y1 - y0
    d = np.hypot(ux, uy)
    ux, uy = ux / d, uy / d
    t = np.linspace(0, np.pi, 30)
    step = 0.6 * d / turns
    sx, sy = x0 + 0.2 * d * ux, y0 + 0.2 * d * uy
    ax.plot([x0, sx], [y0, sy], color=INK, lw=lw)
    for k in range(turns):
        c = (k + 0.5) * step - step / 2 * np.cos(t)
        h = (step / 2) * np.sin(t)
        ax.plot(sx + c * ux - h * uy, sy + c * uy + h * ux, color=INK, lw=lw)
    ax.plot([sx + turns * step * ux, x1], [sy + turns * step * uy, y1], color=INK, lw=lw)
''',
    "switch": '''
def switch(x0, y0, x1, y1, lw=1.8):
    """An open switch between two contacts on a straight wire."""
    mx0, my0 = x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)
    mx1, my1 = x0 + 0.7 * (x1 - x0), y0 + 0.7 * (y1 - y0)
    ax.plot([x0, mx0], [y0, my0], color=INK, lw=lw)
    ax.plot([mx1, x1], [my1, y1], color=INK, lw=lw)
    ax.plot([mx0, mx1 - 0.25 * (y1 - y0) / 2], [my0, my1 + 0.25 * abs(x1 - x0) + 0.1], color=INK, lw=lw)
    ax.plot([mx0, mx1], [my0, my1], "o", color=INK, ms=4)
''',
}

_FOOTER_SAVE = 'fig.savefig("figure.png", dpi=100, bbox_inches="tight")'


def _code(c: Canvas, kind: str, named: list[str]) -> str:
    ctx = c.ctx
    out = [_HEADER.format(version=PLANNER_VERSION, kind=kind, pid=repr(ctx.problem_id)).rstrip("\n")]
    for name in c.helpers:
        out.append("\n" + _HELPER_SRC[name].strip("\n"))
    out.append("")
    (x0, x1), (y0, y1) = c.xlim, c.ylim
    out.append(f"ax.set_xlim({fmt(x0)}, {fmt(x1)})")
    out.append(f"ax.set_ylim({fmt(y0)}, {fmt(y1)})")
    if c.equal:
        out.append('ax.set_aspect("equal")')
    if c.axes:
        out.append('ax.spines[["top", "right"]].set_visible(False)')
        out.extend(c.axis_lines)
    else:
        out.append('ax.axis("off")')
    out.append("")
    out.extend(c.body)
    if c.label_lines:
        out.append("")
        out.append("# labels: entities and values at their elements (collision-checked at plan time)")
        out.extend(c.label_lines)
    givens = ctx.givens
    if givens or named:
        out.append("")
        out.append(f"GIVEN = {givens!r}")
        out.append(f"NAMED = {named!r}")
        out.append('side = (["Given:"] + GIVEN if GIVEN else []) + (["Also labelled:"] + NAMED if NAMED else [])')
        out.append('ax.text(1.04, 1.0, "\\n".join(side), transform=ax.transAxes, ha="left", va="top", fontsize=11,')
        out.append('        color=INK, linespacing=1.6, parse_math=False, bbox=BOX)')
    out.append("")
    out.append(_FOOTER_SAVE)
    code = "\n".join(out) + "\n"
    answer = ctx.answer.strip()
    if len(answer) >= 2 and answer not in ctx.question and answer in code:
        # Last safety net: no label line may carry the answer string.
        code = "\n".join(line for line in code.split("\n")
                         if not (line.startswith("label(") and answer in line))
    return code


def _sections(c: Canvas, kind: str, named: list[str], repair_hint: str | None) -> dict[str, str]:
    ctx = c.ctx
    givens = ctx.givens
    content = [c.content or f"A {kind}."]
    content.append(f"Named in the problem: {', '.join(ctx.entities)}." if ctx.entities
                   else "The problem names no points, components or species.")
    content.append(f"Given values: {'; '.join(givens)}." if givens else "The problem states no numeric values.")
    content.append("Read from the problem text only; the item's element list and quizzes are not used.")
    layout = [c.layout or "The schematic fills the drawing area."]
    if givens or named:
        layout.append("A 'Given:' box sits to the right of the drawing, one entry per line.")
    if c.axes:
        layout.append("Axes are kept because the figure is a plot; ticks only at given values or none.")
    else:
        layout.append("Axes are hidden; equal aspect so shapes are not distorted.")
    in_figure = [t for t in c.used_entities] + [v for v in c.used_values]
    labels = [f"In the drawing: {', '.join(in_figure)}." if in_figure else "No problem labels fit inside the drawing."]
    if c.template_labels:
        labels.append(f"Template labels: {', '.join(c.template_labels)}.")
    if givens:
        labels.append(f"Given box: {'; '.join(givens)}.")
    if named:
        labels.append(f"Also listed in the box: {', '.join(named)}.")
    consider = [
        "- Initial setting only: the figure shows what the problem gives, never the answer or a value derived from it.",
        "- The unknown the question asks for is left unlabelled and unmarked.",
    ]
    if ctx.withheld:
        consider.append(f"- {len(ctx.withheld)} label(s) withheld because they would reveal the answer.")
    consider.extend(f"- {note}" for note in c.notes)
    consider.append("- Labels are plain text (no mathtext), placed with a collision check so none overlap.")
    consider.append("- Neutral greys, figsize (6, 6), saved as figure.png at dpi 100 with a tight bounding box.")
    if repair_hint is not None:
        tail = " ".join(str(repair_hint).split())[-160:] or "no message"
        consider.append(f"- Repair: the previous script failed ({tail}); this is the simplest generic template.")
    return {
        "Image Content": " ".join(content),
        "Layout": " ".join(layout),
        "Labels": " ".join(labels),
        "Drawing Considerations": "\n".join(consider),
    }


_Template = Callable[[Canvas], None]
_TEMPLATES: dict[str, tuple[str, _Template]] = {}


def template(image_type: str, kind: str) -> Callable[[_Template], _Template]:
    def register(fn: _Template) -> _Template:
        _TEMPLATES[image_type] = (kind, fn)
        return fn

    return register


def _render(ctx: Ctx, kind: str, fn: _Template, repair_hint: str | None) -> FigurePlan:
    c = Canvas(ctx)
    fn(c)
    for name in ctx.entities:  # entities the template did not place: free anchors
        if name in c.used_entities:
            continue
        for i, (x, y, ha, va) in enumerate(c.anchors):
            if c.entity(name, x, y, ha=ha, va=va, nudge=False):
                del c.anchors[i]
                break
    named = [name for name in ctx.entities if name not in c.used_entities]
    return FigurePlan(sections=_sections(c, kind, named, repair_hint), code=_code(c, kind, named))


def plan_figure(item: dict, *, repair_hint: str | None = None) -> FigurePlan:
    """Plan and code one figure for ``item`` (problem_id, question, answer, image_type...).

    ``repair_hint`` is the error tail of a failed render: the plan then falls back to
    the simplest generic template. Deterministic: the same item gives the same code.
    """
    if repair_hint is not None:
        return _render(Ctx.from_item(item), "generic labelled schematic (repair)", _tpl_repair, repair_hint)
    ctx = Ctx.from_item(item)
    kind, fn = _TEMPLATES.get(ctx.image_type, ("generic labelled schematic", _tpl_generic))
    try:
        return _render(ctx, kind, fn, None)
    except Exception as exc:  # a template bug must not lose the item: generic instead
        ctx = Ctx.from_item(item)
        plan = _render(ctx, "generic labelled schematic", _tpl_generic, None)
        sections = dict(plan.sections)
        sections["Drawing Considerations"] += (
            f"\n- The {kind} template failed at plan time ({type(exc).__name__}); generic template used."
        )
        return FigurePlan(sections=sections, code=plan.code)


# --------------------------------------------------------------------------------------
# Generic and repair templates
# --------------------------------------------------------------------------------------


def _tpl_generic(c: Canvas) -> None:
    """Named things (or given values) as nodes on a ring around the system."""
    ctx = c.ctx
    name = ctx.image_type.split(" - ")[-1].strip()
    name = name if name and len(name) <= 22 and not ctx.leaks(name) else "System"
    half = max(1.3, text_extent_pt(name, 12)[0] / 2 / c.scale()[0] + 0.3)
    c.draw(f'ax.add_patch(FancyBboxPatch(({fmt(5 - half)}, 4.4), {fmt(2 * half)}, 1.2, '
           'boxstyle="round,pad=0.1", fc=LIGHT, ec=INK, lw=1.5))')
    c.text(5.0, 5.0, name, size=12, nudge=False, force=True)
    c.block(5 - half - 0.1, 4.3, 5 + half + 0.1, 5.7)
    nodes = ([("e", n) for n in ctx.entities] + [("v", q) for q in ctx.quantities])[:8]
    for i, (kind, node) in enumerate(nodes):
        ang = math.pi / 2 - 2 * math.pi * i / len(nodes)
        cx, cy = math.cos(ang), math.sin(ang)
        x, y = 5 + 2.9 * cx, 5 + 2.9 * cy
        c.draw(f"ax.plot([5, {fmt(x)}], [5, {fmt(y)}], color=GREY, lw=1.2, zorder=0)",
               f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), 0.16, fc=INK))")
        c.block(x - 0.2, y - 0.2, x + 0.2, y + 0.2)
        ha = "left" if cx > 0.3 else "right" if cx < -0.3 else "center"
        va = "bottom" if cy > 0.3 else "top" if cy < -0.3 else "center"
        lx, ly = 5 + 3.25 * cx, 5 + 3.25 * cy
        if kind == "e":
            c.entity(node, lx, ly, ha=ha, va=va)
        else:
            c.value(node, lx, ly, ha=ha, va=va)
    if not nodes:
        for i in range(3):
            ang = math.pi / 2 + 2 * math.pi * i / 3
            x, y = 5 + 3 * math.cos(ang), 5 + 3 * math.sin(ang)
            c.draw(f"ax.plot([5, {fmt(x)}], [5, {fmt(y)}], color=GREY, lw=1.2, zorder=0)",
                   f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), 0.5, fc='white', ec=INK, lw=1.5))")
    c.describe(f"A generic labelled schematic: a central box for the {name.lower()} with the named parts "
               "and given values as nodes around it.",
               "Central box in the middle; up to eight nodes on a ring around it, labels outside the ring.")


def _tpl_repair(c: Canvas) -> None:
    """The simplest figure that still carries every label: a frame and a list."""
    ctx = c.ctx
    c.draw("ax.add_patch(Rectangle((0.5, 0.5), 9, 9, fill=False, ec=INK, lw=1.5))")
    y = 8.8
    for name in ctx.entities[:12]:
        if c.entity(name, 1.2, y, ha="left", nudge=False):
            y -= 0.65
    c.describe("The simplest generic schematic: a frame listing the named parts; the given values "
               "in the Given box.", "One frame; names listed top to bottom at the left.",
               "Minimal code: one rectangle and plain text only.")
