"""The answer-leak check: figures whose text (OCR, plus a code figure's text artists)
shows a quantity of the answer that the problem does not give.

Quantities are compared, not digit strings: a value with its power of ten and its unit,
SI prefixes folded ("3.6 × 10^5 N" is 360000 N; "10 μC" is 1e-5 C), so the "10" of an
exponent or of another quantity never matches by accident."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import pandas as pd

_NUMBER = r"(?<![\w.])(-?\d+(?:[.,]\d+)?)"
_POWER = r"(?:\s*(?:[×xX*·]|\\times|\\cdot)\s*10\s*(?:\^|\*\*)?\s*\{?\s*([-−]?\d+)\s*\}?|[eE]([-−]?\d+))?"
_UNIT = r"(?:\s*((?:[A-Za-zμµΩ°%Å][A-Za-zμµΩ°%Å]*)(?:\s*/\s*[A-Za-zμµΩ]+)?(?:\^?-?\d)?))?"
_QUANTITY = re.compile(_NUMBER + _POWER + _UNIT)

_PREFIXES = {"k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3, "μ": 1e-6, "µ": 1e-6, "u": 1e-6, "n": 1e-9, "c": 1e-2,
             "p": 1e-12}
_BASE_UNITS = {"m", "g", "s", "A", "V", "W", "J", "N", "C", "F", "Hz", "Pa", "Ω", "L", "eV", "T", "mol", "H"}
_UNIT_WORDS = {"sec": "s", "secs": "s", "seconds": "s", "ohm": "Ω", "ohms": "Ω", "deg": "°", "degrees": "°"}


@dataclass(frozen=True)
class Quantity:
    """A value as magnitude (power of ten applied, SI prefix folded into the unit)."""

    text: str
    magnitude: float
    unit: str  # "" when the number stands alone
    digits: int  # significant digits as written


def _unit(raw: str | None) -> tuple[str, float]:
    if not raw:
        return "", 1.0
    unit = _UNIT_WORDS.get(raw.lower(), raw)
    if len(unit) > 1 and unit[0] in _PREFIXES and unit[1:] in _BASE_UNITS:
        return unit[1:], _PREFIXES[unit[0]]
    return unit, 1.0


_LATEX = [(re.compile(r"\\(?:mathrm|text|textrm|rm|mathit|operatorname)\s*"), ""),
          (re.compile(r"\\(?:mu)(?![A-Za-z])"), "μ"), (re.compile(r"\\Omega(?![A-Za-z])"), "Ω"),
          (re.compile(r"\^?\s*\{?\\circ\}?"), "°"), (re.compile(r"\\[,;: !]|[$~{}]"), " "),
          (re.compile(r"\\times"), "×"), (re.compile(r"\\cdot"), "·")]


def _plain(text: str) -> str:
    """Common LaTeX of benchmark answers as plain text ("$3.6\\times10^{5}\\,\\mathrm{N}$")."""
    for pattern, repl in _LATEX:
        text = pattern.sub(repl, text)
    return text.replace("−", "-")


def quantities(text: str) -> list[Quantity]:
    """Every number of ``text`` as a quantity; a word after a number that is not a unit
    (an ordinary word) is kept as written, so it matches only itself."""
    out = []
    for m in _QUANTITY.finditer(_plain(text)):
        value, exponent = m.group(1).replace(",", "."), m.group(2) or m.group(3)
        unit, scale = _unit(m.group(4))
        magnitude = float(value) * scale * (10.0 ** int(exponent.replace("−", "-")) if exponent else 1.0)
        digits = len(value.lstrip("-").replace(".", "").lstrip("0")) or 1
        out.append(Quantity(m.group(0).strip(), magnitude, unit, digits))
    return out


def _same(a: Quantity, b: Quantity) -> bool:
    if a.unit and b.unit and a.unit != b.unit:
        return False
    if not (a.unit and b.unit) and min(a.digits, b.digits) < 2:
        return False  # a lone single digit: tick labels and enumerations show them in honest figures
    return math.isclose(a.magnitude, b.magnitude, rel_tol=1e-6, abs_tol=0.0)


def leaked_answer_terms(question: str, answer: str, image_texts: list[str]) -> list[str]:
    """Quantities of the answer (as the answer writes them) that the problem does not
    state but the figure shows."""
    given = quantities(question)
    shown = quantities(" \n ".join(image_texts))
    found = []
    for q in quantities(answer):
        if q.magnitude == 0 or any(_same(q, g) for g in given):
            continue
        if any(_same(q, s) for s in shown):
            found.append(q.text)
    return sorted(set(found))


def figure_leak(row, question: str, answer: str, ocr, storage) -> tuple[bool | None, str]:
    """(whether the figure of an image-table ``row`` shows the answer, the terms it shows
    as JSON); (None, "[]") for a row without a figure. The OCR is cached."""
    if row.status != "ok":
        return None, "[]"
    texts = ocr.texts(ocr.tokens(storage, row.image_sha256, row.image_path)) + json.loads(row.text_labels_json)
    found = leaked_answer_terms(question, answer, texts)
    return bool(found), json.dumps(found, ensure_ascii=False)


def with_leaks(frame: pd.DataFrame, leaks: list[tuple[bool | None, str]]) -> pd.DataFrame:
    """The image table with its leak columns, from ``figure_leak`` of each row in order."""
    return frame.assign(answer_leak=pd.array([leak for leak, _ in leaks], dtype="boolean"),
                        leak_terms=[terms for _, terms in leaks])


def flag_leaks(frame: pd.DataFrame, items: pd.DataFrame, ocr, storage) -> pd.DataFrame:
    """Mark figures whose text (OCR, plus the text artists of code-rendered figures)
    reveals the answer; the OCR is cached, so evaluation reuses it."""
    ok = frame[frame["status"] == "ok"]
    ocr.prefetch(storage, list(zip(ok["image_sha256"], ok["image_path"])))
    answers = dict(zip(items["problem_id"], zip(items["question"], items["answer"])))
    return with_leaks(frame, [figure_leak(row, *(answers[row.problem_id] if row.status == "ok" else ("", "")),
                                          ocr, storage) for row in frame.itertuples(index=False)])
