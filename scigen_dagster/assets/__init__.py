"""The Dagster layer: assets, checks and partitions that wire the stage packages.

An asset reads its inputs, calls its stage, writes the table and reports metadata; the
loop it shares with the others (fingerprint, reuse, progress) is ``steps.run_step``.
Modules that define assets do not use ``from __future__ import annotations``: Dagster
reads the ``context`` annotation at definition time.
"""
