"""Reading one problem: given values, named entities, species, and what would leak the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scigen_dagster.problems.quantities import Quantity, extract_labels, extract_quantities, normalize_text

# A stand-alone number: not part of a name (R1, 3d, H2O) and not an exponent (10^3).
_NUMBER_RE = re.compile(r"(?<![\w.^⁰-⁹′'])(?<!\^[-−])[-−]?(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?!\w)")
POINT_NAME_RE = re.compile(r"[A-Z]['′]*")
SEGMENT_RE = re.compile(r"([A-Z]['′]*)([A-Z]['′]*)")


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


@dataclass
class Ctx:
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
    def from_item(cls, item: dict) -> Ctx:
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

    def says(self, text: str) -> bool:
        """Whether ``text`` is words of the problem itself (whole words, any case)."""
        return _has_phrase(self.q_norm, _norm_words(text))

    # -- convenience for templates --------------------------------------------------
    def has(self, *words: str) -> bool:
        return any(w in self.low for w in words)

    def box_entries(self) -> list[str]:
        """The "Given:" box: each named value as the problem writes it (symbol with its
        subscript as mathtext, or the word the problem names it by: "mass of 2 kg" gives
        "mass = 2 kg"; value; the whole unit), one per line. Left out: a bare number (no
        name says what it is), a value the problem writes inside a formula
        ("-13.6 eV/n^2"), and one the problem says is absent or neglected."""
        out: list[str] = []
        for q in self.quantities:
            at = self.question.find(q.text)
            name = q.symbol or (_quantity_word(self.question[max(0, at - 40):at]) if at >= 0 else "")
            if not name or q.value.startswith("("):
                continue
            after = self.question[at + len(q.text):] if at >= 0 else ""
            before = self.question[max(0, at - 80):at].lower() if at >= 0 else ""
            tail = _UNIT_TAIL.match(after) if q.unit else None
            if (not tail and _FORMULA_AFTER.match(after)) or _ABSENT.search(before.rsplit(".", 1)[-1]) \
                    or re.match(r"\s?\d", after):  # "36 400 km" read as "36": a garbled value stays out
                continue
            unit = q.unit + (tail.group(0).replace(" ", "") if tail else "")
            amount = q.value + (("" if unit in ("%", "°", "′", "″") else " ") + unit if unit else "")
            entry = f"{mathtext_symbol(q.symbol) if q.symbol else name} = {amount.replace('$', chr(92) + '$')}"
            if entry not in out:
                out.append(entry)
        return out

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
            parts = [name] if POINT_NAME_RE.fullmatch(name) else []
            m = SEGMENT_RE.fullmatch(name)
            if m:
                parts = [m.group(1), m.group(2)]
            for p in parts:
                if p not in out:
                    out.append(p)
        return out

    def segments(self) -> list[str]:
        return [e for e in self.entities if SEGMENT_RE.fullmatch(e)]

    def species(self) -> list[str]:
        """Chemical species among the entities (H2O, NaCl, Na+, N2), not R1 / C6 / Tt."""
        return [e for e in self.entities if _is_species(e)]

    def find(self, pattern: str) -> list[Quantity]:
        rx = re.compile(pattern)
        return [q for q in self.quantities if q.symbol and rx.fullmatch(q.symbol)]


def num(q: Quantity | None, default: float | None = None) -> float | None:
    """The plain number of a value ("2.0" -> 2.0, "−1.0" -> -1.0), or ``default``."""
    if q is None:
        return default
    m = re.fullmatch(r"[-−]?\d+(?:\.\d+)?", q.value.replace(",", ""))
    return float(m.group(0).replace("−", "-")) if m else default


# What may follow a value in the problem: a unit's denominator ("16 ft/sec"), or else a
# formula the value is part of ("-13.6 eV/n^2", "2 × r").
_UNIT_TAIL = re.compile(r"\s*/\s*(?:s|sec|second|min|h|hr|hour|day|yr|year|m|cm|mm|km|kg|g|mol|L|l|K|°C|V|A|"
                        r"m\^?[23²³]|cm\^?[23²³]|s\^?2|s²)(?![A-Za-z])")
_FORMULA_AFTER = re.compile(r"\s*(?:/|[×*·^]\s*[A-Za-z(\\])")
_ABSENT = re.compile(r"neglig|neglect|ignor|absent|no longer|removed|without")
_GREEK_TEX = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta", "λ": "lambda",
              "μ": "mu", "ν": "nu", "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega", "Δ": "Delta",
              "Ω": "Omega", "η": "eta", "κ": "kappa", "π": "pi", "ψ": "psi", "χ": "chi", "ξ": "xi", "ζ": "zeta"}


_QUANTITY_WORDS = frozenset("""mass radius length height speed velocity distance altitude charge current voltage
    resistance capacitance inductance temperature pressure volume angle frequency wavelength time period force
    energy power area width depth diameter density acceleration momentum weight tension emf amplitude""".split())
_WORD_BEFORE = re.compile(r"\b([a-z]+)\s+(?:of\s+|is\s+|was\s+|equal\s+to\s+)?(?:about\s+|approximately\s+)?[$(]*\s*$")


def _quantity_word(before: str) -> str:
    """The word the problem names an unnamed value by ("a mass of 2 kg" -> "mass"), if it
    is one of the common quantity names."""
    m = _WORD_BEFORE.search(before.lower())
    return m.group(1) if m and m.group(1) in _QUANTITY_WORDS else ""


def mathtext_symbol(symbol: str) -> str:
    """A symbol in the problem's notation for matplotlib's mathtext: "R1" -> "$R_{1}$",
    "v_0" -> "$v_{0}$", "θ" -> "$\\theta$"; a plain word stays plain."""
    m = re.fullmatch(r"([A-Za-zα-ωΑ-Ω])(?:_?(\d{1,2})|_([A-Za-z0-9]{1,4}))", symbol)
    single = re.fullmatch(r"[α-ωΑ-Ω]", symbol)
    if not (m or single):
        return symbol.replace("$", "\\$")
    base = symbol[0]
    base = "\\" + _GREEK_TEX[base] if base in _GREEK_TEX else base
    if single:
        return f"${base}$"
    sub = m.group(2) or m.group(3)
    return f"${base}_{{{sub}}}$"


STOP_WORDS = frozenset("the a an which that it they and or both also only then what who each".split())
