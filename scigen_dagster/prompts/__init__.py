"""Prompt templates, versioned and hashed.

Each template is a Markdown file with a ``version:`` line and ``## system`` / ``## user``
sections; placeholders are ``{name}``. The hash of the file is stored in every row a
prompt produced, so a changed prompt is visible in the data and misses the cache.

An empty system section sends no system message (the study's prompts are one user
message), and an ``image: after`` line puts a figure after the text instead of before it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    sha256: str
    image_after_text: bool = False

    @property
    def ref(self) -> str:
        """What rows store: name, version and the first 12 hex digits of the hash."""
        return f"{self.name}@{self.version}:{self.sha256[:12]}"

    def messages(self, image_data_url: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        user = self.user.format(**fields)
        content: Any = user
        if image_data_url:
            parts = [{"type": "image_url", "image_url": {"url": image_data_url}}, {"type": "text", "text": user}]
            content = parts[::-1] if self.image_after_text else parts
        system = [{"role": "system", "content": self.system.format(**fields)}] if self.system else []
        return system + [{"role": "user", "content": content}]


@lru_cache(maxsize=None)
def load(name: str) -> Prompt:
    text = (resources.files(__package__) / f"{name}.md").read_text(encoding="utf-8")
    version = re.search(r"^version:\s*(\S+)", text, re.M)
    parts = re.split(r"^## (system|user)\s*$", text, flags=re.M)
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))
    if not version or set(sections) != {"system", "user"}:
        raise ValueError(f"prompt {name!r} needs a `version:` line and `## system` / `## user` sections")
    after = re.search(r"^image:\s*after\s*$", text.split("## ", 1)[0], re.M) is not None
    return Prompt(name, version.group(1), sections["system"], sections["user"], hashlib.sha256(text.encode()).hexdigest(),
                  after)


def names() -> list[str]:
    """Every prompt template shipped with the package."""
    return sorted(p.name[:-3] for p in resources.files(__package__).iterdir() if p.name.endswith(".md"))
