"""Configuration and lifecycle of what assets use: storage, model access (llm), the code
sandbox, diffusers models, the corpus sources and the shared engines."""
