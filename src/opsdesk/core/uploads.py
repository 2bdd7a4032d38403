"""Checks every uploaded file before it is stored: a clean name, an allowed type whose
content matches its extension (an executable renamed .png is refused), and a size limit.
Files are stored under random names; the original name is kept only as data."""

from __future__ import annotations

import os
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from opsdesk.core.exceptions import ServiceError

ZIP = (b"PK\x03\x04",)
# extension → (content type, accepted leading bytes; None means UTF-8 text without NUL bytes)
UPLOAD_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    ".zip": ("application/zip", ZIP),
    ".txt": ("text/plain", None),
    ".log": ("text/plain", None),
    ".csv": ("text/csv", None),
    ".eml": ("message/rfc822", None),
}
MAX_NAME_LENGTH = 200
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int


def clean_file_name(raw: str) -> str:
    """The last path component, without control or formatting characters (which can hide a
    second extension, e.g. a right-to-left override), trimmed to a sane length."""
    name = os.path.basename(str(raw or "").replace("\\", "/"))
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    stem, extension = os.path.splitext(name)
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension.lower()


def check_upload(upload: Any, *, allowed: set[str] | None = None, field: str = "file") -> CheckedUpload:
    """Validate an uploaded file or raise ServiceError naming ``field`` and the reason."""
    name = clean_file_name(getattr(upload, "name", ""))
    extension = os.path.splitext(name)[1]
    permitted = sorted(allowed or UPLOAD_TYPES)
    if not os.path.splitext(name)[0] or extension not in permitted:
        raise ServiceError(f"Attach {', '.join(permitted)} files only.", code="file_type", field=field)
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise ServiceError(
            f"Files may be at most {settings.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            code="file_too_large",
            field=field,
        )
    if upload.size == 0:
        raise ServiceError("The file is empty.", code="file_empty", field=field)
    content_type, signatures = UPLOAD_TYPES[extension]
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if signatures is None:
        if b"\x00" in head or not _utf8_prefix(head):
            raise ServiceError(f"{name} is not a text file.", code="file_content", field=field)
    elif not head.startswith(signatures):
        raise ServiceError(f"{name} is not really a {extension} file.", code="file_content", field=field)
    return CheckedUpload(name=name, content_type=content_type, size=upload.size)


def _utf8_prefix(head: bytes) -> bool:
    # The sniffed prefix may end inside a multi-byte character: allow up to 3 dangling bytes.
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def random_upload_path(folder: str, name: str) -> str:
    """Where a file is stored: a random name under ``folder``; an uploaded name never becomes a path."""
    return f"{folder}/{uuid.uuid4().hex}{os.path.splitext(name)[1][:10].lower()}"
