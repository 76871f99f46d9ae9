"""Fine-tuning sets: selection of verified figures, the hybrid set, scaling subsets,
VeRL and HF parquet formats, the dataset card and provenance."""
