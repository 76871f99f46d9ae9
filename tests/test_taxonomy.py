import re

import pytest

from scigen_dagster import taxonomy
from scigen_dagster.assets.partitions import image_type_partitions


def test_25_types_over_5_subjects_with_exact_labels():
    assert len(taxonomy.IMAGE_TYPES) == 25
    assert taxonomy.SUBJECTS == ("Math", "Physics", "Chemistry", "Biology", "Universal")
    assert "Chemistry - Orbital / Quantum" in taxonomy.LABELS
    assert "Universal - Exp. Setup" in taxonomy.LABELS
    assert "Math - Set & Probability" in taxonomy.LABELS


def test_partition_keys_are_path_and_url_safe_and_unique():
    keys = image_type_partitions.get_partition_keys()
    assert list(keys) == list(taxonomy.PARTITION_KEYS)
    assert len(keys) == len(set(keys)) == 25
    for key in keys:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*", key), key


@pytest.mark.parametrize("image_type", taxonomy.IMAGE_TYPES, ids=lambda t: t.key)
def test_round_trip_key_subject_type_label(image_type):
    key = taxonomy.key_for_label(image_type.label)
    assert taxonomy.subject_type_for_key(key) == (image_type.subject, image_type.type_name)
    assert taxonomy.label_for_key(key) == image_type.label
    assert key.split(".")[0] == image_type.subject.lower()


def test_tolerant_label_normalisation_and_clear_errors():
    assert taxonomy.normalise_label("physics -circuit") == "Physics - Circuit"
    assert taxonomy.normalise_label("CHEMISTRY  -  Orbital / Quantum") == "Chemistry - Orbital / Quantum"
    assert taxonomy.normalise_label("Physics - Quantum Gravity") is None
    with pytest.raises(KeyError, match="physics.circuit"):
        taxonomy.label_for_key("physics.circuits")
