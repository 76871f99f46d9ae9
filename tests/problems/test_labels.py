"""Which rows calibrate the offline classifier, and what each labelled row records.

The classifier here is a stand-in that records what the labelling step hands it; the real
classifier's calibrated labels are tested in tests/engines/test_engines.py."""

from __future__ import annotations

import pandas as pd

from scigen_dagster.engines.calibrated import LabelledSet
from scigen_dagster.engines.classifier import Prediction
from scigen_dagster.problems.labels import label_table, labelled_set


class RecordingClassifier:
    def __init__(self):
        self.calibrations = []

    def classify(self, texts, subject_hints, calibration):
        self.calibrations.append(calibration)
        return [Prediction("Physics - Circuit", 0.5, 0.1) for _ in texts]

    def version(self, calibration=None):
        return f"stand-in:{calibration.digest[:8]}" if calibration else "stand-in:zero-shot"


def _corpus(types):
    n = len(types)
    return pd.DataFrame({"problem_id": [f"p{i}" for i in range(n)], "question": [f"question {i}" for i in range(n)],
                         "image_type": types, "subject_hint": "",
                         "elements_json": ['["a battery", "two resistors"]'] + ["[]"] * (n - 1)})


def test_labelled_set_takes_the_rows_with_a_taxonomy_type_and_their_elements():
    corpus = _corpus(["Physics - Circuit", "", "Biology - Genetics"])
    data = labelled_set(corpus)
    assert isinstance(data, LabelledSet)
    assert data.texts == ("question 0", "question 2")
    assert data.labels == ("Physics - Circuit", "Biology - Genetics")
    assert data.elements == ("a battery. two resistors", "")
    assert labelled_set(_corpus(["", ""])) is None


def test_label_table_calibrates_only_when_a_labelled_source_is_there_and_records_the_method():
    corpus = _corpus(["Physics - Circuit", "Biology - Genetics", "", ""])
    keep = pd.DataFrame({"problem_id": corpus["problem_id"], "keep": [True, True, True, False]})
    clf = RecordingClassifier()
    out = label_table(corpus, keep, clf).set_index("problem_id")
    assert list(out.index) == ["p0", "p1", "p2"]  # the dropped row is not labelled
    assert out.loc["p0", "method"] == "source" and out.loc["p0", "label"] == "Physics - Circuit"
    assert out.loc["p2", "method"] == "classifier-calibrated"
    assert clf.calibrations[-1].labels == ("Physics - Circuit", "Biology - Genetics")
    assert out.loc["p2", "classifier_version"] == f"stand-in:{clf.calibrations[-1].digest[:8]}"
    zero = label_table(corpus.iloc[2:], keep, clf).set_index("problem_id")
    assert zero.loc["p2", "method"] == "classifier-zero-shot" and clf.calibrations[-1] is None
    assert zero.loc["p2", "classifier_version"] == "stand-in:zero-shot"
