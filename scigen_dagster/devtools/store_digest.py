"""Compare the content of two stores, file by file: are two runs' outputs the same?

    python -m scigen_dagster.devtools.store_digest STORE_A STORE_B

A table is compared by its rows, not its bytes: the fingerprint in its footer names the
code that made it, so it differs whenever the code moved, and ``render_seconds`` is a
wall-clock measurement. Images and exports are compared byte for byte; a manifest
without its creation time, code version and export fingerprints. The last line printed
is a JSON summary.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

VOLATILE_COLUMNS = ("render_seconds",)  # measured, not computed
SKIP = ("cache/",)  # OCR and Inception caches: keyed by content already


def table_digest(path: Path) -> str:
    table = pq.read_table(path)
    table = table.drop_columns([c for c in VOLATILE_COLUMNS if c in table.column_names])
    table = table.replace_schema_metadata({k: v for k, v in (table.schema.metadata or {}).items()
                                           if k != b"scigen.fingerprint"})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return hashlib.sha256(buf.getvalue()).hexdigest()


def manifest_digest(path: Path) -> str:
    manifest = json.loads(path.read_text())
    for key in ("created_at", "code"):
        manifest.pop(key, None)
    for export in manifest.get("exports", {}).values():
        export.pop("fingerprint", None)
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def digest(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(SKIP) or rel.startswith("reports/"):
            continue  # the report embeds its generation time; its inputs are the tables
        if path.suffix == ".parquet" and not rel.startswith("tables/exports/"):
            out[rel] = table_digest(path)
        elif path.name == "manifest.json":
            out[rel] = manifest_digest(path)
        elif path.name == "README.md" and rel.startswith("tables/exports/"):
            continue  # the dataset card quotes the manifest's creation time and code version
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def compare(a: Path, b: Path) -> dict:
    da, db = digest(a), digest(b)
    common = set(da) & set(db)
    differ = sorted(k for k in common if da[k] != db[k])
    return {"files": len(common), "identical": len(common) - len(differ), "differ": differ,
            "only_in_first": sorted(set(da) - set(db)), "only_in_second": sorted(set(db) - set(da)),
            "tables": sum(k.endswith(".parquet") for k in common), "images": sum(k.startswith("images/") for k in common)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    result = compare(Path(argv[0]), Path(argv[1]))
    print(json.dumps(result))
    return 0 if not (result["differ"] or result["only_in_first"] or result["only_in_second"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
