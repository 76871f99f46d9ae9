"""Biology templates: cell diagrams, genetics, ecology and molecular processes."""

from __future__ import annotations

import re

from scigen_dagster.generation.rules.codegen import template
from scigen_dagster.generation.rules.context import STOP_WORDS
from scigen_dagster.generation.rules.layout import Canvas, callout, dot, fmt, line, point_name
from scigen_dagster.problems.quantities import normalize_text


@template("Biology - Cell Diagram", "labelled cell diagram")
def _tpl_cell(c: Canvas) -> None:
    ctx = c.ctx
    parts: list[tuple[str, tuple[float, float]]] = []
    # The kind of cell (or its division, with its 2n) comes from the problem.
    c.specific = ctx.has("animal cell", "plant cell", "bacteri", "prokaryot", "eukaryot") or bool(
        re.search(r"2n\s*=\s*\d", normalize_text(ctx.question)))
    if ctx.has("mitosis", "meiosis", "chromosome", "metaphase", "anaphase", "spindle", "dividing"):
        m = re.search(r"2n\s*=\s*(\d+)", normalize_text(ctx.question))
        n = min(8, max(2, int(m.group(1)) if m else 4))
        c.draw("ax.add_patch(Ellipse((5, 5), 7.0, 5.4, fc=LIGHT, ec=INK, lw=1.8))",
               dot(2.2, 5, 0.12), dot(7.8, 5, 0.12))
        for k in range(n):
            y = 3.2 + 3.6 * (k + 0.5) / n
            c.draw(line([(2.2, 5), (4.8, y)], lw=0.7, color="GREY"), line([(7.8, 5), (5.2, y)], lw=0.7, color="GREY"),
                   line([(4.75, y - 0.18), (5.25, y + 0.18)], lw=2.6), line([(4.75, y + 0.18), (5.25, y - 0.18)], lw=2.6))
        parts = [("Centriole", (2.2, 5)), ("Spindle fibre", (3.5, 5.6)), ("Chromosome", (5.0, 3.2 + 3.6 * 0.5 / n)),
                 ("Cell membrane", (5.0, 7.7))]
        shape = f"a dividing animal cell: {n} replicated chromosomes (X shapes) between two centrioles joined by spindle fibres"
    elif ctx.has("plant", "chloroplast", "cell wall", "palisade", "leaf"):
        c.draw("ax.add_patch(FancyBboxPatch((2.0, 1.2), 6.0, 7.6, boxstyle='round,pad=0.1', fc='white', ec=INK, lw=2.6))",
               "ax.add_patch(FancyBboxPatch((2.3, 1.5), 5.4, 7.0, boxstyle='round,pad=0.1', fc=LIGHT, ec=INK, lw=1.2))",
               "ax.add_patch(FancyBboxPatch((3.3, 3.0), 3.4, 4.0, boxstyle='round,pad=0.2', fc='white', ec=GREY, lw=1.2))",
               "ax.add_patch(Circle((5.9, 7.6), 0.55, fc='0.8', ec=INK, lw=1.2))",
               *[f"ax.add_patch(Ellipse(({x}, {y}), 0.8, 0.4, angle={a}, fc='0.6', ec=INK, lw=1))"
                 for x, y, a in ((2.8, 2.2, 20), (2.75, 5.0, 80), (7.2, 4.2, 100), (7.1, 2.1, -20), (3.4, 7.9, 10))])
        parts = [("Cell wall", (2.0, 6.2)), ("Cell membrane", (2.3, 4.0)), ("Vacuole", (5.0, 5.0)),
                 ("Chloroplast", (7.2, 4.2)), ("Nucleus", (5.9, 7.6)), ("Cytoplasm", (7.2, 6.2))]
        shape = "a plant cell: wall, membrane, large central vacuole, chloroplasts and nucleus"
    else:
        c.draw("ax.add_patch(Ellipse((5, 5), 6.6, 6.0, fc=LIGHT, ec=INK, lw=2))",
               "ax.add_patch(Circle((4.4, 5.4), 1.2, fc='0.82', ec=INK, lw=1.5))",
               "ax.add_patch(Circle((4.2, 5.6), 0.35, fc='0.55', ec='none'))",
               "ax.add_patch(Ellipse((6.5, 3.6), 1.3, 0.6, angle=25, fc='0.7', ec=INK, lw=1.2))",
               "xs = np.linspace(6.0, 7.0, 40)", "ax.plot(xs, 3.38 + 0.47 * (xs - 6.0) + 0.08 * np.sin(18 * xs), color=INK, lw=0.8)",
               *[f"ax.add_patch(Arc((6.6, 6.0), {w}, {w * 0.6}, theta1=200, theta2=340, color=INK, lw=1.5))" for w in (1.0, 1.4, 1.8)],
               *[f"ax.plot(np.linspace(2.9, 3.6, 30), {y} + 0.08 * np.sin(np.linspace(0, 12, 30)), color=GREY, lw=1.2)"
                 for y in (3.4, 3.7, 4.0)])
        parts = [("Cell membrane", (7.9, 6.5)), ("Nucleus", (4.4, 4.4)), ("Nucleolus", (4.2, 5.6)),
                 ("Mitochondrion", (6.8, 3.7)), ("Golgi apparatus", (6.6, 5.8)), ("Rough ER", (3.2, 3.7)), ("Cytoplasm", (5.6, 2.8))]
        shape = "an animal cell: membrane, nucleus with nucleolus, a mitochondrion, Golgi apparatus and rough ER"
    c.frame((-4.4, 14.4), (0, 10))
    for left in (True, False):
        column = sorted([p for p in parts if (p[1][0] < 5) == left], key=lambda p: -p[1][1])
        ys: list[float] = []
        for _, (_, ty) in column:  # labels near their targets' heights, at least 0.7 apart
            ys.append(min(ty, ys[-1] - 0.7) if ys else min(ty, 9.6))
        shift = max(0.0, 0.4 - ys[-1]) if ys else 0.0
        for (name, target), y in zip(column, ys):
            callout(c, name, target, (0.9 if left else 9.1, y + shift), ha="right" if left else "left")
    for x, y in ((5.0, 9.7), (5.0, 0.3)):
        c.anchor(x, y)
    c.describe(f"A labelled cell diagram: {shape}; each part named with a leader line.",
               "Cell in the middle of the frame; labels in the corners with thin leader lines to their parts.",
               "Labels name structures only; the function, stage or magnification asked for is not written.")


@template("Biology - Genetics", "Punnett square / pedigree")
def _tpl_genetics(c: Canvas) -> None:
    ctx = c.ctx
    genos = [e for e in ctx.entities if e.isalpha() and len(e) % 2 == 0
             and all(p[0].lower() == p[1].lower() for p in re.findall(r"..", e))]
    if ctx.has("pedigree") and not genos:
        gen2 = max(2, min(5, len(set(re.findall(r"\bII-(\d)", ctx.question))) or 3))
        c.draw("ax.add_patch(Rectangle((2.9, 6.9), 1.0, 1.0, fc='white', ec=INK, lw=1.8))",
               "ax.add_patch(Circle((6.6, 7.4), 0.5, fc='white', ec=INK, lw=1.8))",
               line([(3.9, 7.4), (6.1, 7.4)]), line([(5.0, 7.4), (5.0, 5.6)]),
               line([(5 - 1.6 * (gen2 - 1) / 2, 5.6), (5 + 1.6 * (gen2 - 1) / 2, 5.6)]))
        for k in range(gen2):
            x = 5 - 1.6 * (gen2 - 1) / 2 + 1.6 * k
            c.draw(line([(x, 5.6), (x, 4.6)]),
                   f"ax.add_patch({'Rectangle' if k == 0 else 'Circle'}(({fmt(x - 0.5) if k == 0 else fmt(x)}, "
                   f"{'3.6' if k == 0 else '4.1'}){', 1.0, 1.0' if k == 0 else ', 0.5'}, fc='white', ec=INK, lw=1.8))")
        c.text(1.2, 7.4, "I", size=14, nudge=False)
        c.text(1.2, 4.1, "II", size=14, nudge=False)
        c.text(5.0, 1.4, "□ male   ○ female", size=10)
        shape = "a two-generation pedigree: parents joined by a marriage line, their children below"
        note = "Symbols are left unshaded: which individuals are affected or carriers is read from the text, not drawn."
    else:
        p1 = genos[0] if genos else "Aa"
        p2 = genos[1] if len(genos) > 1 else p1
        def gametes(g: str) -> list[str]:
            pairs = [g[i:i + 2] for i in range(0, len(g), 2)][:2]
            out = [""]
            for pair in pairs:
                out = [o + a for o in out for a in (pair[0], pair[1])]
            return list(dict.fromkeys(out))
        rows, cols = gametes(p1), gametes(p2)
        n, m = len(rows), len(cols)
        cell = min(1.6, 6.4 / max(n, m))
        x0, y1 = 2.6, 8.0
        c.draw(f"for i in range({m + 1}):", f"    ax.plot([{x0} + i * {cell}, {x0} + i * {cell}], [{y1}, {y1} - {n} * {cell}], color=INK, lw=1.6)",
               f"for j in range({n + 1}):", f"    ax.plot([{x0}, {x0} + {m} * {cell}], [{y1} - j * {cell}, {y1} - j * {cell}], color=INK, lw=1.6)")
        for i, g in enumerate(cols):
            c.text(x0 + (i + 0.5) * cell, y1 + 0.25, g, va="bottom", size=13, entity=True, nudge=False)
        for j, g in enumerate(rows):
            c.text(x0 - 0.25, y1 - (j + 0.5) * cell, g, ha="right", size=13, entity=True, nudge=False)
        if c.text(0.2, 9.6, f"{p1} × {p2}", ha="left", va="top", size=13, entity=True):
            c.mark_used(p1, p2)
        c.text(x0 + m * cell / 2, y1 + 0.85, "gametes", va="bottom", size=10, color="GREY")
        shape = f"a Punnett square for {p1} × {p2}: gametes of each parent along the top and left, {n * m} offspring cells"
        note = "Offspring cells are left empty: their genotypes and ratios are the answer."
    for x, y in ((9.5, 9.5), (9.5, 0.5), (0.5, 0.5)):
        c.anchor(x, y, ha="right" if x > 5 else "left")
    c.describe(f"A genetics diagram: {shape}.", "Grid or family tree centred; parent labels outside it.", note)


def _food_web(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Organisms and food -> feeder edges from "X is eaten by Y and Z" / "Y eat X"."""
    names: dict[str, str] = {}
    edges: list[tuple[str, str]] = []

    def key(word: str) -> str | None:
        w = word.lower()
        if w in STOP_WORDS or len(w) < 3:
            return None
        k = w[:-1] if w.endswith("s") and not w.endswith("ss") else w
        names.setdefault(k, word)
        return k

    verb = r"(?:is|are|eats?|feeds?|preys?|consumes?)\b"
    clauses = re.split(rf"[;.:]|,?\s+and\s+(?=[a-z]+\s+{verb})|,\s*(?=[a-z]+\s+{verb})", text, flags=re.I)
    for clause in clauses:
        passive = re.search(r"\b([a-z]+)\s+(?:is|are)\s+eaten\s+by\s+(.+)$", clause, re.I)
        active = re.search(r"\b([a-z]+)\s+(?:eats?|feeds? on|preys? on|consumes?)\s+(.+)$", clause, re.I)
        for m, food_first in ((passive, True), (active, False)):
            if not m:
                continue
            subject = key(m.group(1))
            for other in re.split(r"\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s+or\s+", m.group(2)):
                words = re.findall(r"[a-z]+", other, re.I)
                o = key(words[-1]) if words else None
                edge = (subject, o) if food_first else (o, subject)
                if subject and o and edge not in edges:
                    edges.append(edge)
    used = [k for k in names if any(k in e for e in edges)]
    return [names[k] for k in used], [(names[a], names[b]) for a, b in edges]


@template("Biology - Ecological", "food web / ecological pyramid")
def _tpl_ecology(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    levels_words = ["Producers", "Primary consumers", "Secondary consumers", "Tertiary consumers"]
    if ctx.has("pyramid") or (ctx.has("trophic", "energy") and ctx.has("%") and not ctx.has("eat")):
        k = 4 if ctx.has("tertiary", "four") else 3
        for i in range(k):
            y0, y1 = 1.0 + i * 7.6 / k, 1.0 + (i + 1) * 7.6 / k
            w0, w1 = 9.4 - i * 6.4 / k, 9.4 - (i + 1) * 6.4 / k
            c.draw(f"ax.add_patch(Polygon([({fmt(5 - w0 / 2)}, {fmt(y0)}), ({fmt(5 + w0 / 2)}, {fmt(y0)}), "
                   f"({fmt(5 + w1 / 2)}, {fmt(y1)}), ({fmt(5 - w1 / 2)}, {fmt(y1)})], closed=True, "
                   f"fc={'LIGHT' if i % 2 == 0 else repr('white')}, ec=INK, lw=1.5))")
            c.text(5, (y0 + y1) / 2 + (0.25 if i == 0 else 0), levels_words[i], size=11 if i < k - 1 else 9, nudge=False)
        c.slot(r"E|E_?\w*|P|GPP|NPP", 5, 1.0 + 7.6 / k / 2 - 0.35, size=10, nudge=False)
        pct = next((q for q in ctx.quantities if q.unit == "%"), None)
        if pct is not None:
            c.draw("arrow(9.4, 3.0, 9.4, 7.0, lw=1.3, color=GREY)")
            c.value(pct, 9.55, 5.0, ha="left", size=10, rotation=90)
        shape = f"an energy pyramid of {k} trophic levels, producers at the base"
        note = "Only the producers' given energy is written; the energy of the higher levels is the answer."
    elif ctx.has("capture", "recapture", "mark", "tagged", "quadrat"):
        c.draw("ax.add_patch(Ellipse((5, 4.6), 8.6, 6.0, fc=LIGHT, ec=INK, lw=1.6))")
        spots = [(2.4, 4.0), (3.3, 5.9), (4.2, 3.0), (5.0, 5.1), (5.9, 6.6), (6.2, 3.6), (7.3, 5.0), (3.6, 4.5), (6.8, 2.6), (4.8, 6.8)]
        for i, (x, y) in enumerate(spots):
            c.draw(f"ax.add_patch(Ellipse(({x}, {y}), 0.7, 0.3, fc='0.6', ec=INK, lw=0.8))",
                   f"ax.add_patch(Polygon([({fmt(x + 0.3)}, {y}), ({fmt(x + 0.6)}, {fmt(y + 0.18)}), ({fmt(x + 0.6)}, {fmt(y - 0.18)})], closed=True, fc='0.6', ec=INK, lw=0.8))")
            if i % 3 == 0:
                c.draw(dot(x - 0.15, y + 0.02, 0.07))
        c.text(5, 8.9, "1st sample: caught, marked, released", size=10)
        c.text(5, 0.9, "2nd sample: caught, marked ones counted", size=10)
        c.text(9.3, 7.6, "• = marked", ha="right", size=10)
        shape = "a habitat (pond) with individuals, some marked, and the two capture steps"
        note = "The population estimate is not written."
    else:
        organisms, edges = _food_web(text)
        if not edges:
            organisms = [e for e in ctx.entities if e.islower()] or []
            edges = list(zip(organisms, organisms[1:]))
        if not organisms:
            organisms, edges = levels_words, list(zip(levels_words, levels_words[1:]))
        level = {o: 0 for o in organisms}
        for _ in range(len(organisms)):
            for a, b in edges:
                level[b] = max(level[b], level[a] + 1) if level[a] < len(organisms) else level[b]
        top = max(level.values()) or 1
        rows: dict[int, list[str]] = {}
        for o in organisms:
            rows.setdefault(level[o], []).append(o)
        pos = {}
        for lv, names in rows.items():
            for i, o in enumerate(names):
                x = (i + 1) * 10 / (len(names) + 1) if len(names) > 1 else 5 + (1.6 if lv % 2 else -1.6) * (0 < lv < top)
                pos[o] = (x, 1.2 + 7.6 * lv / top)
        for a, b in edges:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            c.draw(f"arrow({fmt(x1)}, {fmt(y1 + 0.35)}, {fmt(x2)}, {fmt(y2 - 0.35)}, lw=1.3)")
        for o, (x, y) in pos.items():
            c.draw(f"ax.add_patch(FancyBboxPatch(({fmt(x - 0.9)}, {fmt(y - 0.3)}), 1.8, 0.6, boxstyle='round,pad=0.08', fc='white', ec=INK, lw=1.2, zorder=3))")
            if c.text(x, y, o, size=11 if len(o) < 11 else 9, entity=True, nudge=False, force=True):
                c.mark_used(*[e for e in ctx.entities if e.lower().rstrip("s") == o.lower().rstrip("s")])
        shape = f"a food web of {len(organisms)} organisms, arrows pointing from food to feeder, producers at the bottom"
        note = "Counts of food chains or trophic positions asked for are not written."
    for x, y in ((0.5, 9.6), (9.5, 9.6)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"An ecological diagram: {shape}.", "Lowest trophic level at the bottom, higher levels above.", note)


_SEQ_RE = re.compile(r"(?:[35][′']\s*[-–]\s*)?[ACGTU]{3,}(?:[ -][ACGTU]{3,})*(?:\s*[-–]\s*[35][′'])?")


def _sequences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SEQ_RE.finditer(text) if len(re.sub(r"[^ACGTU]", "", m.group(0))) >= 6][:2]


@template("Biology - Molecular Process", "molecular-process schematic")
def _tpl_molecular(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    seqs = _sequences(text)
    if ctx.has("pcr", "polymerase chain"):
        steps = [("Denaturation", (5.0, 8.2)), ("Annealing", (8.0, 3.4)), ("Extension", (2.0, 3.4))]
        temps = [q for q in ctx.quantities if q.unit in ("°C", "℃", "K")]
        for i, (name, (x, y)) in enumerate(steps):
            c.draw(f"ax.add_patch(FancyBboxPatch(({fmt(x - 1.5)}, {fmt(y - 0.7)}), 3.0, 1.4, boxstyle='round,pad=0.08', fc=LIGHT, ec=INK, lw=1.5))",
                   line([(x - 1.0, y - 0.35), (x + 1.0, y - 0.35)], lw=1.6),
                   line([(x - 1.0, y - 0.5), (x + 1.0, y - 0.5)], lw=1.6, color="GREY"))
            c.text(x, y + 0.3, name, size=11, nudge=False)
            if i < len(temps):
                c.value(temps[i], x, y - 1.0, va="top", size=10)
        c.draw("arrow(6.6, 7.7, 7.9, 4.3, lw=1.6)", "arrow(6.4, 3.4, 3.6, 3.4, lw=1.6)", "arrow(2.1, 4.3, 3.4, 7.7, lw=1.6)")
        c.text(5.0, 5.4, "one cycle", size=10, color="GREY")
        shape = "one PCR cycle as three boxed steps joined by arrows, each with its given temperature"
    elif ctx.has("ribosome", "translat", "codon", "trna"):
        c.draw(line([(0.6, 3.6), (9.4, 3.6)], lw=2.2),
               "ax.add_patch(Ellipse((5.0, 5.4), 5.6, 2.6, fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Ellipse((5.0, 3.3), 5.0, 1.2, fc='0.85', ec=INK, lw=1.4))",
               *[f"ax.add_patch(Rectangle(({fmt(x - 0.6)}, 4.6), 1.2, 1.2, fill=False, ec=INK, lw=1.2))" for x in (3.4, 5.0, 6.6)],
               *[dot(5.0 + 0.0 * k, 6.2 + 0.55 * k, 0.22) for k in range(1, 4)])
        for name, x in (("E", 3.4), ("P", 5.0), ("A", 6.6)):
            point_name(c, name, x, 5.2, size=12, nudge=False)
        c.text(0.6, 3.35, "5′", va="top", size=11)
        c.text(9.4, 3.35, "3′", va="top", size=11)
        c.name(1.2, 3.85, "mRNA", va="bottom", ha="left", size=11)
        if seqs:
            c.text(5.0, 1.8, seqs[0], size=11, entity=True)
        c.text(5.0, 8.4, "growing chain", size=10, va="bottom", color="GREY")
        shape = "a ribosome (large and small subunit) on an mRNA strand with its E, P and A sites and a growing chain"
    elif ctx.has("replication", "fork", "helicase", "okazaki", "lagging", "leading"):
        c.draw("xs = np.linspace(0.6, 4.2, 40)",
               "for off in (0.25, -0.25):", "    ax.plot(xs, 5 + off + 0 * xs, color=INK, lw=2)",
               "for x in np.arange(0.8, 4.2, 0.4):", "    ax.plot([x, x], [4.75, 5.25], color=GREY, lw=1)",
               line([(4.2, 5.25), (9.4, 8.2)], lw=2), line([(4.2, 4.75), (9.4, 1.8)], lw=2),
               line([(4.8, 5.95), (9.4, 8.6 - 0.05)], lw=1.4, color="GREY", dashed=True),
               line([(4.8, 4.05), (9.4, 1.4)], lw=1.4, color="GREY", dashed=True),
               "ax.add_patch(Circle((4.3, 5.0), 0.35, fc='0.75', ec=INK, lw=1.2, zorder=3))")
        if ctx.has("helicase"):
            c.text(4.3, 5.75, "helicase", va="bottom", size=10)
        c.text(0.6, 5.6, "parental DNA", ha="left", va="bottom", size=10)
        c.text(9.4, 9.0, "new strand", ha="right", va="bottom", size=9, color="GREY")
        if seqs:
            c.text(5.0, 0.7, f"template: {seqs[0]}", size=11, entity=True)
        shape = "a replication fork: the parental double helix opening at helicase into two template strands, new strands dashed alongside"
    else:
        c.draw("xs = np.linspace(0.8, 3.6, 60)",
               "ax.plot(xs, 6.5 + 0.5 * np.sin(3 * xs), color=INK, lw=2)", "ax.plot(xs, 6.5 - 0.5 * np.sin(3 * xs), color=INK, lw=2)",
               "for x in np.linspace(0.9, 3.5, 9):", "    ax.plot([x, x], [6.5 - 0.5 * np.sin(3 * x), 6.5 + 0.5 * np.sin(3 * x)], color=GREY, lw=1)",
               "arrow(3.9, 6.5, 5.4, 6.5, lw=1.8)", line([(5.7, 6.5), (8.9, 6.5)], lw=2),
               "arrow(7.3, 6.0, 7.3, 4.1, lw=1.8)",
               *[f"ax.add_patch(Circle(({fmt(5.9 + 0.6 * k)}, 3.4), 0.26, fc=LIGHT, ec=INK, lw=1.2))" for k in range(6)])
        for name, x, y, kw in (("DNA", 2.2, 7.4, {}), ("mRNA", 7.3, 6.85, {}), ("transcription", 4.65, 6.85, {"size": 9}),
                               ("translation", 7.5, 5.05, {"ha": "left", "size": 9}), ("protein", 7.4, 2.8, {"va": "top"})):
            if c.text(x, y, name, va=kw.get("va", "bottom" if y > 6 else "center"), ha=kw.get("ha", "center"),
                      size=kw.get("size", 11), entity=name in ctx.entities):
                c.mark_used(name)
        for k, seq in enumerate(seqs):
            c.text(5.0, 1.6 - 0.7 * k, seq, size=11, entity=True)
        shape = "the flow of information: a DNA double helix, transcription to an mRNA strand, translation to a chain of amino acids"
    for x, y in ((0.5, 9.6), (9.5, 9.6), (0.5, 0.4), (9.5, 0.4)):
        c.anchor(x, y, ha="left" if x < 5 else "right")
    c.describe(f"A molecular-process schematic: {shape}.", "Process runs left to right (or around a cycle); "
               "labels beside the parts they name; given sequences written out.",
               "Only sequences given in the problem are written; the product sequence, strand identity or copy number asked for is not.")
