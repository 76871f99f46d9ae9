"""Models the stages call, shipped inside pip packages or built from configuration:
OCR (every model's figures are read with it), the zero-shot taxonomy classifier, the
tiny diffusion pipeline and the FID Inception network."""
