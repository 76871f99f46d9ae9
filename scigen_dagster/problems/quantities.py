"""Rule-based extraction of given values and named entities from a science problem.

The offline ImgCoder planner (``imgcoder_rules``) has no model to read the problem, so
it relies on these two extractors to decide what text a figure must carry:

* ``extract_quantities`` finds the given values ("m = 2.0 kg", "a 4 Ω resistor",
  "θ = 30°", "1.5×10^3 Pa", "A(1, 2)", "25%").
* ``extract_labels`` finds the named things a figure labels (points A, B, segments AB,
  components R1, chemical species CO2, genotypes Aa, organisms, planets).

Both are deliberately conservative: a missed label costs a little figure quality, while
a spurious one puts wrong text into a figure that is supposed to show the problem's
setting faithfully.

Benchmark questions often carry LaTeX (``{eq}\\lambda = 633 \\ nm{/eq}``, ``$30^\\circ$``).
``normalize_text`` turns the common commands into plain Unicode before matching, and
keeps a map back to the original characters, so ``Quantity.text`` is still the exact
substring of the problem the value came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Quantity", "extract_quantities", "extract_labels", "normalize_text"]

# Units written without a space before them in a label ("30°", "25%").
_TIGHT_UNITS = frozenset({"%", "‰", "°", "′", "″"})


@dataclass(frozen=True)
class Quantity:
    """One given value of a problem.

    symbol: what the value is assigned to ("m", "R1", "θ", "AB", "P(A)"), "" if none.
    value:  the number as written ("2.0", "1.5×10^3", "3/4", "(1, 2)" for a point).
    unit:   the unit as written ("kg", "Ω", "m/s^2"), "" if none.
    text:   the exact substring of the problem it came from.
    """

    symbol: str
    value: str
    unit: str
    text: str

    def label(self) -> str:
        """The value as a figure label: "m = 2.0 kg", "30°", "4 Ω", "A(1, 2)"."""
        amount = self.value
        if self.unit:
            amount += ("" if self.unit in _TIGHT_UNITS else " ") + self.unit
        if not self.symbol:
            return amount
        if self.value.startswith("("):  # a point: "A(1, 2)"
            return f"{self.symbol}{amount}"
        return f"{self.symbol} = {amount}"


# --------------------------------------------------------------------------------------
# LaTeX / markup normalisation with an index map back to the original text
# --------------------------------------------------------------------------------------

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    "circ": "°", "degree": "°", "degrees": "°", "times": "×", "cdot": "·", "approx": "≈",
    "pm": "±", "angle": "∠", "measuredangle": "∠", "triangle": "△", "perp": "⊥",
    "parallel": "∥", "rightarrow": "→", "to": "→", "longrightarrow": "→", "Rightarrow": "→",
    "rightleftharpoons": "⇌", "leftrightarrow": "↔", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "infty": "∞", "cap": "∩", "cup": "∪", "mid": "|", "ohm": "Ω", "Omega": "Ω",
    "AA": "Å", "prime": "′", "sqrt": "√", "neq": "≠", "sim": "~", "%": "%", "quad": " ",
    "qquad": " ", ",": " ", ";": " ", ":": " ", " ": " ", "!": "", "ell": "l",
}
# Commands whose braces hold ordinary text: keep the content, drop the command.
_TEXT_COMMANDS = (
    "text", "textrm", "mathrm", "mathit", "mathbf", "operatorname", "textbf", "textit",
    "boldsymbol", "overline", "vec", "hat", "bar", "mathbb", "mathcal", "displaystyle",
    "rm", "it", "bf", "left", "right", "big", "Big", "mathsf", "textsf",
)


class _Mapped:
    """A string plus, for every character, the span of the original text it stands for."""

    def __init__(self, text: str, starts: list[int] | None = None, ends: list[int] | None = None):
        self.text = text
        self.starts = starts if starts is not None else list(range(len(text)))
        self.ends = ends if ends is not None else list(range(1, len(text) + 1))

    def sub(self, pattern: re.Pattern[str], repl) -> _Mapped:
        """Like ``pattern.sub(repl, text)``, carrying the index map along."""
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for m in pattern.finditer(self.text):
            out.append(self.text[pos : m.start()])
            starts.extend(self.starts[pos : m.start()])
            ends.extend(self.ends[pos : m.start()])
            new = repl(m) if callable(repl) else m.expand(repl)
            if m.end() > m.start():
                lo, hi = self.starts[m.start()], self.ends[m.end() - 1]
            else:  # empty match: nothing to map, point at the insertion place
                lo = hi = self.starts[m.start()] if m.start() < len(self.starts) else (self.ends[-1] if self.ends else 0)
            out.append(new)
            starts.extend([lo] * len(new))
            ends.extend([hi] * len(new))
            pos = m.end()
        out.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        return _Mapped("".join(out), starts, ends)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _latex_command(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _GREEK:
        return _GREEK[name]
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    return ""  # unknown command (\displaystyle, \left ...): drop it, keep what follows


_NORMALISE_STEPS: list[tuple[re.Pattern[str], object]] = [
    # Markup wrappers used by the benchmark and by Markdown.
    (re.compile(r"\{/?eq\}|\$\$?|\\[()\[\]]|\*\*"), " "),
    (re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}"), r"\1/\2"),
    (re.compile(r"\\(?:" + "|".join(_TEXT_COMMANDS) + r")(?![A-Za-z])\s*"), ""),
    (re.compile(r"\\([A-Za-z]+|[%,;: !])"), _latex_command),
    # 30^{°}, 30^° -> 30°
    (re.compile(r"\^\s*\{\s*(°|′)\s*\}|\^\s*(?=°)"), lambda m: m.group(1) or ""),
    # Digit subscripts become plain digits (R_1 -> R1, CH_3 -> CH3, v_{0} -> v0):
    # that is how components and formulas are written in plain text.
    (re.compile(r"(?<=[A-Za-zΑ-Ωα-ω)])_\{?(\d{1,3})\}?"), r"\1"),
    (re.compile(r"_\{([A-Za-z0-9,]{1,10})\}"), r"_\1"),
    (re.compile(r"\^\{([^{}]{1,12})\}"), r"^\1"),
    (re.compile(r"[{}]"), ""),
    (re.compile(r"~"), " "),
    (re.compile(r"[ \t\u00a0\u2009\u202f]{2,}"), " "),
]


def _normalise(text: str) -> _Mapped:
    mapped = _Mapped(text)
    if not re.search(r"[\\{}$~_]|\*\*|\s\s", text):
        return mapped  # plain text: nothing to rewrite
    for pattern, repl in _NORMALISE_STEPS:
        mapped = mapped.sub(pattern, repl)
    return mapped


def normalize_text(text: str) -> str:
    """Plain-Unicode form of ``text`` (LaTeX commands, {eq} and $ markup removed)."""
    return _normalise(text or "").text


# --------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------

_UNIT_NAMES = """
meters meter metres metre kilometers kilometres kilometer kilometre centimeters centimetres
centimeter centimetre millimeters millimetres millimeter millimetre nanometers nanometres
seconds second minutes minute hours hour days day years year light-years
kilograms kilogram grams gram newtons newton joules joule watts watt volts volt amperes
ampere amps amp ohms ohm kelvin hertz liters liter litres litre moles mole degrees degree
percent coulombs coulomb farads farad henries henry teslas tesla pascals pascal
atmospheres atmosphere calories calorie radians radian electronvolts
""".split()
_UNIT_SYMBOLS = """
m km cm mm μm µm um nm pm fm Å ft mi AU ly pc
kg g mg μg µg lb amu Da kDa
s ms μs µs ns min h hr hrs yr
A mA μA µA kA
K °C ℃ °F ℉
mol mmol μmol µmol M mM μM µM nM
N kN mN dyn
J kJ MJ mJ eV keV MeV GeV cal kcal Cal kWh Wh
W kW MW mW
Pa kPa MPa hPa GPa atm bar mbar mmHg torr Torr psi
Hz kHz MHz GHz THz rpm
C mC μC µC nC pC
V mV kV μV µV
Ω kΩ MΩ mΩ
F mF μF µF uF nF pF
H mH μH µH
T mT μT µT Wb
L mL ml μL µL dL cc
° rad deg ′ ″
% ‰ ppm ppb dB bp kb kbp Mb cM lx lm cd Bq Gy Sv
""".split()
_UNIT_ALTS = "|".join(
    re.escape(u) for u in sorted(set(_UNIT_NAMES + _UNIT_SYMBOLS), key=lambda u: (-len(u), u))
)
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_EXPONENT = rf"(?:\^[-−]?\d+|\*\*[-−]?\d+|⁻?[{_SUPERSCRIPT_DIGITS}]+|(?<=[A-Za-z])-[1-4](?![\d.]))"
_UNIT_ATOM = rf"(?:{_UNIT_ALTS}){_EXPONENT}?"
_UNIT = (
    rf"{_UNIT_ATOM}(?:\s?[/·⋅*]\s?(?:{_UNIT_ATOM}|\({_UNIT_ATOM}(?:\s?[·⋅*]\s?{_UNIT_ATOM})*\)))*"
)
# A unit must end at a word boundary ("5 min" yes, "5 minutes" via its own entry, "3 more" no).
_UNIT_END = r"(?![A-Za-z0-9_Α-Ωα-ωµΩ])"

_MANTISSA = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+|\.\d+)"
_SCI = (
    rf"(?:\s?[×xX*·⋅]\s?10(?:\^[-−+]?\d+|\*\*\s?[-−+]?\d+|[⁻⁺]?[{_SUPERSCRIPT_DIGITS}]+)"
    r"|[eE][-−+]?\d+)"
)
_POWER = rf"(?:\^[-−+]?\d+|[⁻⁺]?[{_SUPERSCRIPT_DIGITS}]+)"
_NUMBER = (
    rf"[-−]?(?:\d+/\d+(?![\d/])|\d+(?::\d+)+(?!\d)|{_MANTISSA}(?:{_SCI}|{_POWER})?)"
)
# After a number without a unit: no glued letters/digits ("2x", "3D", "2nd" are not values).
_NUMBER_END = r"(?![\w^]|\.\d)"
_SEPARATOR = r"[ \u00a0\u2009\u202f-]"


def _qty(tag: str) -> str:
    return (
        rf"(?P<{tag}num>{_NUMBER})"
        rf"(?:(?P<{tag}sep>{_SEPARATOR}?)(?P<{tag}unit>{_UNIT}){_UNIT_END})?"
        rf"{_NUMBER_END}"
    )


_GREEK_LETTERS = "Α-Ωα-ωϕϑϵµ"
_SYMBOL = (
    rf"(?:m/z|(?:[∠Δ∆δ]\s?)?[A-Za-z{_GREEK_LETTERS}][A-Za-z0-9{_GREEK_LETTERS}'′]{{0,11}}"
    r"(?:_[A-Za-z0-9]{1,6}|[₀-₉ₐₑₒₓₕₖₗₘₙₚₛₜ]+)*(?:\([^()=\n]{1,15}\))?)"
)
_QUANTITY_RE = re.compile(
    rf"(?P<assign>(?<![\w.'′])(?P<sym>{_SYMBOL})\s*(?:=|≈|≅|:=)\s*{_qty('a')})"
    rf"|(?P<point>(?<![\w'′])(?P<pname>[A-Z][0-9'′]?)\s?(?:=\s?)?\(\s?(?P<px>{_NUMBER})\s?,\s?"
    rf"(?P<py>{_NUMBER})(?:\s?,\s?(?P<pz>{_NUMBER}))?\s?\))"
    rf"|(?P<bare>(?<![\w.^/\\\-−]){_qty('b')})"
)


def extract_quantities(text: str) -> list[Quantity]:
    """Given values in ``text``, in order of appearance, without duplicates.

    Handles "m = 2.0 kg", "a 4 Ω resistor", "a 2.0-kg block", "θ = 30°", "12 m/s",
    "AB = 6 cm", "25%", "0.3", "1.5×10^3 Pa", "3e8 m/s", "6.02 × 10²³", "P(A) = 0.3",
    "A(1, 2)", "3/4", "9:3:3:1", Unicode units (Ω, °, μF, ℃) and common LaTeX.
    Numbers glued to letters (R1, H2O, 2x, 3D) are names or algebra, not values.
    """
    mapped = _normalise(text or "")
    found: list[Quantity] = []
    seen: set[tuple[str, str, str]] = set()
    for m in _QUANTITY_RE.finditer(mapped.text):
        if m.group("assign"):
            symbol, value, unit = m.group("sym"), m.group("anum"), m.group("aunit") or ""
        elif m.group("point"):
            symbol = m.group("pname")
            value = m.group(0)[m.group(0).index("(") :]
            unit = ""
        else:
            symbol, value, unit = "", m.group("bnum"), m.group("bunit") or ""
        lo, hi = mapped.original_span(m.start(), m.end())
        key = (symbol, value, unit)
        if key in seen:
            continue
        seen.add(key)
        found.append(Quantity(symbol=symbol, value=value, unit=unit, text=(text or "")[lo:hi]))
    return found


# --------------------------------------------------------------------------------------
# Labels (named entities)
# --------------------------------------------------------------------------------------

# Words after which a single letter is a name ("point A", "from A to B", "event B").
_NAME_KEYWORDS = frozenset(
    """
    point points vertex vertices node nodes corner corners center centre midpoint origin
    focus foci event events set sets gene genes allele alleles species population
    populations block blocks mass masses ball balls sphere spheres particle particles charge
    charges object objects body bodies plate plates pulley pulleys region regions state
    states position positions compartment compartments tank tanks container containers
    beaker beakers flask flasks tube tubes bulb bulbs lamp lamps switch switches terminal
    terminals junction junctions step steps stage stages phase phases type types strain
    strains plant plants sample samples star stars planet planets satellite satellites
    molecule molecules atom atoms compound compounds substance substances reactant
    reactants product products enzyme enzymes organism organisms line lines ray rays circle
    circles plane planes wire wires loop loops car cars cart carts box boxes level levels
    site sites structure structures labeled labelled marked called named denoted at from to
    through between via toward towards reaches meets intersects person student students
    observer observers source sources slit slits screen detector cell cells island islands
    city cities town towns house houses vessel vessels spring springs rod rods string
    strings rope ropes
    """.split()
)
# Words after which a letter group is a segment or a polygon ("side AB", "triangle ABC").
_GEOMETRY_KEYWORDS = frozenset(
    """
    segment segments side sides line lines ray rays chord chords edge edges diagonal
    diagonals triangle triangles angle angles quadrilateral rectangle square parallelogram
    trapezoid trapezium rhombus polygon pentagon hexagon tetrahedron pyramid prism cube
    cuboid plane planes face faces arc arcs median medians altitude altitudes bisector
    bisectors perpendicular parallel tangent tangents radius diameter path paths route
    """.split()
)
# Lower-case or Greek single letters are names only after these ("line l", "plane α").
_LOWER_NAME_KEYWORDS = frozenset(
    "line lines plane planes circle circles curve curves ray rays angle angles".split()
)
_ACRONYMS = frozenset(
    """
    DNA RNA ATP ADP AMP GTP NADH NADPH FADH PCR NMR IR UV PV AC DC LED LCD CPU USB SI STP RTP
    EMF PE KE GPE SHM ID OK II III IV VI VII VIII IX XI XII XIII AND OR NOT IF THE USA UK EU
    GDP HIV AIDS CEO NASA ISS GPS SD RMS LC RC RL RLC PDF CDF MLE BFS DFS CNN API AM PM
    """.split()
)
# Biomolecules named by acronym: labels in molecular-process and cell figures.
_BIOMOLECULES = ("mRNA", "tRNA", "rRNA", "DNA", "RNA", "ATP", "ADP", "NADPH", "NADH", "FADH2", "GTP", "cAMP")
_ORGANISMS = """
grass algae phytoplankton zooplankton plankton seaweed kelp shrub rabbit deer mouse mice
grasshopper caterpillar insect beetle aphid cricket frog toad snake lizard tortoise bird
sparrow robin hawk eagle owl fox wolf wolves lion zebra antelope gazelle cow sheep goat bear
fish shark seal whale krill squirrel earthworm worm spider ladybug bacteria bacterium fungi
fungus mushroom fly flies bee bees butterfly moth ant ants mosquito coyote raccoon heron
duck trout salmon minnow crab shrimp snail slug
""".split()
_CELESTIAL = ("Sun", "Earth", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Pluto")
_ASTRONOMY_CONTEXT = re.compile(
    r"orbit|planet|satellite|\bstar\b|\bsun\b|moon|kepler|celestial|eclipse|solar|lunar|galax", re.I
)
_ECOLOGY_CONTEXT = re.compile(
    r"\beats?\b|food|prey|predator|ecosystem|consumer|producer|trophic|population|species|"
    r"habitat|organism|decomposer|herbivore|carnivore|omnivore",
    re.I,
)
_GENETICS_CONTEXT = re.compile(
    r"allele|genotype|phenotype|dominant|recessive|heterozygous|homozygous|punnett|\bcross\b|"
    r"offspring|\bgenes?\b|hybrid|progeny|gamete",
    re.I,
)
_ELEMENTS = frozenset(
    """
    H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As
    Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu
    Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np
    Pu Am Cm
    """.split()
)
# Formulas without a digit or lower-case letter that are still common species.
_CAPS_FORMULAS = frozenset("CO NO HF HI KI KF KOH HCN KCN".split())
_NOT_FORMULAS = frozenset({"NaN", "HeLa", "CoA", "Co", "In", "As", "At", "No", "Be", "He"})

# A capital-letter group: "A", "R1", "R₁", "AB", "A1B1", "ABCD-A1B1C1D1", "B'".
_PART = r"[A-Z](?:\d{1,2}|[₀-₉]{1,2})?['′]*"
_CAPS_TOKEN_RE = re.compile(rf"(?<![\w'′^])((?:{_PART})+(?:-(?:{_PART}){{2,}})?)(?![\w'′])")
_PART_RE = re.compile(_PART)
_CHARGE = r"\^?\d*[+\-−](?![\w\d])|[²³]?[⁺⁻]"
_FORMULA_RE = re.compile(
    rf"(?<![\w^])((?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*){{1,8}})({_CHARGE})?(?![\w])"
)
# A single capital letter followed by a list of more: "A, B, and C", "A and B", "A or B".
_LETTER_LIST = r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)[A-Z](?![\w'′])"
_LOWER_TOKEN_RE = re.compile(rf"(?<![\w'′])([a-z{_GREEK_LETTERS}])(?![\w'′(])")
_WORD_RE = re.compile(r"[A-Za-z]+")
_PROBABILITY_RE = re.compile(r"\bP\(([^()]{1,24})\)")
_GENOTYPE_RE = re.compile(r"(?<![\w])([A-Za-z]{2,8})(?![\w])")
_LIST_GLUE_RE = re.compile(r"^\s*(?:,|and|or|&|,\s*and|,\s*or|/)\s*$")


def _previous_word(text: str, start: int) -> str:
    """The word right before ``start`` (lower case), or a geometry sign like ∠ / △."""
    before = text[:start].rstrip()
    if before.endswith(("∠", "△", "⊥", "∥")):
        return before[-1]
    m = re.search(r"([A-Za-z]+)\W{0,2}$", before)
    if not m or re.search(r"[.;:!?]", before[m.end() :]):
        return ""
    return m.group(1).lower()


def _option_markers(text: str) -> set[int]:
    """Positions of multiple-choice markers "(A)", "B.", "c)" when they form a sequence.

    A lone "B." is just a point at the end of a sentence; only an A-then-B run (same case)
    marks the letters as answer options rather than names.
    """
    found = [
        (m.start(1), m.group(1))
        for m in re.finditer(r"(?:^|(?<=\s))\(?([A-Ea-e])[.)](?=\s|\d|$)", text)
    ]
    for first_case in (str.isupper, str.islower):
        letters = [(pos, ch) for pos, ch in found if first_case(ch)]
        a = [pos for pos, ch in letters if ch in "Aa"]
        b = [pos for pos, ch in letters if ch in "Bb"]
        if a and b and min(a) < max(b):
            return {pos for pos, _ in letters if pos >= min(a)}
    return set()


def _is_formula(token: str) -> bool:
    """Whether ``token`` (plus any charge) reads as a chemical formula of real elements."""
    elements = re.findall(r"[A-Z][a-z]?", token)
    if not elements or any(e not in _ELEMENTS for e in elements):
        return False
    return re.fullmatch(r"(?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+", token) is not None


def _is_genotype(token: str) -> bool:
    """"Aa", "TT", "aabb", "AaBb": letter pairs of one gene each, each gene once."""
    if len(token) % 2 or token in _ACRONYMS:
        return False
    pairs = [token[i : i + 2] for i in range(0, len(token), 2)]
    genes = [p[0].lower() for p in pairs]
    return all(p[0].lower() == p[1].lower() for p in pairs) and len(set(genes)) == len(genes)


def extract_labels(text: str) -> list[str]:
    """Named entities a figure should label, deduplicated, in order of appearance.

    Points (A, B), segments (AB), vertices of named polygons ("triangle ABC" -> A, B, C),
    components (R1, C2, L1), chemical species (H2O, CO2, Na+), genotypes (Aa, AaBb) in
    genetics problems, biomolecules (DNA, mRNA), common organisms (rabbit, hawk) and
    planets in astronomy problems, and lower-case/Greek letters used as names ("line l").
    A single letter counts only with evidence that it names something: a naming word
    before it ("point A", "from A to B"), a list continuing such a name ("points A, B and
    C"), "A and B", "P(A)", or coordinates "A(1, 2)". Letters used as variables
    ("T = 300 K"), as units ("3 A") or as multiple-choice markers are left out.
    """
    mapped = _normalise(text or "")
    t = mapped.text
    found: list[tuple[int, str, str]] = []  # (position, label, dedupe key)
    claimed: list[tuple[int, int]] = []  # spans already turned into labels

    def add(pos: int, label: str, span: tuple[int, int] | None = None, key: str | None = None) -> None:
        found.append((pos, label, key or label))
        if span:
            claimed.append(span)

    option_markers = _option_markers(t)

    # Capital-letter groups: components, single-letter names, segments, polygons, formulas.
    last_end, last_kind = -10, ""
    for m in _CAPS_TOKEN_RE.finditer(t):
        token, start, end = m.group(1), m.start(1), m.end(1)
        parts = _PART_RE.findall(token.replace("-", ""))
        before = t[:start]
        glued = _LIST_GLUE_RE.match(t[last_end:start]) is not None if last_end >= 0 else False
        prev = _previous_word(t, start)
        after = t[end:]
        is_symbol = re.match(r"\s*(?:=|≈|<|>|≤|≥)", after) is not None
        kind = ""
        if len(parts) == 1 and re.search(r"\d|[₀-₉]", token):
            kind = "component"  # R1, C2, F1, A1: a letter with an index is always a name
        elif len(parts) == 1:
            # The letter itself; "A"/"I" are also English words, so they need the same
            # evidence as any other letter and never count from position alone.
            if start in option_markers or re.search(r"\d\s?$|°\s?$", before):
                kind = ""  # "(B) 5 m/s" option marker, or a unit after a number ("3 A")
            elif is_symbol and not re.match(r"\s*=\s*\(", after):
                kind = ""  # a variable being assigned a value: it is a quantity symbol
            elif prev in _NAME_KEYWORDS or prev in _GEOMETRY_KEYWORDS or prev in {"∠", "△"}:
                kind = "letter"
            elif glued and last_kind in {"letter", "component"}:
                kind = "letter"
            elif token != "I" and re.match(_LETTER_LIST, after):
                kind = "letter"  # "A and B are independent", "A, B, C be five points"
            elif re.match(r"\s?\(\s?[-−]?\d", after):
                kind = "letter"  # coordinates follow: "A(1, 2)"
        else:
            distinct = len(set(parts)) == len(parts)
            # Strong evidence (a geometry word, ⊥/∥, a list of segments) beats the acronym
            # list ("side AC"); "AB = 6 cm" alone is weaker ("KE = 5 J" is not a segment).
            strong = (
                prev in _GEOMETRY_KEYWORDS
                or prev in {"∠", "△", "⊥", "∥"}
                or re.match(r"\s*(?:⊥|∥|//|\|\|)", after) is not None
                or (glued and last_kind in {"segment", "polygon"})
            )
            weak = re.match(r"\s*=\s*(?:[-−]?\.?\d|√|[A-Z]{2}(?![\w]))", after) is not None
            charged = re.match(_CHARGE, after) is not None
            if distinct and (strong or (weak and token not in _ACRONYMS)):
                kind = "segment" if len(parts) == 2 else "polygon"
            elif token in _ACRONYMS or charged:
                kind = ""  # acronyms are not names; "SO4^2-" is left to the formula pass
            elif _is_formula(token) and (re.search(r"\d", token) or token in _CAPS_FORMULAS):
                kind = "species"
        if kind in {"letter", "component", "segment", "species"}:
            add(start, token, (start, end))
        elif kind == "polygon":
            offset = 0
            for part in parts:
                idx = token.index(part, offset)
                offset = idx + len(part)
                add(start + idx, part)
            claimed.append((start, end))
        if kind:
            last_end, last_kind = end, kind

    def free(start: int, end: int) -> bool:
        return not any(a < end and start < b for a, b in claimed)

    # Events inside probability notation: P(A), P(A ∩ B), P(B | A).
    for m in _PROBABILITY_RE.finditer(t):
        for e in re.finditer(r"(?<![\w'′])([A-Z])(?![\w(])", m.group(1)):
            add(m.start(1) + e.start(1), e.group(1))

    # Chemical species with lower-case letters or charges: NaCl, CH3COOH, Fe2O3, Na+, SO4^2-.
    for m in _FORMULA_RE.finditer(t):
        body, charge = m.group(1), m.group(2) or ""
        if not free(m.start(), m.end()) or body in _NOT_FORMULAS or not _is_formula(body):
            continue
        elements = re.findall(r"[A-Z][a-z]?", body)
        if charge or (len(elements) >= 2 and re.search(r"[a-z\d]", body)):
            add(m.start(), body + charge, (m.start(), m.end()))

    # Lower-case and Greek letters named by a keyword: "line l", "lines l and m", "plane α".
    last_end = -10
    for m in _LOWER_TOKEN_RE.finditer(t):
        prev = _previous_word(t, m.start(1))
        glued = last_end >= 0 and _LIST_GLUE_RE.match(t[last_end : m.start(1)]) is not None
        if prev in _LOWER_NAME_KEYWORDS or glued:
            if re.match(r"\s*(?:=|≈)", t[m.end(1) :]):
                continue
            add(m.start(1), m.group(1))
            last_end = m.end(1)

    for word in _BIOMOLECULES:
        for m in re.finditer(rf"(?<![\w]){re.escape(word)}(?![\w])", t):
            if free(m.start(), m.end()):
                add(m.start(), word, (m.start(), m.end()))

    organisms = [m for m in re.finditer(r"[A-Za-z]+", t) if m.group(0).lower() in _ORGANISMS]
    # "fly", "bear", "mouse" are ordinary words too: trust the lexicon only in a biology
    # context or when several organisms are named together.
    if len({m.group(0).lower() for m in organisms}) >= 2 or _ECOLOGY_CONTEXT.search(t):
        for m in organisms:
            add(m.start(), m.group(0), key=m.group(0).lower().rstrip("s"))

    if _ASTRONOMY_CONTEXT.search(t):
        for m in re.finditer(r"\b(" + "|".join(_CELESTIAL) + r")\b", t):
            add(m.start(), m.group(1))

    if _GENETICS_CONTEXT.search(t):
        for m in _GENOTYPE_RE.finditer(t):
            if _is_genotype(m.group(1)) and free(m.start(), m.end()):
                add(m.start(), m.group(1))

    found.sort(key=lambda item: item[0])
    labels: list[str] = []
    seen: set[str] = set()
    for _, label, key in found:
        if key in seen:
            continue
        seen.add(key)
        labels.append(label)
    return labels
