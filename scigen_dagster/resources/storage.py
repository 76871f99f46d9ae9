"""One storage root for every table and image: a local folder or an fsspec URL.

Tables are Parquet files under ``tables/<asset path>/<partition>.parquet``; images are
content-addressed PNGs under ``images/<aa>/<sha256>.png`` so the same figure is stored
once however many runs produce it. Every write goes to a temporary name first and is
renamed into place, so a crash never leaves a half-written file that a later run would
read as valid.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from typing import Any

import dagster as dg
import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import PrivateAttr

from scigen_dagster.fingerprints import sha256_bytes

FINGERPRINT_KEY = b"scigen.fingerprint"


def table_to_parquet_bytes(df: pd.DataFrame, fp: str | None = None,
                           schema_metadata: dict[bytes, bytes] | None = None) -> bytes:
    table = pa.Table.from_pandas(df, preserve_index=False)
    if fp is not None or schema_metadata:
        meta = dict(table.schema.metadata or {}) | dict(schema_metadata or {})
        if fp is not None:
            meta[FINGERPRINT_KEY] = fp.encode()
        table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    # No statistics-dependent timestamps are written by pyarrow, so identical frames give
    # identical bytes: re-materializing an unchanged partition rewrites the same file.
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


class StorageResource(dg.ConfigurableResource):
    """Where scigen-dagster keeps its tables and figures (local path or fsspec URL)."""

    root: str = ".scigen/store"

    _fs: Any = PrivateAttr(default=None)
    _base: str = PrivateAttr(default="")

    def _filesystem(self):
        if self._fs is None:
            fs, base = fsspec.core.url_to_fs(self.root)
            if fs.protocol in ("file", ("file", "local")) or "file" in (fs.protocol or ()):
                base = os.path.abspath(base)
            self._fs, self._base = fs, base.rstrip("/")
        return self._fs

    @property
    def is_local(self) -> bool:
        fs = self._filesystem()
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        return "file" in protocols or "local" in protocols

    def path(self, rel: str) -> str:
        self._filesystem()
        return f"{self._base}/{rel.lstrip('/')}"

    # -- bytes -------------------------------------------------------------------------
    def write_bytes(self, rel: str, data: bytes) -> str:
        fs = self._filesystem()
        dest = self.path(rel)
        parent = dest.rsplit("/", 1)[0]
        fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        with fs.open(tmp, "wb") as fh:
            fh.write(data)
        if self.is_local:
            os.replace(tmp, dest)  # atomic on POSIX
        else:
            fs.mv(tmp, dest)  # object stores: a PUT of the final key is atomic per object
        return dest

    def read_bytes(self, rel: str) -> bytes:
        with self._filesystem().open(self.path(rel), "rb") as fh:
            return fh.read()

    def exists(self, rel: str) -> bool:
        return self._filesystem().exists(self.path(rel))

    def remove(self, rel: str) -> None:
        """Delete a file or a folder (recursively) under the root; absent is fine."""
        if not rel.strip("/"):
            raise ValueError("refusing to remove the whole store")
        fs = self._filesystem()
        if fs.exists(self.path(rel)):
            fs.rm(self.path(rel), recursive=True)

    # -- images --------------------------------------------------------------------------
    @staticmethod
    def image_rel(sha: str) -> str:
        return f"images/{sha[:2]}/{sha}.png"

    def put_png(self, data: bytes) -> tuple[str, str]:
        """Store PNG bytes by content; returns (sha256, relative path). Idempotent."""
        sha = sha256_bytes(data)
        rel = self.image_rel(sha)
        if not self.exists(rel):
            self.write_bytes(rel, data)
        return sha, rel

    # -- json ----------------------------------------------------------------------------
    def write_json(self, rel: str, obj: Any) -> str:
        return self.write_bytes(rel, json.dumps(obj, sort_keys=True, indent=1, default=str).encode())

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel))

    # -- tables --------------------------------------------------------------------------
    @staticmethod
    def table_rel(asset: str, partition: str | None = None) -> str:
        return f"tables/{asset}/{partition}.parquet" if partition else f"tables/{asset}.parquet"

    def write_table(
        self, asset: str, df: pd.DataFrame, partition: str | None = None, fp: str | None = None,
        schema_metadata: dict[bytes, bytes] | None = None,
    ) -> tuple[str, str]:
        """Write ``df``; returns (absolute path, sha256 of the file = its data version).
        ``schema_metadata`` goes into the Parquet schema (e.g. the features `datasets` reads)."""
        data = table_to_parquet_bytes(df, fp, schema_metadata)
        return self.write_bytes(self.table_rel(asset, partition), data), sha256_bytes(data)

    def read_table(self, asset: str, partition: str | None = None) -> pd.DataFrame:
        rel = self.table_rel(asset, partition)
        if not self.exists(rel):
            where = f"partition {partition!r} of " if partition else ""
            raise FileNotFoundError(
                f"{where}asset {asset!r} has no table at {self.path(rel)}; materialize it first "
                f"(e.g. `dagster asset materialize --select '{asset}'`)"
            )
        with self._filesystem().open(self.path(rel), "rb") as fh:
            return pq.read_table(fh).to_pandas()

    def read_partitions(self, asset: str, keys) -> pd.DataFrame:
        """Every stored partition of ``asset`` among ``keys``, concatenated, with a
        ``partition`` column; partitions never materialized are simply absent."""
        frames = [self.read_table(asset, k).assign(partition=k) for k in keys if self.exists(self.table_rel(asset, k))]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def table_fingerprint(self, asset: str, partition: str | None = None) -> str | None:
        """The fingerprint stored with a table, read from the Parquet footer only."""
        rel = self.table_rel(asset, partition)
        if not self.exists(rel):
            return None
        with self._filesystem().open(self.path(rel), "rb") as fh:
            meta = pq.read_schema(fh).metadata or {}
        value = meta.get(FINGERPRINT_KEY)
        return value.decode() if value else None

    def table_rows(self, asset: str, partition: str | None = None) -> int:
        """Row count from the Parquet footer (0 when the table does not exist)."""
        rel = self.table_rel(asset, partition)
        if not self.exists(rel):
            return 0
        with self._filesystem().open(self.path(rel), "rb") as fh:
            return pq.ParquetFile(fh).metadata.num_rows

    def table_sha(self, asset: str, partition: str | None = None) -> str | None:
        rel = self.table_rel(asset, partition)
        return sha256_bytes(self.read_bytes(rel)) if self.exists(rel) else None
