"""Code generation: script header and helpers, plan sections, the template registry, ``plan_figure``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scigen_dagster.generation.plan import FigurePlan
from scigen_dagster.generation.rules.context import Ctx
from scigen_dagster.generation.rules.layout import Canvas, Decline, fmt

PLANNER_VERSION = "rules-v2"


@dataclass(frozen=True)
class Declined:
    """The planner's answer when no template fits what the problem describes: no figure
    (another problem's stock figure would be wrong data), with the reason."""

    reason: str
    status: str = "declined"


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
    givens = ctx.box_entries()
    if givens or named:
        out.append("")
        out.append(f"GIVEN = {givens!r}  # names with values and units, subscripts as mathtext")
        out.append(f"NAMED = {[n.replace('$', chr(92) + '$') for n in named]!r}")
        out.append('side = (["Given:"] + GIVEN if GIVEN else []) + (["Also labelled:"] + NAMED if NAMED else [])')
        out.append('ax.text(1.04, 1.0, "\\n".join(side), transform=ax.transAxes, ha="left", va="top", fontsize=11,')
        out.append('        color=INK, linespacing=1.6, bbox=BOX)')
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
    if ctx.box_entries() or named:
        layout.append("A 'Given:' box sits to the right of the drawing, one entry per line.")
    if c.axes:
        layout.append("Axes are kept because the figure is a plot; ticks only at given values or none.")
    else:
        layout.append("Axes are hidden; equal aspect so shapes are not distorted.")
    in_figure = [t for t in c.used_entities] + [v for v in c.used_values]
    labels = [f"In the drawing: {', '.join(in_figure)}." if in_figure else "No problem labels fit inside the drawing."]
    if c.template_labels:
        labels.append(f"Template labels: {', '.join(c.template_labels)}.")
    if ctx.box_entries():
        labels.append(f"Given box: {'; '.join(ctx.box_entries())}.")
    if named:
        labels.append(f"Also listed in the box: {', '.join(named)}.")
    consider = [
        "- Initial setting only: the figure shows what the problem gives, never the answer or a value derived from it.",
        "- The unknown the question asks for is left unlabelled and unmarked.",
    ]
    if ctx.withheld:
        consider.append(f"- {len(ctx.withheld)} label(s) withheld because they would reveal the answer.")
    consider.extend(f"- {note}" for note in c.notes)
    consider.append("- Drawing labels are plain text placed with a collision check: none overlap, none sits on a "
                    "drawn line; the Given box writes names with subscripts as mathtext.")
    consider.append("- Neutral greys, figsize (6, 6), saved as figure.png at dpi 100 with a tight bounding box.")
    if repair_hint is not None:
        tail = " ".join(str(repair_hint).split())[-160:] or "no message"
        consider.append(f"- Repair: the previous script failed ({tail}); this is the simplest template (a labelled frame).")
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
    # What of the problem the drawing shows: its names, its values, and template labels that
    # are the problem's own words (the organelles it names, the axes it describes).
    # One of the problem's words alone ("nucleus") is what many problems share: it takes two.
    words = [t for t in c.template_labels if len(t) > 2 and ctx.says(t)]
    if repair_hint is None and not (c.used_entities or len(words) >= 2 or c.used_values or c.specific):
        c.decline("nothing the problem names or gives fits this template's drawing, and its shape does not "
                  "come from the problem: it would draw a stock figure")
    if (repair_hint is None and ctx.quantities and not (c.used_values or ctx.box_entries() or c.specific)
            and len(c.used_entities) < 2):
        c.decline("none of the problem's given values has a place in this template's drawing or is named for "
                  "a Given box, and at most one of its names is drawn: the figure would not be this problem's")
    named = [name for name in ctx.entities if name not in c.used_entities]
    return FigurePlan(sections=_sections(c, kind, named, repair_hint), code=_code(c, kind, named))


def plan_figure(item: dict, *, repair_hint: str | None = None) -> FigurePlan | Declined:
    """Plan and code one figure for ``item`` (problem_id, question, answer, image_type...),
    or decline (:class:`Declined`, with the reason) when no template fits what the problem
    describes. ``repair_hint`` is the error tail of a failed render: the plan then falls
    back to the simplest template. Deterministic: the same item gives the same code.
    """
    ctx = Ctx.from_item(item)
    if repair_hint is not None:
        return _render(ctx, "labelled frame (repair)", _tpl_repair, repair_hint)
    entry = _TEMPLATES.get(ctx.image_type)
    if entry is None:
        return Declined(f"no template draws the image type {ctx.image_type or '(none)'!r}")
    kind, fn = entry
    try:
        return _render(ctx, kind, fn, None)
    except Decline as why:
        return Declined(f"{kind}: {why}")
    except Exception as exc:  # a template bug declines the item rather than drawing something else
        return Declined(f"the {kind} template failed at plan time ({type(exc).__name__}: {exc})"[:300])


# --------------------------------------------------------------------------------------
# The repair template
# --------------------------------------------------------------------------------------


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
