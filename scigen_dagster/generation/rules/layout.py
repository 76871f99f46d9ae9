"""The layout engine: the plan-time canvas, text extents and nudges, and shared drawing primitives."""

from __future__ import annotations

import math
import re

from scigen_dagster.generation.rules.context import Ctx
from scigen_dagster.problems.quantities import Quantity


def fmt(x: float) -> str:
    """A short, deterministic number literal for generated code."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# --------------------------------------------------------------------------------------
# The canvas: drawing lines plus text placed with a collision check on estimated extents
# --------------------------------------------------------------------------------------

# Axes box of plt.subplots(figsize=(6, 6)) with the default subplot parameters, in points.
_AXES_W_PT, _AXES_H_PT = 6 * 72 * 0.775, 6 * 72 * 0.77
_NARROW = frozenset("il.,:;'|!()[]ftjrI′ ")
_WIDE = frozenset("MWmwΩ%@—")
# Where a label may move when its spot is taken: multiples of (text width, text height).
_NUDGES = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1),
           (0, 2), (0, -2), (2, 0), (-2, 0))


def text_extent_pt(text: str, size: float) -> tuple[float, float]:
    lines = text.split("\n")

    def width(line: str) -> float:
        return sum(0.34 if ch in _NARROW else 0.9 if ch in _WIDE else 0.72 if ch.isupper() else 0.63
                   for ch in line)

    return max(width(line) for line in lines) * size + 4, len(lines) * size * 1.3 + 2


class Decline(Exception):
    """Raised by a template when the problem does not describe what it draws."""


_PLOT_RE = re.compile(r"^ax\.plot\(\[([^\]]*)\], \[([^\]]*)\]")


def _segment_hits_box(p, q, box, inset: float = 0.04) -> bool:
    """Whether segment p-q passes through ``box`` (shrunk by ``inset`` of its size, so a
    line that only grazes a corner does not count): Liang-Barsky clipping."""
    x0, y0, x1, y1 = box
    dx_in, dy_in = (x1 - x0) * inset, (y1 - y0) * inset
    x0, x1, y0, y1 = x0 + dx_in, x1 - dx_in, y0 + dy_in, y1 - dy_in
    (px, py), (qx, qy) = p, q
    dx, dy = qx - px, qy - py
    lo, hi = 0.0, 1.0
    for edge_p, edge_q in ((-dx, px - x0), (dx, x1 - px), (-dy, py - y0), (dy, y1 - py)):
        if edge_p == 0:
            if edge_q < 0:
                return False
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


class Canvas:
    """Plan-time model of one figure: code lines, labels and where the labels sit."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.xlim: tuple[float, float] = (0.0, 10.0)
        self.ylim: tuple[float, float] = (0.0, 10.0)
        self.axes = False
        self.equal = True
        self.axis_lines: list[str] = []  # ticks / axis labels of figures that keep axes
        self.body: list[str] = []
        self.helpers: list[str] = []
        self.label_lines: list[str] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        # Straight strokes drawn with ax.plot: labels keep off them (a label on a line is unreadable).
        self.segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
        # Set by a template whose shape comes from the problem itself (a parsed formula, a
        # configuration, a sequence), so the figure is the problem's even without labels.
        self.specific = False
        self.anchors: list[tuple[float, float, str, str]] = []
        self.used_values: list[str] = []
        self.used_entities: list[str] = []
        self.template_labels: list[str] = []
        self.content = ""
        self.layout = ""
        self.notes: list[str] = []
        self.last: tuple[float, float] = (0.0, 0.0)  # where the last placed label went

    # -- set-up -----------------------------------------------------------------------
    def frame(self, xlim=(0.0, 10.0), ylim=(0.0, 10.0), *, axes=False, equal=True,
              xlabel: str | None = None, ylabel: str | None = None) -> None:
        self.xlim, self.ylim, self.axes, self.equal = tuple(xlim), tuple(ylim), axes, equal
        if axes:
            for which, text in (("x", xlabel), ("y", ylabel)):
                if text and not self.ctx.leaks(text):
                    self.axis_lines.append(f"ax.set_{which}label({text!r}, fontsize=12)")

    def ticks(self, axis: str, ticks: list[tuple[float, str]]) -> None:
        """Tick marks at given positions only (an empty list hides the ticks)."""
        ticks = [(p, t) for p, t in ticks if not self.ctx.leaks(t, from_question=True)]
        for _, t in ticks:
            if t in self.ctx.entities and t not in self.used_entities:
                self.used_entities.append(t)
        pos = ", ".join(fmt(p) for p, _ in ticks)
        self.axis_lines.append(f"ax.set_{axis}ticks([{pos}])")
        if ticks:
            self.axis_lines.append(f"ax.set_{axis}ticklabels({[t for _, t in ticks]!r})")

    def draw(self, *lines: str) -> None:
        self.body.extend(lines)
        for code in lines:
            m = _PLOT_RE.match(code)
            if not m:
                continue
            try:
                xs = [float(v) for v in m.group(1).split(",")]
                ys = [float(v) for v in m.group(2).split(",")]
            except ValueError:  # computed coordinates: not known at plan time
                continue
            pts = list(zip(xs, ys))
            self.segments.extend(zip(pts, pts[1:]))

    def decline(self, reason: str) -> None:
        """Give up on this problem: the template cannot draw what it describes."""
        raise Decline(reason)

    def need(self, name: str) -> None:
        if name not in self.helpers:
            self.helpers.append(name)

    def describe(self, content: str, layout: str, *notes: str) -> None:
        self.content, self.layout = content, layout
        self.notes.extend(notes)

    # -- text -------------------------------------------------------------------------
    def scale(self) -> tuple[float, float]:
        """Points per data unit along x and y."""
        dx = abs(self.xlim[1] - self.xlim[0]) or 1.0
        dy = abs(self.ylim[1] - self.ylim[0]) or 1.0
        sx, sy = _AXES_W_PT / dx, _AXES_H_PT / dy
        if self.equal:
            sx = sy = min(sx, sy)
        return sx, sy

    def _box(self, x, y, text, size, ha, va, rotation, boxed):
        w, h = text_extent_pt(text, size)
        if boxed:
            w, h = w + 0.8 * size, h + 0.8 * size
        if rotation % 180 == 90:
            w, h = h, w
        sx, sy = self.scale()
        w, h = w / sx, h / sy
        x0 = x - w / 2 if ha == "center" else x - w if ha == "right" else x
        y0 = y - h / 2 if va in ("center", "center_baseline") else y - h if va == "top" else y
        return x0, y0, x0 + w, y0 + h

    def _fits(self, box) -> bool:
        x0, y0, x1, y1 = box
        (lx0, lx1), (ly0, ly1) = sorted(self.xlim), sorted(self.ylim)
        if x0 < lx0 or x1 > lx1 or y0 < ly0 or y1 > ly1:
            return False
        if not all(x0 >= b[2] or b[0] >= x1 or y0 >= b[3] or b[1] >= y1 for b in self.boxes):
            return False
        return not any(_segment_hits_box(a, b, box) for a, b in self.segments)

    def text(self, x: float, y: float, text: str, *, size: float = 11, ha: str = "center",
             va: str = "center", given: bool = False, entity: bool = False, nudge: bool = True,
             force: bool = False, rotation: float = 0, boxed: bool = False, bold: bool = False,
             color: str | None = None) -> bool:
        """Place a label if it does not leak the answer and finds a free spot."""
        text = str(text)
        if not text.strip():
            return False
        if not given and self.ctx.leaks(text, from_question=entity):
            if text not in self.ctx.withheld:
                self.ctx.withheld.append(text)
            return False
        box = self._box(x, y, text, size, ha, va, rotation, boxed)
        w, h = box[2] - box[0], box[3] - box[1]
        chosen = None
        for kx, ky in (_NUDGES if nudge else _NUDGES[:1]):
            cand = (box[0] + kx * w, box[1] + ky * h, box[2] + kx * w, box[3] + ky * h)
            if self._fits(cand):
                chosen, x, y = cand, x + kx * w, y + ky * h
                break
        if chosen is None:
            if not force:
                return False
            chosen = box
        self.boxes.append(chosen)
        self.last = (x, y)
        extra = "".join([
            f", size={fmt(size)}" if size != 11 else "",
            f", ha={ha!r}" if ha != "center" else "",
            f", va={va!r}" if va != "center" else "",
            f", rotation={fmt(rotation)}" if rotation else "",
            ", bbox=BOX" if boxed else "",
            ', weight="bold"' if bold else "",
            f", color={color!r}" if color else "",
        ])
        self.label_lines.append(f"label({fmt(x)}, {fmt(y)}, {text!r}{extra})")
        if not given and not entity:
            self.template_labels.append(text)
        return True

    def block(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Reserve a region (a drawn shape) that labels should stay out of."""
        self.boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))

    def value(self, q: Quantity, x: float, y: float, **kw) -> bool:
        if q.label() in self.used_values:
            return False
        if self.text(x, y, q.label(), given=True, **kw):
            self.used_values.append(q.label())
            if q.symbol in self.ctx.entities and q.symbol not in self.used_entities:
                self.used_entities.append(q.symbol)
            return True
        return False

    def entity(self, name: str, x: float, y: float, **kw) -> bool:
        if name in self.used_entities or name not in self.ctx.entities:
            return False
        kw.setdefault("size", 12)
        if self.text(x, y, name, entity=True, **kw):
            self.used_entities.append(name)
            return True
        return False

    def slot(self, pattern: str, x: float, y: float, *, default: str | None = None, **kw) -> str | None:
        """A labelled spot of the template: the first given value whose symbol matches
        ``pattern``, else the first matching entity, else ``default`` (a plain symbol)."""
        rx = re.compile(pattern)
        for q in self.ctx.quantities:
            if q.symbol and rx.fullmatch(q.symbol) and q.label() not in self.used_values:
                if self.value(q, x, y, **kw):
                    return q.label()
        for name in self.ctx.entities:
            if rx.fullmatch(name) and name not in self.used_entities:
                if self.entity(name, x, y, **kw):
                    return name
        if default and self.text(x, y, default, **kw):
            return default
        return None

    def name(self, x: float, y: float, text: str, **kw) -> bool:
        """Text taken from the problem (a name, formula, sequence or equation): leak-checked
        like an entity, and counted as placed when it is one of the extracted entities."""
        kw.setdefault("size", 12)
        if not self.text(x, y, text, entity=True, **kw):
            return False
        self.mark_used(text)
        return True

    def mark_used(self, *names: str) -> None:
        """Entities shown by the template in another form (inside a box, as a tick label)."""
        for name in names:
            if name in self.ctx.entities and name not in self.used_entities:
                self.used_entities.append(name)

    def anchor(self, x: float, y: float, ha: str = "center", va: str = "center") -> None:
        """A free spot for entity labels the template did not place itself."""
        self.anchors.append((x, y, ha, va))


# --------------------------------------------------------------------------------------
# Drawing primitives shared by the templates (plan time)
# --------------------------------------------------------------------------------------


def unit(dx: float, dy: float) -> tuple[float, float]:
    d = math.hypot(dx, dy) or 1.0
    return dx / d, dy / d


def line(points, *, dashed: bool = False, closed: bool = False, color: str = "INK", lw: float = 1.8) -> str:
    pts = list(points) + ([points[0]] if closed else [])
    xs = ", ".join(fmt(p[0]) for p in pts)
    ys = ", ".join(fmt(p[1]) for p in pts)
    return f"ax.plot([{xs}], [{ys}], color={color}, lw={fmt(lw)}{', ls=(0, (4, 3))' if dashed else ''})"


def dot(x: float, y: float, r: float = 0.09) -> str:
    return f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), {fmt(r)}, fc=INK, zorder=3))"


def point_name(c: Canvas, name: str, x: float, y: float, **kw) -> bool:
    """A point named in the problem, also when it is only named inside a segment (AB)."""
    if name in c.ctx.entities:
        return c.entity(name, x, y, **kw)
    kw.setdefault("size", 12)
    return c.text(x, y, name, entity=True, **kw)


def callout(c: Canvas, text: str, target: tuple[float, float], at: tuple[float, float], *,
            ha: str = "left", size: float = 10, entity: bool = False) -> bool:
    """A label at ``at`` with a thin leader line to ``target`` (drawn only if placed)."""
    if not c.text(at[0], at[1], text, ha=ha, size=size, entity=entity):
        return False
    x, y = c.last
    c.draw(line([(x - 0.1 if ha == "left" else x + 0.1, y), target], lw=0.8, color="GREY"), dot(*target, 0.05))
    return True
