"""scigen-dagster: scientific figure synthesis, evaluation and exports as Dagster assets."""

import warnings

# The single-run backfill policy is what lets one run (and one model load) serve many
# partitions; it is a deliberate choice, so its beta notice is not repeated per asset.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` .* is currently in beta")
