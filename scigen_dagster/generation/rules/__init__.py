"""Rule-based stand-in for the ImgCoder planner (the offline default).

ImgCoder (SciGenBench) has a model read a science problem, write a plan in four parts
(Image Content, Layout, Labels, Drawing Considerations) and then a standalone matplotlib
script. Offline there is no model, so this package plans honestly by rules:

* the problem text is read with ``quantities.extract_quantities`` (given values) and
  ``quantities.extract_labels`` (named entities) plus a few keyword switches per image
  type; the elements and quizzes of an item are never used (they are the evaluation);
* each of the 25 image types has a small textbook-style template (a triangle, a circuit
  loop, a PV loop, a Punnett grid ...), chosen by what the problem describes; when no
  template fits (an unknown type, a problem the template cannot draw, a figure that would
  carry nothing of the problem) the planner declines with the reason instead of drawing
  another problem's stock figure;
* given values are written into the figure where the template has a place for them, and
  the named ones also into a "Given:" box at the side (name, value and unit as the problem
  writes them, subscripts as mathtext); entity labels go to template anchors, with a
  collision check on estimated text extents and on drawn lines, so that labels neither
  overlap nor sit on a line;
* initial setting only: no text that would reveal the answer is written. A label whose
  number equals a number of the answer (and is not a number the problem gives), or a
  template word that only the answer contains, is withheld;
* ``repair_hint`` (the error tail of a failed render) switches to the simplest
  template, the offline counterpart of sending the error back to the model.

The same item always gives the same plan and byte-identical code. The plan contract
(``FigurePlan``, ``parse_plan_text``) is shared with the model planner and lives in
``scigen_dagster.generation.plan``. Here, ``context`` reads the problem, ``layout`` is the
canvas that places labels, ``codegen`` assembles the plan and script and holds the
template registry, and ``math``, ``physics``, ``chemistry``, ``biology`` and
``universal`` hold the templates, which register themselves when imported. The asset
fingerprint hashes source code, so it has to cover every module of this package (and
``plan``) for a template edit to recompute the figures.
"""

from __future__ import annotations

# The subject modules register their templates when imported.
from scigen_dagster.generation.rules import biology, chemistry, math, physics, universal  # noqa: F401
from scigen_dagster.generation.rules.codegen import PLANNER_VERSION, Declined, plan_figure

__all__ = ["PLANNER_VERSION", "Declined", "plan_figure"]
