"""The plan contract shared by the model planner and the rule planner: four sections plus code."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PLAN_SECTIONS", "FigurePlan", "NoCode", "parse_any_plan", "parse_plan_text"]


PLAN_SECTIONS = ("Image Content", "Layout", "Labels", "Drawing Considerations")


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


# The usual spellings of the four parts (a model asked for "Image Content" may write
# "Content" or "Image Description"; "Labels" may come back as "Labeling" or "Text Labels").
_ALIASES = {
    "Image Content": ("image content", "content", "image description", "figure content", "contents"),
    "Layout": ("layout", "layout plan", "composition", "figure layout", "spatial layout"),
    "Labels": ("labels", "labeling", "labelling", "text labels", "labels and annotations", "annotations",
               "label", "labels & annotations"),
    "Drawing Considerations": ("drawing considerations", "drawing consideration", "drawing notes",
                               "considerations", "drawing details", "rendering considerations"),
}
_CANONICAL = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_NAMES = "|".join(sorted((re.escape(a) for a in _CANONICAL), key=len, reverse=True))
_HEADING_RE = re.compile(
    r"^[ \t]*(?P<hash>#{1,6}[ \t]*)?(?:(?:\d+|[ivx]+|[a-d])[.)][ \t]*)?(?P<bold>\*\*|__)?[ \t]*"
    r"(?:(?:\d+|[ivx]+)[.)][ \t]*)?(?:part[ \t]+\d+[ \t]*[:.\-][ \t]*)?"
    rf"(?P<name>{_NAMES})[ \t]*(?P<colon1>:)?[ \t]*(?:\*\*|__)?[ \t]*"
    r"(?P<colon>:|—|–|-(?=\s))?[ \t]*(?:\*\*|__)?[ \t]*(?P<rest>.*)$",
    re.I,
)
_FENCE_RE = re.compile(r"^[ \t]*```[ \t]*(?P<lang>[\w+-]*)[ \t]*\r?$", re.M)


def _code_block(text: str) -> tuple[int, str] | None:
    """(start of the block, its code): the first ```python block, else the first fence
    with no language; a later block (```bash, ```text) is never taken. A missing closing
    fence is tolerated (a truncated reply)."""
    fences = list(_FENCE_RE.finditer(text))
    opening = None
    for i, f in enumerate(fences):
        if f.group("lang").lower() in ("python", "python3", "py"):
            opening = i
            break
    if opening is None:
        # the first unlabeled fence that opens a block (fences pair up from the start)
        i = 0
        while i < len(fences):
            if fences[i].group("lang") == "":
                opening = i
                break
            i += 2
    if opening is None:
        return None
    start = fences[opening].end() + 1
    close = next((f for f in fences[opening + 1:] if f.group("lang") == ""), None)
    return fences[opening].start(), text[start: close.start() if close else len(text)]


def parse_plan_text(text: str) -> FigurePlan:
    """Parse a reply in the ``FigurePlan.as_text`` format back into a plan.

    Headings may be Markdown ("## Layout"), numbered ("1. **Image Content** — ..."),
    bold ("**Layout:**") or "Layout:" with the text on the same line, in the parts' usual
    spellings. The code is the ```python block (else the first plain fenced block), never
    a later block such as ```bash; a missing closing fence is tolerated. Raises
    ``ValueError`` naming every missing or empty section, or the missing code block.
    """
    text = (text or "").replace("\r\n", "\n")
    block = _code_block(text)
    code, prose = "", text
    if block:
        prose, code = text[: block[0]], block[1]
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in prose.splitlines():
        m = _HEADING_RE.match(line)
        if m and (m.group("hash") or m.group("bold") or m.group("colon") or m.group("colon1")
                  or not m.group("rest").strip()):
            name = _CANONICAL[re.sub(r"\s+", " ", m.group("name").lower())]
            current = None if name in found else name  # a repeated heading: keep the first
            if current:
                found[current] = [m.group("rest")] if m.group("rest").strip() else []
            continue
        if current:
            found[current].append(line)
    sections = {name: "\n".join(found.get(name, [])).strip() for name in PLAN_SECTIONS}
    problems = [f"missing section {name!r}" for name in PLAN_SECTIONS if name not in found]
    problems += [f"empty section {name!r}" for name in PLAN_SECTIONS if name in found and not sections[name]]
    if not block:
        problems.append("missing ```python code block")
    elif not code.strip():
        problems.append("empty ```python code block")
    if problems:
        raise ValueError("cannot parse plan: " + "; ".join(problems))
    return FigurePlan(sections=sections, code=code.rstrip("\n") + "\n")


NOT_WRITTEN = "(not written)"


@dataclass(frozen=True)
class NoCode:
    """A planner reply with no code block to run: the item fails (never re-asked)."""

    reason: str
    status: str = "failed"


def parse_any_plan(text: str) -> FigurePlan | NoCode:
    """The study's runner: the first fenced code block is the script, whatever the plan
    around it looks like (a plan that does not parse reads "(not written)"); no block, no figure.
    Never raises, so the reply is never sent back for a repair."""
    text = (text or "").replace("\r\n", "\n")
    block = _code_block(text)
    if not block or not block[1].strip():
        preview = text[:200].replace("\n", "\\n") or "empty"
        return NoCode(f"no code block found (model said: {preview})")
    try:
        return parse_plan_text(text)
    except ValueError:  # a plan that does not parse is still run, as in the study; its parts are not kept
        return FigurePlan(dict.fromkeys(PLAN_SECTIONS, NOT_WRITTEN), block[1].rstrip("\n") + "\n")
