"""Input validation at the door: the same rules as the workflows' own routes (tasks.shared.documents),
and the text of a file the user names."""

import codecs

from tasks.shared.documents import NotJson, errors, loads

__all__ = ["NotJson", "NotText", "errors", "loads", "text_of"]


class NotText(ValueError):
    """A file's bytes that are not UTF-8 text; the message says what they look like."""


def text_of(data: bytes) -> str:
    """A file's bytes as UTF-8 text; a UTF-8 byte order mark (as Windows editors may write) is
    dropped, as JSON parsers refuse it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # PowerShell 5's `>` and Out-File write UTF-16: say so, not which byte broke UTF-8
        raise NotText("not UTF-8 text: UTF-16, as PowerShell's > writes; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise NotText(f"not UTF-8 text (byte {byte:#04x} at offset {error.start}: {error.reason})") from None
