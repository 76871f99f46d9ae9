"""Corpus sources: the embedded sample, the official SciGenBench JSON, and generic
JSONL / Parquet files with a field mapping.

Each source yields rows of one schema with a stable ``problem_id`` (``<source>:<id>``,
or a hash of the question when the file has no id). A malformed row is quarantined with
its file, line and reason while the valid rows go on; a file that cannot be read, or a
mapping that names a field the file does not have, stops the load with an error that
says which and how to fix it. Option keys that are not plain letters (the SciGenBench
release has about 50: '|C', '0', a key and letter swapped as ``"10 cm": "C"``) are
repaired only where the shape is recognised, and every repair is listed.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

import pandas as pd
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, Field, ValidationError

from scigen_dagster.taxonomy import SUBJECTS, normalise_label

SAMPLE_CORPUS = "sample_corpus.jsonl"

CORPUS_COLUMNS = [
    "problem_id",
    "source",
    "source_id",
    "question",
    "answer",
    "image_type",
    "subject_hint",
    "elements_json",
    "quizzes_json",
    "multimodal_question",
    "reference_image",
]
QUARANTINE_COLUMNS = ["source", "file", "line", "reason", "raw"]

# Field names of the canonical row that a mapping may point at.
MAPPABLE_FIELDS = ("id", "question", "answer", "image_type", "elements", "quizzes", "subject")


class CorpusError(ValueError):
    """A source that cannot be loaded at all (bad file, bad mapping, bad config)."""


class SourceSpec(BaseModel):
    """One corpus source, as written in the sources YAML."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["sample", "scigenbench", "jsonl", "parquet"]
    path: str = ""
    # canonical field -> the file's column (jsonl / parquet only)
    fields: dict[str, str] = Field(default_factory=dict)
    subject: str | None = None  # a subject hint for every row of this source
    limit: int | None = None


class SourcesConfig(BaseModel):
    sources: list[SourceSpec]


NEEDS_PATH = {"scigenbench", "jsonl", "parquet"}  # every kind but the embedded sample
DEFAULT_SOURCES = SourcesConfig(sources=[SourceSpec(name="sample", kind="sample")])


def load_sources_file(path: str | Path | None) -> SourcesConfig:
    if not path:
        return DEFAULT_SOURCES
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise CorpusError(f"cannot read corpus sources file {p}: {exc}; check SCIGEN_SOURCES") from exc
    try:
        cfg = SourcesConfig.model_validate(raw)
    except ValidationError as exc:
        raise CorpusError(f"corpus sources file {p} is invalid:\n{exc}") from exc
    names = [s.name for s in cfg.sources]
    if len(set(names)) != len(names):
        raise CorpusError(f"corpus sources file {p}: source names must be unique, got {names}")
    for s in cfg.sources:
        if s.subject is not None and s.subject not in SUBJECTS:
            raise CorpusError(f"source {s.name!r}: subject {s.subject!r} is not one of {SUBJECTS}")
        if s.kind in NEEDS_PATH and not s.path:
            raise CorpusError(f"source {s.name!r} of kind {s.kind!r} needs a `path`")
        # relative paths are relative to the YAML file, so a config can travel with its data
        if s.path and not Path(s.path).is_absolute() and "://" not in s.path:
            s.path = str((p.parent / s.path).resolve())
    return cfg


@dataclass
class LoadResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # Rows that loaded after a repair of their option keys, one entry per repair.
    repairs: list[dict[str, Any]] = field(default_factory=list)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return (
            pd.DataFrame(self.rows, columns=CORPUS_COLUMNS),
            pd.DataFrame(self.quarantine, columns=QUARANTINE_COLUMNS),
        )


class RowError(ValueError):
    pass


def _check_elements(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise RowError("`elements` must be a list of strings")
    return [e.strip() for e in value if e.strip()]


OPTION_LETTERS = "ABCDEFGH"


def _letter_of_key(key: Any) -> str | None:
    """The letter a stored option key stands for: 'C', '|C', '//C', '&D', '(b)' -> the
    letter; a key with a digit or a second letter ('0', '0B', '4186.8 g', 'frequency')
    stands for none."""
    core = re.sub(r"[\W_]", "", str(key))  # letters and digits are kept, so '4186.8 g' is not 'G'
    return core.upper() if len(core) == 1 and core.upper() in OPTION_LETTERS else None


def _lone_letter(value: str) -> str | None:
    """An option value that is only an upper-case option letter ('D', ' C '): in the
    release that is a key and letter stored the wrong way round, as in
    ``{"4186.8 g": "D"}``. A lower-case one ('a', 'b') is a symbol, not a letter."""
    text = value.strip()
    return text if len(text) == 1 and text in OPTION_LETTERS else None


def _normalise_option_keys(options: dict, index: int, repairs: list[str]) -> dict[str, str]:
    """Option letters as A, B, C..., in the stored order; the release has about 50 keys
    that are not letters.

    Three shapes are repaired, each written to ``repairs``: a letter with stray marks
    around it ('|C', '&D') is that letter; a key and letter stored the wrong way round
    (``"10 cm": "C"``, the value a lone letter that no other key claims) is swapped back,
    so the option reads "10 cm", not "C"; a key with no letter ('0', 'frequency') takes
    the one letter that is missing, when exactly that many are missing. Anything else
    (a swapped letter that another key already holds, keys that leave a gap) stops the
    item with the reason instead of guessing an option text.
    """
    slots: list[list] = []  # [letter or None, text, stored key, how], in the stored order
    taken: dict[str, str] = {}  # letter -> text, from keys that are letters
    for key, value in options.items():
        if value is None:
            continue
        key, value = str(key), str(value)
        letter = _letter_of_key(key)
        if letter is not None and letter not in taken:
            taken[letter] = value
            slots.append([letter, value, key, "key"])
            if key != letter:
                repairs.append(f"quiz {index}: key {key!r} read as {letter}")
        elif letter is None and _lone_letter(value):
            slots.append([_lone_letter(value), key, key, "swapped"])
        else:
            slots.append([None, value, key, "stray"])
    for slot in (s for s in slots if s[3] == "swapped"):
        letter, key = slot[0], slot[2]
        if letter in taken:
            raise RowError(
                f"quiz {index}: option {key!r}: {letter!r} looks like a key and letter stored the wrong "
                f"way round, but {letter} is already the option {taken[letter]!r}; fix the quiz's options")
        taken[letter] = key
        repairs.append(f"quiz {index}: {key!r}: {letter!r} swapped back to {letter} = {key!r}")
    stray = [s for s in slots if s[3] == "stray"]
    missing = [c for c in OPTION_LETTERS[: len(slots)] if c not in taken]
    if len(missing) != len(stray):
        raise RowError(f"quiz {index}: option keys {list(options)} are not letters A, B, C, ...")
    for letter, slot in zip(missing, stray):
        slot[0] = letter
        repairs.append(f"quiz {index}: key {slot[2]!r} (not an option letter) read as the missing {letter}")
    return {slot[0]: slot[1] for slot in slots}


def _check_quizzes(value: Any, repairs: list[str]) -> list[dict[str, Any]]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list):
        raise RowError("`quizzes` must be a list")
    out = []
    for i, q in enumerate(value):
        if not isinstance(q, dict):
            raise RowError(f"quiz {i} is not an object")
        options = q.get("options")
        if not isinstance(options, dict) or len(options) < 2:
            raise RowError(f"quiz {i} needs `options` with at least two letters")
        options = _normalise_option_keys(options, i, repairs)
        correct = str(q.get("correct_option", "")).strip()
        if correct not in options:
            raise RowError(f"quiz {i}: correct_option {correct!r} is not among {sorted(options)}")
        if not str(q.get("question", "")).strip():
            raise RowError(f"quiz {i} has no question")
        out.append(
            {
                "question": str(q["question"]).strip(),
                "options": options,  # stored order: the study shows options as stored
                "correct_option": correct,
                "evidence_snippet": str(q.get("evidence_snippet") or ""),
            }
        )
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def make_row(
    source: SourceSpec,
    record: dict[str, Any],
    *,
    source_id: Any = None,
    reference_image: str = "",
    subject_hint: str | None = None,
    repairs: list[str] | None = None,
) -> dict[str, Any]:
    """Validate one record (already in canonical field names) into a corpus row; what
    was repaired on the way (option keys) is appended to ``repairs``."""
    question = _text(record.get("question"))
    if not question:
        raise RowError("empty or missing `question`")
    raw_type = _text(record.get("image_type"))
    label = normalise_label(raw_type) if raw_type else None
    if raw_type and label is None:
        raise RowError(f"unknown image_type {raw_type!r} (expected '<Subject> - <Type>' of the taxonomy)")
    hint = subject_hint or source.subject or _text(record.get("subject")) or ""
    if hint and hint not in SUBJECTS:
        hint = ""  # an unrecognised free-text subject is not evidence for a type
    sid = _text(source_id if source_id is not None else record.get("id"))
    if not sid:
        sid = hashlib.sha1(question.encode()).hexdigest()[:12]
    return {
        "problem_id": f"{source.name}:{sid}",
        "source": source.name,
        "source_id": sid,
        "question": question,
        "answer": _text(record.get("answer")),
        "image_type": label or "",
        "subject_hint": hint,
        "elements_json": json.dumps(_check_elements(record.get("elements")), ensure_ascii=False),
        "quizzes_json": json.dumps(_check_quizzes(record.get("quizzes"), [] if repairs is None else repairs),
                                   ensure_ascii=False),
        "multimodal_question": _text(record.get("multimodal_question")),
        "reference_image": reference_image,
    }


def _apply_mapping(record: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    if not mapping:
        return record
    out = dict(record)
    for canonical, column in mapping.items():
        out[canonical] = record.get(column)
    return out


def _check_mapping(source: SourceSpec, file: str, available: Iterable[str]) -> None:
    unknown = sorted(set(source.fields) - set(MAPPABLE_FIELDS))
    if unknown:
        raise CorpusError(
            f"source {source.name!r}: mapping names unknown canonical field(s) {unknown}; "
            f"the mappable fields are {list(MAPPABLE_FIELDS)}"
        )
    available = set(available)
    missing = {k: v for k, v in source.fields.items() if v not in available}
    if missing:
        raise CorpusError(
            f"source {source.name!r}: file {file} has no field(s) "
            + ", ".join(f"{v!r} (mapped to {k!r})" for k, v in missing.items())
            + f"; its fields are {sorted(available)}. Fix `fields:` for this source in the sources YAML."
        )
    if "question" not in source.fields and "question" not in available:
        raise CorpusError(
            f"source {source.name!r}: file {file} has no `question` field and the mapping does not "
            f"name one; add `fields: {{question: <column>}}` for this source"
        )


def _iter_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed object or None, parse error) for every non-blank line."""
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc}") from exc
    with fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line), None
                except json.JSONDecodeError as exc:
                    yield lineno, line, f"invalid JSON: {exc.msg} at column {exc.colno}"
        except UnicodeDecodeError as exc:
            raise CorpusError(f"corpus file {path} is not UTF-8 text ({exc}); re-encode it as UTF-8") from exc


def _add(result: LoadResult, source: SourceSpec, file: str, line: int, record: Any, seen: set, **kw) -> None:
    try:
        if not isinstance(record, dict):
            raise RowError("row is not a JSON object")
        notes: list[str] = []
        row = make_row(source, _apply_mapping(record, source.fields), repairs=notes, **kw)
        if row["problem_id"] in seen:
            raise RowError(f"duplicate id {row['source_id']!r} in source {source.name!r}")
        seen.add(row["problem_id"])
        result.rows.append(row)
        result.repairs += [{"problem_id": row["problem_id"], "file": file, "line": line, "repair": n} for n in notes]
    except RowError as exc:
        raw = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False, default=str)
        result.quarantine.append(
            {"source": source.name, "file": file, "line": line, "reason": str(exc), "raw": raw[:500]}
        )


def _load_jsonl(source: SourceSpec, path: Path, result: LoadResult, seen: set) -> None:
    result.files.append(str(path))
    checked = False
    for lineno, record, error in _iter_jsonl(path):
        if source.limit is not None and len(result.rows) >= source.limit:
            break
        if error:
            result.quarantine.append(
                {"source": source.name, "file": str(path), "line": lineno, "reason": error, "raw": record[:500]}
            )
            continue
        if not checked and isinstance(record, dict):
            # The first parsable row decides whether the mapping fits the file's shape.
            _check_mapping(source, str(path), record.keys())
            checked = True
        _add(result, source, str(path), lineno, record, seen)


def _load_parquet(source: SourceSpec, path: Path, result: LoadResult, seen: set) -> None:
    result.files.append(str(path))
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CorpusError(f"cannot read Parquet corpus file {path}: {exc}") from exc
    _check_mapping(source, str(path), pf.schema_arrow.names)
    lineno = 0
    for batch in pf.iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            lineno += 1  # 1-based row number stands in for the line
            if source.limit is not None and len(result.rows) >= source.limit:
                return
            _add(result, source, str(path), lineno, record, seen)


def _load_scigenbench(source: SourceSpec, result: LoadResult, seen: set) -> None:
    root = Path(source.path)
    files = [root / "scigen.json", root / "seephys.json"]
    if not any(f.exists() for f in files):
        raise CorpusError(
            f"source {source.name!r}: {root} holds neither scigen.json nor seephys.json; "
            "point `path` at the folder of the SciGenBench release (its data/ folder)"
        )
    for f in files:
        if not f.exists():
            continue
        result.files.append(str(f))
        try:
            items = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CorpusError(f"cannot read SciGenBench file {f}: {exc}") from exc
        if not isinstance(items, list):
            raise CorpusError(f"SciGenBench file {f} should hold a JSON list of items")
        subset = f.stem
        for index, item in enumerate(items, start=1):
            if source.limit is not None and len(result.rows) >= source.limit:
                return
            kw: dict[str, Any] = {}
            if isinstance(item, dict):
                kw["source_id"] = f"{subset}-{item.get('id')}"
                if subset == "seephys":
                    image = root / "seephys_images" / f"{item.get('id')}.png"
                    kw["reference_image"] = str(image) if image.exists() else ""
                    kw["subject_hint"] = "Physics"  # every seephys item is a physics problem
            _add(result, source, str(f), index, item, seen, **kw)


def _load_sample(source: SourceSpec, result: LoadResult, seen: set[str]) -> None:
    ref = resources.files("scigen_dagster") / "data" / SAMPLE_CORPUS
    with resources.as_file(ref) as path:
        _load_jsonl(source, Path(path), result, seen)


def _load_files(source: SourceSpec, result: LoadResult, seen: set[str]) -> None:
    pattern = any(c in source.path for c in "*?[")
    paths = sorted(Path(p) for p in glob.glob(source.path)) if pattern else [Path(source.path)]
    if not paths or not all(p.exists() for p in paths):
        raise CorpusError(f"source {source.name!r}: no file at {source.path}; check `path` in the sources YAML")
    for path in paths:
        FILE_READERS[source.kind](source, path, result, seen)


FILE_READERS = {"jsonl": _load_jsonl, "parquet": _load_parquet}
LOADERS = {"sample": _load_sample, "scigenbench": _load_scigenbench, "jsonl": _load_files, "parquet": _load_files}


def load_corpus(config: SourcesConfig) -> LoadResult:
    result = LoadResult()
    for source in config.sources:
        LOADERS[source.kind](source, result, set())
    return result


def _scigenbench_files(source: SourceSpec) -> list[Path]:
    return [p for p in (Path(source.path) / "scigen.json", Path(source.path) / "seephys.json") if p.exists()]


# The files each kind of source reads (the embedded sample never changes).
SOURCE_FILES = {"sample": lambda source: [], "scigenbench": _scigenbench_files,
                "jsonl": lambda source: [Path(p) for p in sorted(glob.glob(source.path))],
                "parquet": lambda source: [Path(p) for p in sorted(glob.glob(source.path))]}


def source_files(config: SourcesConfig) -> list[Path]:
    """The files the configured sources read, for the sensor that watches them."""
    return [path for source in config.sources for path in SOURCE_FILES[source.kind](source)]
