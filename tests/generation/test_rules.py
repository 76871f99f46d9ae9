"""The offline ImgCoder planner: plans, code that renders, labels, no answer leaks."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.text as mtext  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from scigen_dagster.generation.plan import PLAN_SECTIONS, FigurePlan, parse_plan_text  # noqa: E402
from scigen_dagster.generation.rules import PLANNER_VERSION, Declined, plan_figure  # noqa: E402
from scigen_dagster.generation.rules.context import Ctx  # noqa: E402
from scigen_dagster.generation.rules.layout import Canvas, line  # noqa: E402
from scigen_dagster.problems.quantities import extract_labels, extract_quantities  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "scigen_dagster" / "data" / "sample_corpus.jsonl"

# One synthetic problem per image type (question, answer); several use template variants
# that the sample corpus does not reach.
SYNTHETIC: dict[str, tuple[str, str]] = {
    "Math - Plane Geometric": ("In triangle ABC, AB = 5 cm, BC = 7 cm and ∠B = 60°. Find the length of AC.", "AC = 6.24 cm"),
    "Math - Solid Geometric": ("A cylinder has radius r = 3 cm and height h = 10 cm. Find its volume.", "V = 282.7 cm³"),
    "Math - Analytic Geometry": ("The line y = 2x + 1 meets the x-axis at point P. Point A(3, 7) lies on it. Find P.",
                                 "P(-0.5, 0)"),
    "Math - Set & Probability": ("Events A and B have P(A) = 0.5, P(B) = 0.4 and P(A ∩ B) = 0.2. Draw a Venn diagram "
                                 "and find P(A ∪ B).", "P(A ∪ B) = 0.7"),
    "Physics - Mechanical": ("A block of mass m = 0.50 kg on a frictionless table is attached to a spring of "
                             "constant k = 200 N/m and pulled x = 0.10 m from equilibrium. Find the period.",
                             "T = 0.314 s"),
    "Physics - Field Diagram": ("Two parallel plates separated by d = 5.0 mm have a potential difference "
                                "V = 250 V. Find the field between the plates.", "E = 5.0 × 10^4 V/m"),
    "Physics - Optical Ray": ("An object of height h = 3.0 cm is placed u = 20 cm from a diverging lens of focal "
                              "length f = 15 cm. Find the image distance.", "v = 8.57 cm in front of the lens"),
    "Physics - Circuit": ("A battery of emf ε = 6.0 V is connected in series with R1 = 10 Ω, R2 = 20 Ω and a "
                          "switch S. Find the current when S is closed.", "I = 0.20 A"),
    "Physics - Thermodynamic": ("A heating curve of water: ice at T = -10 °C is heated through melting at 0 °C and "
                                "boiling at 100 °C. Which stage absorbs the most energy?", "Boiling (vaporisation)"),
    "Physics - Waveform": ("A guitar string of length L = 0.65 m vibrates in its second harmonic. Sketch the "
                           "standing wave with its nodes and find the wavelength.", "λ = 0.65 m"),
    "Physics - Astronomical": ("A comet moves on an elliptical orbit around the Sun with semi-major axis "
                               "a = 17.8 AU. Find its period.", "T ≈ 75 years"),
    "Chemistry - Molecular Structure": ("Ammonia NH3 has N–H bond length d = 101 pm and H–N–H angle α = 107°. "
                                        "Draw the molecule and state its shape.", "Trigonal pyramidal"),
    "Chemistry - Crystal Structure": ("A two-dimensional square lattice of atoms has spacing a = 250 pm. "
                                      "Find the number of atoms per square nanometre.", "16 atoms per nm²"),
    "Chemistry - Reaction Scheme": ("Calcium carbonate CaCO3 decomposes on heating at T = 900 °C to form CaO and "
                                    "CO2. Find the mass of CaO from m = 50 g of CaCO3.", "28 g of CaO"),
    "Chemistry - Electron Config": ("Draw the orbital-box diagram of a sodium atom (Z = 11) and count its "
                                    "unpaired electrons.", "1s2 2s2 2p6 3s1; one unpaired electron"),
    "Chemistry - Orbital / Quantum": ("Sketch the shape of a 2p orbital and state how many nodal planes it has.",
                                      "One nodal plane"),
    "Chemistry - Spectra": ("A mass spectrum shows the molecular ion at m/z = 58 and a base peak at m/z = 43. "
                            "Identify the fragment lost.", "CH3 (mass 15)"),
    "Biology - Cell Diagram": ("Draw an animal cell with its nucleus and plasma membrane. Which organelle "
                               "releases energy by aerobic respiration?", "Mitochondrion"),
    "Biology - Genetics": ("Purple flowers (P) are dominant to white (p). A cross Pp × pp is made. Draw the "
                           "Punnett square and give the ratio of offspring.", "1 purple : 1 white"),
    "Biology - Ecological": ("In a meadow, grass is eaten by rabbits, rabbits are eaten by foxes and foxes are "
                             "eaten by eagles. Draw the food chain and name the top predator.", "Eagle"),
    "Biology - Molecular Process": ("The DNA template strand 3'-TACGGATTC-5' is transcribed. Draw the process "
                                    "and give the mRNA.", "5'-AUGCCUAAG-3'"),
    "Universal - Plot & Chart": ("A survey found 40% walk, 35% cycle and 25% drive to school. Draw a bar chart "
                                 "and find the ratio of walkers to drivers.", "8 : 5"),
    "Universal - Graph & Flow": ("A network joins towns P, Q and R by roads P–Q = 6 km, Q–R = 8 km and "
                                 "P–R = 11 km. Draw it and find the shortest route from P to R.", "P–R directly"),
    "Universal - Table / Grid": ("A table lists the mass m = 1.0 kg, m = 2.0 kg, m = 3.0 kg against the weight "
                                 "W = 9.8 N, W = 19.6 N, W = 29.4 N. Find g.", "g = 9.8 N/kg"),
    "Universal - Exp. Setup": ("Water in a beaker is heated with a Bunsen burner from T = 20 °C; a thermometer "
                               "reads the temperature every minute. Find the heating rate.", "about 4.5 °C per minute"),
}
UNKNOWN = ("Physics - Unknown Diagram Kind", "A device has parts A and B with current I = 2.0 A and voltage "
           "V = 12 V. Find its power.", "P = 24 W")


def _item(image_type: str, question: str, answer: str, pid: str = "t") -> dict:
    return {"problem_id": pid, "question": question, "answer": answer, "image_type": image_type,
            "elements": [], "quizzes": []}


def _overlaps(fig) -> int:
    """Drawn text artists whose extents intersect, counted like the sandbox does."""
    renderer = fig.canvas.get_renderer()
    boxes = [mtext.Text.get_window_extent(t, renderer).bounds for t in fig.findobj(mtext.Text)
             if t.get_visible() and t.get_text().strip() and t.get_window_extent(renderer).width > 0]
    boxes = [b for b in boxes if 0 <= b[0] <= fig.bbox.width * 3]
    b = np.array(boxes, dtype=float).reshape(-1, 4)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    ix = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    iy = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    return int(np.triu((ix > 0) & (iy > 0), 1).sum())


def _render(code: str, cwd: Path, monkeypatch) -> tuple[np.ndarray, str, int]:
    """Run a plan's script in ``cwd``; returns the PNG as grey pixels, all drawn text, overlaps."""
    monkeypatch.chdir(cwd)
    try:
        exec(compile(code, "<figure>", "exec"), {"__name__": "__main__"})
        fig = plt.gcf()
        texts = "\n".join(t.get_text() for t in fig.findobj(mtext.Text))
        overlaps = _overlaps(fig)
    finally:
        plt.close("all")
    pixels = np.asarray(Image.open(cwd / "figure.png").convert("L"), dtype=float)
    return pixels, texts, overlaps


def _check_plan(item: dict, plan: FigurePlan) -> None:
    assert isinstance(plan, FigurePlan), plan
    assert tuple(plan.sections) == PLAN_SECTIONS
    assert all(plan.sections[name].strip() for name in PLAN_SECTIONS)
    compile(plan.code, "<figure>", "exec")
    assert 'fig, ax = plt.subplots(figsize=(6, 6))' in plan.code
    assert plan.code.rstrip().endswith('fig.savefig("figure.png", dpi=100, bbox_inches="tight")')
    for entry in Ctx.from_item(item).box_entries():  # named values, in the Given box
        assert repr(entry) in plan.code, entry
    answer = item["answer"].strip()
    if answer not in item["question"]:
        assert answer not in plan.code
        assert answer not in plan.as_text()
    assert parse_plan_text(plan.as_text()) == plan
    assert "failed at plan time" not in plan.sections["Drawing Considerations"]


@pytest.mark.parametrize("image_type", list(SYNTHETIC))
def test_every_image_type_plans_and_renders(image_type, tmp_path, monkeypatch):
    question, answer = SYNTHETIC[image_type]
    item = _item(image_type, question, answer)
    plan = plan_figure(item)
    _check_plan(item, plan)
    assert plan_figure(dict(item)) == plan  # deterministic

    pixels, texts, overlaps = _render(plan.code, tmp_path, monkeypatch)
    assert pixels.std() > 5, "blank figure"
    for q in extract_quantities(question):  # real text artists, not just strings in the code
        assert q.value in texts, q.label()
    for name in extract_labels(question):
        assert name in texts, name
    assert overlaps == 0

    repair = plan_figure(item, repair_hint="line 12: ValueError: x and y must have same first dimension")
    assert tuple(repair.sections) == PLAN_SECTIONS
    assert repair.code != plan.code
    assert "repair" in repair.code.splitlines()[0]
    assert "Repair" in repair.sections["Drawing Considerations"]
    (tmp_path / "repair").mkdir()
    pixels, texts, _ = _render(repair.code, tmp_path / "repair", monkeypatch)
    assert pixels.std() > 5
    for entry in Ctx.from_item(item).box_entries():
        assert entry in texts


def test_an_unknown_type_is_declined_not_drawn_as_something_else():
    plan = plan_figure(_item(*UNKNOWN))
    assert isinstance(plan, Declined) and plan.status == "declined"
    assert "no template draws the image type 'Physics - Unknown Diagram Kind'" in plan.reason


@pytest.mark.parametrize("image_type, question, why", [
    ("Math - Set & Probability", "Heights are normally distributed with mean 170 cm and standard deviation 8 cm. "
     "What share is taller than 180 cm?", "no sets or events"),
    ("Chemistry - Molecular Structure", "Write the correct Lewis structure for the compound.", "names no molecule"),
    ("Physics - Circuit", "Six identical resistors of R = 12 Ω are connected in parallel to a 6 V cell. "
     "Find the current.", "components"),
    ("Physics - Optical Ray", "A siren of frequency f = 500 Hz approaches an observer at v = 30 m/s. "
     "Find the heard frequency.", "no refraction, mirror or lens"),
    ("Chemistry - Electron Config", "Which statement about valence electrons is true?", "neither an atomic number"),
])
def test_a_problem_the_template_cannot_draw_is_declined_with_the_reason(image_type, question, why):
    plan = plan_figure(_item(image_type, question, "x"))
    assert isinstance(plan, Declined), f"{image_type} drew a figure for: {question}"
    assert why in plan.reason, plan.reason


def test_the_template_is_chosen_by_what_the_problem_describes():
    plan = plan_figure(_item("Chemistry - Molecular Structure", "Draw the Lewis structure of NH3.", "x"))
    assert isinstance(plan, FigurePlan) and "'N'" in plan.code and "'H'" in plan.code and "'O'" not in plan.code
    tree = plan_figure(_item("Math - Set & Probability", "A coin is tossed twice. Draw the tree of outcomes "
                             "and find P(two heads).", "1/4"))
    assert isinstance(tree, FigurePlan) and "probability tree" in tree.sections["Image Content"]


def test_the_given_box_writes_names_values_and_units_in_the_problems_notation():
    ctx = Ctx.from_item(_item("Physics - Mechanical", "A ball is thrown with $v_{0} = 16$ ft/sec from a height "
                              "h = 3 m; 3 of its bounces are timed. In the atom, E_n = −13.6 eV/n^2 applies, and "
                              "resistor R1 = 10 Ω is in the circuit.", "x"))
    box = ctx.box_entries()
    assert "$v_{0}$ = 16 ft/sec" in box, box
    assert "h = 3 m" in box and "$R_{1}$ = 10 Ω" in box
    assert not any(e.startswith("3") or "13.6" in e for e in box), "bare numbers and formula values stay out"
    fig, ax = plt.subplots()
    for entry in box:  # every entry is valid mathtext
        ax.text(0, 0, entry)
    fig.canvas.draw()
    plt.close(fig)


def test_labels_keep_off_drawn_lines():
    c = Canvas(Ctx.from_item(_item("Physics - Mechanical", "A block rests.", "x")))
    c.draw(line([(0.5, 5.0), (9.5, 5.0)]))
    assert c.text(5.0, 5.0, "label", nudge=False) is False, "a label centred on a line is refused"
    assert c.text(5.0, 5.0, "label") is True, "nudged off the line it is placed"
    x0, y0, x1, y1 = c.boxes[-1]
    assert y0 >= 5.0 or y1 <= 5.0, (y0, y1)


def test_answer_number_is_withheld_unless_given():
    # The level template would write n = 1..4; the answer's "4" and "2" are not given.
    item = _item("Chemistry - Orbital / Quantum", "Draw the energy level diagram of the hydrogen atom and find "
                 "the energy released in the Balmer transition that emits blue-green light.",
                 "ΔE = 2.55 eV (n = 4 to n = 2)")
    plan = plan_figure(item)
    assert "'n = 1'" in plan.code and "'n = 3'" in plan.code
    assert "'n = 4'" not in plan.code and "'n = 2'" not in plan.code
    assert "withheld" in plan.sections["Drawing Considerations"]

    # A number of the answer that the problem gives is kept.
    given = _item("Physics - Mechanical", "A block of mass m = 2.0 kg rests on a 30° incline. What is its mass?",
                  "2.0 kg")
    assert "'m = 2.0 kg'" in plan_figure(given).code


def test_answer_words_are_not_written_as_template_labels():
    question, answer = SYNTHETIC["Biology - Cell Diagram"]
    plan = plan_figure(_item("Biology - Cell Diagram", question, answer))
    assert "Mitochondrion" not in plan.code
    assert "'Nucleus'" in plan.code
    # Named in the question, the same organelle may be labelled.
    plan = plan_figure(_item("Biology - Cell Diagram", question + " Mitochondrion: drawn at the right.", answer))
    assert "'Mitochondrion'" in plan.code


def test_empty_and_odd_items_still_render(tmp_path, monkeypatch):
    odd = [
        {},
        _item("Physics - Mechanical", "A $5 toy of mass $m = 2.0$ kg {eq}\\theta = 30^\\circ{/eq} slides; 50% \\ back.", "x"),
        _item("Universal - Table / Grid", "Values: " + ", ".join(f"x{i} = {i}.5 m" for i in range(20)), "none"),
        _item("Chemistry - Reaction Scheme", "Nothing to see here.", ""),
    ]
    for k, item in enumerate(odd):
        plan = plan_figure(item)
        if isinstance(plan, Declined):
            assert plan.reason, item
            continue
        assert tuple(plan.sections) == PLAN_SECTIONS
        (tmp_path / str(k)).mkdir()
        pixels, _, _ = _render(plan.code, tmp_path / str(k), monkeypatch)
        assert pixels.std() > 5


def test_plan_text_round_trip_and_lenient_parsing():
    question, answer = SYNTHETIC["Physics - Circuit"]
    plan = plan_figure(_item("Physics - Circuit", question, answer))
    text = plan.as_text()
    assert text.startswith("## Image Content\n") and text.count("```") == 2
    assert [line for line in text.splitlines() if line.startswith("## ")] == [f"## {n}" for n in PLAN_SECTIONS]

    reply = ("Here is my plan.\n**Image Content:** a circuit\n\n2. Layout: loop in the middle\n"
             "### Labels\nR1, R2\nDrawing Considerations:\n- no answer\n```python\nprint('hi')\n")
    parsed = parse_plan_text(reply)  # bold / numbered / inline headings, unterminated fence
    assert parsed.sections == {"Image Content": "a circuit", "Layout": "loop in the middle",
                               "Labels": "R1, R2", "Drawing Considerations": "- no answer"}
    assert parsed.code == "print('hi')\n"


def test_parse_plan_text_names_what_is_missing():
    with pytest.raises(ValueError, match="Layout.*Labels|missing section 'Layout'"):
        parse_plan_text("## Image Content\nx\n## Drawing Considerations\ny\n```python\npass\n```")
    with pytest.raises(ValueError, match="code block"):
        parse_plan_text("\n".join(f"## {n}\ntext" for n in PLAN_SECTIONS))
    with pytest.raises(ValueError, match="empty section 'Labels'"):
        parse_plan_text("## Image Content\na\n## Layout\nb\n## Labels\n\n## Drawing Considerations\nd\n```python\npass\n```")
    with pytest.raises(ValueError):
        FigurePlan(sections={"Layout": "x"}, code="pass")
    assert PLANNER_VERSION == "rules-v2"


def test_sample_corpus_renders(tmp_path, monkeypatch):
    rows = [json.loads(text) for text in CORPUS.read_text(encoding="utf-8").splitlines() if text.strip()]
    assert len(rows) == 75
    failures, declined = [], []
    for row in rows:
        item = {**row, "problem_id": row["id"]}
        plan = plan_figure(item)
        if isinstance(plan, Declined):
            declined.append(row["id"])
            continue
        _check_plan(item, plan)
        assert plan_figure(item).code == plan.code
        work = tmp_path / row["id"]
        work.mkdir()
        try:
            pixels, texts, overlaps = _render(plan.code, work, monkeypatch)
        except Exception as exc:  # collect them all for one readable failure
            failures.append(f"{row['id']}: {type(exc).__name__}: {exc}")
            continue
        if pixels.std() <= 5:
            failures.append(f"{row['id']}: blank figure")
        missing = [e for e in Ctx.from_item(item).box_entries() if e not in texts]
        missing += [name for name in extract_labels(row["question"]) if name not in texts]
        if missing:
            failures.append(f"{row['id']}: labels not drawn: {missing}")
        if overlaps:
            failures.append(f"{row['id']}: {overlaps} overlapping text pair(s)")
    assert not failures, "\n".join(failures)
    # The sample corpus is written for the templates: most of it is drawn, not declined.
    assert len(declined) <= len(rows) // 4, declined
