"""What a researcher reads: the leaderboard table, its plots, thumbnail grids, the
self-contained HTML report, and one way of formatting values that were not measured."""
