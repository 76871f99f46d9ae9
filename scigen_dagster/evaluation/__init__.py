"""Evaluation of figures: the judge's rubric scores, inverse validation (R_inv), image
metrics against real figures, FID / KID, and bootstrap statistics."""
