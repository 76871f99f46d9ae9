"""The plan contract shared by the model planner and the rule planner: four sections plus code."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PLAN_SECTIONS", "FigurePlan", "parse_plan_text"]


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
