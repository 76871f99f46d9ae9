"""Which code made an output: the package version, the git commit when the package runs
from a checkout, and a hash of the package's own source files (which also tells two
uncommitted trees apart)."""

from __future__ import annotations

import functools
import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the whole package, not just exports/


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".md", ".yaml", ".jsonl"} and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PACKAGE_DIR), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "-C", str(PACKAGE_DIR), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def code_version() -> dict[str, str]:
    try:
        version = metadata.version("scigen-dagster")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"package": f"scigen-dagster {version}", "git_commit": git_commit(), "source_sha256": source_hash()}


JUDGE_SETTINGS = ["judge", "judge_temperature", "prompt"]
ANSWERER_SETTINGS = ["answerer"]


def evaluator_settings(frames: list[pd.DataFrame], columns: list[str]) -> list[str]:
    """The distinct evaluator settings (e.g. judge id, temperature, prompt hash) found in
    a family's tables."""
    values = set()
    for frame in frames:
        if len(frame) and all(c in frame for c in columns):
            for row in frame[columns].drop_duplicates().itertuples(index=False):
                parts = [f"{c} {v}" if i else str(v) for i, (c, v) in enumerate(zip(columns, row))
                         if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v) != ""]
                values.add(", ".join(parts))
    return sorted(values)


def protocols(frames: list[pd.DataFrame]) -> list[str]:
    """The evaluation protocols whose rows the tables hold (strict for rows written before
    there was a protocol column)."""
    found = set()
    for frame in frames:
        if len(frame):
            found |= set(frame["protocol"].fillna("strict").astype(str)) if "protocol" in frame else {"strict"}
    return sorted(found)
