"""LaTeX -> Unicode for bibliography field values: fast rules for the common cases, pylatexenc
(the one module that imports it, on first use) for what they leave: math and unusual commands."""

from __future__ import annotations

import re
import unicodedata

# \'e, \"{u}, \c c, \v{S}, \'{\i}: the accent commands of plain LaTeX, as combining characters
_ACCENT_MARKS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "d": "\u0323", "b": "\u0331", "r": "\u030a", "t": "\u0361",
}
_SYMBOL_ACCENT = re.compile(r"""\\(['`^"~=.])\s*(?:\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckdbrt])(?:\s*\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|\s+([A-Za-z]))")
# letters and symbols written as commands
_NAMED = {
    "ss": "ß", "SS": "SS", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "aa": "å", "AA": "Å",
    "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
    "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘",
    "textquotedblleft": "“", "textquotedblright": "”", "textasciitilde": "~",
    "textasciicircum": "^", "textbackslash": "\\", "textunderscore": "_", "textbar": "|",
    "textless": "<", "textgreater": ">", "textregistered": "®", "texttrademark": "™",
    "copyright": "©", "textcopyright": "©", "textdegree": "°", "dag": "†", "ddag": "‡",
    "S": "§", "P": "¶", "pounds": "£", "euro": "€", "ldots": "…", "dots": "…", "textellipsis": "…",
    "LaTeX": "LaTeX", "TeX": "TeX", "BibTeX": "BibTeX",
}
_NAMED_COMMAND = re.compile(r"\\([A-Za-z]+)(?![A-Za-z])(?:\{\})?\s?")
# commands that only style their argument: the argument stays, the command goes
_STYLE = re.compile(
    r"\\(?:text(?:it|bf|sc|tt|rm|sf|up|sl|md|normal)|emph|mkbibemph|mkbibitalic|mkbibbold|"
    r"mbox|url|nolinkurl|nocase|NoCaseChange|MakeUppercase|MakeLowercase|ensuremath|"
    r"uppercase|lowercase)\s*(?=\{)"
)
_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "\ue001", "}": "\ue002", " ": " ", ",": " ", ";": " ", "@": "@", "/": ""}
_ESCAPE = re.compile(r"\\([&%$#_{} ,;@/])")
_SPACE = re.compile(r"\s+")
_VERBATIM_SPECIAL = re.compile(r"[\\{}]")
_LATEX_SPECIAL = re.compile(r"[\\{}$~`']|--")
_MATH = re.compile(r"(?<!\\)\$")  # an unescaped dollar: math, which the full parser keeps as written

_decoder = None

def _pylatexenc_decode(text: str) -> str:
    """The slow, general decoder for what the fast rules leave: math and unusual commands."""
    global _decoder
    if _decoder is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _decoder = LatexNodes2Text(math_mode="verbatim", keep_braced_groups=False)
    try:
        return _decoder.latex_to_text(text)
    except Exception:  # noqa: BLE001 - pylatexenc on hostile input: keep what we have
        return text

def _accent(m: re.Match[str]) -> str:
    base = m.group(2) or m.group(3)
    base = {"\\i": "i", "\\j": "j"}.get(base, base)
    return unicodedata.normalize("NFC", base + _ACCENT_MARKS[m.group(1)])

def _named(m: re.Match[str]) -> str:
    name = m.group(1)
    return _NAMED[name] if name in _NAMED else m.group(0)

def decode_latex(text: str) -> str:
    """A BibTeX field value in LaTeX -> plain Unicode: accents (`J{\\"u}rgen` -> Jürgen), letters
    (`{\\L}ukasz` -> Łukasz, `{\\ss}`), escapes (`\\&`), dashes, quotes and ties; protective braces
    (`{BERT}`) and style commands (`\\emph{x}`) removed; whitespace collapsed. Common cases are
    handled here (1,000 times faster than a full LaTeX parser); what is left over (math, unusual
    commands) goes through pylatexenc."""
    if not text:
        return ""
    if not _LATEX_SPECIAL.search(text):  # most names and many titles: nothing to decode
        return unicodedata.normalize("NFC", " ".join(text.split()))
    out = text
    if "\\" in out:
        out = _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], out)
        out = _SYMBOL_ACCENT.sub(_accent, out)
        out = _LETTER_ACCENT.sub(_accent, out)
        out = _STYLE.sub("", out)
        out = out.replace("\\\\", " ")
        out = _NAMED_COMMAND.sub(_named, out)
    if "\\" in out or _MATH.search(text):
        # Something the fast rules do not know: decode the original with the full parser.
        out = _pylatexenc_decode(text.replace("~", " "))
    else:
        out = out.replace("{", "").replace("}", "")
        out = out.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
        out = out.replace("~", " ")
    out = out.replace("\ue001", "{").replace("\ue002", "}").replace("\xa0", " ")
    return unicodedata.normalize("NFC", _SPACE.sub(" ", out).strip())

def verbatim(text: str) -> str:
    """A field that is not prose (url, doi, eprint, file): braces and backslash escapes removed."""
    if not _VERBATIM_SPECIAL.search(text):
        return text.strip()
    out = _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], text)
    out = out.replace("{", "").replace("}", "").replace("\ue001", "{").replace("\ue002", "}")
    return out.strip()

