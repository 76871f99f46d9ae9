"""What a partition's figure metadata shows a person: a 12-figure grid at 256 px, each
figure's image type, the first words of its question and a link that opens its PNG."""

import base64
import io
import re
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pandas as pd
from PIL import Image

from scigen_dagster import taxonomy
from scigen_dagster.assets.metadata import figure_link, figures_md, first_words, link_note, thumbnails_md
from scigen_dagster.resources.storage import StorageResource

LABEL = taxonomy.label_for_key("physics.circuit")
QUESTION = "A 12 V battery drives two resistors of 4 ohm and 8 ohm in series; what current flows in the loop?"


def _figures(storage, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (300, 300, 3), dtype=np.uint8)).save(buf, "PNG")
        sha, rel = storage.put_png(buf.getvalue())
        ok = i != 3
        rows.append({"problem_id": f"circ-{i}", "status": "ok" if ok else "failed", "image_path": rel if ok else "",
                     "image_sha256": sha if ok else ""})
    frame = pd.DataFrame(rows)
    items = pd.DataFrame({"problem_id": frame["problem_id"], "image_type": LABEL, "question": QUESTION})
    return frame, items.set_index("problem_id")


def test_the_grid_holds_twelve_figures_at_256_px(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    frame, _ = _figures(storage, 14)
    md = thumbnails_md(storage, frame).value
    grid = Image.open(io.BytesIO(base64.b64decode(md.split("base64,")[1].rstrip(")"))))
    assert grid.width >= 4 * 256, f"four columns of ~256 px, got {grid.width} px"
    assert grid.height >= 3 * 256, f"three rows: 12 figures, got {grid.height} px"


def test_figure_links_open_the_png_of_a_local_store_and_say_what_the_store_allows(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    frame, items = _figures(storage, 14)
    md = figures_md(storage, frame, items).value
    links = re.findall(r"\[open\]\((file://[^)]+)\)", md)
    assert len(links) == 11, "the grid's twelve figures, less the failed one"
    with urlopen(links[0]) as fh:  # the link opens the very PNG
        assert fh.read() == (tmp_path / frame.loc[0, "image_path"]).read_bytes()
    assert "none (failed)" in md and LABEL in md and first_words(QUESTION) in md
    assert first_words(QUESTION).startswith("A 12 V battery") and first_words(QUESTION).endswith("…")
    assert "file://" in link_note(storage) and "address bar" in link_note(storage)


def test_stores_without_a_browser_url_say_so():
    s3 = StorageResource(root="s3://bucket/scigen")
    assert figure_link(s3, "images/ab/x.png") == "https://s3.console.aws.amazon.com/s3/object/bucket?prefix=scigen/images/ab/x.png"
    assert figure_link(StorageResource(root="gs://b/r"), "x.png") == "https://storage.cloud.google.com/b/r/x.png"
    memory = StorageResource(root="memory://scigen")
    assert figure_link(memory, "images/ab/x.png") is None
    assert "no browser URL" in link_note(memory)
    assert Path(StorageResource(root="/tmp/x").path("a.png")).as_uri() == figure_link(StorageResource(root="/tmp/x"), "a.png")
