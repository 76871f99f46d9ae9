"""Pushing the fine-tuning exports to a dataset repository on the Hugging Face Hub, or any
server that speaks its API (``HF_ENDPOINT``, e.g. a private Hub mirror).

The token is read from an environment variable at push time and handed only to
``huggingface_hub``; it is never logged, returned or written into a manifest or card.
One push is one commit: the card, the manifest and every parquet file of the exports, and
the deletion of parquet files an earlier push left that this export no longer has (a set
whose model left the registry, a subset size no longer chosen). Files the Hub already
holds with the same content are skipped by ``huggingface_hub`` itself.
"""

from __future__ import annotations

import os

from scigen_dagster.exports import writer

DEFAULT_TOKEN_ENV = "HF_TOKEN"


def export_files(manifest: dict) -> list[str]:
    """The paths, relative to the exports folder (= the repository root), of every file of
    the exports that ``manifest`` describes: card, manifest, parquet sets and subsets."""
    files = ["README.md", "manifest.json"]
    for export in manifest["exports"].values():
        files += [f["path"] for f in export["files"].values()] + [s["path"] for s in export["subsets"]]
    return files


def hub_token(token_env: str, repo_id: str) -> str:
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise ValueError(f"push_to_hub={repo_id!r} needs a Hub token with write access in the environment variable "
                         f"{token_env} (it is read from there only); set it, or leave push_to_hub empty")
    return token


def push_exports(storage, manifest: dict, repo_id: str, *, token_env: str = DEFAULT_TOKEN_ENV,
                 private: bool = True, endpoint: str | None = None, revision: str = "main") -> dict:
    """Create the dataset repository ``repo_id`` if needed and commit the exports to it.
    ``endpoint`` defaults to ``HF_ENDPOINT`` as set now (huggingface_hub reads it only once,
    at import). Returns what was pushed: repository, url, commit, files, deleted files."""
    # Imported here: the code location loads without huggingface_hub unless a push is asked for.
    from huggingface_hub import HfApi, constants
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    if "/" not in repo_id.strip("/"):
        raise ValueError(f"push_to_hub={repo_id!r} is not a repository id; write it as 'namespace/name'")
    token = hub_token(token_env, repo_id)
    if constants.is_offline_mode():
        raise RuntimeError(f"push_to_hub={repo_id!r} but HF_HUB_OFFLINE is set, which blocks every Hub request; run "
                           "the code location without it (e.g. `make ui HF_HUB_OFFLINE=0`) to push")
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    bars_were_on = not are_progress_bars_disabled()
    disable_progress_bars()  # per-file upload bars: noise in a run's log
    try:
        return _commit(HfApi(endpoint=endpoint, token=token), storage, manifest, repo_id, private, revision)
    finally:
        if bars_were_on:
            enable_progress_bars()


def _commit(api, storage, manifest: dict, repo_id: str, private: bool, revision: str) -> dict:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    files = export_files(manifest)
    # A local store hands huggingface_hub the file's path (read in chunks); an object store
    # the bytes, read once.
    operations = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=(
        storage.path(f"{writer.EXPORTS_DIR}/{rel}") if storage.is_local else storage.read_bytes(f"{writer.EXPORTS_DIR}/{rel}")))
        for rel in files]
    remote = api.list_repo_files(repo_id, repo_type="dataset", revision=revision)
    stale = sorted(p for p in remote if p.endswith(".parquet") and p not in set(files))
    operations += [CommitOperationDelete(path_in_repo=p) for p in stale]
    sets = ", ".join(f"{n} ({e['rows']} rows)" for n, e in manifest["exports"].items())
    info = api.create_commit(repo_id, operations, repo_type="dataset", revision=revision,
                             commit_message=f"scigen-dagster exports of {manifest.get('created_at', 'now')}",
                             commit_description=f"Sets: {sets}. Code: git {manifest['code']['git_commit']}.")
    return {"repo_id": repo_id, "url": str(url), "revision": revision, "commit": info.oid,
            "commit_url": info.commit_url, "files": files, "deleted": stale}
