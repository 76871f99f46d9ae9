"""The OCR proxies read the PNG, not what the script says it drew, and never fill the
rubric columns."""

import io
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from scigen_dagster.engines.ocr import OcrEngine, OcrToken  # noqa: E402
from scigen_dagster.evaluation import judge, proxies  # noqa: E402

QUESTION = "A block of mass 2.0 kg rests on a ramp inclined at 30° (Fig. 3). Find the normal force."


def _png(draw) -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


@pytest.fixture(scope="module")
def engine():
    try:
        return OcrEngine(threads=1)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def test_stated_numbers_skip_figure_numbers_and_fold_forms():
    assert proxies.stated_numbers(QUESTION) == ["2", "30"]
    assert proxies.stated_numbers("As shown in Fig. 2.50, $v_0 = 16$ ft/sec") == ["16"]
    assert proxies.stated_numbers("Find the area of the shaded region.") == []


def test_given_values_are_read_from_the_pixels(engine):
    both = _png(lambda ax: (ax.text(1, 6, "m = 2 kg", fontsize=16), ax.text(5, 2, "30°", fontsize=16)))
    one = _png(lambda ax: ax.text(1, 6, "m = 2 kg", fontsize=16))
    assert proxies.given_values_shown(QUESTION, engine.read(both)) == (1.0, [])
    assert proxies.given_values_shown(QUESTION, engine.read(one)) == (0.5, ["30"])
    blank = _png(lambda ax: None)
    assert proxies.given_values_shown(QUESTION, engine.read(blank)) == (0.0, ["2", "30"])
    assert proxies.given_values_shown("Name the organelle.", engine.read(both))[0] is None


def test_a_stroke_through_a_label_is_counted_and_a_clear_label_is_not(engine):
    def label(ax, y_line):
        ax.text(3, 5, "tension", fontsize=16, va="center")
        ax.plot([0, 10], [y_line, y_line], color="black", linewidth=1.5)

    crossed = _png(lambda ax: label(ax, 5.1))
    clear = _png(lambda ax: label(ax, 1.0))
    assert proxies.labels_crossed_by_lines(crossed, engine.read(crossed)) == 1
    assert proxies.labels_crossed_by_lines(clear, engine.read(clear)) == 0


def test_overlapping_text_boxes():
    box = lambda x, y, w, h: OcrToken("t", 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))  # noqa: E731
    assert proxies.text_overlaps([box(0, 0, 40, 10), box(20, 2, 40, 10), box(200, 200, 10, 10)]) == 1
    assert proxies.text_overlaps([box(0, 0, 40, 10), box(0, 12, 40, 10)]) == 0


def test_offline_the_rubric_is_not_measured_and_the_proxies_are_their_own_columns(engine):
    png = _png(lambda ax: ax.text(1, 6, "m = 2 kg   30°", fontsize=16))
    image = pd.Series({"status": "ok"})
    row = judge.offline_judge_row(QUESTION, image, png, engine.read(png))
    assert all(row[d] is None for d in judge.JUDGE_DIMENSIONS), "a proxy never stands in for a rubric score"
    assert row["not_measured"] == ",".join(judge.JUDGE_DIMENSIONS) and "no rubric judge" in row["not_measured_reason"]
    assert row["given_values_shown"] == 1.0 and json.loads(row["given_values_missing"]) == []
    frame = judge.judge_frame([{"problem_id": "p", "model": "m", "judge": judge.OFFLINE_JUDGE,
                                "judge_temperature": None, "prompt": "", **row}])
    assert list(frame.columns) == judge.JUDGE_COLUMNS and frame[list(judge.JUDGE_DIMENSIONS)].isna().all().all()
    missing = judge.offline_judge_row(QUESTION, judge.MISSING_IMAGE, None, None)
    assert missing["judge_status"] == "no_image" and missing["given_values_shown"] is None
