"""Documents customers upload (photo IDs, proof of income, papers for a dispute): checked for what
they really are, and kept encrypted on disk with PORTAL_ENCRYPTION_KEY.

No URL reaches PRIVATE_MEDIA_ROOT: a view checks who asks before serving a file, and the file is
decrypted only in memory on its way out. Files written before encryption began are plain; they
still read, and `reencrypt_secrets` encrypts them.
"""

import io
import os
import shutil
import tempfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kernel.crypto import decrypt_bytes, encrypt_bytes, key_is_newest, reencrypt_bytes
from kernel.errors import ApplicationError

ALLOWED_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
NAME_SUFFIXES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
# Every Fernet token starts with its version byte, 0x80, which base64 writes as "gA". No PDF,
# JPEG or PNG starts so: the files written before encryption are told apart by their first bytes.
_TOKEN_START = b"gAAAAA"


def is_encrypted(data: bytes) -> bool:
    return data.startswith(_TOKEN_START)


class EncryptedStorage(FileSystemStorage):
    """FileSystemStorage under PRIVATE_MEDIA_ROOT that encrypts what it writes and decrypts what
    it reads."""

    def __init__(self, **kwargs):
        super().__init__(location=settings.PRIVATE_MEDIA_ROOT, base_url=None, **kwargs)

    def _save(self, name, content):
        content.seek(0)
        return super()._save(name, ContentFile(encrypt_bytes(content.read())))

    def _open(self, name, mode="rb"):
        with super()._open(name, "rb") as stored:
            data = stored.read()
        return ContentFile(decrypt_bytes(data) if is_encrypted(data) else data, name=name)

    def reencrypt(self, name: str) -> bool | None:
        """Put one file under the newest key (or encrypt a plain one); False when it already was,
        None when the file is gone (deleted meanwhile). The file is replaced whole, never left half
        written, with the permissions it had."""
        path = self.path(name)
        try:
            with open(path, "rb") as stored:
                data = stored.read()
        except FileNotFoundError:
            return None
        if is_encrypted(data) and key_is_newest(data):
            return False
        token = reencrypt_bytes(data) if is_encrypted(data) else encrypt_bytes(data)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(handle, "wb") as out:
            out.write(token)
        try:
            shutil.copymode(path, temporary)
        except FileNotFoundError:  # deleted while this ran: it stays deleted
            os.unlink(temporary)
            return None
        os.replace(temporary, path)
        return True


def private_storage() -> EncryptedStorage:
    return EncryptedStorage()


def stored_files_reencrypt(querysets) -> tuple[int, int]:
    """Every file of the given querysets (of models with a `file` field) under the newest key.
    Returns (re-encrypted, already were). Safe to stop and to run again."""
    done = unchanged = 0
    for queryset in querysets:
        for row in queryset.exclude(file="").only("pk", "file").iterator():
            moved = row.file.storage.reencrypt(row.file.name)
            if moved:
                done += 1
            elif moved is False:
                unchanged += 1
    return done, unchanged


def document_type(upload: UploadedFile) -> str:
    """What the file really is, read from its content (not its name): a PDF, JPEG or PNG that
    opens, of at most ASSISTANCE_UPLOAD_MAX_BYTES, whose name says the same. Else ApplicationError."""
    name = upload.name or "file"
    if upload.size > settings.ASSISTANCE_UPLOAD_MAX_BYTES:
        limit = settings.ASSISTANCE_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ApplicationError(format_lazy(_("{name} is larger than {limit} MB."), name=name, limit=limit))
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    detected = None
    if data.startswith(b"%PDF-"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            if len(PdfReader(io.BytesIO(data)).pages) > 0:
                detected = "application/pdf"
        except (PdfReadError, ValueError, KeyError, TypeError):
            detected = None
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                detected = {"JPEG": "image/jpeg", "PNG": "image/png"}.get(image.format)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            detected = None
    if detected is None:
        raise ApplicationError(
            format_lazy(_("{name} is not a PDF, JPEG or PNG file that can be opened."), name=name)
        )
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if NAME_SUFFIXES.get(suffix) != detected:
        raise ApplicationError(
            format_lazy(
                _("{name} does not contain what its name says; it looks like {kind}."),
                name=name,
                kind=ALLOWED_TYPES[detected][1:].upper(),
            )
        )
    return detected


UPLOAD_HELP = _("A PDF, JPEG or PNG file of up to 10 MB.")


def private_file_response(stored, *, content_type: str):
    """A customer's document, decrypted, shown in the browser and never cached along the way."""
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response
