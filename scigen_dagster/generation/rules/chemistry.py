"""Chemistry templates: molecules, crystals, reactions, electron configurations, orbitals, spectra."""

from __future__ import annotations

import math
import re

from scigen_dagster.generation.rules.codegen import template
from scigen_dagster.generation.rules.context import Ctx, num
from scigen_dagster.generation.rules.layout import Canvas, dot, fmt, line, unit
from scigen_dagster.problems.quantities import Quantity, normalize_text

_CHAIN_RE = re.compile(r"(?<![A-Za-z])((?:[A-Z][a-z]?\d*)+(?:[–=≡-](?:[A-Z][a-z]?\d*)+){2,})(?![a-z])")


def _atoms(formula: str) -> list[str]:
    out: list[str] = []
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        out.extend([el] * (int(n) if n else 1))
    return out


@template("Chemistry - Molecular Structure", "structural formula")
def _tpl_molecule(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    species = ctx.species()
    chain = next((m for m in _CHAIN_RE.finditer(text) if "C" in m.group(1)), None)
    atom = "ax.add_patch(Circle(({x}, {y}), {r}, fc='white', ec=INK, lw=1.5, zorder=3))"
    if ctx.has("benzene", "hexagon", "aromatic", "c6h6") or any(s.startswith("C6H6") for s in species):
        pts = [(5 + 2.3 * math.cos(math.radians(90 + 60 * k)), 5 + 2.3 * math.sin(math.radians(90 + 60 * k))) for k in range(6)]
        c.draw(line(pts, closed=True, lw=2))
        for k in range(0, 6, 2):
            (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % 6]
            c.draw(line([(5 + 0.8 * (x1 - 5), 5 + 0.8 * (y1 - 5)), (5 + 0.8 * (x2 - 5), 5 + 0.8 * (y2 - 5))], lw=1.6))
        numbered = [f"C{k + 1}" for k in range(6)]
        for k, (x, y) in enumerate(pts):
            ux, uy = unit(x - 5, y - 5)
            c.draw(line([(x + 0.25 * ux, y + 0.25 * uy), (x + 1.3 * ux, y + 1.3 * uy)], lw=1.3))
            c.text(x + 1.65 * ux, y + 1.65 * uy, "H", size=12, nudge=False)
            name = numbered[k] if numbered[k] in ctx.entities else None
            (c.entity(name, x - 0.5 * ux, y - 0.5 * uy, size=10) if name else c.text(x - 0.45 * ux, y - 0.45 * uy, "C", size=11))
        c.slot(r"b|d|r|l|r\(C-C\)|d\(C-C\)", 5 + 2.6 * math.cos(math.radians(-30)) + 0.2, 5 + 2.6 * math.sin(math.radians(-30)) - 0.2, ha="left", size=10)
        c.specific = True
        shape = "a benzene ring: a regular hexagon of carbons with alternating double bonds and one H on each carbon"
    elif chain:
        groups = re.split(r"[–=≡-]", chain.group(1))[:6]
        bonds = re.findall(r"[–=≡-]", chain.group(1))[: len(groups) - 1]
        step = min(2.2, 8.0 / max(1, len(groups) - 1))
        pts = [(1.2 + i * step, 5.0 + (0.9 if i % 2 else -0.9)) for i in range(len(groups))]
        for (p1, p2), b in zip(zip(pts, pts[1:]), bonds):
            nx, ny = unit(-(p2[1] - p1[1]), p2[0] - p1[0])
            for off in ((0,) if b in "–-" else (-0.09, 0.09) if b == "=" else (-0.14, 0, 0.14)):
                c.draw(line([(p1[0] + off * nx, p1[1] + off * ny), (p2[0] + off * nx, p2[1] + off * ny)], lw=1.6))
        for g, (x, y) in zip(groups, pts):
            c.draw(f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), 0.55, fc='white', ec='none', zorder=2))")
            c.name(x, y, g, nudge=False, force=True)
        c.slot(r"r\(C=C\)|d|b|r|l", 5.0, 2.2, size=10)
        c.specific = True
        shape = f"the condensed chain {chain.group(1)} drawn as a zig-zag with its single and double bonds"
    else:
        if not species:
            c.decline("the problem names no molecule in a form the template can draw (a formula)")
        formula = species[0]
        atoms = _atoms(re.sub(r"(?:\^?\d*[+\-−]|[²³]?[⁺⁻])$", "", formula) or "H2O")
        heavy = [a for a in atoms if a != "H"]
        centre = min(heavy, key=lambda a: (atoms.count(a), atoms.index(a))) if heavy else atoms[0]
        ligands = list(atoms)
        ligands.remove(centre)
        ligands = ligands[:6]
        n = len(ligands)
        if n == 2 and centre in ("O", "S", "Se"):
            angles = [270 - 52.25, 270 + 52.25]
        elif n == 3 and centre in ("N", "P", "As"):
            angles = [210, 270 + 20, 330 + 40]
        else:
            angles = [180 + 360 * k / max(n, 1) for k in range(n)] if n != 2 else [180, 0]
        cx, cy, bl = 5.0, 5.6, 2.6
        ends = [(cx + bl * math.cos(math.radians(a)), cy + bl * math.sin(math.radians(a))) for a in angles]
        for (x, y) in ends:
            c.draw(line([(cx, cy), (x, y)], lw=2))
        for el, (x, y) in [(centre, (cx, cy))] + list(zip(ligands, ends)):
            c.draw(atom.format(x=fmt(x), y=fmt(y), r="0.45"))
            c.text(x, y, el, size=13, nudge=False, force=True)
            c.block(x - 0.45, y - 0.45, x + 0.45, y + 0.45)
        if ctx.has("lone pair") and centre in ("O", "N", "S"):
            for dx in (-0.5, 0.5):
                c.draw(f"ax.plot([{fmt(cx + dx - 0.12)}, {fmt(cx + dx + 0.12)}], [{fmt(cy + 0.75)}, {fmt(cy + 0.75)}], "
                       "'o', color=INK, ms=3.5)")
        if n >= 2:
            a1, a2 = sorted(angles[:2])
            c.draw(f"ax.add_patch(Arc(({fmt(cx)}, {fmt(cy)}), 2.2, 2.2, theta1={fmt(a1)}, theta2={fmt(a2)}, color=INK, lw=1.2))")
            mid = math.radians((a1 + a2) / 2)
            c.slot(r"α|θ|∠\w+|β", cx + 1.6 * math.cos(mid), cy + 1.6 * math.sin(mid) - 0.1, va="top", size=10)
        if ends:
            (x, y) = ends[0]
            mx, my = (cx + x) / 2, (cy + y) / 2
            c.slot(r"d|b|r|l|r\(\w+\)|d\(\w+\)", mx - 0.5, my + 0.3, ha="right", va="bottom", size=10)
        if formula in ctx.entities:
            c.entity(formula, 5.0, 9.3, va="top", size=13)
        shape = f"a ball-and-stick sketch of {formula}: the central {centre} atom bonded to {n} atom(s)"
    for x, y in ((0.6, 9.4), (9.4, 9.4), (0.6, 0.6), (9.4, 0.6)):
        c.anchor(x, y)
    c.describe(f"A molecular-structure figure: {shape}.", "Molecule centred in the frame; bond values "
               "beside their bonds, angle arcs at the central atom.",
               "Only given bond lengths and angles are written; the asked distance, angle or polarity is not.")


@template("Chemistry - Crystal Structure", "unit-cell drawing")
def _tpl_crystal(c: Canvas) -> None:
    ctx = c.ctx
    ions = [s for s in ctx.species() if re.search(r"[+\-−⁺⁻]$", s)][:2]
    if ctx.has("square lattice", "two-dimensional", "2d lattice", "layer"):
        c.draw("for i in range(5):", "    for j in range(5):",
               "        ax.add_patch(Circle((1.4 + 1.8 * i, 1.4 + 1.8 * j), 0.42, "
               f"fc=('0.35' if (i + j) % 2 and {len(ions) == 2} else 'white'), ec=INK, lw=1.4))",
               "ax.add_patch(Rectangle((3.2, 3.2), 3.6, 3.6, fill=False, ec=INK, lw=1.6, ls=(0, (4, 3))))")
        c.slot(r"a|d|l", 5.0, 2.75, va="top", size=10, default="a")
        shape = "a square lattice of atoms with one cell outlined"
    else:
        hgt = 4.6
        bottom = [(1.8, 1.6), (6.4, 1.6), (8.2, 3.4), (3.6, 3.4)]
        corners = bottom + [(x, y + hgt) for x, y in bottom]
        edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
        c.draw(*[line([corners[i], corners[j]], lw=1.4, dashed=3 in (i, j)) for i, j in edges])
        mid = lambda idx: (sum(corners[k][0] for k in idx) / len(idx), sum(corners[k][1] for k in idx) / len(idx))  # noqa: E731
        faces = [(0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7), (0, 1, 2, 3), (4, 5, 6, 7)]
        rock = ctx.has("rock-salt", "rock salt", "nacl") or len(ions) == 2
        fcc = rock or ctx.has("face-centred", "face-centered", "fcc", "ccp", "cubic close")
        bcc = ctx.has("body-centred", "body-centered", "bcc")
        sites = [(corners[k], "A") for k in range(8)]
        if fcc:
            sites += [(mid(f), "A") for f in faces]
        if rock:
            sites += [(mid(e), "B") for e in edges] + [(mid(range(8)), "B")]
        elif bcc:
            sites.append((mid(range(8)), "A"))
            c.draw(line([corners[0], corners[6]], lw=1.1, color="GREY", dashed=True))
        for (x, y), kind in sorted(sites, key=lambda s: -s[0][1]):
            r, fc = (0.32, "'0.35'") if kind == "A" else (0.22, "'white'")
            c.draw(f"ax.add_patch(Circle(({fmt(x)}, {fmt(y)}), {r}, fc={fc}, ec=INK, lw=1.2, zorder=3))")
        c.slot(r"a|d|l|a0", 4.1, 1.1, va="top", size=10, default="a")
        kinds = ("rock-salt (two interpenetrating face-centred lattices)" if rock else "face-centred cubic" if fcc
                 else "body-centred cubic" if bcc else "simple cubic")
        shape = f"a {kinds} unit cell in oblique projection, atoms at their sites, hidden edges dashed"
    if ions:
        for k, (name, fc) in enumerate(zip(ions, ("'0.35'", "'white'"))):
            c.draw(f"ax.add_patch(Circle(({fmt(1.0 + 3.0 * k)}, 9.5), 0.22, fc={fc}, ec=INK, lw=1.2))")
            c.entity(name, 1.4 + 3.0 * k, 9.5, ha="left", size=11)
    for x, y in ((9.4, 9.4), (9.4, 0.6), (0.6, 0.6)):
        c.anchor(x, y)
    c.describe(f"A crystal-structure figure: {shape}.", "Unit cell centred; cell edge marked under the "
               "front edge; a species key at the top.", "Only the given cell edge is written; the asked "
               "radius, distance, density or count is not.")


_ORGANIC_RE = re.compile(
    r"\b((?:meth|eth|prop|but|pent|hex)(?:ene|ane|yne|anol|anal|anone|anoic acid|anoate|yl [a-z]+oate|ol)"
    r"|water|ammonia|glucose|benzene)\b", re.I)
_PRODUCT_CUE = re.compile(r"(?:→|⇌|->|form(?:s|ing|ed)?|produc\w*|yield\w*|giv(?:e|es|ing)|obtain\w*|make\w*)\W+(?:\w+\W+){0,3}\d*$", re.I)


@template("Chemistry - Reaction Scheme", "reaction scheme")
def _tpl_reaction(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    species = ctx.species()
    letters = [e for e in ctx.entities if re.fullmatch(r"[A-Z]", e)]
    eq = ctx.has("⇌", "equilibrium", "reversible")
    first_pos = {s: (m.start() if (m := re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![a-z])", text)) else 10**6) for s in species}
    if len(letters) >= 2:
        start = _ORGANIC_RE.search(text)
        boxes = ([start.group(1)] if start and not ctx.leaks(start.group(1), from_question=True) else []) + letters[:4]
        reagents = sorted(species, key=lambda s: first_pos[s])
        products: list[str] = []
    else:
        cat = [s for s in species if re.match(r"\W*(?:\w+\W+){0,1}catalys", text[first_pos[s] + len(s):], re.I)
               or re.search(r"catalys\w*\W+(?:by\W+)?(?:\w+\W+){0,1}$", text[:first_pos[s]], re.I)]
        for m in _ORGANIC_RE.finditer(text):  # named compounds join the formulas
            if m.group(1).lower() not in [s.lower() for s in first_pos]:
                first_pos[m.group(1)] = m.start()
        rest = sorted([s for s in first_pos if s not in cat and not ctx.leaks(s, from_question=True)], key=lambda s: first_pos[s])
        products = [s for s in rest if _PRODUCT_CUE.search(text[max(0, first_pos[s] - 40): first_pos[s]])]
        if not products and len(rest) >= 2:
            products = rest[-1:]
        reactants = [s for s in rest if s not in products]
        boxes = [" + ".join(reactants[:3]) or "reactants", " + ".join(products[:2]) or "products"]
        reagents = cat
    n = len(boxes)
    width = min(3.4, (9.4 - 0.9 * (n - 1)) / n)
    gap = (9.4 - n * width) / max(1, n - 1)
    xs = [0.3 + i * (width + gap) for i in range(n)]
    for i, (x, name) in enumerate(zip(xs, boxes)):
        c.draw(f"ax.add_patch(FancyBboxPatch(({fmt(x)}, 4.1), {fmt(width)}, 1.8, boxstyle='round,pad=0.08', "
               "fc=LIGHT, ec=INK, lw=1.5))")
        shown = name.replace(" + ", "\n+ ") if len(name) > 14 else name
        longest = max(len(line) for line in shown.split("\n"))
        size = max(7.0, min(12.0, (width - 0.2) * 33 / (longest * 0.66 + 0.4)))
        if c.name(x + width / 2, 5.0, shown, size=round(size, 1), nudge=False):
            c.mark_used(*name.split(" + "))
        c.block(x - 0.05, 4.0, x + width + 0.05, 6.0)
    conds = [q for q in ctx.quantities if q.unit in ("°C", "K", "℃", "atm", "bar", "kPa", "MPa", "Pa") or q.symbol in ("T", "P")]
    for i in range(n - 1):
        a, b = xs[i] + width + 0.12, xs[i + 1] - 0.12
        if eq:
            c.draw(f"arrow({fmt(a)}, 5.12, {fmt(b)}, 5.12, style='-|>', lw=1.4)", f"arrow({fmt(b)}, 4.88, {fmt(a)}, 4.88, style='-|>', lw=1.4)")
        else:
            c.draw(f"arrow({fmt(a)}, 5.0, {fmt(b)}, 5.0, lw=1.6)")
        if len(letters) >= 2:  # one reagent per arrow; the last reagents go with the last arrows
            k = i - ((n - 1) - len(reagents))
            above = reagents[k] if 0 <= k < len(reagents) else ""
        else:
            above = ", ".join(reagents)
        if above and c.name((a + b) / 2, 5.35, above, size=10, va="bottom"):
            c.mark_used(*above.split(", "))
        y = 4.75
        for q in conds[:2] if (len(letters) < 2 or i == n - 2) else []:
            if c.value(q, (a + b) / 2, y, size=9, va="top"):
                y -= 0.5
    for x, y in ((0.5, 9.4), (9.5, 9.4), (0.5, 0.6), (9.5, 0.6)):
        c.anchor(x, y)
    c.describe(f"A reaction scheme: {' → '.join(boxes)} as boxes joined by {'equilibrium' if eq else 'reaction'} "
               "arrows, reagents above the arrows and conditions below.", "Species boxes in one row across the "
               "frame; reagents above, conditions under each arrow.",
               "Unknown intermediates stay as their letters; no identified structure, mass or yield from the answer is written.")


_AUFBAU = ("1s", "2s", "2p", "3s", "3p", "4s", "3d", "4p", "5s", "4d", "5p", "6s", "4f", "5d", "6p")
_CORES = (("[Kr]", 36, "5s"), ("[Ar]", 18, "4s"), ("[Ne]", 10, "3s"), ("[He]", 2, "2s"))


_COUNT_RE = re.compile(r"\^\{?(\d{1,2}?)\}?(?=[1-7][spdf]|[^a-z0-9]|$)")
_SUBLEVEL_RE = re.compile(r"\b([1-7][spdf])\d{0,2}\b")


@template("Chemistry - Electron Config", "orbital-box diagram")
def _tpl_electrons(c: Canvas) -> None:
    ctx = c.ctx
    z = num(next(iter(ctx.find(r"Z")), None), None)
    shells: list[str] = []
    core = None
    c.specific = bool(z)
    if z:
        left = int(z)
        for sub in _AUFBAU:
            if left <= 0:
                break
            shells.append(sub)
            left -= {"s": 2, "p": 6, "d": 10, "f": 14}[sub[1]]
        for name, size, first in _CORES:
            if z > size and (ctx.has(name.lower(), name.strip("[]").lower() + " core") or len(shells) > 7):
                core, shells = name, shells[_AUFBAU.index(first):]
                break
    else:
        written = set(_SUBLEVEL_RE.findall(_COUNT_RE.sub(" ", ctx.low)))  # "1s^22s^22p^1", "1s2 2s2 2p6", "the 3d orbital"
        shells = [s for s in _AUFBAU if s in written]
        if not shells:
            c.decline("the problem gives neither an atomic number nor the sublevels to draw")
        c.specific = True
    shells = sorted(shells, key=_AUFBAU.index)[:8]
    if "3d" in shells and "4s" in shells and ctx.has("3d") and shells.index("4s") < shells.index("3d"):
        pass  # drawn in Aufbau (energy) order: 4s below 3d
    step = min(1.05, 7.4 / max(1, len(shells) + (1 if core else 0)))
    y = 1.3
    c.draw("arrow(0.7, 0.8, 0.7, 9.4, lw=1.4)")
    c.text(0.3, 5.0, "Energy", rotation=90, size=11, nudge=False)
    if core:
        c.draw(f"ax.add_patch(FancyBboxPatch((2.6, {fmt(y - 0.3)}), 2.6, 0.6, boxstyle='round,pad=0.05', fc=LIGHT, ec=INK))")
        c.text(3.9, y, f"{core} core", size=11, nudge=False, entity=True)
        y += step
    for sub in shells:
        n_box = {"s": 1, "p": 3, "d": 5, "f": 7}[sub[1]]
        x0 = 2.6
        for k in range(n_box):
            c.draw(f"ax.add_patch(Rectangle(({fmt(x0 + 0.8 * k)}, {fmt(y - 0.3)}), 0.8, 0.6, fill=False, ec=INK, lw=1.5))")
        c.text(2.35, y, sub, ha="right", size=12, nudge=False, entity=True)
        y += step
    symbol = next((s for s in ctx.species() if len(_atoms(s)) == 1), None)
    for x, yy in ((9.4, 9.4), (9.4, 0.6), (9.4, 5.0)):
        c.anchor(x, yy, ha="right")
    c.describe(f"An orbital-box diagram: {'a ' + core + ' core box and ' if core else ''}one row of boxes per "
               f"sublevel ({', '.join(shells)}), stacked by increasing energy"
               + (f" for {symbol}" if symbol else "") + ".", "Energy arrow at the left; sublevel names left of "
               "their boxes; lower energy at the bottom.",
               "The boxes are left empty: the electron arrows (the configuration and unpaired count) are the answer.")


@template("Chemistry - Orbital / Quantum", "quantum / orbital diagram")
def _tpl_orbital(c: Canvas) -> None:
    ctx = c.ctx
    text = normalize_text(ctx.question)
    if ctx.has("molecular orbital", "molecular-orbital", "bond order", "mo diagram"):
        atom = next((s for s in ctx.species()), "")
        el = re.match(r"[A-Z][a-z]?", atom).group(0) if atom else "A"
        levels = [("σ2s", 1.4, 1), ("σ*2s", 2.9, 1), ("σ2p", 4.8, 1), ("π2p", 5.5, 2), ("π*2p", 7.0, 2), ("σ*2p", 8.3, 1)]
        if el in ("B", "C", "N"):
            levels[2], levels[3] = ("σ2p", 5.7, 1), ("π2p", 4.9, 2)
        for name, y, k in levels:
            xs = [(5.0, 5.0)] if k == 1 else [(4.45, 4.45), (5.55, 5.55)]
            for xa, _ in xs:
                c.draw(line([(xa - 0.45, y), (xa + 0.45, y)], lw=2))
            c.text(6.25, y, name, ha="left", size=10, nudge=False)
        for xc in (1.6, 8.4):
            c.draw(line([(xc - 0.45, 2.15), (xc + 0.45, 2.15)], lw=2),
                   *[line([(xc + dx - 0.3, 6.2), (xc + dx + 0.3, 6.2)], lw=2) for dx in (-0.75, 0, 0.75)],
                   line([(xc + (0.5 if xc < 5 else -0.5), 2.15), (4.4 if xc < 5 else 5.6, 1.4)], lw=0.8, color="GREY", dashed=True),
                   line([(xc + (0.5 if xc < 5 else -0.5), 2.15), (4.4 if xc < 5 else 5.6, 2.9)], lw=0.8, color="GREY", dashed=True),
                   line([(xc + (1.1 if xc < 5 else -1.1), 6.2), (3.9 if xc < 5 else 6.1, 5.5)], lw=0.8, color="GREY", dashed=True),
                   line([(xc + (1.1 if xc < 5 else -1.1), 6.2), (3.9 if xc < 5 else 6.1, 7.0)], lw=0.8, color="GREY", dashed=True))
            c.text(xc, 1.75, "2s", va="top", size=10, nudge=False)
            c.text(xc, 6.55, "2p", va="bottom", size=10, nudge=False)
            c.text(xc, 9.3, f"{el} atom", size=11, nudge=False)
        if c.text(5.0, 9.3, f"{atom} molecule" if atom else "molecule", size=11, nudge=False, entity=True):
            c.mark_used(atom)
        shape = "a molecular-orbital energy diagram: atomic 2s/2p levels of each atom at the sides, σ and π molecular orbitals in the middle"
        note = "No electrons are drawn: filling them gives the bond order and unpaired count asked for."
    elif ctx.has("well", "particle in a box", "in a box", "infinite potential"):
        c.draw("ax.plot([2, 2, 8, 8], [9.4, 1.0, 1.0, 9.4], color=INK, lw=2.5)", "xs = np.linspace(2, 8, 200)",
               "arrow(2, 0.5, 8, 0.5, style='<|-|>', lw=1.1)")
        for n in (1, 2, 3):
            y = 1.6 + 6.6 * n * n / 9
            c.draw(line([(2, y), (8, y)], lw=1, color="GREY", dashed=True),
                   f"ax.plot(xs, {fmt(y)} + 0.55 * np.sin({n} * np.pi * (xs - 2) / 6), color=INK, lw=1.8)")
            label = next((q for q in ctx.quantities if q.symbol == "n" and q.value == str(n)), None)
            (c.value(label, 8.2, y, ha="left", size=10) if label else c.text(8.2, y, f"n = {n}", ha="left", size=10))
        c.slot(r"L|a|d", 5.0, 0.35, va="top", size=10, default="L")
        shape = "an infinite square well with the n = 1, 2, 3 wavefunctions drawn on their energy levels"
        note = "Energies are not written as numbers: the level spacing only shows the n² trend."
    elif ctx.has("energy level", "level diagram", "transition", "bohr", "hydrogen atom", "emission", "n = "):
        c.specific = ctx.has("energy level", "level diagram", "bohr", "hydrogen atom")  # the scheme asked for
        ns = sorted({int(m.group(1)) for m in re.finditer(r"\bn\s*=\s*(\d)\b", text)} | {1, 2, 3, 4})
        top = min(6, max(ns))
        ypos = {n: 1.2 + 7.2 * (1 - 1 / n ** 2) / (1 - 1 / top ** 2) for n in range(1, top + 1)}
        for n, y in ypos.items():
            c.draw(line([(2.8, y), (6.6, y)], lw=1.8))
            q = next((q for q in ctx.quantities if q.symbol == "n" and q.value == str(n)), None)
            (c.value(q, 2.6, y, ha="right", size=10) if q else c.text(2.6, y, f"n = {n}", ha="right", size=10))
        c.draw(line([(2.8, 9.2), (6.6, 9.2)], lw=1.2, dashed=True))
        c.text(2.6, 9.2, "n = ∞", ha="right", size=10)
        c.slot(r"E1|E_1|E0", 6.75, ypos[1], ha="left", size=10)
        m = re.search(r"from n\s*=\s*(\d)\s*to n\s*=\s*(\d)", text)
        if m and int(m.group(1)) in ypos and int(m.group(2)) in ypos:
            c.draw(f"arrow(4.7, {fmt(ypos[int(m.group(1))])}, 4.7, {fmt(ypos[int(m.group(2))])}, lw=2)")
        shape = f"an energy-level diagram of levels n = 1 to {top} (spacing as 1/n²)" + (", with the stated transition arrow" if m else "")
        note = "Level energies other than the given ones and the photon energy / wavelength are not written."
    else:
        if not re.search(r"\b(?:[2-7]p|p)[ -]?(?:orbital|subshell|sublevel)|\b[2-7]p\b|\bp[xyz]\b", ctx.low):
            c.decline("the problem names no p orbital, energy-level scheme, box or MO diagram that the template draws")
        c.specific = True  # the orbital the problem names
        c.draw(line([(0.6, 5), (9.4, 5)], lw=1, color="GREY", dashed=True), line([(5, 0.6), (5, 9.4)], lw=1, color="GREY", dashed=True),
               "ax.add_patch(Ellipse((3.4, 5), 3.0, 1.7, fc=LIGHT, ec=INK, lw=1.6))",
               "ax.add_patch(Ellipse((6.6, 5), 3.0, 1.7, fc='white', ec=INK, lw=1.6))", dot(5, 5, 0.08))
        c.text(3.4, 5.5, "+", size=14, nudge=False)  # inside the lobe, off the axis line
        c.text(6.6, 5.5, "−", size=14, nudge=False)
        c.text(9.3, 5.3, "x", size=12, va="bottom", nudge=False)
        c.text(5.3, 9.3, "y", size=12, ha="left", va="top", nudge=False)
        shape = "a p orbital drawn as two lobes of opposite phase along the x axis"
        note = "Shapes are schematic (boundary surfaces)."
    for x, y in ((0.5, 9.5), (9.5, 9.5), (9.5, 0.5), (0.5, 0.5)):
        c.anchor(x, y)
    c.describe(f"A quantum / orbital diagram: {shape}.", "Levels stacked by energy from bottom to top; "
               "labels at the sides of the levels.", note)


def _stated_present(ctx: Ctx, q: Quantity) -> bool:
    """False when the problem says the feature is absent ("no band near 3300 cm⁻¹")."""
    i = ctx.question.find(q.text)
    before = ctx.question[max(0, i - 30): i].lower() if i >= 0 else ""
    return not re.search(r"\bno\b|absent|without|\black|\bnot\b", before)


@template("Chemistry - Spectra", "spectrum sketch")
def _tpl_spectra(c: Canvas) -> None:
    ctx = c.ctx
    ir = [q for q in ctx.quantities if q.unit in ("cm⁻¹", "cm^-1", "cm-1")]
    ppm = [q for q in ctx.quantities if q.unit == "ppm"]
    nm = [q for q in ctx.quantities if q.unit == "nm"]
    mz = [q for q in ctx.quantities if q.symbol == "m/z"]
    peaks: list[tuple[Quantity, float]] = []
    if ir or ctx.has("infrared", "ir spectrum", "wavenumber", "transmittance"):
        c.frame((4000, 400), (0, 110), axes=True, equal=False, xlabel="Wavenumber (cm⁻¹)", ylabel="Transmittance (%)")
        peaks = [(q, num(q)) for q in ir if _stated_present(ctx, q) and num(q) and 400 < num(q) < 4000]
        spec = [(x, 60, 110 if ctx.has("broad") and x > 2500 else 28) for _, x in peaks] or [(2950, 45, 40), (1450, 30, 25)]
        c.draw("w = np.linspace(400, 4000, 1800)",
               f"T = 92 - sum(d * np.exp(-((w - x0) / s) ** 2) for x0, d, s in {spec!r})",
               "ax.plot(w, T, color=INK, lw=1.5)")
        for (q, x), (_, d, _) in zip(peaks, spec):
            c.value(q, x, 92 - d - 3, va="top", size=10)
        kind = "an infrared spectrum (transmittance against wavenumber, decreasing to the right)"
    elif ppm or ctx.has("nmr", "chemical shift"):
        shifts = [(q, num(q)) for q in ppm if num(q) is not None]
        hi = 13 if any(x > 9.5 for _, x in shifts) else 10
        c.frame((hi, -0.5), (0, 1.45), axes=True, equal=False, xlabel="δ (ppm)", ylabel="Intensity")
        c.ticks("y", [])
        ints = [q for q in ctx.quantities if q.unit == "H" and num(q)]
        heights = [(num(q) or 1) for q in ints] if len(ints) == len(shifts) and ints else [1.0] * len(shifts)
        top = max(heights + [1.0])
        spec = [(x, round(0.35 + 0.65 * h / top, 3)) for (_, x), h in zip(shifts, heights)] or [(1.2, 1.0), (3.5, 0.6)]
        c.draw("d = np.linspace(-0.5, %s, 3000)" % hi,
               f"I = sum(h * 0.03 ** 2 / ((d - x0) ** 2 + 0.03 ** 2) for x0, h in {spec!r})",
               "ax.plot(d, I, color=INK, lw=1.4)")
        for k, ((q, x), (_, h)) in enumerate(zip(shifts, spec)):
            c.value(q, x, h + 0.05, va="bottom", size=10)
            if k < len(ints) and len(ints) == len(shifts):
                c.value(ints[k], x + (0.35 if x > hi / 2 else -0.35), h / 2, ha="left" if x <= hi / 2 else "right", size=10)
        peaks = shifts
        kind = "a ¹H NMR spectrum (intensity against chemical shift, decreasing to the right)"
    elif mz or ctx.has("mass spectrum", "m/z"):
        vals = [(q, num(q)) for q in mz if num(q)]
        hi = max([x for _, x in vals] + [100]) * 1.15
        c.frame((0, hi), (0, 115), axes=True, equal=False, xlabel="m/z", ylabel="Relative abundance (%)")
        xs = [x for _, x in vals] or [hi * 0.4, hi * 0.8]
        c.draw(f"ax.bar({xs!r}, {[100 if i == len(xs) - 1 else 60 for i in range(len(xs))]!r}, width={fmt(hi / 120)}, color=INK)")
        for i, (q, x) in enumerate(vals):
            c.value(q, x, (100 if i == len(xs) - 1 else 60) + 3, va="bottom", size=10)
        kind = "a mass spectrum (bars of relative abundance against m/z)"
    elif nm and (ctx.has("line", "emission", "absorption spectrum", "bright") or len(nm) >= 2):
        vals = [(q, num(q)) for q in nm if num(q)]
        lo, hi = min([380] + [x - 30 for _, x in vals]), max([720] + [x + 30 for _, x in vals])
        c.frame((lo, hi), (0, 1.5), axes=True, equal=False, xlabel="Wavelength (nm)")
        c.ticks("y", [])
        dark = ctx.has("dark background", "emission")
        if dark:
            c.draw(f"ax.add_patch(Rectangle(({fmt(lo)}, 0), {fmt(hi - lo)}, 1.0, fc='0.12', ec='none'))")
        ink = "'0.95'" if dark else "INK"
        c.draw(f"ax.vlines({[x for _, x in vals]!r}, 0, 1.0, color={ink}, lw=3)")
        for q, x in vals:
            c.value(q, x, 1.07, va="bottom", size=10)
        peaks = vals
        kind = f"a line spectrum: {'bright lines on a dark band' if dark else 'dark lines'} at the given wavelengths"
    else:
        lam = next(((q, num(q)) for q in nm if num(q)), None)
        x0 = lam[1] if lam else 500
        c.frame((max(200, x0 - 250), x0 + 250), (0, 1.25), axes=True, equal=False, xlabel="Wavelength (nm)", ylabel="Absorbance")
        c.draw(f"w = np.linspace({fmt(max(200, x0 - 250))}, {fmt(x0 + 250)}, 500)",
               f"ax.plot(w, np.exp(-((w - {fmt(x0)}) / 60) ** 2), color=INK, lw=1.8)")
        if lam:
            c.value(lam[0], x0, 1.05, va="bottom", size=10)
        kind = "an absorption spectrum with one broad band"
    for spot in ((0.97, 0.97), (0.5, 0.97), (0.03, 0.97)):
        x = c.xlim[0] + spot[0] * (c.xlim[1] - c.xlim[0])
        y = c.ylim[0] + spot[1] * (c.ylim[1] - c.ylim[0])
        c.anchor(x, y, va="top")
    c.describe(f"A spectrum sketch: {kind}; only the features the problem states are drawn, at their given positions.",
               "Axes kept (plot); peaks labelled with their given values above them.",
               "Features the problem says are absent are not drawn; the compound or transition asked for is not named.")
