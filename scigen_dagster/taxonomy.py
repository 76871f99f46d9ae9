"""The SciGenBench taxonomy: 5 subjects, 25 image types, and the partition keys.

Every image type belongs to exactly one subject, so the per-item assets are partitioned
by the 25 meaningful (subject, type) pairs instead of a 5 x 25 grid whose 100 empty cells
could never hold data. Keys are slugs (``physics.circuit``) that are safe in paths and
URLs; ``label_for_key`` / ``key_for_label`` map them back to the benchmark's exact labels
("Physics - Circuit").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNCLASSIFIABLE = "unclassifiable"

# Exact labels of the benchmark, "<Subject> - <Type>", in the study's order.
TAXONOMY: dict[str, tuple[str, ...]] = {
    "Math": ("Plane Geometric", "Solid Geometric", "Analytic Geometry", "Set & Probability"),
    "Physics": (
        "Mechanical",
        "Field Diagram",
        "Optical Ray",
        "Circuit",
        "Thermodynamic",
        "Waveform",
        "Astronomical",
    ),
    "Chemistry": (
        "Molecular Structure",
        "Crystal Structure",
        "Reaction Scheme",
        "Electron Config",
        "Orbital / Quantum",
        "Spectra",
    ),
    "Biology": ("Cell Diagram", "Genetics", "Ecological", "Molecular Process"),
    "Universal": ("Plot & Chart", "Graph & Flow", "Table / Grid", "Exp. Setup"),
}

SUBJECTS: tuple[str, ...] = tuple(TAXONOMY)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class ImageType:
    subject: str
    type_name: str

    @property
    def label(self) -> str:
        return f"{self.subject} - {self.type_name}"

    @property
    def key(self) -> str:
        return f"{_slug(self.subject)}.{_slug(self.type_name)}"


IMAGE_TYPES: tuple[ImageType, ...] = tuple(
    ImageType(subject, type_name) for subject, types in TAXONOMY.items() for type_name in types
)
LABELS: tuple[str, ...] = tuple(t.label for t in IMAGE_TYPES)
PARTITION_KEYS: tuple[str, ...] = tuple(t.key for t in IMAGE_TYPES)

_BY_KEY = {t.key: t for t in IMAGE_TYPES}
_BY_LABEL = {t.label: t for t in IMAGE_TYPES}
# Tolerant lookup for labels that arrive with odd spacing or case ("physics -circuit").
_BY_NORMALISED = {re.sub(r"\s+", " ", t.label.lower()).replace(" - ", "-"): t for t in IMAGE_TYPES}

assert len(IMAGE_TYPES) == 25 and len(_BY_KEY) == 25, "taxonomy must have 25 distinct types"

def image_type_for_key(key: str) -> ImageType:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(
            f"unknown partition key {key!r}; valid keys are: {', '.join(PARTITION_KEYS)}"
        ) from None


def label_for_key(key: str) -> str:
    return image_type_for_key(key).label


def subject_type_for_key(key: str) -> tuple[str, str]:
    t = image_type_for_key(key)
    return t.subject, t.type_name


def normalise_label(label: str | None) -> str | None:
    """The exact benchmark label for ``label``, or None when it names no known type."""
    if not label:
        return None
    if label in _BY_LABEL:
        return label
    norm = re.sub(r"\s+", " ", str(label).strip().lower()).replace(" - ", "-")
    norm = re.sub(r"\s*-\s*", "-", norm, count=1)
    t = _BY_NORMALISED.get(norm)
    return t.label if t else None


def key_for_label(label: str) -> str:
    exact = normalise_label(label)
    if exact is None:
        raise KeyError(f"unknown image type label {label!r}; expected one of: {', '.join(LABELS)}")
    return _BY_LABEL[exact].key
