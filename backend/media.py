"""Getting each sample's media to Label Studio: referenced by URL, served from
Label Studio's local files storage, or uploaded in batches.

Upload batches respect Label Studio's limits (100 files and well under its
250 MB body limit per request), and only one batch of files is open at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import quote, urlparse

from .client import Connection, LabelStudioError

MEDIA_MODES = ("auto", "upload", "local_storage", "url")

MAX_FILES_PER_UPLOAD = 100
MAX_BYTES_PER_UPLOAD = 100 * 1024**2

UPLOADABLE_EXTENSIONS = frozenset({".bmp", ".gif", ".jpg", ".jpeg", ".png", ".svg", ".webp"})
"""Image types Label Studio accepts as uploads (its ``SUPPORTED_EXTENSIONS``)."""

_URL_SCHEMES = ("http", "https", "s3", "gs", "azure-blob", "az")


@dataclass(frozen=True)
class LocalFiles:
    """Label Studio's local files serving, as configured for the server."""

    enabled: bool
    document_root: str | None

    @classmethod
    def from_environment(cls, environ=os.environ) -> "LocalFiles":
        """Read from the variables Label Studio itself reads, which a server on
        this machine shares with FiftyOne."""
        enabled = environ.get("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "").lower() == "true"
        root = environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT") or None
        return cls(enabled, os.path.realpath(root) if root else None)


@dataclass(frozen=True)
class MediaPlan:
    """How media will reach Label Studio, and why."""

    mode: str
    reason: str


def is_url(path: str) -> bool:
    """Whether a media path is a URL Label Studio can fetch itself.

    Example:
        >>> is_url("https://example.com/a.jpg"), is_url("/data/a.jpg")
        (True, False)
    """
    return urlparse(path).scheme in _URL_SCHEMES


def plan_media(filepaths: Sequence[str], mode: str, local_files: LocalFiles) -> MediaPlan:
    """Decides how media reach Label Studio; ``"auto"`` picks URLs when every
    path is one, local storage when every file lies under Label Studio's
    document root, else upload. Raises ValueError, naming ``media`` and the
    fix, when the requested mode cannot serve these paths."""
    if mode not in MEDIA_MODES:
        raise ValueError(f"media={mode!r} is not one of {', '.join(MEDIA_MODES)}")
    urls = [is_url(path) for path in filepaths]
    if all(urls):
        if mode in ("auto", "url"):
            return MediaPlan("url", "every media path is a URL: Label Studio fetches it")
        raise ValueError(
            f"media={mode!r} needs local files, but the media paths are URLs; use media='url'"
        )
    if any(urls):
        raise ValueError(
            "the media mix URLs and local files; annotate them in separate runs (or media='url' for URLs)"
        )
    if mode == "url":
        raise ValueError("media='url' needs http(s) or cloud URLs, but the media are local files")

    outside = _outside_root(filepaths, local_files)
    if mode == "local_storage" and outside:
        raise ValueError(f"media='local_storage' cannot serve these files: {outside}")
    if mode in ("auto", "local_storage") and not outside:
        return MediaPlan(
            "local_storage",
            f"every file lies under Label Studio's document root {local_files.document_root}: "
            "referenced, not copied",
        )
    bad = sorted({os.path.splitext(p)[1].lower() for p in filepaths} - UPLOADABLE_EXTENSIONS)
    if bad:
        raise ValueError(
            f"media='upload' cannot send {', '.join(bad)} files (Label Studio accepts "
            f"{', '.join(sorted(UPLOADABLE_EXTENSIONS))}); convert them, or serve them with "
            "Label Studio's local storage (media='local_storage')"
        )
    reason = "files are uploaded in batches" + (f" ({outside})" if mode == "auto" else "")
    return MediaPlan("upload", reason)


def _outside_root(filepaths: Sequence[str], local_files: LocalFiles) -> str | None:
    """Why local storage cannot serve the files, or None when it can."""
    if not local_files.enabled or not local_files.document_root:
        return (
            "Label Studio's local files serving is off here (LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED"
            "=true and LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT set it up)"
        )
    for path in filepaths:
        relative = _relative_to_root(path, local_files.document_root)
        if relative is None or os.sep not in relative:
            return f"{path} is not in a folder under the document root {local_files.document_root}"
    return None


def _relative_to_root(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` when it lies under it (by path ancestry,
    after resolving links), else None."""
    real = os.path.realpath(path)
    if os.path.commonpath([real, root]) != root:
        return None
    return os.path.relpath(real, root)


def check_files_exist(filepaths: Sequence[str]) -> None:
    """Raises ValueError naming the missing media, before anything is sent."""
    missing = [path for path in filepaths if not is_url(path) and not os.path.isfile(path)]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise ValueError(f"{len(missing)} media files do not exist: {shown}")


def media_urls(
    connection: Connection,
    project_id: int,
    filepaths: Sequence[str],
    plan: MediaPlan,
    local_files: LocalFiles,
    progress: Callable[[int], None] = lambda done: None,
) -> list[str]:
    """The URL each media file has in Label Studio, in the order given;
    ``progress(n)`` is told how many are placed so far."""
    if plan.mode == "url":
        return list(filepaths)
    if plan.mode == "local_storage":
        return _local_storage_urls(connection, project_id, filepaths, local_files)
    return _upload(connection, project_id, filepaths, progress)


def _local_storage_urls(connection, project_id, filepaths, local_files) -> list[str]:
    # Label Studio serves a file only through a storage whose folder holds it,
    # and refuses the document root itself as that folder: one storage per
    # top-level folder under the root.
    relatives = [_relative_to_root(path, local_files.document_root) for path in filepaths]
    for folder in sorted({relative.split(os.sep, 1)[0] for relative in relatives}):
        connection.request(
            "POST",
            "api/storages/localfiles",
            "connect Label Studio's local files storage",
            json={
                "project": project_id,
                "path": os.path.join(local_files.document_root, folder),
                "title": f"FiftyOne media: {folder}"[:255],
                "use_blob_urls": True,
                "recursive_scan": True,
            },
        )
    return [
        f"/data/local-files/?d={quote(relative.replace(os.sep, '/'))}" for relative in relatives
    ]


def _upload(connection, project_id, filepaths, progress) -> list[str]:
    urls: list[str] = []
    for batch in _batches(filepaths):
        files = []
        try:
            for i, path in enumerate(batch):
                # a distinct field per file: Label Studio keeps one file per field
                files.append((f"file{i}", (os.path.basename(path), open(path, "rb"))))
            body = connection.request(
                "POST",
                f"api/projects/{project_id}/import",
                f"upload {len(batch)} media files",
                params={"commit_to_project": "false"},
                files=files,
            )
        finally:
            for _, (_, handle) in files:
                handle.close()
        upload_ids = body.get("file_upload_ids") or []
        if len(upload_ids) != len(batch):
            raise LabelStudioError(
                f"Label Studio stored {len(upload_ids)} of {len(batch)} uploaded files; try again."
            )
        uploads = connection.request(
            "GET",
            f"api/projects/{project_id}/file-uploads",
            "look up uploaded media",
            params={"ids": "[" + ",".join(map(str, upload_ids)) + "]"},
        )
        stored = {upload["id"]: upload["file"] for upload in uploads}
        for upload_id, path in zip(upload_ids, batch):
            name = stored.get(upload_id, "")
            # stored as upload/<project>/<uuid>-<original name>
            if not name.endswith("-" + os.path.basename(path)):
                raise LabelStudioError(
                    f"Label Studio lost track of the upload of {path}; try again."
                )
            urls.append("/data/" + name)
        progress(len(urls))
    return urls


def _batches(filepaths: Sequence[str]):
    batch, size = [], 0
    for path in filepaths:
        file_size = os.path.getsize(path)
        if batch and (
            len(batch) == MAX_FILES_PER_UPLOAD or size + file_size > MAX_BYTES_PER_UPLOAD
        ):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += file_size
    if batch:
        yield batch
