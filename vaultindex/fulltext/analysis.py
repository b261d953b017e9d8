"""How a note's text becomes the index's words, and the snippets cut by those words.

Latin text as Whoosh's StemmingAnalyzer makes it (plus the single letters glued to a word:
Q-learning, SO(3)), CJK runs as bigrams, the schema of the index, and the highlighter that
marks a hit's words in a passage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import fields, highlight
from whoosh.analysis import STOP_WORDS, Analyzer, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Token
from whoosh.lang.porter import stem as _porter_stem

from ..text import GENERATED_KEY

# Searched when a query names no field, with their weights (title first, body last).
FIELD_BOOSTS = {
    "title": 6.0, "aliases": 5.0, "headings": 2.5, "tagtext": 2.0, "authors": 1.5, "body": 1.0, "properties": 0.5,
}
# "Did you mean" offers words of 3 to this many letters (see spelling.py).
MAX_CORRECTED_LENGTH = 40


# Han ideographs (with the iteration marks 々〆〇), Hiragana, Katakana (not its middle dot ・),
# halfwidth Katakana and Hangul: scripts written without spaces between words.
_CJK_CHARS = (
    "\u1100-\u11ff\u3005-\u3007\u3041-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3130-\u318f"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f"
)
_CJK = re.compile(f"[{_CJK_CHARS}]")
_CJK_OR_WIDE = re.compile(f"[{_CJK_CHARS}\\uff10-\\uff5a]")
_LETTER = f"[^\\W\\d_{_CJK_CHARS}]"  # a letter of a script written with spaces
_SPELL_WORD = re.compile(f"(?<!{_LETTER}){_LETTER}{{3,{MAX_CORRECTED_LENGTH}}}(?!{_LETTER})")
# A run of CJK characters, or a word as Whoosh's default pattern ([\w*]+(\.?[\w*]+)*) finds it
# in text without CJK: for such text the tokens are exactly Whoosh's.
_WORD = re.compile(f"[{_CJK_CHARS}]+|(?:[^\\W{_CJK_CHARS}]|\\*)+(?:\\.?(?:[^\\W{_CJK_CHARS}]|\\*)+)*")
# Fullwidth letters and digits (ＧＰＴ４, common in CJK text) read as ASCII, halfwidth Katakana
# as fullwidth: one character for one, so that offsets (snippets) stay right.
_WIDTH: dict[int, int | str] = {
    **{cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for cp in range(r[0], r[1] + 1)},
    **{
        cp: folded
        for cp in range(0xFF66, 0xFF9E)
        if len(folded := unicodedata.normalize("NFKC", chr(cp))) == 1
    },
}


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# Characters that glue a single letter or digit to its neighbour: Q-learning, k-means, SO(3),
# GPT-4, A*, C++. Such a letter is a word of its own (the stop filter keeps it).
_GLUE = frozenset("-()*+")


class _Tokenizer(RegexTokenizer):
    """Whoosh's words (or, with `cjk`, words and CJK runs, see _WORD, fullwidth letters and
    digits read as ASCII), each one-character word marked `glued` when a _GLUE character
    touches it in the text."""

    def __init__(self, cjk: bool = False) -> None:
        if cjk:
            super().__init__(_WORD)
        else:
            super().__init__()
        self.width = cjk

    def __call__(  # type: ignore[override]
        self, value: str, chars: bool = False, start_char: int = 0, tokenize: bool = True, **kwargs: Any
    ) -> Iterator[Any]:
        if self.width:
            value = value.translate(_WIDTH)
        # Offsets are needed to look at a word's neighbours; the caller's `chars` is restored.
        for t in super().__call__(value, chars=True, start_char=start_char, tokenize=tokenize, **kwargs):
            start, end = t.startchar - start_char, t.endchar - start_char
            glued = len(t.text) == 1 and tokenize and (
                (start > 0 and value[start - 1] in _GLUE) or (end < len(value) and value[end] in _GLUE)
            )
            t.__dict__["glued"] = glued  # a Token takes any attribute; the stop filter reads this one
            t.chars = chars
            yield t


class _StopFilter(StopFilter):
    """Whoosh's StopFilter (same stop words, minimum length and renumbering), but a CJK run
    is never a stop word (one Han character is a word), nor a glued letter (the q of
    Q-learning, the 3 of SO(3), the A of A*: see _Tokenizer)."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]  # (as Whoosh's filters)
        pos = None
        for t in tokens:
            text = t.text
            if getattr(t, "glued", False) or _CJK.match(text) or (
                len(text) >= self.min and (self.max is None or len(text) <= self.max) and text not in self.stops
            ):
                if self.renumber and t.positions:
                    if pos is None:
                        pos = t.pos
                    else:
                        pos += 1
                        t.pos = pos
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


# Latin letters with accents as their base letters (é -> e, Å -> A), and the few that Unicode
# does not decompose (ß, æ, ø, ł, ...): Latin-1, Latin Extended-A/B and Additional only, so
# that Greek, Cyrillic (й is not и) and the marks of Kana (が is not か) are left as they are.
_LATIN_BLOCKS = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
_LATIN_EXTRA = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H"}


def _latin_folds() -> dict[int, str]:
    table: dict[int, str] = {}
    for low, high in _LATIN_BLOCKS:
        for cp in range(low, high + 1):
            base = "".join(c for c in unicodedata.normalize("NFKD", chr(cp)) if not unicodedata.combining(c))
            if base != chr(cp) and base.isascii() and base.isalpha():
                table[cp] = base
    table.update((ord(k), v) for k, v in _LATIN_EXTRA.items())
    return table


_FOLDS = _latin_folds()
# The letters that fold to two (ß -> ss): they can make a word long enough to count (spelling words).
_FOLDS_LONGER = re.compile("[" + "".join(re.escape(chr(cp)) for cp, base in sorted(_FOLDS.items()) if len(base) > 1) + "]")


def folds_longer(text: str) -> bool:
    """Whether folding the accents of `text` (fold_accents) lengthens a word of it."""
    return not text.isascii() and _FOLDS_LONGER.search(text) is not None


def fold_accents(text: str) -> str:
    """`text` with the accents of its Latin letters taken off (Jégou -> Jegou); other scripts as they are."""
    return text if text.isascii() else text.translate(_FOLDS)


class _FoldAccents(Filter):
    """Each word's Latin letters without their accents (fold_accents): `Jegou` finds Jégou and
    the reverse. Offsets are the text's, so a snippet marks the word as written."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]  # (as Whoosh's filters)
        for t in tokens:
            if not t.text.isascii():
                t.text = t.text.translate(_FOLDS)
            yield t


def _stem(word: str) -> str:
    """Porter's stem of a Latin word; a CJK run as it is."""
    return word if _CJK.match(word) else _porter_stem(word)


class _CJKBigrams(Filter):
    """Each CJK run as its overlapping bigrams at consecutive positions (a run of one
    character stays a unigram), as Lucene's CJKBigramFilter does; while indexing, each
    character of a run is also indexed on its own at its bigram's position, so that a
    one-character query (猫) finds it inside longer runs too.

    Bigrams from a query make a phrase (see _Parser), so `注意力` means 注意+意力 side by side.
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]  # (as Whoosh's filters)
        shift = 0  # positions taken by the bigrams so far, beyond the one their run had
        for t in tokens:
            text = t.text
            if t.positions:
                t.pos += shift
            if len(text) < 2 or not _CJK.match(text):
                yield t
                continue
            pos = t.pos if t.positions else 0
            start = t.startchar if t.chars else 0
            unigrams = t.mode == "index"
            last = len(text) - 2
            for i in range(last + 1):
                grams = [(text[i], i)] if unigrams else []
                grams.append((text[i : i + 2], i))
                if unigrams and i == last and text[i + 1] != text[i]:
                    grams.append((text[i + 1], i + 1))
                for gram, offset in grams:
                    t.text = gram
                    if t.positions:
                        t.pos = pos + i
                    if t.chars:
                        t.startchar = start + offset
                        t.endchar = t.startchar + len(gram)
                    yield t
            shift += last


# Whoosh's default token pattern, its one group made the whole match: re.split keeps the words
# between the text around them, which tells whether a _GLUE character touches a word.
_SPLIT = re.compile(r"([\w*]+(?:\.?[\w*]+)*)")
_STEMS: dict[str, str] = {}  # Porter's stems of the words indexed so far (bounded, see _stems)


def _stems(word: str) -> str:
    found = _STEMS.get(word)
    if found is None:
        if len(_STEMS) > 500_000:
            _STEMS.clear()
        found = _STEMS[word] = _porter_stem(word)
    return found


class NoteAnalyzer(Analyzer):
    """The analyzer of every text field: Whoosh's StemmingAnalyzer (or StandardAnalyzer without
    stemming) for Latin text, CJK runs as bigrams (_CJKBigrams). Text with no CJK (nor
    fullwidth) character, most notes, goes through Whoosh's own chain, which is faster; the
    two give the same tokens for such text (tests/test_cjk.py)."""

    def __init__(self, stemming: bool = True, stoplist: Any = STOP_WORDS, minsize: int = 2) -> None:
        latin = _Tokenizer() | LowercaseFilter() | _FoldAccents()
        cjk = _Tokenizer(cjk=True) | LowercaseFilter() | _FoldAccents()
        if stoplist is not None:
            latin = latin | _StopFilter(stoplist=stoplist, minsize=minsize)
            cjk = cjk | _StopFilter(stoplist=stoplist, minsize=minsize)
        if stemming:
            latin = latin | StemFilter()
            cjk = cjk | StemFilter(stemfn=_stem)
        self.latin = latin
        self.cjk = cjk | _CJKBigrams()
        self.stemming = stemming
        self.stops: frozenset[str] | None = None if stoplist is None else frozenset(stoplist)
        self.minsize = minsize

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Any]:
        return (self.cjk if _CJK_OR_WIDE.search(value) else self.latin)(value, **kwargs)

    def positions(self, value: str) -> dict[str, list[int]] | None:
        """The words the index gets from `value`, each with its positions: what the Latin chain
        yields (tokens, lower case, stop words and renumbering, glued letters, stems) made in one
        pass, without a Token per word (a third of a full build's time went to the chain).
        None for text the CJK chain reads (the caller runs the analyzer then), and for an
        analyzer unpickled from an index older than this method."""
        if _CJK_OR_WIDE.search(value) or not hasattr(self, "minsize"):
            return None
        ascii_only = value.isascii()
        parts = _SPLIT.split(value.lower() if ascii_only else value)
        stops, minsize, stem = self.stops, self.minsize, self.stemming
        out: dict[str, list[int]] = {}
        pos = -1
        for i in range(1, len(parts), 2):
            word = parts[i]
            if not ascii_only:
                word = word.lower().translate(_FOLDS)  # as _FoldAccents, right after lower case
            if stops is None:
                pos = i // 2
            else:
                if len(parts[i]) == 1 and ((parts[i - 1] and parts[i - 1][-1] in _GLUE) or (parts[i + 1] and parts[i + 1][0] in _GLUE)):
                    pass  # a glued letter is kept (_Tokenizer, _StopFilter)
                elif len(word) < minsize or word in stops:
                    continue
                # Whoosh's renumbering: the first word kept keeps its position, the next ones follow it.
                pos = i // 2 if pos < 0 else pos + 1
            if stem:
                word = _stems(word)
            found = out.get(word)
            if found is None:
                out[word] = [pos]
            else:
                found.append(pos)
        return out


_LETTERS = re.compile(f"{_LETTER}+")
_ASCII_LETTERS = re.compile("[a-z]+")


def _spell_words(lower: str) -> set[str]:
    """The words of _SPELL_WORD in lower-case text, minus stop words: the runs of letters of the
    right length (two fifths faster than the pattern's lookarounds, at every character)."""
    runs = set((_ASCII_LETTERS if lower.isascii() else _LETTERS).findall(lower))
    return {w for w in runs if 2 < len(w) <= MAX_CORRECTED_LENGTH} - STOP_WORDS


def spelling_words(text: str) -> set[str]:
    """The words "did you mean" may offer from `text`: each run of 3 to MAX_CORRECTED_LENGTH
    letters (no digits, no CJK), lower case, not a stop word. The store counts in how many
    notes each is (store.py's `spelling`): a Whoosh field of them made a third of a full build."""
    return _spell_words(text.lower() if text.isascii() else text.translate(_WIDTH).lower())


class _SpellWords(Analyzer):
    """The analyzer of the `spell` field: a note's words as written (spelling_words, accents
    folded), each once per note, so that a query word as written (or its plural) can add
    grammar.EXACT_BONUS to a note that holds it. "Did you mean" no longer reads this field: the
    store counts the words (store.py's `spelling`)."""

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False, mode: str = "", **kwargs: Any
    ) -> Iterator[Any]:
        t = Token(positions, chars, mode=mode, **kwargs)
        for pos, word in enumerate(self._words(value)):
            t.text, t.boost, t.stopped = word, 1.0, False
            if positions:
                t.pos = pos
            if chars:
                t.startchar = t.endchar = 0
            yield t

    def positions(self, value: str) -> dict[str, list[int]]:
        """What the token stream gives, as NoteAnalyzer.positions does (the writer's fast path)."""
        return {word: [pos] for pos, word in enumerate(self._words(value))}

    @staticmethod
    def _words(value: str) -> list[str]:
        return sorted(_spell_words(value.lower() if value.isascii() else fold_accents(value.translate(_WIDTH).lower())))


# Properties indexed as fields of their own (title, aliases, tags, authors, year, status, venue),
# the paper's identity (doi, arxiv, url, citekey: addresses, not words) and Obsidian's display
# settings: property_text leaves them out.
_OWN_FIELD_KEYS = frozenset(
    {
        "title", "aliases", "alias", "tags", "tag", "authors", "author", "year", "date", "published",
        "status", "venue", "journal", "booktitle", "conference", "publishedin", "doi", "arxiv", "url",
        "citekey", "citation-key", "cssclasses", "cssclass", GENERATED_KEY,
    }
)
_WIKILINK = re.compile(r"!?\[\[([^\[\]\n]*)\]\]")
_URL_VALUE = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://\S*\s*")


def property_text(frontmatter: dict[str, Any]) -> str:
    """The words of a note's other properties, as Obsidian's search finds them: every string
    value (in lists and nested mappings too), a wikilink as its target and shown text
    (`"[[reasoning shortcuts]]"` -> reasoning shortcuts); not the keys of _OWN_FIELD_KEYS, and
    not a value that is a URL (zoteroUri: zotero://select/...)."""
    out: list[str] = []

    def walk(value: Any, depth: int) -> None:
        if isinstance(value, str):
            if value and not _URL_VALUE.fullmatch(value):
                out.append(_WIKILINK.sub(lambda m: m.group(1).replace("|", " ").replace("#", " "), value))
        elif depth < 8 and isinstance(value, list):
            for item in value:
                walk(item, depth + 1)
        elif depth < 8 and isinstance(value, dict):
            for item in value.values():
                walk(item, depth + 1)

    for key, value in frontmatter.items():
        if str(key).strip().lower() not in _OWN_FIELD_KEYS:
            walk(value, 0)
    return "\n".join(out)


def exact_forms(word: str) -> list[str]:
    """The `spell` words that hold a query word as written: the word and its plural (or, for a
    plural, its singular), in lower case; [] for what `spell` never holds (a stop word, a word
    of digits, CJK or under three letters)."""
    word = fold_accents(word.translate(_WIDTH).lower())
    if word.endswith("ies"):
        forms = {word, word[:-3] + "y"}
    elif word.endswith("es"):
        forms = {word, word[:-2], word[:-1]}  # boxes: box; names: name
    elif word.endswith("s") and not word.endswith("ss"):
        forms = {word, word[:-1]}
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms = {word, word + "es"}
    elif word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        forms = {word, word[:-1] + "ies"}
    else:
        forms = {word, word + "s"}
    if not _SPELL_WORD.fullmatch(word) or word in STOP_WORDS:
        return []
    return sorted(f for f in forms if _SPELL_WORD.fullmatch(f) and f not in STOP_WORDS)


def schema() -> fields.Schema:
    stem = NoteAnalyzer()
    plain = NoteAnalyzer(stemming=False, stoplist=None)
    return fields.Schema(
        path=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=stem, stored=True, field_boost=FIELD_BOOSTS["title"]),
        aliases=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["aliases"]),
        headings=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["headings"]),
        tagtext=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["tagtext"]),
        authors=fields.TEXT(analyzer=plain, field_boost=FIELD_BOOSTS["authors"]),
        body=fields.TEXT(analyzer=stem),
        # The text of the frontmatter's other properties (property_text), as Obsidian's search finds it.
        properties=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["properties"]),
        # The note's words as written, once per note: the exact-word bonus (grammar.EXACT_BONUS).
        spell=fields.KEYWORD(analyzer=_SpellWords()),
        tag=fields.KEYWORD(commas=True, lowercase=True),
        year=fields.NUMERIC(int, bits=32, signed=False),
        status=fields.KEYWORD(lowercase=True),
        venue=fields.TEXT(analyzer=plain),
        cites=fields.KEYWORD(commas=True, lowercase=True),
        kind=fields.ID(),  # "generated" for the pages vaultindex writes, which search leaves out
    )


class _MarkFormatter(highlight.Formatter):
    """Marks matched words with \x01...\x02; the CLI turns them into bold or drops them."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "\x01" + highlight.get_text(text, token, replace) + "\x02"

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        """Whoosh's, but overlapping matches are marked as one: the bigrams 注意 and 意力 of
        `注意力` overlap, and Whoosh would mark only the first (\x01注意\x02力)."""
        spans: list[list[int]] = []
        for t in sorted(fragment.matches, key=lambda t: (t.startchar, -t.endchar)):
            if t.startchar is None:
                continue
            if spans and t.startchar < spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], t.endchar)
            else:
                spans.append([t.startchar, t.endchar])
        text, index, out = fragment.text, fragment.startchar, []
        for start, end in spans:
            out += [text[index:start], "\x01", text[start:end], "\x02"]
            index = end
        out.append(text[index : fragment.endchar])
        return "".join(out)


def _passage_score(fragment: Any) -> float:
    """Whoosh's score for a passage (matches times distinct words matched), with query words
    side by side counting double, so that "data pruning" written as such beats the two words
    scattered; among equals the earlier passage wins."""
    matches = sorted(fragment.matches, key=lambda t: t.startchar)
    adjacent = sum(a.text != b.text and b.startchar - a.endchar <= 2 for a, b in zip(matches, matches[1:], strict=False))
    return len(fragment.matched_terms) * 100 * (len(matches) + 2 * adjacent) - fragment.startchar / 1e7


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()


STEMMING = NoteAnalyzer()  # the body's analyzer, for the words of snippets and spelling
_FRAGMENTER = highlight.ContextFragmenter(maxchars=220, surround=60)
_FORMATTER = _MarkFormatter()


def snippet(text: str, terms: frozenset[str]) -> str:
    """The passage of `text` (readable text: a note's body or one section of it) that best
    matches a hit's `terms`, the matched words marked \x01...\x02; "" when no word matches.
    Whoosh's highlighter as `Hit.highlights` runs it (re-tokenising the text), outside the
    searcher, so that the caller can choose which text to tokenise."""
    if not terms or not text:
        return ""
    tokens = STEMMING(text, positions=True, chars=True, mode="index", removestops=False)
    tokens = highlight.Highlighter._merge_matched_tokens(highlight.set_matched_filter(tokens, terms))
    best = highlight.top_fragments(_FRAGMENTER.fragment_tokens(text, tokens), 1, _passage_score, highlight.FIRST, 1)
    return _tidy(_FORMATTER.format(best))
