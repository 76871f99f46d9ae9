"""Offline OCR of generated figures and an OCR-grounded multiple-choice answerer.

:class:`OcrEngine` wraps RapidOCR (detector + text-direction classifier + recogniser, the
ONNX models shipped inside the ``rapidocr`` wheel, run on CPU with onnxruntime). Nothing is
downloaded: the three model files are passed by explicit path and must exist.

:class:`OcrAnswerer` answers an inverse-validation quiz from the image alone: it picks the
option whose *distinctive* tokens are best supported by the text read from the figure, and
abstains (``letter=None``) when nothing supports any option or the best two tie.

Normalisation makes "2.0 kg", "2 kg", "2kg" and "2 kilograms" the same tokens, maps Greek
letters to their names (θ, \\theta, "theta" all become ``theta``), ° / "degrees" to ``deg``,
folds case and unicode compatibility forms (NFKC: superscripts, full-width, micro sign).
Word tokens of four or more letters match fuzzily (OCR slips, plurals), numbers only
exactly (as values: "2.50" == "2.5"). The question text is never evidence: only OCR text
is searched, and option tokens that merely repeat the question count half. Scoring is
symmetric in the options (tokens shared by every option carry no weight, an image word only
credits the option token(s) it matches best), so relabelling the letters cannot change the
chosen option text, and exact ties abstain instead of falling back on a letter.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

__all__ = [
    "Answer",
    "OcrAnswerer",
    "OcrEngine",
    "OcrToken",
    "normalize_tokens",
    "rapidocr_model_paths",
]

Point = tuple[float, float]


@dataclass(frozen=True)
class OcrToken:
    """One recognised text line: its text, recognition confidence in [0, 1] and its
    quadrilateral as 4 (x, y) pixel points (clockwise from top-left of the text)."""

    text: str
    score: float
    box: tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class Answer:
    """``letter`` None means abstain. ``confidence`` = best minus second-best option score
    (0 when abstaining); ``evidence`` says which image text supported the choice."""

    letter: str | None
    confidence: float
    evidence: str


# --------------------------------------------------------------------------- OCR engine

_MODEL_FILES = {
    "det": "PP-OCRv6_det_small.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "rec": "PP-OCRv6_rec_small.onnx",
}


def rapidocr_model_paths(model_dir: str | Path | None = None) -> dict[str, Path]:
    """Paths of the detector, direction classifier and recogniser shipped with rapidocr."""
    if model_dir is None:
        model_dir = str(resources.files("rapidocr") / "models")
    root = Path(model_dir)
    paths = {k: root / v for k, v in _MODEL_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "RapidOCR models not found (this build never downloads them): " + ", ".join(missing)
        )
    return paths


_ENGINE_CACHE: dict[tuple, object] = {}
_ENGINE_CACHE_LOCK = threading.Lock()


def _new_rapidocr(model_dir: str | None, use_cls: bool, text_score: float, threads: int | None):
    from rapidocr import RapidOCR

    paths = rapidocr_model_paths(model_dir)
    params = {
        # RapidOCR sets its logger to this level at every construction; "no text found" is an
        # answer here (a figure without text), not a warning worth a line per figure.
        "Global.log_level": "error",
        "Global.use_cls": bool(use_cls),
        "Global.text_score": float(text_score),
        "Det.model_path": str(paths["det"]),
        "Cls.model_path": str(paths["cls"]),
        "Rec.model_path": str(paths["rec"]),
    }
    if threads:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    return RapidOCR(params=params), threading.Lock()


def _rapidocr(model_dir: str | None, use_cls: bool, text_score: float, threads: int | None):
    key = (model_dir, use_cls, text_score, threads)
    with _ENGINE_CACHE_LOCK:
        engine = _ENGINE_CACHE.get(key)
        if engine is None:
            engine = _ENGINE_CACHE[key] = _new_rapidocr(*key)
    return engine


class OcrEngine:
    """CPU RapidOCR with the text-direction classifier on (rotated / upside-down labels).

    Vertical text (e.g. a y-axis label) is cut out along its detected quadrilateral and
    turned upright by RapidOCR before recognition; the 0/180 classifier then fixes text
    that came out upside down. The underlying sessions are created once per process per
    configuration and calls are serialised per engine (onnxruntime parallelises inside);
    a ``private`` engine has sessions of its own, so engines of different threads read
    in parallel (loading one takes milliseconds once the models are read).
    """

    def __init__(
        self,
        *,
        text_score: float = 0.5,
        use_cls: bool = True,
        model_dir: str | Path | None = None,
        threads: int | None = None,
        min_side: int = 256,
        private: bool = False,
    ) -> None:
        self.text_score = float(text_score)
        self.use_cls = bool(use_cls)
        self.model_dir = str(model_dir) if model_dir is not None else None
        self.threads = threads
        self.min_side = int(min_side)
        self.private = private
        self._own = None
        rapidocr_model_paths(self.model_dir)  # fail fast, never download

    def _engine(self):
        if self.private:
            if self._own is None:
                self._own = _new_rapidocr(self.model_dir, self.use_cls, self.text_score, self.threads)
            return self._own
        return _rapidocr(self.model_dir, self.use_cls, self.text_score, self.threads)

    def read(self, png_bytes: bytes) -> list[OcrToken]:
        """OCR a PNG (or any PIL-readable image) given as bytes; tokens in reading order."""
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(png_bytes)) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "P"):
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, rgba)
            rgb = im.convert("RGB")
        scale = 1.0
        if min(rgb.size) < self.min_side:  # tiny thumbnails: upscale so glyphs are detectable
            scale = self.min_side / max(1, min(rgb.size))
            rgb = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.BICUBIC)
        arr = np.asarray(rgb)[:, :, ::-1].copy()  # RapidOCR expects BGR like cv2.imread
        ocr, lock = self._engine()
        with lock:
            result = ocr(arr)
        txts = getattr(result, "txts", None) or ()
        scores = getattr(result, "scores", None) or ()
        boxes = getattr(result, "boxes", None)
        tokens: list[OcrToken] = []
        for i, text in enumerate(txts):
            text = (text or "").strip()
            if not text:
                continue
            quad = boxes[i] if boxes is not None else [[0, 0]] * 4
            pts = tuple((float(x) / scale, float(y) / scale) for x, y in quad)
            tokens.append(OcrToken(text, float(scores[i]), pts))  # type: ignore[arg-type]
        tokens.sort(key=lambda t: (round(min(p[1] for p in t.box) / 8), min(p[0] for p in t.box)))
        return tokens


# --------------------------------------------------------------------------- normalisation

_GREEK_NAMES = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
    "nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega"
).split()
_LATEX_GREEK = {name: name.removeprefix("var") for name in _GREEK_NAMES}
_LATEX_GREEK.update({n.capitalize(): n for n in _GREEK_NAMES if not n.startswith("var")})

_UNIT_WORDS = {
    "degree": "deg", "degrees": "deg", "deg": "deg", "degs": "deg",
    "kilogram": "kg", "kilograms": "kg", "kgs": "kg",
    "gram": "g", "grams": "g",
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "millimeter": "mm", "millimeters": "mm",
    "kilometer": "km", "kilometers": "km",
    "seconds": "s", "sec": "s", "secs": "s",
    "newton": "n", "newtons": "n",
    "joule": "j", "joules": "j",
    "watt": "w", "watts": "w",
    "volt": "v", "volts": "v",
    "ampere": "a", "amperes": "a", "amp": "a", "amps": "a",
    "ohm": "omega", "ohms": "omega",
    "kelvin": "k", "celsius": "c",
    "hertz": "hz", "liter": "l", "liters": "l", "litre": "l", "litres": "l",
    "percent": "%", "pct": "%",
}

_STOPWORDS = frozenset(
    """a an the and or of to in on at by for with from into onto over under as is are was were be
    been being it its this that these those which what who whom whose how why when where than then
    there their they them he she his her we our you your i me my not no yes do does did has have
    had will would can could should may might must shall each per via both either neither all any
    some such very more most less least only also just same other another above below between
    figure image shown diagram picture depicted labeled labelled""".split()
)

_LATEX_TEXT_CMD = re.compile(
    r"\\(?:text|mathrm|mathbf|mathit|operatorname|textrm|rm|mbox|boldsymbol|vec)\s*\{([^{}]*)\}"
)
_LATEX_DEG = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree")
_LATEX_SUB = re.compile(r"([^\W\d_])_\{?([^\W_]+)\}?")  # m_{1}, l_0 -> m1, l0
_LATEX_CMD = re.compile(r"\\([A-Za-z]+)")
# numbers (with thousands separators / decimals / sign), identifiers (letter first, may
# carry digits: m1, v0, h2o), or a percent sign
_TOKEN = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|-?\d*\.\d+|-?\d+|[^\W\d_][^\W_]*|%"
)
_MINUS_OK = re.compile(r"(?:^|[\s(=\[{:;,])$")

# unit symbols recognised right after a number (after _UNIT_WORDS mapping)
_UNITS = frozenset(
    """kg g mg m cm mm km nm mu s ms min h hr n kn j kj ev kev mev w kw mw v mv kv a ma omega
    hz khz mhz deg rad c k l ml pa kpa mpa atm bar mol mm t f uf nf pf h mh dm %""".split()
)
# words that introduce a figure / table number (their numbers are not evidence)
_CAPTION_WORDS = frozenset("fig figs figure figures table tab tabs eq eqn equation".split())


def _greek_to_name(ch: str) -> str | None:
    if not ("\u0370" <= ch <= "\u03ff" or "\u1f00" <= ch <= "\u1fff"):
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    if "GREEK" not in name:
        return None
    word = name.split()[-1].lower()
    if word == "symbol":  # e.g. GREEK THETA SYMBOL
        word = name.split()[-2].lower()
    word = {"lamda": "lambda"}.get(word, word)
    return _LATEX_GREEK.get(word, word)


def _canonical_number(tok: str) -> str:
    raw = tok.replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return tok
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("$", " ")
    text = _LATEX_TEXT_CMD.sub(r" \1 ", text)
    text = _LATEX_DEG.sub(" deg ", text)
    text = _LATEX_CMD.sub(
        lambda m: f" {_LATEX_GREEK.get(m.group(1), m.group(1) if len(m.group(1)) > 1 else '')}"
        + ("" if m.group(1) in _LATEX_GREEK else " "),
        text,
    )
    text = _LATEX_SUB.sub(r"\1\2", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in "°º˚":
            out.append(" deg ")
        elif ch in "−–—‐‑":
            out.append("-")
        elif ch in "×·•∙⋅":
            out.append(" ")
        else:
            name = _greek_to_name(ch)
            if name:
                # keep a digit subscript attached (λ0 -> lambda0), else a separate word
                nxt = text[i + 1] if i + 1 < len(text) else ""
                out.append(f" {name}" + ("" if nxt.isdigit() or nxt == "_" else " "))
            else:
                out.append(ch)
    return _LATEX_SUB.sub(r"\1\2", "".join(out)).casefold()


def normalize_tokens(text: str) -> list[str]:
    """Canonical tokens of a text: lowercase words (unit words mapped to symbols, Greek to
    names), identifiers kept whole ("m1", "v_0" -> "v0"), numbers as canonical values
    ("2.0" -> "2", "1,000" -> "1000", "-3.50" -> "-3.5"). A leading minus is kept only
    where it reads as a sign ("x = -3", not "3-4")."""
    prepared = _prepare(text)
    tokens: list[str] = []
    for m in _TOKEN.finditer(prepared):
        tok = m.group(0)
        if tok[0] == "-" and not _MINUS_OK.search(prepared[: m.start()]):
            tok = tok[1:]
        if tok[0].isdigit() or (tok[0] in "-." and len(tok) > 1):
            tokens.append(_canonical_number(tok))
        else:
            tokens.append(_UNIT_WORDS.get(tok, tok))
    return tokens


def _is_number(tok: str) -> bool:
    return bool(tok) and (tok[0].isdigit() or (tok[0] == "-" and tok[1:2].isdigit()))


def _is_caption_word(tok: str) -> bool:
    return tok in _CAPTION_WORDS or tok.endswith(("图", "题")) or tok.startswith("图")


def _qualify(tokens: Sequence[str], drop_captions: bool = False) -> list[str]:
    """Attach the following unit to each number ("2", "kg" -> "2|kg", "kg"); a number with
    no unit after it becomes "2|". With ``drop_captions`` numbers after "Fig." / "图" /
    "习题" are dropped (figure numbering is not evidence)."""
    out: list[str] = []
    caption = False
    for i, tok in enumerate(tokens):
        if _is_number(tok):
            if caption and drop_captions:
                continue
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if drop_captions and _is_caption_word(nxt):
                continue  # "1-31图"
            out.append(f"{tok}|{nxt if nxt in _UNITS else ''}")
        else:
            caption = _is_caption_word(tok)
            out.append(tok)
    return out


def _is_weak(tok: str) -> bool:
    """Short symbols OCR finds unreliably and figures repeat everywhere."""
    if "|" in tok:
        value, unit = tok.split("|", 1)
        return not unit and len(value.lstrip("-").replace(".", "")) <= 1
    if tok[-1:].isdigit():  # indexed labels: m1, v0, P2 (but "h2o2" is strong)
        return len(tok) <= 3
    return len(tok) <= 2


def _is_short_number(tok: str) -> bool:
    return "|" in tok and len(tok.split("|", 1)[0].lstrip("-").replace(".", "")) <= 1


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def _similarity(image_tok: str, option_tok: str) -> float:
    """How well one image token supports one option token, in [0, 1]."""
    if image_tok == option_tok:
        return 1.0
    img_num, opt_num = "|" in image_tok, "|" in option_tok
    if img_num or opt_num:
        if not (img_num and opt_num):
            return 0.0
        iv, iu = image_tok.split("|", 1)
        ov, ou = option_tok.split("|", 1)
        if iv != ov:
            return 0.0  # numbers match only as equal values
        if not ou:
            return 1.0 if not iu else 0.85  # option gives no unit
        return 0.7 if not iu else 0.0  # unit missing in the image / contradicting unit
    if min(len(image_tok), len(option_tok)) < 3:
        return 0.0  # variable names, unit symbols: exact only
    if image_tok[-1].isdigit() or option_tok[-1].isdigit():
        return 0.0  # indexed labels (m1, v0, t12): exact only
    if _stem(image_tok) == _stem(option_tok):
        return 0.95
    if len(option_tok) < 4 or len(image_tok) < 4:
        return 0.0
    best = 0.0
    ratio = difflib.SequenceMatcher(None, image_tok, option_tok, autojunk=False).ratio()
    if ratio >= 0.8:  # OCR slips ("agranuiar"), spelling variants
        best = 0.9 * ratio
    if image_tok.startswith(option_tok) or image_tok.endswith(option_tok):
        best = max(best, 0.75)  # glued words ("tensionforce")
    return best


# --------------------------------------------------------------------------- answerer


class OcrAnswerer:
    """Answer a multiple-choice quiz from OCR tokens of the figure alone.

    score(option) = 0.85 * weighted coverage of its distinctive tokens by image tokens
                    + 0.15 * share of its adjacent token pairs found adjacent in the image.
    Token weights: numbers 1.5, words 1, one/two-letter words 0.5; times (n - df) / (n - 1)
    where df counts options containing the token (so shared tokens weigh 0); halved when
    the token also occurs in the question. Abstain below ``min_score``, when the best two
    options are within ``tie_margin``, or (``require_strong``) when the winner is supported
    only by short symbols (one/two-letter words, single digits, short indexed labels such
    as "m1"): OCR misses isolated symbols too often for their absence to exclude the rest.
    """

    def __init__(
        self,
        *,
        min_score: float = 0.3,
        tie_margin: float = 0.05,
        pair_weight: float = 0.15,
        require_strong: bool = True,
        sure_ocr_score: float = 0.9,
    ) -> None:
        self.min_score = float(min_score)
        self.tie_margin = float(tie_margin)
        self.pair_weight = float(pair_weight)
        self.require_strong = bool(require_strong)
        self.sure_ocr_score = float(sure_ocr_score)

    def answer(
        self, tokens: Sequence[OcrToken], question: str, options: Mapping[str, str]
    ) -> Answer:
        """Pick the option best supported by ``tokens`` (OCR of the image); the question
        only lowers the weight of option words it already contains."""
        if not options:
            return Answer(None, 0.0, "no options")
        # Image side: token stream (line breaks separate pairs) with OCR confidences.
        stream: list[tuple[str, float, int]] = []  # (token, confidence, line index)
        for li, tok in enumerate(tokens):
            # Confidence only discounts doubtful reads: any read above ``sure_ocr_score``
            # counts fully, so two options both clearly printed tie instead of being
            # separated by recogniser jitter (0.93 vs 0.99).
            conf = max(0.0, min(1.0, float(tok.score) / self.sure_ocr_score))
            for t in _qualify(normalize_tokens(tok.text), drop_captions=True):
                stream.append((t, conf, li))
        if not stream:
            return Answer(None, 0.0, "no text found in the image")

        opt_tokens = {k: _qualify(normalize_tokens(v)) for k, v in options.items()}
        q_tokens = set(_qualify(normalize_tokens(question or "")))
        q_tokens |= {t.split("|", 1)[0] + "|" for t in q_tokens if "|" in t}
        n = len(options)
        df: dict[str, int] = {}
        for toks in opt_tokens.values():
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        vocab = sorted(t for t in df if t not in _STOPWORDS)

        # Each image token credits only the option token(s) it matches best.
        support: dict[str, float] = {}
        exact: set[str] = set()  # option tokens matched exactly (numbers: same unit too)
        source: dict[str, str] = {}
        for t_img, conf, li in stream:
            sims = [(_similarity(t_img, t), t) for t in vocab]
            best = max((s for s, _ in sims), default=0.0)
            if best <= 0.0:
                continue
            for s, t in sims:
                if s >= best - 1e-9:
                    if s >= 1.0:
                        exact.add(t)
                    if s * conf > support.get(t, 0.0):
                        support[t] = s * conf
                        source[t] = tokens[li].text

        plain = [(t.split("|", 1)[0], li) for t, _, li in stream]
        adjacent = {(a[0], b[0]) for a, b in zip(plain, plain[1:]) if a[1] == b[1]}

        def weight(t: str) -> float:
            if t in _STOPWORDS:
                return 0.0
            base = 1.5 if "|" in t else (0.5 if len(t) <= 2 else 1.0)
            discr = 1.0 if n == 1 else (n - df[t]) / (n - 1)
            in_question = t in q_tokens or ("|" in t and t.split("|", 1)[0] + "|" in q_tokens)
            return base * discr * (0.5 if in_question else 1.0)

        scored: dict[str, tuple[float, list[str]]] = {}
        strong: dict[str, float] = {}
        for letter, toks in opt_tokens.items():
            uniq = list(dict.fromkeys(toks))
            wsum = sum(weight(t) for t in uniq)
            if wsum <= 0.0:
                scored[letter] = (0.0, [])
                continue
            coverage = sum(weight(t) * support.get(t, 0.0) for t in uniq) / wsum
            content = [t.split("|", 1)[0] for t in toks if t not in _STOPWORDS]
            pairs = list(zip(content, content[1:]))
            pair_hits = 0.0
            for a, b in pairs:
                if (a, b) in adjacent or any(
                    _similarity(x, a) >= 0.9 and _similarity(y, b) >= 0.9 for x, y in adjacent
                ):
                    pair_hits += 1.0
            score = coverage
            if pairs and coverage > 0.0:
                pair_share = pair_hits / len(pairs)
                score = (1.0 - self.pair_weight) * coverage + self.pair_weight * pair_share
            strong[letter] = sum(
                weight(t) * support.get(t, 0.0)
                for t in uniq
                if not _is_weak(t) and (t in exact or not _is_short_number(t))
            )
            hits = [
                f"{t.rstrip('|').replace('|', ' ')}<-{source[t]!r}"
                for t in uniq
                if support.get(t, 0.0) > 0 and weight(t) > 0
            ]
            scored[letter] = (score, hits)

        ranked = sorted(scored.items(), key=lambda kv: -kv[1][0])
        best_letter, (best, hits) = ranked[0]
        second = ranked[1][1][0] if len(ranked) > 1 else 0.0
        if best < self.min_score:
            return Answer(None, 0.0, f"no option supported (best score {best:.2f})")
        if best - second < self.tie_margin:
            tied = sorted(options[k] for k, (s, _) in scored.items() if best - s < self.tie_margin)
            return Answer(None, 0.0, f"tie between {tied} (score {best:.2f})")
        if self.require_strong and strong[best_letter] <= 0.0:
            # Only isolated short symbols (a, B, m1, 0) matched: OCR misses such labels too
            # often for their absence to rule out the other options.
            return Answer(None, 0.0, f"only short symbols support {options[best_letter]!r}")
        return Answer(
            best_letter,
            round(min(1.0, best - second), 4),
            f"{options[best_letter]!r} score {best:.2f} vs {second:.2f}; " + "; ".join(hits[:6]),
        )


# ---------------------------------------------------------------- the cached reader ---

_ocr_local = threading.local()


def thread_ocr_engine() -> OcrEngine:
    """An OCR engine per thread, with sessions of its own (an engine serialises its
    calls), so the threads of a pool read figures in parallel; it goes with its thread."""
    engine = getattr(_ocr_local, "engine", None)
    if engine is None:
        engine = _ocr_local.engine = OcrEngine(threads=1, private=True)
    return engine


OCR_VERSION = "rapidocr-v1"


class OcrReader:
    """OCR of stored figures with a content-addressed cache in the store (a figure is
    read once, whichever step or run asks first), and the OCR answerer of quizzes."""

    def __init__(self, workers: int = 2):
        self.workers = workers

    @staticmethod
    def cache_rel(image_sha: str) -> str:
        return f"cache/ocr/{OCR_VERSION}/{image_sha[:2]}/{image_sha}.json"

    def tokens(self, storage, image_sha: str, image_rel: str) -> list[OcrToken]:
        cache = self.cache_rel(image_sha)
        if storage.exists(cache):
            return [OcrToken(t["text"], t["score"], tuple(map(tuple, t["box"]))) for t in storage.read_json(cache)]
        tokens = thread_ocr_engine().read(storage.read_bytes(image_rel))
        storage.write_json(cache, [asdict(t) for t in tokens])
        return tokens

    def prefetch(self, storage, images: list[tuple[str, str]]) -> int:
        """OCR every (sha, path) not yet cached, ``workers`` at a time; returns how many."""
        todo = sorted({(sha, rel) for sha, rel in images if not storage.exists(self.cache_rel(sha))})
        if todo:
            with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
                list(pool.map(lambda pair: self.tokens(storage, *pair), todo))
        return len(todo)

    def answer(self, tokens: list[OcrToken], question: str, options: dict[str, str]) -> tuple[str | None, str]:
        result = OcrAnswerer().answer(tokens, question, options)
        return result.letter, result.evidence

    @staticmethod
    def texts(tokens: list[OcrToken]) -> list[str]:
        return [t.text for t in tokens]

    def describe(self) -> str:
        return json.dumps({"answerer": "offline:ocr-match", "ocr": OCR_VERSION})
