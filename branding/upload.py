"""The logo form's body, read without Django's multipart parser: this site stops that parser at the first
file part (DATA_UPLOAD_MAX_NUMBER_FILES = 0, so that no member page ever spools a file). This form alone
takes one file, read into memory up to MAX_BODY bytes and no further."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from django.http import QueryDict

from .images import MAX_LOGO_BYTES, too_big

# The logo and the form's few fields.
MAX_BODY = MAX_LOGO_BYTES + 16 * 1024
FILE_FIELD = "logo"


def logo_form_read(request) -> tuple[QueryDict, bytes]:
    """(the form's fields, the bytes of its file, b"" when none was chosen). NotAnImage for a body over
    MAX_BODY, which is not read past that."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > MAX_BODY:
        raise too_big(declared)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise too_big(len(body))
    if request.content_type != "multipart/form-data":
        return QueryDict(body, encoding="utf-8"), b""
    header = f"Content-Type: {request.META.get('CONTENT_TYPE', '')}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    fields, content = QueryDict(mutable=True), b""
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            if name == FILE_FIELD:
                content = payload
        elif name:
            fields.appendlist(name, payload.decode("utf-8", "replace"))
    return fields, content
