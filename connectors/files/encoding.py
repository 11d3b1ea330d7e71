"""Which text encoding a CSV export is in, by a small rule set that covers what sellers meet:

1. a byte-order mark decides: UTF-8-SIG, UTF-16 LE/BE (the BOM is removed);
2. no BOM but NUL bytes in the first kilobyte (text never has them; in UTF-16 every ASCII character —
   digits, commas, line ends — brings one): UTF-16, LE if they sit on odd positions, BE if on even ones;
3. bytes that decode as strict UTF-8: UTF-8 (an ASCII-only file too);
4. bytes that decode as strict GB18030 (a superset of GBK and GB2312, what Excel and Taobao write): GB18030;
5. otherwise the one of UTF-8 / GB18030 with fewer undecodable bytes; those bytes become U+FFFD and the rows
   holding them are quarantined, so one bad byte does not lose the file.

Why no charset-detection library: statistical detectors guess between GBK, Big5 and Shift-JIS on short files
and sometimes call a small GBK file windows-1252; for Chinese e-commerce exports these five rules are exact on
every file the platforms write, and they explain themselves in a sentence.
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK = 1 << 20

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
REPLACEMENT = "\ufffd"


def detect_encoding(data: bytes) -> str:
    """The encoding of `data` (a name `bytes.decode` accepts), by the rules above."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    head = data[:1024]
    if head.count(0) * 20 >= len(head) > 0:
        even_nuls = head[0::2].count(0)
        odd_nuls = head[1::2].count(0)
        return "utf-16-be" if even_nuls > odd_nuls else "utf-16-le"
    for name in ("utf-8", "gb18030"):
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    errors = {name: data.decode(name, errors="replace").count(REPLACEMENT) for name in ("utf-8", "gb18030")}
    return min(errors, key=lambda name: errors[name])


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): the text without its BOM; undecodable bytes become U+FFFD."""
    encoding = detect_encoding(data)
    text = data.decode(encoding, errors="replace")
    if encoding.startswith("utf-16") and text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def _decodes(path: Path, name: str) -> bool:
    decoder = codecs.getincrementaldecoder(name)("strict")
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _replacements(path: Path, name: str) -> int:
    decoder = codecs.getincrementaldecoder(name)("replace")
    count = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            count += decoder.decode(chunk).count(REPLACEMENT)
        count += decoder.decode(b"", final=True).count(REPLACEMENT)
    return count


def detect_file_encoding(path: Path) -> str:
    """detect_encoding for a file, read a megabyte at a time (a big export is never in memory whole); a name
    that `open(path, encoding=...)` reads the text with, without its BOM."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    for bom, name in BOMS:
        if head.startswith(bom):
            return "utf-16" if name.startswith("utf-16") else name  # "utf-16" reads (and drops) the BOM
    if head.count(0) * 20 >= len(head) > 0:
        return detect_encoding(head)
    for name in ("utf-8", "gb18030"):
        if _decodes(path, name):
            return name
    errors = {name: _replacements(path, name) for name in ("utf-8", "gb18030")}
    return min(errors, key=lambda name: errors[name])
