"""Rule-based stand-in for the ImgCoder planner (the offline default).

ImgCoder (SciGenBench) has a model read a science problem, write a plan in four parts
(Image Content, Layout, Labels, Drawing Considerations) and then a standalone matplotlib
script. Offline there is no model, so this module plans honestly by rules:

* the problem text is read with ``quantities.extract_quantities`` (given values) and
  ``quantities.extract_labels`` (named entities) plus a few keyword switches per image
  type; the elements and quizzes of an item are never used (they are the evaluation);
* each of the 25 image types has a small textbook-style template (a triangle, a circuit
  loop, a PV loop, a Punnett grid ...); unknown types get a generic labelled schematic;
* every given value is written into the figure, and always also into a "Given:" box at
  the side; entity labels go to template anchors, with a collision check on estimated
  text extents so that labels do not overlap;
* initial setting only: no text that would reveal the answer is written. A label whose
  number equals a number of the answer (and is not a number the problem gives), or a
  template word that only the answer contains, is withheld;
* ``repair_hint`` (the error tail of a failed render) switches to the simplest generic
  template, the offline counterpart of sending the error back to the model.

The same item always gives the same plan and byte-identical code. All templates live in
this one file so that the asset fingerprint (a hash of this module's source) changes
whenever a template does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable

from .quantities import Quantity, extract_labels, extract_quantities, normalize_text

__all__ = ["PLAN_SECTIONS", "PLANNER_VERSION", "FigurePlan", "plan_figure", "parse_plan_text"]

PLAN_SECTIONS = ("Image Content", "Layout", "Labels", "Drawing Considerations")
PLANNER_VERSION = "rules-v1"


# --------------------------------------------------------------------------------------
# The plan and its text form
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigurePlan:
    """A four-part plan plus the standalone script that draws it."""

    sections: dict[str, str]
    code: str

    def __post_init__(self) -> None:
        if tuple(self.sections) != PLAN_SECTIONS:
            raise ValueError(f"plan sections must be exactly {PLAN_SECTIONS}, got {tuple(self.sections)}")
        empty = [name for name in PLAN_SECTIONS if not str(self.sections[name]).strip()]
        if empty:
            raise ValueError(f"empty plan section(s): {', '.join(empty)}")
        if not self.code.strip():
            raise ValueError("plan has no code")

    def as_text(self) -> str:
        """Four headed parts ("## Image Content" ...) then one ```python fenced block."""
        parts = [f"## {name}\n{self.sections[name].strip()}\n" for name in PLAN_SECTIONS]
        return "\n".join(parts) + "\n```python\n" + self.code.rstrip("\n") + "\n```\n"


_HEADING_RE = re.compile(
    r"^[ \t]*(?P<hash>#{1,6}[ \t]*)?(?P<bold>\*\*|__)?[ \t]*(?:\d+[.)][ \t]*)?"
    r"(?P<name>image content|layout|labels|drawing considerations)[ \t]*(?:\*\*|__)?[ \t]*"
    r"(?P<colon>:)?[ \t]*(?:\*\*|__)?[ \t]*(?P<rest>.*)$",
    re.I,
)
_FENCE_OPEN_RE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\r?\n", re.I)
_CANONICAL = {name.lower(): name for name in PLAN_SECTIONS}


def parse_plan_text(text: str) -> FigurePlan:
    """Parse a reply in the ``FigurePlan.as_text`` format back into a plan.

    Headings may be Markdown ("## Layout"), bold ("**Layout:**") or "Layout:" with the
    text on the same line. The code is the first fenced block (```python or ```); a
    missing closing fence is tolerated (a truncated reply). Raises ``ValueError`` naming
    every missing or empty section, or the missing code block.
    """
    text = text or ""
    fence = _FENCE_OPEN_RE.search(text)
    code = ""
    prose = text
    if fence:
        prose = text[: fence.start()]
        rest = text[fence.end() :]
        end = rest.rfind("```")
        code = rest if end < 0 else rest[:end]
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in prose.splitlines():
        m = _HEADING_RE.match(line)
        if m and (m.group("hash") or m.group("bold") or m.group("colon") or not m.group("rest").strip()):
            name = _CANONICAL[m.group("name").lower()]
            current = None if name in found else name  # a repeated heading: keep the first
            if current:
                found[current] = [m.group("rest")] if m.group("rest").strip() else []
            continue
        if current:
            found[current].append(line)
    sections = {name: "\n".join(found.get(name, [])).strip() for name in PLAN_SECTIONS}
    problems = [f"missing section {name!r}" for name in PLAN_SECTIONS if name not in found]
    problems += [f"empty section {name!r}" for name in PLAN_SECTIONS if name in found and not sections[name]]
    if not fence:
        problems.append("missing ```python code block")
    elif not code.strip():
        problems.append("empty ```python code block")
    if problems:
        raise ValueError("cannot parse plan: " + "; ".join(problems))
    return FigurePlan(sections=sections, code=code.rstrip("\n") + "\n")


# --------------------------------------------------------------------------------------
# Reading the item: given values, entities, and what would leak the answer
# --------------------------------------------------------------------------------------

# A stand-alone number: not part of a name (R1, 3d, H2O) and not an exponent (10^3).
_NUMBER_RE = re.compile(r"(?<![\w.^⁰-⁹′'])(?<!\^[-−])[-−]?(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?!\w)")
_POINT_NAME_RE = re.compile(r"[A-Z]['′]*")
_SEGMENT_RE = re.compile(r"([A-Z]['′]*)([A-Z]['′]*)")


def _numbers(text: str) -> list[float]:
    out = []
    for m in _NUMBER_RE.finditer(normalize_text(text or "")):
        try:
            out.append(round(abs(float(m.group(1).replace(",", ""))), 9))
        except ValueError:  # pragma: no cover - the pattern only matches numbers
            continue
    return out


def _norm_words(text: str) -> str:
    """Lower-case words only: how labels are compared with the answer and the question."""
    return " ".join(re.findall(r"[^\W_]+", normalize_text(text or "").lower()))


def _has_phrase(haystack: str, needle: str) -> bool:
    """``needle`` as whole words of ``haystack`` (a plural "s"/"es" is allowed)."""
    if not needle or not haystack:
        return False
    return re.search(r"(?<!\w)" + re.escape(needle) + r"(?:s|es)?(?!\w)", haystack) is not None


_ELEMENT_SYMBOLS = frozenset(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As
    Se Br Kr Rb Sr Y Zr Nb Mo Ag Cd Sn Sb Te I Xe Cs Ba Pt Au Hg Pb Bi Ra U""".split()
)
_MOLECULAR_ELEMENTS = frozenset("H2 N2 O2 O3 F2 Cl2 Br2 I2 P4 S8".split())
_SPECIES_RE = re.compile(r"((?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+)(\^?\d*[+\-−]|[²³]?[⁺⁻])?")


def _is_species(name: str) -> bool:
    m = _SPECIES_RE.fullmatch(name)
    if not m or any(el not in _ELEMENT_SYMBOLS for el in re.findall(r"[A-Z][a-z]?", m.group(1))):
        return False
    if m.group(2):
        return True
    atoms = re.findall(r"[A-Z][a-z]?\d*", m.group(1))
    return len(atoms) >= 2 or m.group(1) in _MOLECULAR_ELEMENTS


def _fmt(x: float) -> str:
    """A short, deterministic number literal for generated code."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


@dataclass
class _Ctx:
    """What the planner knows about one item."""

    problem_id: str
    question: str
    answer: str
    image_type: str
    quantities: list[Quantity]
    entities: list[str]
    withheld: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.low = normalize_text(self.question).lower()
        self.q_norm = _norm_words(self.question)
        self.ans_norm = _norm_words(self.answer)
        given = set(_numbers(self.question))
        for q in self.quantities:
            given.update(_numbers(q.value))
        self.answer_only_numbers = [n for n in _numbers(self.answer) if n not in given]
        self.answer_in_question = _has_phrase(self.q_norm, self.ans_norm)

    @classmethod
    def from_item(cls, item: dict) -> _Ctx:
        question = str(item.get("question") or "")
        answer = str(item.get("answer") or "")
        ctx = cls(
            problem_id=str(item.get("problem_id") or item.get("id") or ""),
            question=question,
            answer=answer,
            image_type=str(item.get("image_type") or ""),
            quantities=extract_quantities(question),
            entities=[],
        )
        for name in extract_labels(question):
            (ctx.withheld if ctx.leaks(name, from_question=True) else ctx.entities).append(name)
        return ctx

    # -- answer leakage ------------------------------------------------------------
    def leaks(self, text: str, *, from_question: bool = False) -> bool:
        """Whether writing ``text`` would give the answer away.

        A number of the answer that the problem does not give; the whole answer (unless
        the problem states it too); or, for template words, a phrase only the answer has.
        """
        if any(n in self.answer_only_numbers for n in _numbers(text)):
            return True
        words = _norm_words(text)
        if self.ans_norm and not self.answer_in_question and _has_phrase(words, self.ans_norm):
            return True
        if not from_question and len(words) >= 3 and _has_phrase(self.ans_norm, words):
            return not _has_phrase(self.q_norm, words)
        return False

    # -- convenience for templates --------------------------------------------------
    def has(self, *words: str) -> bool:
        return any(w in self.low for w in words)

    @property
    def givens(self) -> list[str]:
        out: list[str] = []
        for q in self.quantities:
            if q.label() not in out:
                out.append(q.label())
        return out

    def points(self) -> list[str]:
        """Single-letter point names, including the ends of named segments, in order."""
        out: list[str] = []
        for name in self.entities:
            parts = [name] if _POINT_NAME_RE.fullmatch(name) else []
            m = _SEGMENT_RE.fullmatch(name)
            if m:
                parts = [m.group(1), m.group(2)]
            for p in parts:
                if p not in out:
                    out.append(p)
        return out

    def segments(self) -> list[str]:
        return [e for e in self.entities if _SEGMENT_RE.fullmatch(e)]

    def species(self) -> list[str]:
        """Chemical species among the entities (H2O, NaCl, Na+, N2), not R1 / C6 / Tt."""
        return [e for e in self.entities if _is_species(e)]

    def find(self, pattern: str) -> list[Quantity]:
        rx = re.compile(pattern)
        return [q for q in self.quantities if q.symbol and rx.fullmatch(q.symbol)]


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


def _text_extent_pt(text: str, size: float) -> tuple[float, float]:
    lines = text.split("\n")

    def width(line: str) -> float:
        return sum(0.34 if ch in _NARROW else 0.9 if ch in _WIDE else 0.72 if ch.isupper() else 0.63
                   for ch in line)

    return max(width(line) for line in lines) * size + 4, len(lines) * size * 1.3 + 2


class _Canvas:
    """Plan-time model of one figure: code lines, labels and where the labels sit."""

    def __init__(self, ctx: _Ctx):
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
        pos = ", ".join(_fmt(p) for p, _ in ticks)
        self.axis_lines.append(f"ax.set_{axis}ticks([{pos}])")
        if ticks:
            self.axis_lines.append(f"ax.set_{axis}ticklabels({[t for _, t in ticks]!r})")

    def draw(self, *lines: str) -> None:
        self.body.extend(lines)

    def need(self, name: str) -> None:
        if name not in self.helpers:
            self.helpers.append(name)

    def describe(self, content: str, layout: str, *notes: str) -> None:
        self.content, self.layout = content, layout
        self.notes.extend(notes)

    # -- text -------------------------------------------------------------------------
    def _scale(self) -> tuple[float, float]:
        """Points per data unit along x and y."""
        dx = abs(self.xlim[1] - self.xlim[0]) or 1.0
        dy = abs(self.ylim[1] - self.ylim[0]) or 1.0
        sx, sy = _AXES_W_PT / dx, _AXES_H_PT / dy
        if self.equal:
            sx = sy = min(sx, sy)
        return sx, sy

    def _box(self, x, y, text, size, ha, va, rotation, boxed):
        w, h = _text_extent_pt(text, size)
        if boxed:
            w, h = w + 0.8 * size, h + 0.8 * size
        if rotation % 180 == 90:
            w, h = h, w
        sx, sy = self._scale()
        w, h = w / sx, h / sy
        x0 = x - w / 2 if ha == "center" else x - w if ha == "right" else x
        y0 = y - h / 2 if va in ("center", "center_baseline") else y - h if va == "top" else y
        return x0, y0, x0 + w, y0 + h

    def _fits(self, box) -> bool:
        x0, y0, x1, y1 = box
        (lx0, lx1), (ly0, ly1) = sorted(self.xlim), sorted(self.ylim)
        if x0 < lx0 or x1 > lx1 or y0 < ly0 or y1 > ly1:
            return False
        return all(x0 >= b[2] or b[0] >= x1 or y0 >= b[3] or b[1] >= y1 for b in self.boxes)

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
            f", size={_fmt(size)}" if size != 11 else "",
            f", ha={ha!r}" if ha != "center" else "",
            f", va={va!r}" if va != "center" else "",
            f", rotation={_fmt(rotation)}" if rotation else "",
            ", bbox=BOX" if boxed else "",
            ', weight="bold"' if bold else "",
            f", color={color!r}" if color else "",
        ])
        self.label_lines.append(f"label({_fmt(x)}, {_fmt(y)}, {text!r}{extra})")
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

    def unused_values(self, pattern: str = ".*", *, with_symbol: bool = True) -> list[Quantity]:
        rx = re.compile(pattern)
        return [q for q in self.ctx.quantities if q.label() not in self.used_values
                and (rx.fullmatch(q.symbol) if with_symbol else True)]


# --------------------------------------------------------------------------------------
# Code assembly
# --------------------------------------------------------------------------------------

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


def _code(c: _Canvas, kind: str, named: list[str]) -> str:
    ctx = c.ctx
    out = [_HEADER.format(version=PLANNER_VERSION, kind=kind, pid=repr(ctx.problem_id)).rstrip("\n")]
    for name in c.helpers:
        out.append("\n" + _HELPER_SRC[name].strip("\n"))
    out.append("")
    (x0, x1), (y0, y1) = c.xlim, c.ylim
    out.append(f"ax.set_xlim({_fmt(x0)}, {_fmt(x1)})")
    out.append(f"ax.set_ylim({_fmt(y0)}, {_fmt(y1)})")
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


def _sections(c: _Canvas, kind: str, named: list[str], repair_hint: str | None) -> dict[str, str]:
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


_Template = Callable[[_Canvas], None]
_TEMPLATES: dict[str, tuple[str, _Template]] = {}


def _template(image_type: str, kind: str) -> Callable[[_Template], _Template]:
    def register(fn: _Template) -> _Template:
        _TEMPLATES[image_type] = (kind, fn)
        return fn

    return register


def _render(ctx: _Ctx, kind: str, fn: _Template, repair_hint: str | None) -> FigurePlan:
    c = _Canvas(ctx)
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
        return _render(_Ctx.from_item(item), "generic labelled schematic (repair)", _tpl_repair, repair_hint)
    ctx = _Ctx.from_item(item)
    kind, fn = _TEMPLATES.get(ctx.image_type, ("generic labelled schematic", _tpl_generic))
    try:
        return _render(ctx, kind, fn, None)
    except Exception as exc:  # a template bug must not lose the item: generic instead
        ctx = _Ctx.from_item(item)
        plan = _render(ctx, "generic labelled schematic", _tpl_generic, None)
        sections = dict(plan.sections)
        sections["Drawing Considerations"] += (
            f"\n- The {kind} template failed at plan time ({type(exc).__name__}); generic template used."
        )
        return FigurePlan(sections=sections, code=plan.code)


# --------------------------------------------------------------------------------------
# Generic and repair templates
# --------------------------------------------------------------------------------------


def _tpl_generic(c: _Canvas) -> None:
    """Named things (or given values) as nodes on a ring around the system."""
    ctx = c.ctx
    name = ctx.image_type.split(" - ")[-1].strip()
    name = name if name and len(name) <= 22 and not ctx.leaks(name) else "System"
    half = max(1.3, _text_extent_pt(name, 12)[0] / 2 / c._scale()[0] + 0.3)
    c.draw(f'ax.add_patch(FancyBboxPatch(({_fmt(5 - half)}, 4.4), {_fmt(2 * half)}, 1.2, '
           'boxstyle="round,pad=0.1", fc=LIGHT, ec=INK, lw=1.5))')
    c.text(5.0, 5.0, name, size=12, nudge=False, force=True)
    c.block(5 - half - 0.1, 4.3, 5 + half + 0.1, 5.7)
    nodes = ([("e", n) for n in ctx.entities] + [("v", q) for q in ctx.quantities])[:8]
    for i, (kind, node) in enumerate(nodes):
        ang = math.pi / 2 - 2 * math.pi * i / len(nodes)
        cx, cy = math.cos(ang), math.sin(ang)
        x, y = 5 + 2.9 * cx, 5 + 2.9 * cy
        c.draw(f"ax.plot([5, {_fmt(x)}], [5, {_fmt(y)}], color=GREY, lw=1.2, zorder=0)",
               f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), 0.16, fc=INK))")
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
            c.draw(f"ax.plot([5, {_fmt(x)}], [5, {_fmt(y)}], color=GREY, lw=1.2, zorder=0)",
                   f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), 0.5, fc='white', ec=INK, lw=1.5))")
    c.describe(f"A generic labelled schematic: a central box for the {name.lower()} with the named parts "
               "and given values as nodes around it.",
               "Central box in the middle; up to eight nodes on a ring around it, labels outside the ring.")


def _tpl_repair(c: _Canvas) -> None:
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


# --------------------------------------------------------------------------------------
# Shared geometry helpers (plan time)
# --------------------------------------------------------------------------------------


def _unit(dx: float, dy: float) -> tuple[float, float]:
    d = math.hypot(dx, dy) or 1.0
    return dx / d, dy / d


def _line(points, *, dashed: bool = False, closed: bool = False, color: str = "INK", lw: float = 1.8) -> str:
    pts = list(points) + ([points[0]] if closed else [])
    xs = ", ".join(_fmt(p[0]) for p in pts)
    ys = ", ".join(_fmt(p[1]) for p in pts)
    return f"ax.plot([{xs}], [{ys}], color={color}, lw={_fmt(lw)}{', ls=(0, (4, 3))' if dashed else ''})"


def _dot(x: float, y: float, r: float = 0.09) -> str:
    return f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), {_fmt(r)}, fc=INK, zorder=3))"


def _point_name(c: _Canvas, name: str, x: float, y: float, **kw) -> bool:
    """A point named in the problem, also when it is only named inside a segment (AB)."""
    if name in c.ctx.entities:
        return c.entity(name, x, y, **kw)
    kw.setdefault("size", 12)
    return c.text(x, y, name, entity=True, **kw)


def _angle_mark(c: _Canvas, at, p1, p2, q: Quantity | None, radius: float = 0.55, arms: bool = False) -> None:
    """Arc (or right-angle square) at ``at`` between rays to p1 and p2, with its value."""
    if arms:
        c.draw(_line([p1, at, p2], lw=1.5))
    u1, u2 = _unit(p1[0] - at[0], p1[1] - at[1]), _unit(p2[0] - at[0], p2[1] - at[1])
    right = q is not None and re.fullmatch(r"90(?:\.0+)?", q.value) is not None
    if right:
        s = 0.32
        c.draw(_line([(at[0] + s * u1[0], at[1] + s * u1[1]),
                      (at[0] + s * (u1[0] + u2[0]), at[1] + s * (u1[1] + u2[1])),
                      (at[0] + s * u2[0], at[1] + s * u2[1])], lw=1.2))
    else:
        a1 = math.degrees(math.atan2(u1[1], u1[0]))
        a2 = math.degrees(math.atan2(u2[1], u2[0]))
        t1, t2 = (a1, a2) if (a2 - a1) % 360 <= 180 else (a2, a1)
        c.draw(f"ax.add_patch(Arc(({_fmt(at[0])}, {_fmt(at[1])}), {_fmt(2 * radius)}, {_fmt(2 * radius)}, "
               f"theta1={_fmt(t1)}, theta2={_fmt(t2)}, color=INK, lw=1.3))")
    if q is not None:
        b = _unit(u1[0] + u2[0], u1[1] + u2[1])
        if abs(u1[0] + u2[0]) + abs(u1[1] + u2[1]) < 1e-6:
            b = (-u1[1], u1[0])
        c.value(q, at[0] + (radius + 0.55) * b[0], at[1] + (radius + 0.45) * b[1], size=10)


def _geometry_values(c: _Canvas, where: dict, centre, neighbours: dict, drawn: set) -> None:
    """Segments named in the problem and segment / angle values, on the drawn points."""
    ctx = c.ctx
    seg_names = list(ctx.segments()) + [q.symbol for q in ctx.quantities if _SEGMENT_RE.fullmatch(q.symbol)]
    for seg in seg_names:
        a, b = _SEGMENT_RE.fullmatch(seg).groups()
        if a in where and b in where and frozenset((a, b)) not in drawn:
            drawn.add(frozenset((a, b)))
            c.draw(_line([where[a], where[b]], lw=1.5))
    for q in ctx.quantities:
        sym = q.symbol
        names = _POINT_NAME_RE.findall(sym.lstrip("∠")) if sym else []
        if sym.startswith("∠") or q.unit == "°":
            if len(names) == 3 and all(n in where for n in names):
                arms = not {frozenset(names[:2]), frozenset(names[1:])} <= drawn
                drawn.update({frozenset(names[:2]), frozenset(names[1:])})
                _angle_mark(c, where[names[1]], where[names[0]], where[names[2]], q, arms=arms)
            elif len(names) == 1 and len(neighbours.get(names[0], ())) == 2:
                n1, n2 = neighbours[names[0]]
                _angle_mark(c, where[names[0]], where[n1], where[n2], q)
        elif _SEGMENT_RE.fullmatch(sym or "-") and all(n in where for n in names):
            (x1, y1), (x2, y2) = where[names[0]], where[names[1]]
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            nx, ny = _unit(-(y2 - y1), x2 - x1)
            if (mx - centre[0]) * nx + (my - centre[1]) * ny < 0:
                nx, ny = -nx, -ny
            c.value(q, mx + 0.5 * nx, my + 0.5 * ny, size=10)
    for seg in ctx.segments():  # a named segment without a value: its name at its middle
        a, b = _SEGMENT_RE.fullmatch(seg).groups()
        if seg not in c.used_entities and a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            nx, ny = _unit(-(y2 - y1), x2 - x1)
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            if (mx - centre[0]) * nx + (my - centre[1]) * ny > 0:
                nx, ny = -nx, -ny
            c.entity(seg, mx + 0.4 * nx, my + 0.4 * ny, size=10)


def _label_points(c: _Canvas, where: dict, centre, neighbours: dict, drawn: set) -> None:
    """Point names outside the figure, then the values; a centre point last, away from
    the segments that meet there."""
    for name, (x, y) in where.items():
        c.block(x - 0.12, y - 0.12, x + 0.12, y + 0.12)
    for name, (x, y) in where.items():
        if (x, y) != centre:
            ux, uy = _unit(x - centre[0], y - centre[1])
            _point_name(c, name, x + 0.45 * ux, y + 0.45 * uy)
    _geometry_values(c, where, centre, neighbours, drawn)
    for name, (x, y) in where.items():
        if (x, y) == centre:
            ux, uy = _free_direction(where, drawn, name)
            _point_name(c, name, x + 0.45 * ux, y + 0.45 * uy)


def _free_direction(where: dict, drawn: set, name: str, default=(-0.7, -0.7)) -> tuple[float, float]:
    """Direction away from the segments that meet at a point (for its label)."""
    x, y = where[name]
    sx = sy = 0.0
    for pair in drawn:
        if name in pair and len(pair) == 2:
            (other,) = pair - {name}
            if other in where:
                ux, uy = _unit(where[other][0] - x, where[other][1] - y)
                sx, sy = sx + ux, sy + uy
    return _unit(-sx, -sy) if abs(sx) + abs(sy) > 1e-6 else _unit(*default)


def _polygon_shape(ctx: _Ctx, n: int, names: list[str]) -> list[tuple[float, float]]:
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
# Templates: Math
# --------------------------------------------------------------------------------------


@_template("Math - Plane Geometric", "plane-geometry figure")
def _tpl_plane(c: _Canvas) -> None:
    ctx = c.ctx
    pts = ctx.points()
    where: dict[str, tuple[float, float]] = {}
    drawn: set = set()
    neighbours: dict[str, tuple[str, str]] = {}
    if ctx.has("circle", "chord", "tangent", "radius", "diameter", "inscribed", "circumference", " arc"):
        centre, rad = (5.0, 5.0), 3.2
        c.draw(f"ax.add_patch(Circle((5, 5), {rad}, fill=False, ec=INK, lw=1.8))", _dot(5, 5))
        if "O" in pts:
            where["O"] = centre
        for name, ang in zip([p for p in pts if p != "O"], (215, 325, 95, 145, 35, 270)):
            where[name] = (5 + rad * math.cos(math.radians(ang)), 5 + rad * math.sin(math.radians(ang)))
            c.draw(_dot(*where[name]))
        radius = next((q for q in ctx.quantities if q.symbol in ("r", "R")), None)
        if radius is not None:
            c.draw(_line([centre, (5 + rad * math.cos(0.3), 5 + rad * math.sin(0.3))], lw=1.3, dashed=True))
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
                ux, uy = _unit(b2[0] - b1[0], b2[1] - b1[1])
                t = (apex[0] - b1[0]) * ux + (apex[1] - b1[1]) * uy
                where[name] = (b1[0] + t * ux, b1[1] + t * uy)
                c.draw(_line([apex, where[name]], lw=1.4, dashed=True))
                drawn.add(frozenset((foot.group(1), name)))
            elif mid and mid.group(1) in where and mid.group(2) in where:
                (x1, y1), (x2, y2) = where[mid.group(1)], where[mid.group(2)]
                where[name] = ((x1 + x2) / 2, (y1 + y2) / 2)
            else:
                (x1, y1), (x2, y2) = verts[k % n], verts[(k + 1) % n]
                where[name] = (x1 + 0.45 * (x2 - x1), y1 + 0.45 * (y2 - y1))
            c.draw(_dot(*where[name]))
        if "O" in pts:
            where["O"] = centre
            c.draw(_dot(*centre))
        shape = f"a {('triangle', 'quadrilateral', 'pentagon', 'hexagon')[min(n, 6) - 3]} with its vertices labelled"
    _label_points(c, where, centre, neighbours, drawn)
    for x, y in ((0.8, 9.4), (9.2, 9.4), (0.8, 0.6), (9.2, 0.6)):
        c.anchor(x, y)
    c.describe(f"A plane-geometry figure: {shape}; named segments drawn; given lengths and angles "
               "written on their sides and angles.",
               "Figure centred in a 10 x 10 frame; vertex names just outside the figure, values beside "
               "their sides, angle arcs at their vertices.",
               "Only the given lengths and angles are written; the length or angle asked for is not marked.")


@_template("Math - Solid Geometric", "solid-geometry figure")
def _tpl_solid(c: _Canvas) -> None:
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
                   _line([(5, 5), (8.2, 5)], lw=1.3, dashed=True), _dot(5, 5))
            c.slot(r"r|R|d", 6.6, 5.35, default="r", size=10)
            centre = (5.0, 5.0)
        else:
            top = 8.4 if kind == "cone" else 7.6
            c.draw("ax.add_patch(Arc((5, 2.4), 6.4, 1.6, theta1=180, theta2=360, color=INK, lw=1.8))",
                   f"ax.add_patch(Arc((5, 2.4), 6.4, 1.6, theta1=0, theta2=180, color=GREY, lw=1.3, {dash}))",
                   _line([(5, 2.4), (5, top)], lw=1.3, dashed=True),
                   _line([(5, 2.4), (8.2, 2.4)], lw=1.3, dashed=True), _dot(5, 2.4))
            if kind == "cone":
                c.draw(_line([(1.8, 2.4), (5, 8.4), (8.2, 2.4)]))
                c.slot(r"l|s|L", 7.0, 5.6, ha="left", default="l", size=10)
            else:
                c.draw("ax.add_patch(Ellipse((5, 7.6), 6.4, 1.6, fill=False, ec=INK, lw=1.8))",
                       _line([(1.8, 2.4), (1.8, 7.6)]), _line([(8.2, 2.4), (8.2, 7.6)]))
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
            c.draw(_line(list(seg), dashed=back in (i, (i + 1) % n)))
            c.draw(_line([corners[i], top], dashed=(i == back)))
        c.draw(_line([top, centre], lw=1.3, dashed=True), _dot(*centre))
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
            c.draw(_line([corners[i], corners[j]], dashed=3 in (i, j)))
        centre = (4.85, 2.5 + hgt / 2)
        drawn = {frozenset((names[i], names[j])) for i, j in edges}
        c.slot(r"a|s|l|e|x", 3.85, 1.1, size=10)
        shape = "a cube (cuboid) in oblique projection with hidden edges dashed"
    c.draw(*[_dot(x, y, 0.07) for x, y in where.values()])
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


@_template("Math - Analytic Geometry", "coordinate-plane figure")
def _tpl_analytic(c: _Canvas) -> None:
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
        eq, k = conic
        expr = " + ".join(f"({v:.10g})*{_MONOMIAL_CODE[m]}" for m, v in k.items() if v)
        c.draw(f"g = np.linspace({_fmt(-L)}, {_fmt(L)}, 600)", "X, Y = np.meshgrid(g, g)",
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
                        c.draw(_line([where["P"], where[name]], lw=1.3, color="GREY"))
        shape = f"the curve {eq} drawn from its equation"
    else:
        c.draw(f"xs = np.linspace({_fmt(-L * 0.75)}, {_fmt(L * 0.75)}, 200)",
               f"ax.plot(xs, {0.6 / L:.4g} * xs**2 - {_fmt(L * 0.3)}, color=INK, lw=2)")
        shape = "a schematic curve (no equation could be read)"
    for q, x, y in given_pts:
        c.draw(_dot(x, y, 0.07 * u * 1.5), _line([(x, 0), (x, y), (0, y)], lw=1, color="GREY", dashed=True))
        c.value(q, x + 0.3 * u, y + 0.3 * u, ha="left", va="bottom")
        c.mark_used(q.symbol)
    for name, (x, y) in where.items():
        c.draw(_dot(x, y, 0.1 * u))
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


@_template("Math - Set & Probability", "Venn / tree diagram")
def _tpl_sets(c: _Canvas) -> None:
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
            outcomes = ["E", "not E"]
        step = "toss" if coin else "draw" if ctx.has("draw", "drawn", "bag", "urn") else "trial"
        c.draw(_dot(1.0, 5.0, 0.12))
        c.block(0.8, 4.8, 1.2, 5.2)
        c.text(4.6, 9.6, f"1st {step}", size=11, va="top", nudge=False)
        c.text(8.2, 9.6, f"2nd {step}", size=11, va="top", nudge=False)
        for i, y1 in enumerate((7.2, 2.8)):
            c.draw(_line([(1.0, 5.0), (4.2, y1)], lw=1.5), _dot(4.2, y1, 0.1))
            c.text(4.45, y1, outcomes[i], ha="left", size=12, entity=outcomes[i] in ctx.entities)
            for j, y2 in enumerate((y1 + 1.3, y1 - 1.3)):
                c.draw(_line([(5.9, y1), (7.8, y2)], lw=1.5), _dot(7.8, y2, 0.1))
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
        c.draw(f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), {_fmt(rad)}, fc=LIGHT, ec=INK, lw=1.6, alpha=0.6))")
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


# --------------------------------------------------------------------------------------
# Templates: Physics
# --------------------------------------------------------------------------------------


def _num(q: Quantity | None, default: float | None = None) -> float | None:
    """The plain number of a value ("2.0" -> 2.0, "−1.0" -> -1.0), or ``default``."""
    if q is None:
        return default
    m = re.fullmatch(r"[-−]?\d+(?:\.\d+)?", q.value.replace(",", ""))
    return float(m.group(0).replace("−", "-")) if m else default


@_template("Physics - Mechanical", "mechanics diagram")
def _tpl_mechanics(c: _Canvas) -> None:
    ctx = c.ctx
    theta = next((q for q in ctx.quantities if q.unit == "°"), None)
    if ctx.has("pulley", "atwood"):
        c.draw("ax.add_patch(Rectangle((2.5, 9.2), 5, 0.3, fc=LIGHT, ec=INK, hatch='///'))",
               _line([(5, 9.2), (5, 8.0)], lw=1.5), "ax.add_patch(Circle((5, 8.0), 0.8, fc='white', ec=INK, lw=1.8))",
               _dot(5, 8.0), _line([(4.2, 8.0), (4.2, 5.4)], lw=1.4), _line([(5.8, 8.0), (5.8, 3.6)], lw=1.4),
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
               _line([(0.2, 1.5), (9.8, 1.5)], lw=1.8),
               "xs = np.linspace(2.6, 8.6, 60)", "ax.plot(xs, 7.0 - 5.5 * ((xs - 2.6) / 6.0) ** 2, color=INK, lw=1.6, ls=(0, (4, 3)))",
               "ax.add_patch(Circle((2.6, 7.0), 0.18, fc=INK))", "arrow(2.8, 7.0, 4.6, 7.0)", _dot(8.6, 1.5),
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
               _line([(1.0, 2.0), (9.5, 2.0)], lw=1.8), "zigzag(1.0, 3.2, 5.6, 3.2, n=10, amp=0.35)",
               "ax.add_patch(Rectangle((5.6, 2.0), 2.0, 2.4, fc=LIGHT, ec=INK, lw=1.6))")
        c.block(5.6, 2.0, 7.6, 4.4)
        c.slot(r"k", 3.3, 4.0, default="k")
        c.slot(r"m|M", 6.6, 4.7, va="bottom", default="m")
        c.slot(r"x|A|Δx", 6.6, 1.4, va="top")
        shape = "a block on a horizontal surface attached to a wall by a spring"
        where = "Wall at the left, spring in the middle, block at the right."
    else:
        ang = math.radians(min(60.0, max(15.0, _num(theta, 30.0) or 30.0)))
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
        c.draw(f"ax.add_patch(Polygon([(1.0, 1.5), ({_fmt(top[0])}, 1.5), ({_fmt(top[0])}, {_fmt(top[1])})], "
               "closed=True, fc=LIGHT, ec=INK, lw=1.8))",
               f"ax.add_patch(Polygon({[(round(x, 2), round(y, 2)) for x, y in block]!r}, closed=True, fc='white', ec=INK, lw=1.8))",
               f"ax.add_patch(Arc((1.0, 1.5), 2.4, 2.4, theta1=0, theta2={_fmt(math.degrees(ang))}, color=INK, lw=1.3))",
               f"arrow({_fmt(cx)}, {_fmt(cy)}, {_fmt(cx)}, {_fmt(cy - 2.0)}, color=GREY)",
               f"arrow({_fmt(cx)}, {_fmt(cy)}, {_fmt(cx + 1.6 * nx)}, {_fmt(cy + 1.6 * ny)}, color=GREY)")
        c.block(min(p[0] for p in block), min(p[1] for p in block), max(p[0] for p in block), max(p[1] for p in block))
        c.slot(r"θ|α|φ", 2.5, 1.85, ha="left", default="θ")
        c.text(cx + 0.2, cy - 2.1, "mg", ha="left", va="top", color="GREY")
        c.text(cx + 1.75 * nx, cy + 1.75 * ny, "N", ha="right", va="bottom", color="GREY")
        if ctx.has("friction") and not ctx.has("frictionless", "smooth"):
            c.draw(f"arrow({_fmt(p0[0])}, {_fmt(p0[1] + 0.15)}, {_fmt(p0[0] - 1.4 * ux)}, {_fmt(p0[1] - 1.4 * uy + 0.15)}, color=GREY)")
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


@_template("Physics - Field Diagram", "field-line diagram")
def _tpl_field(c: _Canvas) -> None:
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
            mag = abs(_num(q, 1.0) or 1.0)
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
            _point_name(c, name, x, 4.1, va="top", boxed=True)
        for q in ctx.quantities:
            if _SEGMENT_RE.fullmatch(q.symbol or "-") or q.symbol in ("d", "r", "L"):
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


@_template("Physics - Optical Ray", "ray diagram")
def _tpl_optics(c: _Canvas) -> None:
    ctx = c.ctx
    f = abs(_num(next(iter(ctx.find(r"f|F|f_\w+")), None), 0.0) or 0.0)
    u = abs(_num(next(iter(ctx.find(r"u|d_o|do|s|x|d")), None), 0.0) or 0.0)
    if ctx.has("refract", "snell", "refractive index", "glass block", "interface") and not ctx.has("lens", "mirror"):
        t1 = _num(next(iter(ctx.find(r"θ1|θ_1|θ|i|α|θi|θ_i")), None), 40.0) or 40.0
        n = _num(next(iter(ctx.find(r"n|n2|n_2|μ")), None), None)
        t1 = min(75.0, max(10.0, t1))
        t2 = math.degrees(math.asin(min(1.0, math.sin(math.radians(t1)) / n))) if n and n > 0 else 0.65 * t1
        medium = "glass" if ctx.has("glass") else "water" if ctx.has("water") else "medium"
        a1, a2 = math.radians(90 + t1), math.radians(-90 + t2)
        p1 = (5 + 4.2 * math.cos(a1), 5 + 4.2 * math.sin(a1))
        p2 = (5 + 4.2 * math.cos(a2), 5 + 4.2 * math.sin(a2))
        c.draw("ax.add_patch(Rectangle((0.2, 0.6), 9.6, 4.4, fc=LIGHT, ec='none'))", _line([(0.2, 5), (9.8, 5)], lw=1.6),
               _line([(5, 0.8), (5, 9.2)], lw=1.1, color="GREY", dashed=True),
               f"arrow({_fmt(p1[0])}, {_fmt(p1[1])}, 5, 5, lw=1.8)", f"arrow(5, 5, {_fmt(p2[0])}, {_fmt(p2[1])}, lw=1.8)",
               f"ax.add_patch(Arc((5, 5), 3.0, 3.0, theta1=90, theta2={_fmt(90 + t1)}, color=INK, lw=1.2))",
               f"ax.add_patch(Arc((5, 5), 3.0, 3.0, theta1=-90, theta2={_fmt(-90 + t2)}, color=INK, lw=1.2))")
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
        R = abs(_num(next(iter(ctx.find(r"R|r|R_c")), None), 0.0) or 0.0) or 2 * f
        scale = 7.6 / max(u, R, 1e-9) if (u or R) else 0.0
        Rx = min(7.0, max(2.6, R * scale)) if R else 5.0
        ux_ = min(7.9, max(1.0, u * scale)) if u else 6.5
        pole, cx = 8.8, 8.8 - Rx
        half = math.degrees(math.asin(min(0.95, 3.4 / Rx)))
        ox, h = pole - ux_, 1.5
        mx = cx + math.sqrt(Rx * Rx - h * h)
        fx = pole - Rx / 2
        end1 = _ray_end((mx, 5 + h), _unit(fx - mx, -h))
        c.draw(f"ax.add_patch(Arc(({_fmt(cx)}, 5), {_fmt(2 * Rx)}, {_fmt(2 * Rx)}, theta1={_fmt(-half)}, "
               f"theta2={_fmt(half)}, color=INK, lw=2.4))", _line([(0.2, 5), (9.8, 5)], lw=1.0, color="GREY"),
               f"arrow({_fmt(ox)}, 5, {_fmt(ox)}, {_fmt(5 + h)}, lw=2)",
               _line([(ox, 5 + h), (mx, 5 + h), end1], lw=1.3),
               *[_dot(x, 5, 0.07) for x in (cx, fx)])
        for name, x, ha in (("C", cx, "center"), ("F", fx, "center"), ("P", pole + 0.15, "left")):
            _point_name(c, name, x, 4.75, va="top", ha=ha)
        c.slot(r"h|h_o|ho|y", ox + 0.15, 5 + h / 2, ha="left")
        if R:
            c.draw(f"arrow({_fmt(cx)}, 3.4, {_fmt(pole)}, 3.4, style='<|-|>', lw=1.1)")
            c.slot(r"R|r|R_c", (cx + pole) / 2, 3.25, va="top")
        if u:
            c.draw(f"arrow({_fmt(ox)}, 2.2, {_fmt(pole)}, 2.2, style='<|-|>', lw=1.1)")
            c.slot(r"u|d_o|do|s|x|d", (ox + pole) / 2, 2.05, va="top")
        c.slot(r"f", fx, 6.0, va="bottom")
        shape = "a concave mirror on its principal axis with C, F and the pole P, an object arrow and a ray parallel to the axis reflected through F"
        where = "Axis across the middle, mirror at the right, object at the left."
    else:
        diverging = ctx.has("diverging", "concave lens")
        scale = 4.2 / max(u, 1.25 * f, 1e-9) if (u or f) else 0.0
        fx = min(4.4, max(1.0, f * scale)) if f else 2.0
        ux_ = min(4.6, max(0.8, u * scale)) if u else 3.4
        ox, h = 5 - ux_, 1.6
        through = (5 + fx, 5) if not diverging else (5 - fx, 5)
        d1 = _unit(through[0] - 5, through[1] - 5 - h) if not diverging else _unit(5 - through[0], h)
        end1 = _ray_end((5, 5 + h), d1)
        end2 = _ray_end((ox, 5 + h), _unit(5 - ox, -h))
        lens = ("ax.add_patch(Ellipse((5, 5), 0.5, 6.4, fc=LIGHT, ec=INK, lw=1.6))" if not diverging else
                "ax.plot([4.7, 5.3, 5, 5, 4.7, 5.3], [8.4, 8.4, 8.2, 1.8, 1.6, 1.6], color=INK, lw=1.6)")
        c.draw(lens, _line([(0.2, 5), (9.8, 5)], lw=1.0, color="GREY"),
               f"arrow({_fmt(ox)}, 5, {_fmt(ox)}, {_fmt(5 + h)}, lw=2)",
               _line([(ox, 5 + h), (5, 5 + h), end1], lw=1.3), _line([(ox, 5 + h), end2], lw=1.3),
               _dot(5 - fx, 5, 0.07), _dot(5 + fx, 5, 0.07))
        c.block(4.7, 1.7, 5.3, 8.3)
        c.text(5 - fx, 4.75, "F", va="top", size=12)
        c.text(5 + fx, 4.75, "F′", va="top", size=12)
        c.slot(r"h|h_o|ho|y", ox + 0.15, 5 + h / 2, ha="left")
        if u:
            c.draw(f"arrow({_fmt(ox)}, 3.2, 5, 3.2, style='<|-|>', lw=1.1)")
            c.slot(r"u|d_o|do|s|x|d", (ox + 5) / 2, 3.05, va="top")
        if f:
            c.draw(f"arrow(5, 2.0, {_fmt(5 + fx)}, 2.0, style='<|-|>', lw=1.1)")
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


def _circuit_parts(ctx: _Ctx) -> tuple[list[tuple[str, str, Quantity | None]], Quantity | None]:
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


@_template("Physics - Circuit", "circuit diagram")
def _tpl_circuit(c: _Canvas) -> None:
    ctx = c.ctx
    for name in ("zigzag", "plates", "coil", "switch"):
        c.need(name)
    parts, source = _circuit_parts(ctx)
    x0, x1, y0, y1 = 1.2, 7.2, 2.0, 8.0
    parallel = ctx.has("parallel") and len(parts) >= 2
    series = parts[:-2] if parallel else parts
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
                c.draw(_line([tuple(a), tuple(b)]))
            pos = hi
    code = {"R": "zigzag", "C": "plates", "L": "coil", "S": "switch"}

    def put(part, a, b, lx, ly, ha, va):
        kind, sym, q = part
        c.draw(f"{code[kind]}({_fmt(a[0])}, {_fmt(a[1])}, {_fmt(b[0])}, {_fmt(b[1])})")
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
        c.draw(_line([(x1, 6.4), (bx[0], 6.4), (bx[0], 5.9)]), _line([(x1, 6.4), (bx[1], 6.4), (bx[1], 5.9)]),
               _line([(bx[0], 4.1), (bx[0], 3.6), (bx[1], 3.6), (bx[1], 4.1)]),
               _dot(x1, 6.4, 0.08), _dot(x1, 3.6, 0.08))
        put(parts[-2], (bx[0], 5.9), (bx[0], 4.1), bx[0] - 0.4, 5.0, "right", "center")
        put(parts[-1], (bx[1], 5.9), (bx[1], 4.1), bx[1] + 0.35, 5.0, "left", "center")
    if ctx.has("ac ", "a.c.", "alternating", "ac source", "ac voltage"):
        c.draw(_line([(x0, 4.3), (x0, 5.7)], lw=1.8), f"ax.add_patch(Circle(({x0}, 5.0), 0.5, fc='white', ec=INK, lw=1.8, zorder=3))",
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
    nums = [(q, _num(q)) for q in values]
    known = [v for _, v in nums if v is not None]
    if len(known) >= 2 and max(known) > min(known):
        a, b = min(known), max(known)
        return [(q, lo + (v - a) / (b - a) * (hi - lo) if v is not None else lo) for q, v in nums]
    return [(q, lo + i * (hi - lo) / max(1, len(values) - 1)) for i, (q, _) in enumerate(nums)]


@_template("Physics - Thermodynamic", "thermodynamics diagram")
def _tpl_thermo(c: _Canvas) -> None:
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
        c.draw(f"ax.plot([0.5, 2.5, 4.5, 5.5, 8.0, 9.0], [{_fmt(lv[0])}, {_fmt(lv[1])}, {_fmt(lv[1])}, "
               f"{_fmt(lv[2])}, {_fmt(lv[2])}, {_fmt(min(9.6, lv[2] + 2.0))}], color=INK, lw=2)")
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
            c.draw(_line(corners, closed=True, lw=2),
                   *[f"arrow({_fmt(x0)}, {_fmt(y0)}, {_fmt(x0 + 0.55 * (x1 - x0))}, {_fmt(y0 + 0.55 * (y1 - y0))}, lw=2)"
                     for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1])],
                   _line([(xa, 0), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   _line([(xb, 0), (xb, ya)], lw=0.8, color="GREY", dashed=True),
                   _line([(0, ya), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   _line([(0, yb), (xa, yb)], lw=0.8, color="GREY", dashed=True))
            names = states[:4] if len(states) >= 4 else ["A", "B", "C", "D"]
            for name, (x, y), (dx, dy) in zip(names, corners, ((-0.35, -0.45), (-0.35, 0.45), (0.35, 0.45), (0.35, -0.45))):
                _point_name(c, name, x + dx, y + dy, size=12) if name in ctx.entities else c.text(x + dx, y + dy, name, size=12)
            shape = "a rectangular cycle on a P-V diagram with direction arrows and the state corners labelled"
        else:
            k = {"isotherm": 1.0, "adiabat": 1.4}
            gamma = next((v for w, v in k.items() if ctx.has(w)), None)
            xa, xb = sorted(vx)
            ya = 8.0
            if gamma is None and ctx.has("isobaric", "constant pressure"):
                c.draw(f"arrow({_fmt(xa)}, {_fmt(ya - 2)}, {_fmt(xb)}, {_fmt(ya - 2)}, lw=2)")
                yb, ya = ya - 2, ya - 2
            elif gamma is None and ctx.has("isochoric", "constant volume"):
                c.draw(f"arrow({_fmt(xa)}, 3.0, {_fmt(xa)}, 8.0, lw=2)")
                xb, yb = xa, 3.0
                ya = 8.0
            else:
                g = gamma or 1.0
                yb = ya * (xa / xb) ** g
                c.draw(f"vs = np.linspace({_fmt(xa)}, {_fmt(xb)}, 80)",
                       f"ax.plot(vs, {_fmt(ya)} * ({_fmt(xa)} / vs) ** {g}, color=INK, lw=2)",
                       f"arrow({_fmt((xa + xb) / 2 - 0.1)}, {_fmt(ya * (xa / ((xa + xb) / 2 - 0.1)) ** g)}, "
                       f"{_fmt((xa + xb) / 2 + 0.1)}, {_fmt(ya * (xa / ((xa + xb) / 2 + 0.1)) ** g)}, lw=2)")
            c.draw(_line([(xa, 0), (xa, ya)], lw=0.8, color="GREY", dashed=True),
                   _line([(xb, 0), (xb, yb)], lw=0.8, color="GREY", dashed=True), _dot(xa, ya, 0.08), _dot(xb, yb, 0.08))
            for name, (x, y) in zip((states + ["A", "B"])[:2] if states else ["A", "B"], ((xa, ya), (xb, yb))):
                (_point_name(c, name, x + 0.3, y + 0.4, ha="left") if name in ctx.entities
                 else c.text(x + 0.3, y + 0.4, name, ha="left", size=12))
            c.slot(r"T|T_?\d|T_\w+", (xa + xb) / 2 + 0.3, (ya + yb) / 2 + 0.8, ha="left", size=10)
            shape = "a P-V diagram of the process between the two given states"
        where = "P up, V across; the given volumes and pressures mark the axes; states at the curve ends."
    for x, y in ((9.5, 9.5), (9.5, 0.5)):
        c.anchor(x, y, ha="right")
    c.describe(f"A thermodynamics diagram: {shape}.", where,
               "The asked work, heat or efficiency is not written; no shaded work area is labelled with a value.")


_ORDINALS = {"fundamental": 1, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}


@_template("Physics - Waveform", "waveform sketch")
def _tpl_wave(c: _Canvas) -> None:
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
            c.draw(_dot(x, 5, 0.08))
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
               _line([(1, 1.5), (1, 2.1)], lw=0.8, color="GREY", dashed=True),
               _line([(5, 1.5), (5, 2.1)], lw=0.8, color="GREY", dashed=True))
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


@_template("Physics - Astronomical", "orbit diagram")
def _tpl_astro(c: _Canvas) -> None:
    ctx = c.ctx
    bodies = [e for e in ctx.entities if e in ("Sun", "Earth", "Moon", "Mercury", "Venus", "Mars", "Jupiter",
                                                "Saturn", "Uranus", "Neptune", "Pluto")]
    if ctx.has("tilt", "solstice", "equinox", "latitude", "season"):
        tilt = math.radians(min(45.0, max(5.0, _num(next(iter(ctx.find(r"ε|δ|θ|α|i")), None), 23.5) or 23.5)))
        ax_dx, ax_dy = 3.2 * math.sin(tilt), 3.2 * math.cos(tilt)
        eq_dx, eq_dy = 2.4 * math.cos(tilt), -2.4 * math.sin(tilt)
        c.draw("ax.add_patch(Circle((6.0, 5.0), 2.4, fc=LIGHT, ec=INK, lw=1.8))",
               _line([(6 - ax_dx, 5 - ax_dy), (6 + ax_dx, 5 + ax_dy)], lw=1.5),
               _line([(6 - eq_dx, 5 - eq_dy), (6 + eq_dx, 5 + eq_dy)], lw=1.2, color="GREY", dashed=True),
               _line([(6, 7.4), (6, 8.6)], lw=0.9, color="GREY", dashed=True),
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
        lat = _num(next(iter(ctx.find(r"φ|λ|ϕ|L")), None), None)
        if lat is not None:
            a = math.radians(lat) + math.atan2(eq_dy, eq_dx) + math.pi
            ox, oy = 6 - 2.4 * math.cos(a - math.pi), 5 - 2.4 * math.sin(a - math.pi)
            c.draw(_dot(ox, oy, 0.1), _line([(6, 5), (ox, oy)], lw=0.9, color="GREY"))
            c.slot(r"φ|λ|ϕ|L", ox - 0.2, oy + 0.3, ha="right", size=10)
        shape = "the Earth with its tilted axis and equator, parallel sunlight from the left, the observer's latitude"
    elif ctx.has("satellite", "altitude", "above the earth", "above the surface") and not ctx.has("ellip"):
        c.draw("ax.add_patch(Circle((5, 5), 2.2, fc=LIGHT, ec=INK, lw=1.8))",
               "ax.add_patch(Circle((5, 5), 3.6, fill=False, ec=INK, lw=1.4, ls=(0, (4, 3))))",
               _dot(5 + 3.6 * math.cos(0.8), 5 + 3.6 * math.sin(0.8), 0.16), _dot(5, 5, 0.06),
               _line([(5, 5), (5 - 2.2, 5)], lw=1.1),
               f"arrow({_fmt(5 + 2.2 * math.cos(-0.6))}, {_fmt(5 + 2.2 * math.sin(-0.6))}, "
               f"{_fmt(5 + 3.6 * math.cos(-0.6))}, {_fmt(5 + 3.6 * math.sin(-0.6))}, style='<|-|>', lw=1.1)")
        c.entity("Earth", 5, 5.5, va="bottom") or c.text(5, 5.5, "Earth", va="bottom")
        c.slot(r"R_E|R|Re|R_e|r_E", 3.9, 4.7, va="top", size=10, nudge=False)
        c.block(2.8, 2.8, 7.2, 7.2)
        c.slot(r"h|H", 5 + 2.9 * math.cos(-0.6) + 0.45, 5 + 2.9 * math.sin(-0.6) - 0.35, ha="left", size=10, default="h")
        c.text(5 + 3.6 * math.cos(0.8) + 0.3, 5 + 3.6 * math.sin(0.8) + 0.2, "satellite", ha="left", va="bottom", size=10)
        shape = "the Earth with a satellite on a circular orbit, the Earth's radius and the altitude marked"
    else:
        cf = math.sqrt(4.0 ** 2 - 2.6 ** 2)
        c.draw("ax.add_patch(Ellipse((5, 5), 8.0, 5.2, fill=False, ec=INK, lw=1.6))",
               f"ax.add_patch(Circle(({_fmt(5 - cf)}, 5), 0.45, fc='0.75', ec=INK, lw=1.2))",
               _dot(5, 7.6, 0.18), _line([(1, 5), (9, 5)], lw=0.8, color="GREY", dashed=True),
               "arrow(5, 4.7, 9, 4.7, style='<|-|>', lw=1.1)", _dot(1, 5, 0.07), _dot(9, 5, 0.07))
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


def _callout(c: _Canvas, text: str, target: tuple[float, float], at: tuple[float, float], *,
             ha: str = "left", size: float = 10, entity: bool = False) -> bool:
    """A label at ``at`` with a thin leader line to ``target`` (drawn only if placed)."""
    if not c.text(at[0], at[1], text, ha=ha, size=size, entity=entity):
        return False
    x, y = c.last
    c.draw(_line([(x - 0.1 if ha == "left" else x + 0.1, y), target], lw=0.8, color="GREY"), _dot(*target, 0.05))
    return True


# --------------------------------------------------------------------------------------
# Templates: Chemistry
# --------------------------------------------------------------------------------------

_CHAIN_RE = re.compile(r"(?<![A-Za-z])((?:[A-Z][a-z]?\d*)+(?:[–=≡-](?:[A-Z][a-z]?\d*)+){2,})(?![a-z])")


def _atoms(formula: str) -> list[str]:
    out: list[str] = []
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        out.extend([el] * (int(n) if n else 1))
    return out


@_template("Chemistry - Molecular Structure", "structural formula")
def _tpl_molecule(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    species = ctx.species()
    chain = next((m for m in _CHAIN_RE.finditer(text) if "C" in m.group(1)), None)
    atom = "ax.add_patch(Circle(({x}, {y}), {r}, fc='white', ec=INK, lw=1.5, zorder=3))"
    if ctx.has("benzene", "hexagon", "aromatic", "c6h6") or any(s.startswith("C6H6") for s in species):
        pts = [(5 + 2.3 * math.cos(math.radians(90 + 60 * k)), 5 + 2.3 * math.sin(math.radians(90 + 60 * k))) for k in range(6)]
        c.draw(_line(pts, closed=True, lw=2))
        for k in range(0, 6, 2):
            (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % 6]
            c.draw(_line([(5 + 0.8 * (x1 - 5), 5 + 0.8 * (y1 - 5)), (5 + 0.8 * (x2 - 5), 5 + 0.8 * (y2 - 5))], lw=1.6))
        numbered = [f"C{k + 1}" for k in range(6)]
        for k, (x, y) in enumerate(pts):
            ux, uy = _unit(x - 5, y - 5)
            c.draw(_line([(x + 0.25 * ux, y + 0.25 * uy), (x + 1.3 * ux, y + 1.3 * uy)], lw=1.3))
            c.text(x + 1.65 * ux, y + 1.65 * uy, "H", size=12, nudge=False)
            name = numbered[k] if numbered[k] in ctx.entities else None
            (c.entity(name, x - 0.5 * ux, y - 0.5 * uy, size=10) if name else c.text(x - 0.45 * ux, y - 0.45 * uy, "C", size=11))
        c.slot(r"b|d|r|l|r\(C-C\)|d\(C-C\)", 5 + 2.6 * math.cos(math.radians(-30)) + 0.2, 5 + 2.6 * math.sin(math.radians(-30)) - 0.2, ha="left", size=10)
        shape = "a benzene ring: a regular hexagon of carbons with alternating double bonds and one H on each carbon"
    elif chain:
        groups = re.split(r"[–=≡-]", chain.group(1))[:6]
        bonds = re.findall(r"[–=≡-]", chain.group(1))[: len(groups) - 1]
        step = min(2.2, 8.0 / max(1, len(groups) - 1))
        pts = [(1.2 + i * step, 5.0 + (0.9 if i % 2 else -0.9)) for i in range(len(groups))]
        for (p1, p2), b in zip(zip(pts, pts[1:]), bonds):
            nx, ny = _unit(-(p2[1] - p1[1]), p2[0] - p1[0])
            for off in ((0,) if b in "–-" else (-0.09, 0.09) if b == "=" else (-0.14, 0, 0.14)):
                c.draw(_line([(p1[0] + off * nx, p1[1] + off * ny), (p2[0] + off * nx, p2[1] + off * ny)], lw=1.6))
        for g, (x, y) in zip(groups, pts):
            c.draw(f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), 0.55, fc='white', ec='none', zorder=2))")
            c.name(x, y, g, nudge=False, force=True)
        c.slot(r"r\(C=C\)|d|b|r|l", 5.0, 2.2, size=10)
        shape = f"the condensed chain {chain.group(1)} drawn as a zig-zag with its single and double bonds"
    else:
        formula = species[0] if species else "H2O"
        atoms = _atoms(re.sub(r"(?:\^?\d*[+\-−]|[²³]?[⁺⁻])$", "", formula) or "H2O")
        heavy = [a for a in atoms if a != "H"]
        centre = min(heavy, key=lambda a: (atoms.count(a), atoms.index(a))) if heavy else atoms[0]
        ligands = list(atoms)
        ligands.remove(centre)
        ligands = ligands[:6]
        n = len(ligands)
        if n == 2 and centre in ("O", "S", "Se"):
            angles = [270 - 52.25, 270 + 52.25]
        elif n == 3 and centre in ("N", "P", "As"):
            angles = [210, 270 + 20, 330 + 40]
        else:
            angles = [180 + 360 * k / max(n, 1) for k in range(n)] if n != 2 else [180, 0]
        cx, cy, bl = 5.0, 5.6, 2.6
        ends = [(cx + bl * math.cos(math.radians(a)), cy + bl * math.sin(math.radians(a))) for a in angles]
        for (x, y) in ends:
            c.draw(_line([(cx, cy), (x, y)], lw=2))
        for el, (x, y) in [(centre, (cx, cy))] + list(zip(ligands, ends)):
            c.draw(atom.format(x=_fmt(x), y=_fmt(y), r="0.45"))
            c.text(x, y, el, size=13, nudge=False, force=True)
            c.block(x - 0.45, y - 0.45, x + 0.45, y + 0.45)
        if ctx.has("lone pair") and centre in ("O", "N", "S"):
            for dx in (-0.5, 0.5):
                c.draw(f"ax.plot([{_fmt(cx + dx - 0.12)}, {_fmt(cx + dx + 0.12)}], [{_fmt(cy + 0.75)}, {_fmt(cy + 0.75)}], "
                       "'o', color=INK, ms=3.5)")
        if n >= 2:
            a1, a2 = sorted(angles[:2])
            c.draw(f"ax.add_patch(Arc(({_fmt(cx)}, {_fmt(cy)}), 2.2, 2.2, theta1={_fmt(a1)}, theta2={_fmt(a2)}, color=INK, lw=1.2))")
            mid = math.radians((a1 + a2) / 2)
            c.slot(r"α|θ|∠\w+|β", cx + 1.6 * math.cos(mid), cy + 1.6 * math.sin(mid) - 0.1, va="top", size=10)
        if ends:
            (x, y) = ends[0]
            mx, my = (cx + x) / 2, (cy + y) / 2
            c.slot(r"d|b|r|l|r\(\w+\)|d\(\w+\)", mx - 0.5, my + 0.3, ha="right", va="bottom", size=10)
        if formula in ctx.entities:
            c.entity(formula, 5.0, 9.3, va="top", size=13)
        shape = f"a ball-and-stick sketch of {formula}: the central {centre} atom bonded to {n} atom(s)"
    for x, y in ((0.6, 9.4), (9.4, 9.4), (0.6, 0.6), (9.4, 0.6)):
        c.anchor(x, y)
    c.describe(f"A molecular-structure figure: {shape}.", "Molecule centred in the frame; bond values "
               "beside their bonds, angle arcs at the central atom.",
               "Only given bond lengths and angles are written; the asked distance, angle or polarity is not.")


@_template("Chemistry - Crystal Structure", "unit-cell drawing")
def _tpl_crystal(c: _Canvas) -> None:
    ctx = c.ctx
    ions = [s for s in ctx.species() if re.search(r"[+\-−⁺⁻]$", s)][:2]
    if ctx.has("square lattice", "two-dimensional", "2d lattice", "layer"):
        c.draw("for i in range(5):", "    for j in range(5):",
               "        ax.add_patch(Circle((1.4 + 1.8 * i, 1.4 + 1.8 * j), 0.42, "
               f"fc=('0.35' if (i + j) % 2 and {len(ions) == 2} else 'white'), ec=INK, lw=1.4))",
               "ax.add_patch(Rectangle((3.2, 3.2), 3.6, 3.6, fill=False, ec=INK, lw=1.6, ls=(0, (4, 3))))")
        c.slot(r"a|d|l", 5.0, 2.75, va="top", size=10, default="a")
        shape = "a square lattice of atoms with one cell outlined"
    else:
        hgt = 4.6
        bottom = [(1.8, 1.6), (6.4, 1.6), (8.2, 3.4), (3.6, 3.4)]
        corners = bottom + [(x, y + hgt) for x, y in bottom]
        edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
        c.draw(*[_line([corners[i], corners[j]], lw=1.4, dashed=3 in (i, j)) for i, j in edges])
        mid = lambda idx: (sum(corners[k][0] for k in idx) / len(idx), sum(corners[k][1] for k in idx) / len(idx))  # noqa: E731
        faces = [(0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7), (0, 1, 2, 3), (4, 5, 6, 7)]
        rock = ctx.has("rock-salt", "rock salt", "nacl") or len(ions) == 2
        fcc = rock or ctx.has("face-centred", "face-centered", "fcc", "ccp", "cubic close")
        bcc = ctx.has("body-centred", "body-centered", "bcc")
        sites = [(corners[k], "A") for k in range(8)]
        if fcc:
            sites += [(mid(f), "A") for f in faces]
        if rock:
            sites += [(mid(e), "B") for e in edges] + [(mid(range(8)), "B")]
        elif bcc:
            sites.append((mid(range(8)), "A"))
            c.draw(_line([corners[0], corners[6]], lw=1.1, color="GREY", dashed=True))
        for (x, y), kind in sorted(sites, key=lambda s: -s[0][1]):
            r, fc = (0.32, "'0.35'") if kind == "A" else (0.22, "'white'")
            c.draw(f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), {r}, fc={fc}, ec=INK, lw=1.2, zorder=3))")
        c.slot(r"a|d|l|a0", 4.1, 1.1, va="top", size=10, default="a")
        kinds = ("rock-salt (two interpenetrating face-centred lattices)" if rock else "face-centred cubic" if fcc
                 else "body-centred cubic" if bcc else "simple cubic")
        shape = f"a {kinds} unit cell in oblique projection, atoms at their sites, hidden edges dashed"
    if ions:
        for k, (name, fc) in enumerate(zip(ions, ("'0.35'", "'white'"))):
            c.draw(f"ax.add_patch(Circle(({_fmt(1.0 + 3.0 * k)}, 9.5), 0.22, fc={fc}, ec=INK, lw=1.2))")
            c.entity(name, 1.4 + 3.0 * k, 9.5, ha="left", size=11)
    for x, y in ((9.4, 9.4), (9.4, 0.6), (0.6, 0.6)):
        c.anchor(x, y)
    c.describe(f"A crystal-structure figure: {shape}.", "Unit cell centred; cell edge marked under the "
               "front edge; a species key at the top.", "Only the given cell edge is written; the asked "
               "radius, distance, density or count is not.")


_ORGANIC_RE = re.compile(
    r"\b((?:meth|eth|prop|but|pent|hex)(?:ene|ane|yne|anol|anal|anone|anoic acid|anoate|yl [a-z]+oate|ol)"
    r"|water|ammonia|glucose|benzene)\b", re.I)
_PRODUCT_CUE = re.compile(r"(?:→|⇌|->|form(?:s|ing|ed)?|produc\w*|yield\w*|giv(?:e|es|ing)|obtain\w*|make\w*)\W+(?:\w+\W+){0,3}\d*$", re.I)


@_template("Chemistry - Reaction Scheme", "reaction scheme")
def _tpl_reaction(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    species = ctx.species()
    letters = [e for e in ctx.entities if re.fullmatch(r"[A-Z]", e)]
    eq = ctx.has("⇌", "equilibrium", "reversible")
    first_pos = {s: (m.start() if (m := re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![a-z])", text)) else 10**6) for s in species}
    if len(letters) >= 2:
        start = _ORGANIC_RE.search(text)
        boxes = ([start.group(1)] if start and not ctx.leaks(start.group(1), from_question=True) else []) + letters[:4]
        reagents = sorted(species, key=lambda s: first_pos[s])
        products: list[str] = []
    else:
        cat = [s for s in species if re.match(r"\W*(?:\w+\W+){0,1}catalys", text[first_pos[s] + len(s):], re.I)
               or re.search(r"catalys\w*\W+(?:by\W+)?(?:\w+\W+){0,1}$", text[:first_pos[s]], re.I)]
        for m in _ORGANIC_RE.finditer(text):  # named compounds join the formulas
            if m.group(1).lower() not in [s.lower() for s in first_pos]:
                first_pos[m.group(1)] = m.start()
        rest = sorted([s for s in first_pos if s not in cat and not ctx.leaks(s, from_question=True)], key=lambda s: first_pos[s])
        products = [s for s in rest if _PRODUCT_CUE.search(text[max(0, first_pos[s] - 40): first_pos[s]])]
        if not products and len(rest) >= 2:
            products = rest[-1:]
        reactants = [s for s in rest if s not in products]
        boxes = [" + ".join(reactants[:3]) or "reactants", " + ".join(products[:2]) or "products"]
        reagents = cat
    n = len(boxes)
    width = min(3.4, (9.4 - 0.9 * (n - 1)) / n)
    gap = (9.4 - n * width) / max(1, n - 1)
    xs = [0.3 + i * (width + gap) for i in range(n)]
    for i, (x, name) in enumerate(zip(xs, boxes)):
        c.draw(f"ax.add_patch(FancyBboxPatch(({_fmt(x)}, 4.1), {_fmt(width)}, 1.8, boxstyle='round,pad=0.08', "
               "fc=LIGHT, ec=INK, lw=1.5))")
        shown = name.replace(" + ", "\n+ ") if len(name) > 14 else name
        longest = max(len(line) for line in shown.split("\n"))
        size = max(7.0, min(12.0, (width - 0.2) * 33 / (longest * 0.66 + 0.4)))
        if c.name(x + width / 2, 5.0, shown, size=round(size, 1), nudge=False):
            c.mark_used(*name.split(" + "))
        c.block(x - 0.05, 4.0, x + width + 0.05, 6.0)
    conds = [q for q in ctx.quantities if q.unit in ("°C", "K", "℃", "atm", "bar", "kPa", "MPa", "Pa") or q.symbol in ("T", "P")]
    for i in range(n - 1):
        a, b = xs[i] + width + 0.12, xs[i + 1] - 0.12
        if eq:
            c.draw(f"arrow({_fmt(a)}, 5.12, {_fmt(b)}, 5.12, style='-|>', lw=1.4)", f"arrow({_fmt(b)}, 4.88, {_fmt(a)}, 4.88, style='-|>', lw=1.4)")
        else:
            c.draw(f"arrow({_fmt(a)}, 5.0, {_fmt(b)}, 5.0, lw=1.6)")
        if len(letters) >= 2:  # one reagent per arrow; the last reagents go with the last arrows
            k = i - ((n - 1) - len(reagents))
            above = reagents[k] if 0 <= k < len(reagents) else ""
        else:
            above = ", ".join(reagents)
        if above and c.name((a + b) / 2, 5.35, above, size=10, va="bottom"):
            c.mark_used(*above.split(", "))
        y = 4.75
        for q in conds[:2] if (len(letters) < 2 or i == n - 2) else []:
            if c.value(q, (a + b) / 2, y, size=9, va="top"):
                y -= 0.5
    for x, y in ((0.5, 9.4), (9.5, 9.4), (0.5, 0.6), (9.5, 0.6)):
        c.anchor(x, y)
    c.describe(f"A reaction scheme: {' → '.join(boxes)} as boxes joined by {'equilibrium' if eq else 'reaction'} "
               "arrows, reagents above the arrows and conditions below.", "Species boxes in one row across the "
               "frame; reagents above, conditions under each arrow.",
               "Unknown intermediates stay as their letters; no identified structure, mass or yield from the answer is written.")


_AUFBAU = ("1s", "2s", "2p", "3s", "3p", "4s", "3d", "4p", "5s", "4d", "5p", "6s", "4f", "5d", "6p")
_CORES = (("[Kr]", 36, "5s"), ("[Ar]", 18, "4s"), ("[Ne]", 10, "3s"), ("[He]", 2, "2s"))


@_template("Chemistry - Electron Config", "orbital-box diagram")
def _tpl_electrons(c: _Canvas) -> None:
    ctx = c.ctx
    z = _num(next(iter(ctx.find(r"Z")), None), None)
    shells: list[str] = []
    core = None
    if z:
        left = int(z)
        for sub in _AUFBAU:
            if left <= 0:
                break
            shells.append(sub)
            left -= {"s": 2, "p": 6, "d": 10, "f": 14}[sub[1]]
        for name, size, first in _CORES:
            if z > size and (ctx.has(name.lower(), name.strip("[]").lower() + " core") or len(shells) > 7):
                core, shells = name, shells[_AUFBAU.index(first):]
                break
    else:
        shells = [s for s in _AUFBAU if re.search(rf"\b{s}\b", ctx.low)] or ["1s", "2s", "2p"]
    shells = sorted(shells, key=_AUFBAU.index)[:8]
    if "3d" in shells and "4s" in shells and ctx.has("3d") and shells.index("4s") < shells.index("3d"):
        pass  # drawn in Aufbau (energy) order: 4s below 3d
    step = min(1.05, 7.4 / max(1, len(shells) + (1 if core else 0)))
    y = 1.3
    c.draw("arrow(0.7, 0.8, 0.7, 9.4, lw=1.4)")
    c.text(0.3, 5.0, "Energy", rotation=90, size=11, nudge=False)
    if core:
        c.draw(f"ax.add_patch(FancyBboxPatch((2.6, {_fmt(y - 0.3)}), 2.6, 0.6, boxstyle='round,pad=0.05', fc=LIGHT, ec=INK))")
        c.text(3.9, y, f"{core} core", size=11, nudge=False, entity=True)
        y += step
    for sub in shells:
        n_box = {"s": 1, "p": 3, "d": 5, "f": 7}[sub[1]]
        x0 = 2.6
        for k in range(n_box):
            c.draw(f"ax.add_patch(Rectangle(({_fmt(x0 + 0.8 * k)}, {_fmt(y - 0.3)}), 0.8, 0.6, fill=False, ec=INK, lw=1.5))")
        c.text(2.35, y, sub, ha="right", size=12, nudge=False, entity=True)
        y += step
    symbol = next((s for s in ctx.species() if len(_atoms(s)) == 1), None)
    for x, yy in ((9.4, 9.4), (9.4, 0.6), (9.4, 5.0)):
        c.anchor(x, yy, ha="right")
    c.describe(f"An orbital-box diagram: {'a ' + core + ' core box and ' if core else ''}one row of boxes per "
               f"sublevel ({', '.join(shells)}), stacked by increasing energy"
               + (f" for {symbol}" if symbol else "") + ".", "Energy arrow at the left; sublevel names left of "
               "their boxes; lower energy at the bottom.",
               "The boxes are left empty: the electron arrows (the configuration and unpaired count) are the answer.")


@_template("Chemistry - Orbital / Quantum", "quantum / orbital diagram")
def _tpl_orbital(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    if ctx.has("molecular orbital", "molecular-orbital", "bond order", "mo diagram"):
        atom = next((s for s in ctx.species()), "")
        el = re.match(r"[A-Z][a-z]?", atom).group(0) if atom else "A"
        levels = [("σ2s", 1.4, 1), ("σ*2s", 2.9, 1), ("σ2p", 4.8, 1), ("π2p", 5.5, 2), ("π*2p", 7.0, 2), ("σ*2p", 8.3, 1)]
        if el in ("B", "C", "N"):
            levels[2], levels[3] = ("σ2p", 5.7, 1), ("π2p", 4.9, 2)
        for name, y, k in levels:
            xs = [(5.0, 5.0)] if k == 1 else [(4.45, 4.45), (5.55, 5.55)]
            for xa, _ in xs:
                c.draw(_line([(xa - 0.45, y), (xa + 0.45, y)], lw=2))
            c.text(6.25, y, name, ha="left", size=10, nudge=False)
        for xc in (1.6, 8.4):
            c.draw(_line([(xc - 0.45, 2.15), (xc + 0.45, 2.15)], lw=2),
                   *[_line([(xc + dx - 0.3, 6.2), (xc + dx + 0.3, 6.2)], lw=2) for dx in (-0.75, 0, 0.75)],
                   _line([(xc + (0.5 if xc < 5 else -0.5), 2.15), (4.4 if xc < 5 else 5.6, 1.4)], lw=0.8, color="GREY", dashed=True),
                   _line([(xc + (0.5 if xc < 5 else -0.5), 2.15), (4.4 if xc < 5 else 5.6, 2.9)], lw=0.8, color="GREY", dashed=True),
                   _line([(xc + (1.1 if xc < 5 else -1.1), 6.2), (3.9 if xc < 5 else 6.1, 5.5)], lw=0.8, color="GREY", dashed=True),
                   _line([(xc + (1.1 if xc < 5 else -1.1), 6.2), (3.9 if xc < 5 else 6.1, 7.0)], lw=0.8, color="GREY", dashed=True))
            c.text(xc, 1.75, "2s", va="top", size=10, nudge=False)
            c.text(xc, 6.55, "2p", va="bottom", size=10, nudge=False)
            c.text(xc, 9.3, f"{el} atom", size=11, nudge=False)
        if c.text(5.0, 9.3, f"{atom} molecule" if atom else "molecule", size=11, nudge=False, entity=True):
            c.mark_used(atom)
        shape = "a molecular-orbital energy diagram: atomic 2s/2p levels of each atom at the sides, σ and π molecular orbitals in the middle"
        note = "No electrons are drawn: filling them gives the bond order and unpaired count asked for."
    elif ctx.has("well", "particle in a box", "in a box", "infinite potential"):
        c.draw("ax.plot([2, 2, 8, 8], [9.4, 1.0, 1.0, 9.4], color=INK, lw=2.5)", "xs = np.linspace(2, 8, 200)",
               "arrow(2, 0.5, 8, 0.5, style='<|-|>', lw=1.1)")
        for n in (1, 2, 3):
            y = 1.6 + 6.6 * n * n / 9
            c.draw(_line([(2, y), (8, y)], lw=1, color="GREY", dashed=True),
                   f"ax.plot(xs, {_fmt(y)} + 0.55 * np.sin({n} * np.pi * (xs - 2) / 6), color=INK, lw=1.8)")
            label = next((q for q in ctx.quantities if q.symbol == "n" and q.value == str(n)), None)
            (c.value(label, 8.2, y, ha="left", size=10) if label else c.text(8.2, y, f"n = {n}", ha="left", size=10))
        c.slot(r"L|a|d", 5.0, 0.35, va="top", size=10, default="L")
        shape = "an infinite square well with the n = 1, 2, 3 wavefunctions drawn on their energy levels"
        note = "Energies are not written as numbers: the level spacing only shows the n² trend."
    elif ctx.has("energy level", "level diagram", "transition", "bohr", "hydrogen atom", "emission", "n = "):
        ns = sorted({int(m.group(1)) for m in re.finditer(r"\bn\s*=\s*(\d)\b", text)} | {1, 2, 3, 4})
        top = min(6, max(ns))
        ypos = {n: 1.2 + 7.2 * (1 - 1 / n ** 2) / (1 - 1 / top ** 2) for n in range(1, top + 1)}
        for n, y in ypos.items():
            c.draw(_line([(2.8, y), (6.6, y)], lw=1.8))
            q = next((q for q in ctx.quantities if q.symbol == "n" and q.value == str(n)), None)
            (c.value(q, 2.6, y, ha="right", size=10) if q else c.text(2.6, y, f"n = {n}", ha="right", size=10))
        c.draw(_line([(2.8, 9.2), (6.6, 9.2)], lw=1.2, dashed=True))
        c.text(2.6, 9.2, "n = ∞", ha="right", size=10)
        c.slot(r"E1|E_1|E0", 6.75, ypos[1], ha="left", size=10)
        m = re.search(r"from n\s*=\s*(\d)\s*to n\s*=\s*(\d)", text)
        if m and int(m.group(1)) in ypos and int(m.group(2)) in ypos:
            c.draw(f"arrow(4.7, {_fmt(ypos[int(m.group(1))])}, 4.7, {_fmt(ypos[int(m.group(2))])}, lw=2)")
        shape = f"an energy-level diagram of levels n = 1 to {top} (spacing as 1/n²)" + (", with the stated transition arrow" if m else "")
        note = "Level energies other than the given ones and the photon energy / wavelength are not written."
    else:
        c.draw(_line([(0.6, 5), (9.4, 5)], lw=1, color="GREY", dashed=True), _line([(5, 0.6), (5, 9.4)], lw=1, color="GREY", dashed=True),
               "ax.add_patch(Ellipse((3.4, 5), 3.0, 1.7, fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Ellipse((6.6, 5), 3.0, 1.7, fc='white', ec=INK, lw=1.6))", _dot(5, 5, 0.08))
        c.text(3.4, 5.0, "+", size=14, nudge=False)
        c.text(6.6, 5.0, "−", size=14, nudge=False)
        c.text(9.3, 5.3, "x", size=12, va="bottom", nudge=False)
        c.text(5.3, 9.3, "y", size=12, ha="left", va="top", nudge=False)
        shape = "a p orbital drawn as two lobes of opposite phase along the x axis"
        note = "Shapes are schematic (boundary surfaces)."
    for x, y in ((0.5, 9.5), (9.5, 9.5), (9.5, 0.5), (0.5, 0.5)):
        c.anchor(x, y)
    c.describe(f"A quantum / orbital diagram: {shape}.", "Levels stacked by energy from bottom to top; "
               "labels at the sides of the levels.", note)


def _stated_present(ctx: _Ctx, q: Quantity) -> bool:
    """False when the problem says the feature is absent ("no band near 3300 cm⁻¹")."""
    i = ctx.question.find(q.text)
    before = ctx.question[max(0, i - 30): i].lower() if i >= 0 else ""
    return not re.search(r"\bno\b|absent|without|\black|\bnot\b", before)


@_template("Chemistry - Spectra", "spectrum sketch")
def _tpl_spectra(c: _Canvas) -> None:
    ctx = c.ctx
    ir = [q for q in ctx.quantities if q.unit in ("cm⁻¹", "cm^-1", "cm-1")]
    ppm = [q for q in ctx.quantities if q.unit == "ppm"]
    nm = [q for q in ctx.quantities if q.unit == "nm"]
    mz = [q for q in ctx.quantities if q.symbol == "m/z"]
    peaks: list[tuple[Quantity, float]] = []
    if ir or ctx.has("infrared", "ir spectrum", "wavenumber", "transmittance"):
        c.frame((4000, 400), (0, 110), axes=True, equal=False, xlabel="Wavenumber (cm⁻¹)", ylabel="Transmittance (%)")
        peaks = [(q, _num(q)) for q in ir if _stated_present(ctx, q) and _num(q) and 400 < _num(q) < 4000]
        spec = [(x, 60, 110 if ctx.has("broad") and x > 2500 else 28) for _, x in peaks] or [(2950, 45, 40), (1450, 30, 25)]
        c.draw("w = np.linspace(400, 4000, 1800)",
               f"T = 92 - sum(d * np.exp(-((w - x0) / s) ** 2) for x0, d, s in {spec!r})",
               "ax.plot(w, T, color=INK, lw=1.5)")
        for (q, x), (_, d, _) in zip(peaks, spec):
            c.value(q, x, 92 - d - 3, va="top", size=10)
        kind = "an infrared spectrum (transmittance against wavenumber, decreasing to the right)"
    elif ppm or ctx.has("nmr", "chemical shift"):
        shifts = [(q, _num(q)) for q in ppm if _num(q) is not None]
        hi = 13 if any(x > 9.5 for _, x in shifts) else 10
        c.frame((hi, -0.5), (0, 1.45), axes=True, equal=False, xlabel="δ (ppm)", ylabel="Intensity")
        c.ticks("y", [])
        ints = [q for q in ctx.quantities if q.unit == "H" and _num(q)]
        heights = [(_num(q) or 1) for q in ints] if len(ints) == len(shifts) and ints else [1.0] * len(shifts)
        top = max(heights + [1.0])
        spec = [(x, round(0.35 + 0.65 * h / top, 3)) for (_, x), h in zip(shifts, heights)] or [(1.2, 1.0), (3.5, 0.6)]
        c.draw("d = np.linspace(-0.5, %s, 3000)" % hi,
               f"I = sum(h * 0.03 ** 2 / ((d - x0) ** 2 + 0.03 ** 2) for x0, h in {spec!r})",
               "ax.plot(d, I, color=INK, lw=1.4)")
        for k, ((q, x), (_, h)) in enumerate(zip(shifts, spec)):
            c.value(q, x, h + 0.05, va="bottom", size=10)
            if k < len(ints) and len(ints) == len(shifts):
                c.value(ints[k], x + (0.35 if x > hi / 2 else -0.35), h / 2, ha="left" if x <= hi / 2 else "right", size=10)
        peaks = shifts
        kind = "a ¹H NMR spectrum (intensity against chemical shift, decreasing to the right)"
    elif mz or ctx.has("mass spectrum", "m/z"):
        vals = [(q, _num(q)) for q in mz if _num(q)]
        hi = max([x for _, x in vals] + [100]) * 1.15
        c.frame((0, hi), (0, 115), axes=True, equal=False, xlabel="m/z", ylabel="Relative abundance (%)")
        xs = [x for _, x in vals] or [hi * 0.4, hi * 0.8]
        c.draw(f"ax.bar({xs!r}, {[100 if i == len(xs) - 1 else 60 for i in range(len(xs))]!r}, width={_fmt(hi / 120)}, color=INK)")
        for i, (q, x) in enumerate(vals):
            c.value(q, x, (100 if i == len(xs) - 1 else 60) + 3, va="bottom", size=10)
        kind = "a mass spectrum (bars of relative abundance against m/z)"
    elif nm and (ctx.has("line", "emission", "absorption spectrum", "bright") or len(nm) >= 2):
        vals = [(q, _num(q)) for q in nm if _num(q)]
        lo, hi = min([380] + [x - 30 for _, x in vals]), max([720] + [x + 30 for _, x in vals])
        c.frame((lo, hi), (0, 1.5), axes=True, equal=False, xlabel="Wavelength (nm)")
        c.ticks("y", [])
        dark = ctx.has("dark background", "emission")
        if dark:
            c.draw(f"ax.add_patch(Rectangle(({_fmt(lo)}, 0), {_fmt(hi - lo)}, 1.0, fc='0.12', ec='none'))")
        ink = "'0.95'" if dark else "INK"
        c.draw(f"ax.vlines({[x for _, x in vals]!r}, 0, 1.0, color={ink}, lw=3)")
        for q, x in vals:
            c.value(q, x, 1.07, va="bottom", size=10)
        peaks = vals
        kind = f"a line spectrum: {'bright lines on a dark band' if dark else 'dark lines'} at the given wavelengths"
    else:
        lam = next(((q, _num(q)) for q in nm if _num(q)), None)
        x0 = lam[1] if lam else 500
        c.frame((max(200, x0 - 250), x0 + 250), (0, 1.25), axes=True, equal=False, xlabel="Wavelength (nm)", ylabel="Absorbance")
        c.draw(f"w = np.linspace({_fmt(max(200, x0 - 250))}, {_fmt(x0 + 250)}, 500)",
               f"ax.plot(w, np.exp(-((w - {_fmt(x0)}) / 60) ** 2), color=INK, lw=1.8)")
        if lam:
            c.value(lam[0], x0, 1.05, va="bottom", size=10)
        kind = "an absorption spectrum with one broad band"
    for spot in ((0.97, 0.97), (0.5, 0.97), (0.03, 0.97)):
        x = c.xlim[0] + spot[0] * (c.xlim[1] - c.xlim[0])
        y = c.ylim[0] + spot[1] * (c.ylim[1] - c.ylim[0])
        c.anchor(x, y, va="top")
    c.describe(f"A spectrum sketch: {kind}; only the features the problem states are drawn, at their given positions.",
               "Axes kept (plot); peaks labelled with their given values above them.",
               "Features the problem says are absent are not drawn; the compound or transition asked for is not named.")


# --------------------------------------------------------------------------------------
# Templates: Biology
# --------------------------------------------------------------------------------------


@_template("Biology - Cell Diagram", "labelled cell diagram")
def _tpl_cell(c: _Canvas) -> None:
    ctx = c.ctx
    parts: list[tuple[str, tuple[float, float]]] = []
    if ctx.has("mitosis", "meiosis", "chromosome", "metaphase", "anaphase", "spindle", "dividing"):
        m = re.search(r"2n\s*=\s*(\d+)", normalize_text(ctx.question))
        n = min(8, max(2, int(m.group(1)) if m else 4))
        c.draw("ax.add_patch(Ellipse((5, 5), 7.0, 5.4, fc=LIGHT, ec=INK, lw=1.8))",
               _dot(2.2, 5, 0.12), _dot(7.8, 5, 0.12))
        for k in range(n):
            y = 3.2 + 3.6 * (k + 0.5) / n
            c.draw(_line([(2.2, 5), (4.8, y)], lw=0.7, color="GREY"), _line([(7.8, 5), (5.2, y)], lw=0.7, color="GREY"),
                   _line([(4.75, y - 0.18), (5.25, y + 0.18)], lw=2.6), _line([(4.75, y + 0.18), (5.25, y - 0.18)], lw=2.6))
        parts = [("Centriole", (2.2, 5)), ("Spindle fibre", (3.5, 5.6)), ("Chromosome", (5.0, 3.2 + 3.6 * 0.5 / n)),
                 ("Cell membrane", (5.0, 7.7))]
        shape = f"a dividing animal cell: {n} replicated chromosomes (X shapes) between two centrioles joined by spindle fibres"
    elif ctx.has("plant", "chloroplast", "cell wall", "palisade", "leaf"):
        c.draw("ax.add_patch(FancyBboxPatch((2.0, 1.2), 6.0, 7.6, boxstyle='round,pad=0.1', fc='white', ec=INK, lw=2.6))",
               "ax.add_patch(FancyBboxPatch((2.3, 1.5), 5.4, 7.0, boxstyle='round,pad=0.1', fc=LIGHT, ec=INK, lw=1.2))",
               "ax.add_patch(FancyBboxPatch((3.3, 3.0), 3.4, 4.0, boxstyle='round,pad=0.2', fc='white', ec=GREY, lw=1.2))",
               "ax.add_patch(Circle((5.9, 7.6), 0.55, fc='0.8', ec=INK, lw=1.2))",
               *[f"ax.add_patch(Ellipse(({x}, {y}), 0.8, 0.4, angle={a}, fc='0.6', ec=INK, lw=1))"
                 for x, y, a in ((2.8, 2.2, 20), (2.75, 5.0, 80), (7.2, 4.2, 100), (7.1, 2.1, -20), (3.4, 7.9, 10))])
        parts = [("Cell wall", (2.0, 6.2)), ("Cell membrane", (2.3, 4.0)), ("Vacuole", (5.0, 5.0)),
                 ("Chloroplast", (7.2, 4.2)), ("Nucleus", (5.9, 7.6)), ("Cytoplasm", (7.2, 6.2))]
        shape = "a plant cell: wall, membrane, large central vacuole, chloroplasts and nucleus"
    else:
        c.draw("ax.add_patch(Ellipse((5, 5), 6.6, 6.0, fc=LIGHT, ec=INK, lw=2))",
               "ax.add_patch(Circle((4.4, 5.4), 1.2, fc='0.82', ec=INK, lw=1.5))",
               "ax.add_patch(Circle((4.2, 5.6), 0.35, fc='0.55', ec='none'))",
               "ax.add_patch(Ellipse((6.5, 3.6), 1.3, 0.6, angle=25, fc='0.7', ec=INK, lw=1.2))",
               "xs = np.linspace(6.0, 7.0, 40)", "ax.plot(xs, 3.38 + 0.47 * (xs - 6.0) + 0.08 * np.sin(18 * xs), color=INK, lw=0.8)",
               *[f"ax.add_patch(Arc((6.6, 6.0), {w}, {w * 0.6}, theta1=200, theta2=340, color=INK, lw=1.5))" for w in (1.0, 1.4, 1.8)],
               *[f"ax.plot(np.linspace(2.9, 3.6, 30), {y} + 0.08 * np.sin(np.linspace(0, 12, 30)), color=GREY, lw=1.2)"
                 for y in (3.4, 3.7, 4.0)])
        parts = [("Cell membrane", (7.9, 6.5)), ("Nucleus", (4.4, 4.4)), ("Nucleolus", (4.2, 5.6)),
                 ("Mitochondrion", (6.8, 3.7)), ("Golgi apparatus", (6.6, 5.8)), ("Rough ER", (3.2, 3.7)), ("Cytoplasm", (5.6, 2.8))]
        shape = "an animal cell: membrane, nucleus with nucleolus, a mitochondrion, Golgi apparatus and rough ER"
    c.frame((-4.4, 14.4), (0, 10))
    for left in (True, False):
        column = sorted([p for p in parts if (p[1][0] < 5) == left], key=lambda p: -p[1][1])
        ys: list[float] = []
        for _, (_, ty) in column:  # labels near their targets' heights, at least 0.7 apart
            ys.append(min(ty, ys[-1] - 0.7) if ys else min(ty, 9.6))
        shift = max(0.0, 0.4 - ys[-1]) if ys else 0.0
        for (name, target), y in zip(column, ys):
            _callout(c, name, target, (0.9 if left else 9.1, y + shift), ha="right" if left else "left")
    for x, y in ((5.0, 9.7), (5.0, 0.3)):
        c.anchor(x, y)
    c.describe(f"A labelled cell diagram: {shape}; each part named with a leader line.",
               "Cell in the middle of the frame; labels in the corners with thin leader lines to their parts.",
               "Labels name structures only; the function, stage or magnification asked for is not written.")


@_template("Biology - Genetics", "Punnett square / pedigree")
def _tpl_genetics(c: _Canvas) -> None:
    ctx = c.ctx
    genos = [e for e in ctx.entities if e.isalpha() and len(e) % 2 == 0
             and all(p[0].lower() == p[1].lower() for p in re.findall(r"..", e))]
    if ctx.has("pedigree") and not genos:
        gen2 = max(2, min(5, len(set(re.findall(r"\bII-(\d)", ctx.question))) or 3))
        c.draw("ax.add_patch(Rectangle((2.9, 6.9), 1.0, 1.0, fc='white', ec=INK, lw=1.8))",
               "ax.add_patch(Circle((6.6, 7.4), 0.5, fc='white', ec=INK, lw=1.8))",
               _line([(3.9, 7.4), (6.1, 7.4)]), _line([(5.0, 7.4), (5.0, 5.6)]),
               _line([(5 - 1.6 * (gen2 - 1) / 2, 5.6), (5 + 1.6 * (gen2 - 1) / 2, 5.6)]))
        for k in range(gen2):
            x = 5 - 1.6 * (gen2 - 1) / 2 + 1.6 * k
            c.draw(_line([(x, 5.6), (x, 4.6)]),
                   f"ax.add_patch({'Rectangle' if k == 0 else 'Circle'}(({_fmt(x - 0.5) if k == 0 else _fmt(x)}, "
                   f"{'3.6' if k == 0 else '4.1'}){', 1.0, 1.0' if k == 0 else ', 0.5'}, fc='white', ec=INK, lw=1.8))")
        c.text(1.2, 7.4, "I", size=14, nudge=False)
        c.text(1.2, 4.1, "II", size=14, nudge=False)
        c.text(5.0, 1.4, "□ male   ○ female", size=10)
        shape = "a two-generation pedigree: parents joined by a marriage line, their children below"
        note = "Symbols are left unshaded: which individuals are affected or carriers is read from the text, not drawn."
    else:
        p1 = genos[0] if genos else "Aa"
        p2 = genos[1] if len(genos) > 1 else p1
        def gametes(g: str) -> list[str]:
            pairs = [g[i:i + 2] for i in range(0, len(g), 2)][:2]
            out = [""]
            for pair in pairs:
                out = [o + a for o in out for a in (pair[0], pair[1])]
            return list(dict.fromkeys(out))
        rows, cols = gametes(p1), gametes(p2)
        n, m = len(rows), len(cols)
        cell = min(1.6, 6.4 / max(n, m))
        x0, y1 = 2.6, 8.0
        c.draw(f"for i in range({m + 1}):", f"    ax.plot([{x0} + i * {cell}, {x0} + i * {cell}], [{y1}, {y1} - {n} * {cell}], color=INK, lw=1.6)",
               f"for j in range({n + 1}):", f"    ax.plot([{x0}, {x0} + {m} * {cell}], [{y1} - j * {cell}, {y1} - j * {cell}], color=INK, lw=1.6)")
        for i, g in enumerate(cols):
            c.text(x0 + (i + 0.5) * cell, y1 + 0.25, g, va="bottom", size=13, entity=True, nudge=False)
        for j, g in enumerate(rows):
            c.text(x0 - 0.25, y1 - (j + 0.5) * cell, g, ha="right", size=13, entity=True, nudge=False)
        if c.text(0.2, 9.6, f"{p1} × {p2}", ha="left", va="top", size=13, entity=True):
            c.mark_used(p1, p2)
        c.text(x0 + m * cell / 2, y1 + 0.85, "gametes", va="bottom", size=10, color="GREY")
        shape = f"a Punnett square for {p1} × {p2}: gametes of each parent along the top and left, {n * m} offspring cells"
        note = "Offspring cells are left empty: their genotypes and ratios are the answer."
    for x, y in ((9.5, 9.5), (9.5, 0.5), (0.5, 0.5)):
        c.anchor(x, y, ha="right" if x > 5 else "left")
    c.describe(f"A genetics diagram: {shape}.", "Grid or family tree centred; parent labels outside it.", note)


_STOP_WORDS = frozenset("the a an which that it they and or both also only then what who each".split())


def _food_web(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Organisms and food -> feeder edges from "X is eaten by Y and Z" / "Y eat X"."""
    names: dict[str, str] = {}
    edges: list[tuple[str, str]] = []

    def key(word: str) -> str | None:
        w = word.lower()
        if w in _STOP_WORDS or len(w) < 3:
            return None
        k = w[:-1] if w.endswith("s") and not w.endswith("ss") else w
        names.setdefault(k, word)
        return k

    verb = r"(?:is|are|eats?|feeds?|preys?|consumes?)\b"
    clauses = re.split(rf"[;.:]|,?\s+and\s+(?=[a-z]+\s+{verb})|,\s*(?=[a-z]+\s+{verb})", text, flags=re.I)
    for clause in clauses:
        passive = re.search(r"\b([a-z]+)\s+(?:is|are)\s+eaten\s+by\s+(.+)$", clause, re.I)
        active = re.search(r"\b([a-z]+)\s+(?:eats?|feeds? on|preys? on|consumes?)\s+(.+)$", clause, re.I)
        for m, food_first in ((passive, True), (active, False)):
            if not m:
                continue
            subject = key(m.group(1))
            for other in re.split(r"\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s+or\s+", m.group(2)):
                words = re.findall(r"[a-z]+", other, re.I)
                o = key(words[-1]) if words else None
                edge = (subject, o) if food_first else (o, subject)
                if subject and o and edge not in edges:
                    edges.append(edge)
    used = [k for k in names if any(k in e for e in edges)]
    return [names[k] for k in used], [(names[a], names[b]) for a, b in edges]


@_template("Biology - Ecological", "food web / ecological pyramid")
def _tpl_ecology(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    levels_words = ["Producers", "Primary consumers", "Secondary consumers", "Tertiary consumers"]
    if ctx.has("pyramid") or (ctx.has("trophic", "energy") and ctx.has("%") and not ctx.has("eat")):
        k = 4 if ctx.has("tertiary", "four") else 3
        for i in range(k):
            y0, y1 = 1.0 + i * 7.6 / k, 1.0 + (i + 1) * 7.6 / k
            w0, w1 = 9.4 - i * 6.4 / k, 9.4 - (i + 1) * 6.4 / k
            c.draw(f"ax.add_patch(Polygon([({_fmt(5 - w0 / 2)}, {_fmt(y0)}), ({_fmt(5 + w0 / 2)}, {_fmt(y0)}), "
                   f"({_fmt(5 + w1 / 2)}, {_fmt(y1)}), ({_fmt(5 - w1 / 2)}, {_fmt(y1)})], closed=True, "
                   f"fc={'LIGHT' if i % 2 == 0 else repr('white')}, ec=INK, lw=1.5))")
            c.text(5, (y0 + y1) / 2 + (0.25 if i == 0 else 0), levels_words[i], size=11 if i < k - 1 else 9, nudge=False)
        c.slot(r"E|E_?\w*|P|GPP|NPP", 5, 1.0 + 7.6 / k / 2 - 0.35, size=10, nudge=False)
        pct = next((q for q in ctx.quantities if q.unit == "%"), None)
        if pct is not None:
            c.draw("arrow(9.4, 3.0, 9.4, 7.0, lw=1.3, color=GREY)")
            c.value(pct, 9.55, 5.0, ha="left", size=10, rotation=90)
        shape = f"an energy pyramid of {k} trophic levels, producers at the base"
        note = "Only the producers' given energy is written; the energy of the higher levels is the answer."
    elif ctx.has("capture", "recapture", "mark", "tagged", "quadrat"):
        c.draw("ax.add_patch(Ellipse((5, 4.6), 8.6, 6.0, fc=LIGHT, ec=INK, lw=1.6))")
        spots = [(2.4, 4.0), (3.3, 5.9), (4.2, 3.0), (5.0, 5.1), (5.9, 6.6), (6.2, 3.6), (7.3, 5.0), (3.6, 4.5), (6.8, 2.6), (4.8, 6.8)]
        for i, (x, y) in enumerate(spots):
            c.draw(f"ax.add_patch(Ellipse(({x}, {y}), 0.7, 0.3, fc='0.6', ec=INK, lw=0.8))",
                   f"ax.add_patch(Polygon([({_fmt(x + 0.3)}, {y}), ({_fmt(x + 0.6)}, {_fmt(y + 0.18)}), ({_fmt(x + 0.6)}, {_fmt(y - 0.18)})], closed=True, fc='0.6', ec=INK, lw=0.8))")
            if i % 3 == 0:
                c.draw(_dot(x - 0.15, y + 0.02, 0.07))
        c.text(5, 8.9, "1st sample: caught, marked, released", size=10)
        c.text(5, 0.9, "2nd sample: caught, marked ones counted", size=10)
        c.text(9.3, 7.6, "• = marked", ha="right", size=10)
        shape = "a habitat (pond) with individuals, some marked, and the two capture steps"
        note = "The population estimate is not written."
    else:
        organisms, edges = _food_web(text)
        if not edges:
            organisms = [e for e in ctx.entities if e.islower()] or []
            edges = list(zip(organisms, organisms[1:]))
        if not organisms:
            organisms, edges = levels_words, list(zip(levels_words, levels_words[1:]))
        level = {o: 0 for o in organisms}
        for _ in range(len(organisms)):
            for a, b in edges:
                level[b] = max(level[b], level[a] + 1) if level[a] < len(organisms) else level[b]
        top = max(level.values()) or 1
        rows: dict[int, list[str]] = {}
        for o in organisms:
            rows.setdefault(level[o], []).append(o)
        pos = {}
        for lv, names in rows.items():
            for i, o in enumerate(names):
                x = (i + 1) * 10 / (len(names) + 1) if len(names) > 1 else 5 + (1.6 if lv % 2 else -1.6) * (0 < lv < top)
                pos[o] = (x, 1.2 + 7.6 * lv / top)
        for a, b in edges:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            c.draw(f"arrow({_fmt(x1)}, {_fmt(y1 + 0.35)}, {_fmt(x2)}, {_fmt(y2 - 0.35)}, lw=1.3)")
        for o, (x, y) in pos.items():
            c.draw(f"ax.add_patch(FancyBboxPatch(({_fmt(x - 0.9)}, {_fmt(y - 0.3)}), 1.8, 0.6, boxstyle='round,pad=0.08', fc='white', ec=INK, lw=1.2, zorder=3))")
            if c.text(x, y, o, size=11 if len(o) < 11 else 9, entity=True, nudge=False, force=True):
                c.mark_used(*[e for e in ctx.entities if e.lower().rstrip("s") == o.lower().rstrip("s")])
        shape = f"a food web of {len(organisms)} organisms, arrows pointing from food to feeder, producers at the bottom"
        note = "Counts of food chains or trophic positions asked for are not written."
    for x, y in ((0.5, 9.6), (9.5, 9.6)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"An ecological diagram: {shape}.", "Lowest trophic level at the bottom, higher levels above.", note)


_SEQ_RE = re.compile(r"(?:[35][′']\s*[-–]\s*)?[ACGTU]{3,}(?:[ -][ACGTU]{3,})*(?:\s*[-–]\s*[35][′'])?")


def _sequences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SEQ_RE.finditer(text) if len(re.sub(r"[^ACGTU]", "", m.group(0))) >= 6][:2]


@_template("Biology - Molecular Process", "molecular-process schematic")
def _tpl_molecular(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    seqs = _sequences(text)
    if ctx.has("pcr", "polymerase chain"):
        steps = [("Denaturation", (5.0, 8.2)), ("Annealing", (8.0, 3.4)), ("Extension", (2.0, 3.4))]
        temps = [q for q in ctx.quantities if q.unit in ("°C", "℃", "K")]
        for i, (name, (x, y)) in enumerate(steps):
            c.draw(f"ax.add_patch(FancyBboxPatch(({_fmt(x - 1.5)}, {_fmt(y - 0.7)}), 3.0, 1.4, boxstyle='round,pad=0.08', fc=LIGHT, ec=INK, lw=1.5))",
                   _line([(x - 1.0, y - 0.35), (x + 1.0, y - 0.35)], lw=1.6),
                   _line([(x - 1.0, y - 0.5), (x + 1.0, y - 0.5)], lw=1.6, color="GREY"))
            c.text(x, y + 0.3, name, size=11, nudge=False)
            if i < len(temps):
                c.value(temps[i], x, y - 1.0, va="top", size=10)
        c.draw("arrow(6.6, 7.7, 7.9, 4.3, lw=1.6)", "arrow(6.4, 3.4, 3.6, 3.4, lw=1.6)", "arrow(2.1, 4.3, 3.4, 7.7, lw=1.6)")
        c.text(5.0, 5.4, "one cycle", size=10, color="GREY")
        shape = "one PCR cycle as three boxed steps joined by arrows, each with its given temperature"
    elif ctx.has("ribosome", "translat", "codon", "trna"):
        c.draw(_line([(0.6, 3.6), (9.4, 3.6)], lw=2.2),
               "ax.add_patch(Ellipse((5.0, 5.4), 5.6, 2.6, fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Ellipse((5.0, 3.3), 5.0, 1.2, fc='0.85', ec=INK, lw=1.4))",
               *[f"ax.add_patch(Rectangle(({_fmt(x - 0.6)}, 4.6), 1.2, 1.2, fill=False, ec=INK, lw=1.2))" for x in (3.4, 5.0, 6.6)],
               *[_dot(5.0 + 0.0 * k, 6.2 + 0.55 * k, 0.22) for k in range(1, 4)])
        for name, x in (("E", 3.4), ("P", 5.0), ("A", 6.6)):
            _point_name(c, name, x, 5.2, size=12, nudge=False)
        c.text(0.6, 3.35, "5′", va="top", size=11)
        c.text(9.4, 3.35, "3′", va="top", size=11)
        c.name(1.2, 3.85, "mRNA", va="bottom", ha="left", size=11)
        if seqs:
            c.text(5.0, 1.8, seqs[0], size=11, entity=True)
        c.text(5.0, 8.4, "growing chain", size=10, va="bottom", color="GREY")
        shape = "a ribosome (large and small subunit) on an mRNA strand with its E, P and A sites and a growing chain"
    elif ctx.has("replication", "fork", "helicase", "okazaki", "lagging", "leading"):
        c.draw("xs = np.linspace(0.6, 4.2, 40)",
               "for off in (0.25, -0.25):", "    ax.plot(xs, 5 + off + 0 * xs, color=INK, lw=2)",
               "for x in np.arange(0.8, 4.2, 0.4):", "    ax.plot([x, x], [4.75, 5.25], color=GREY, lw=1)",
               _line([(4.2, 5.25), (9.4, 8.2)], lw=2), _line([(4.2, 4.75), (9.4, 1.8)], lw=2),
               _line([(4.8, 5.95), (9.4, 8.6 - 0.05)], lw=1.4, color="GREY", dashed=True),
               _line([(4.8, 4.05), (9.4, 1.4)], lw=1.4, color="GREY", dashed=True),
               "ax.add_patch(Circle((4.3, 5.0), 0.35, fc='0.75', ec=INK, lw=1.2, zorder=3))")
        if ctx.has("helicase"):
            c.text(4.3, 5.75, "helicase", va="bottom", size=10)
        c.text(0.6, 5.6, "parental DNA", ha="left", va="bottom", size=10)
        c.text(9.4, 9.0, "new strand", ha="right", va="bottom", size=9, color="GREY")
        if seqs:
            c.text(5.0, 0.7, f"template: {seqs[0]}", size=11, entity=True)
        shape = "a replication fork: the parental double helix opening at helicase into two template strands, new strands dashed alongside"
    else:
        c.draw("xs = np.linspace(0.8, 3.6, 60)",
               "ax.plot(xs, 6.5 + 0.5 * np.sin(3 * xs), color=INK, lw=2)", "ax.plot(xs, 6.5 - 0.5 * np.sin(3 * xs), color=INK, lw=2)",
               "for x in np.linspace(0.9, 3.5, 9):", "    ax.plot([x, x], [6.5 - 0.5 * np.sin(3 * x), 6.5 + 0.5 * np.sin(3 * x)], color=GREY, lw=1)",
               "arrow(3.9, 6.5, 5.4, 6.5, lw=1.8)", _line([(5.7, 6.5), (8.9, 6.5)], lw=2),
               "arrow(7.3, 6.0, 7.3, 4.1, lw=1.8)",
               *[f"ax.add_patch(Circle(({_fmt(5.9 + 0.6 * k)}, 3.4), 0.26, fc=LIGHT, ec=INK, lw=1.2))" for k in range(6)])
        for name, x, y, kw in (("DNA", 2.2, 7.4, {}), ("mRNA", 7.3, 6.85, {}), ("transcription", 4.65, 6.85, {"size": 9}),
                               ("translation", 7.5, 5.05, {"ha": "left", "size": 9}), ("protein", 7.4, 2.8, {"va": "top"})):
            if c.text(x, y, name, va=kw.get("va", "bottom" if y > 6 else "center"), ha=kw.get("ha", "center"),
                      size=kw.get("size", 11), entity=name in ctx.entities):
                c.mark_used(name)
        for k, seq in enumerate(seqs):
            c.text(5.0, 1.6 - 0.7 * k, seq, size=11, entity=True)
        shape = "the flow of information: a DNA double helix, transcription to an mRNA strand, translation to a chain of amino acids"
    for x, y in ((0.5, 9.6), (9.5, 9.6), (0.5, 0.4), (9.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"A molecular-process schematic: {shape}.", "Process runs left to right (or around a cycle); "
               "labels beside the parts they name; given sequences written out.",
               "Only sequences given in the problem are written; the product sequence, strand identity or copy number asked for is not.")


# --------------------------------------------------------------------------------------
# Templates: Universal
# --------------------------------------------------------------------------------------

_TIME_UNITS = ("s", "ms", "min", "h", "hr", "days", "day", "years", "year", "yr")


def _series(ctx: _Ctx) -> tuple[str, str, list[tuple[float, float]], list[Quantity], list[Quantity]]:
    """x symbol, y symbol and the (x, y) points the text states, read left to right."""
    syms: list[str] = []
    for q in ctx.quantities:
        if q.symbol and _num(q) is not None and q.symbol not in syms:
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
            cur = _num(q)
            if pending is not None:
                points.append((pending, cur))
                pending = None
        else:
            if re.search(r"\bzero\b|\brest\b", between):
                cur = 0.0
            if cur is None:
                pending = _num(q)
            else:
                points.append((_num(q), cur))
    return xsym, ysym, points, xs, ys


@_template("Universal - Plot & Chart", "chart")
def _tpl_chart(c: _Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    pcts = [q for q in ctx.quantities if q.unit == "%" and _num(q)]
    names = {m.group(2): m.group(1) for m in re.finditer(r"([A-Za-z]+)\s*\(\s*(\d+(?:\.\d+)?)\s*%\s*\)", text)}
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*%\s+([a-z]+)", text):  # "40% walk"
        if m.group(2) not in _STOP_WORDS | {"of", "to", "is", "are", "in", "for", "by", "on"}:
            names.setdefault(m.group(1), m.group(2))
    bars = ctx.has("bar chart", "bar graph", "histogram", "column chart")
    if pcts and (ctx.has("pie", "sector") or (abs(sum(_num(q) for q in pcts) - 100) < 1.5 and not bars)):
        c.frame((-1.8, 1.8), (-1.8, 1.8))
        total = sum(_num(q) for q in pcts)
        start = 90.0
        for i, q in enumerate(pcts):
            sweep = 360 * _num(q) / total
            c.draw(f"ax.add_patch(matplotlib.patches.Wedge((0, 0), 1.3, {_fmt(start - sweep)}, {_fmt(start)}, "
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
        vals = pcts or [q for q in ctx.quantities if _num(q) is not None][:8]
        top = max([_num(q) for q in vals] + [1.0]) * 1.25
        c.frame((-0.7, len(vals) - 0.3), (0, top), axes=True, equal=False,
                ylabel="Percentage (%)" if pcts else "Value")
        c.draw(f"ax.bar(range({len(vals)}), {[_num(q) for q in vals]!r}, color='0.6', edgecolor=INK, width=0.6)")
        c.ticks("x", [(i, names.get(q.value, q.symbol or chr(65 + i))) for i, q in enumerate(vals)])
        for i, q in enumerate(vals):
            c.value(q, i, _num(q) + top * 0.02, va="bottom", size=10)
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
            c.ticks("x", [(_num(q), q.value) for q in xs])
            c.ticks("y", [(_num(q), q.value) for q in ys])
            px, py = [p[0] for p in points], [p[1] for p in points]
            c.draw(f"ax.plot({px!r}, {py!r}, color=INK, lw=2, marker='o', ms=4)",
                   *[_line([(x, 0), (x, y), (0, y)], lw=0.8, color="GREY", dashed=True) for x, y in points if x and y])
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


@_template("Universal - Graph & Flow", "flowchart / graph")
def _tpl_flow(c: _Canvas) -> None:
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
        init = [q for q in ctx.quantities if q.symbol and _num(q) is not None][:3]
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
            ux, uy = _unit(x2 - x1, y2 - y1)
            c.draw(f"arrow({_fmt(x1 + 0.45 * ux)}, {_fmt(y1 + 0.45 * uy)}, {_fmt(x2 - 0.45 * ux)}, {_fmt(y2 - 0.45 * uy)}, lw=1.4, "
                   f"style={'-|>' if directed else '-'!r})")
        for n, (x, y) in pos.items():
            c.draw(f"ax.add_patch(Circle(({_fmt(x)}, {_fmt(y)}), 0.42, fc='white', ec=INK, lw=1.6, zorder=3))")
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


@_template("Universal - Table / Grid", "data table / grid")
def _tpl_table(c: _Canvas) -> None:
    ctx = c.ctx
    if ctx.has("grid", "lattice", "squares wide", "chessboard", "paths") and not ctx.has("table"):
        ints = [int(_num(q)) for q in ctx.quantities if not q.symbol and _num(q) and float(_num(q)).is_integer() and 1 < _num(q) <= 12]
        w, h = (ints + [4, 3])[:2]
        cell = min(8.0 / w, 7.0 / h)
        x0, y0 = 5 - w * cell / 2, 1.6
        c.draw(f"for i in range({w + 1}):", f"    ax.plot([{_fmt(x0)} + i * {_fmt(cell)}] * 2, [{_fmt(y0)}, {_fmt(y0 + h * cell)}], color=INK, lw=1.4)",
               f"for j in range({h + 1}):", f"    ax.plot([{_fmt(x0)}, {_fmt(x0 + w * cell)}], [{_fmt(y0)} + j * {_fmt(cell)}] * 2, color=INK, lw=1.4)",
               _dot(x0, y0, 0.12), _dot(x0 + w * cell, y0 + h * cell, 0.12))
        pts = [p for p in ctx.points()][:2]
        for name, (x, y, ha, va) in zip(pts, ((x0 - 0.2, y0 - 0.2, "right", "top"), (x0 + w * cell + 0.2, y0 + h * cell + 0.2, "left", "bottom"))):
            _point_name(c, name, x, y, ha=ha, va=va, size=13)
        c.slot(r"s|a|l|d", x0 + cell / 2, y0 - 0.3, va="top", size=10)
        shape = f"a rectangular grid {w} squares wide and {h} squares tall with the named corners marked"
    else:
        cols: dict[str, list[Quantity]] = {}
        for q in ctx.quantities:
            cols.setdefault(q.symbol or q.unit or "value", []).append(q)
        keys = list(cols)[:4] or ["value"]
        rows = max([len(cols.get(k, [])) for k in keys] + [2])
        rows = min(rows, 8)
        width, rh = 8.6 / len(keys), min(0.9, 7.0 / (rows + 1))
        top = 8.6
        c.draw(f"for j in range({rows + 2}):", f"    ax.plot([0.7, 9.3], [{_fmt(top)} - j * {_fmt(rh)}] * 2, color=INK, lw=1.8 if j < 2 else 1)",
               f"for i in range({len(keys) + 1}):", f"    ax.plot([0.7 + i * {_fmt(width)}] * 2, [{_fmt(top)}, {_fmt(top - (rows + 1) * rh)}], color=INK, lw=1.2)",
               f"ax.add_patch(Rectangle((0.7, {_fmt(top - rh)}), 8.6, {_fmt(rh)}, fc=LIGHT, ec='none', zorder=0))")
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


@_template("Universal - Exp. Setup", "apparatus diagram")
def _tpl_apparatus(c: _Canvas) -> None:
    ctx = c.ctx
    parts: list[tuple[str, tuple[float, float], tuple[float, float], str]] = []
    if ctx.has("burette", "titrat", "pipette"):
        c.draw("ax.add_patch(Rectangle((1.2, 0.6), 3.0, 0.3, fc=LIGHT, ec=INK))", _line([(1.6, 0.9), (1.6, 9.6)], lw=3),
               _line([(1.6, 7.6), (4.7, 7.6)], lw=2.2),
               "ax.add_patch(Rectangle((4.7, 4.6), 0.6, 5.0, fc='white', ec=INK, lw=1.5))",
               "ax.add_patch(Rectangle((4.7, 4.6), 0.6, 3.6, fc='0.85', ec='none'))",
               "for y in np.arange(5.0, 9.5, 0.4):", "    ax.plot([4.7, 4.95], [y, y], color=INK, lw=0.8)",
               _line([(5.0, 4.6), (5.0, 4.0)], lw=2), _line([(4.75, 4.3), (5.25, 4.3)], lw=3),
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
               _line([(3.8, 1.2), (3.8, 4.4)], lw=3), _line([(3.8, 4.7), (3.8, 5.3)], lw=3), _line([(3.8, 5.6), (3.8, 8.8)], lw=3),
               _line([(8.6, 1.0), (8.6, 9.0)], lw=3),
               "ys = np.linspace(1.2, 8.8, 400)", "ax.plot(8.75 + 0.6 * np.cos((ys - 5.0) * 3.2) ** 2, ys, color=INK, lw=1.2)",
               *[_line([(3.8, y0), (8.6, y1)], lw=0.7, color="GREY", dashed=True) for y0 in (4.55, 5.45) for y1 in (5.0, 6.9)],
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
               _line([(3.3, 8.6), (3.3, 1.9)], lw=1.6), _line([(2.9, 1.9), (3.7, 1.9)], lw=2.2))
        parts = [("Thermometer", (6.2, 8.0), (6.6, 8.6), "left"), ("Stirrer", (3.3, 7.0), (2.9, 8.6), "right"),
                 ("Water", (3.8, 4.2), (1.8, 5.2), "right"), ("Metal block", (4.9, 1.6), (4.9, 0.3), "center"),
                 ("Insulation", (7.55, 5.5), (8.2, 5.5), "left")]
        c.slot(r"m|m_\w+|M", 4.9, 3.2, va="bottom", size=9)
        shape = "a calorimeter: insulated container with water, a metal block in it, a thermometer and a stirrer"
    else:
        c.draw("ax.add_patch(Polygon([(3.4, 7.0), (3.6, 3.6), (6.4, 3.6), (6.6, 7.0)], closed=True, fc='white', ec=INK, lw=1.6))",
               "ax.add_patch(Polygon([(3.5, 5.4), (3.6, 3.6), (6.4, 3.6), (6.5, 5.4)], closed=True, fc='0.85', ec='none'))",
               _line([(3.0, 3.5), (7.0, 3.5)], lw=2.5), _line([(3.4, 3.5), (2.9, 0.6)], lw=2), _line([(6.6, 3.5), (7.1, 0.6)], lw=2),
               "ax.add_patch(Rectangle((4.7, 0.6), 0.6, 1.4, fc=LIGHT, ec=INK))",
               "ax.add_patch(Polygon([(4.8, 2.0), (5.0, 3.0), (5.2, 2.0)], closed=True, fc='0.6', ec=INK))",
               "ax.add_patch(Rectangle((5.6, 4.0), 0.2, 5.2, fc='white', ec=INK, lw=1.2))", "ax.add_patch(Circle((5.7, 4.0), 0.22, fc='0.4', ec=INK))")
        parts = [("Beaker", (3.5, 6.2), (1.6, 6.8), "right"), ("Thermometer", (5.8, 8.4), (6.4, 8.8), "left"),
                 ("Tripod", (3.1, 1.8), (1.6, 2.2), "right"), ("Bunsen burner", (5.3, 1.2), (6.6, 1.0), "left")]
        shape = "a beaker of liquid with a thermometer, on a tripod over a Bunsen burner"
    for name, target, at, ha in parts:
        _callout(c, name, target, at, ha=ha)
    for x, y in ((0.5, 9.6), (9.5, 9.6), (9.5, 0.4), (0.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"An apparatus diagram: {shape}; parts named with leader lines.", "Apparatus centred; labels beside the parts.",
               "Readings or results asked for (concentration, fringe spacing, final value) are not written.")
