"""Where the corpus comes from: a sources YAML, or the embedded sample when unset."""

from __future__ import annotations

import os

import dagster as dg

from scigen_dagster.problems.sources import SourcesConfig, load_sources_file

SOURCES_ENV = "SCIGEN_SOURCES"


class CorpusResource(dg.ConfigurableResource):
    """The corpus sources file (YAML). Empty means the embedded sample corpus."""

    sources_file: str = ""

    def config(self) -> SourcesConfig:
        return load_sources_file(self.sources_file or os.environ.get(SOURCES_ENV) or None)
