"""The query grammar of `search`: the checks that turn what Whoosh would misread into an
`Error:` that says what to write, and the parse into a Whoosh query (fields, phrases,
AND/OR/NOT, -word, prefixes, ranges, CJK words as phrases of bigrams)."""

from __future__ import annotations

import copy
import re
from typing import Any

from whoosh import qparser, query

from ..errors import QueryError
from .analysis import FIELD_BOOSTS, exact_forms, has_cjk, schema

# What a user may type before a colon, and the field it means.
FIELD_NAMES = {
    "title": "title",
    "alias": "aliases",
    "aliases": "aliases",
    "heading": "headings",
    "headings": "headings",
    "tag": "tag",
    "tags": "tag",
    "author": "authors",
    "authors": "authors",
    "body": "body",
    "year": "year",
    "path": "path",
    "status": "status",
    "cites": "cites",
    "venue": "venue",
}
MAX_EXPANSION = 200  # words a prefix, wildcard or word range may stand for, so `a*` cannot make a query crawl
MAX_QUERY_CHARS = 2000


_FIELD_RE = re.compile(r'(?<![\w"])([A-Za-z]+):(?=\S)(?!//)')  # not a URL's scheme
# The same, where a part of the query may end in the colon: the phrase after it was split off
# (`author:"Geoffrey Hinton"`; a field without any value was refused by _check_syntax).
_FIELD_BEFORE_PHRASE_RE = re.compile(r'(?<![\w"])([A-Za-z]+):(?=\S|$)(?!//)')
_CALL_RE = re.compile(r"(?<![\w\":])(\w+)\(([\w.,+*-]*)\)(?![\w(])")
_MINUS_RE = re.compile(r'(^|[\s(])-(?=[\w"(])')


_PHRASE_RE = re.compile(r'"[^"]*"')
_OPERATORS = {"AND", "OR"}  # between two parts; NOT before one
# Whoosh's other operators: REQUIRE fails an assertion inside Whoosh (`a REQUIRE a`), and none is documented.
_UNSUPPORTED = {
    "ANDNOT": "pruning NOT forgetting",
    "ANDMAYBE": "pruning OR forgetting",
    "REQUIRE": "pruning AND forgetting",
}
_EXAMPLES = {
    "title": "title:pruning", "aliases": "alias:EWC", "headings": "heading:results", "tag": "tag:ml",
    "authors": "author:kirkpatrick", "body": "body:pruning", "year": "year:2022", "path": "path:papers/",
    "status": "status:read", "cites": "cites:KEY", "venue": "venue:NeurIPS",
}
MAX_BOOST = 1000.0
MAX_SLOP = 100
_YEAR_VALUE = re.compile(r"(?:[<>]=?)?\d{1,4}|[\[{]\s*(?:\d{1,4}\s+)?TO(?:\s+\d{1,4})?\s*[\]}]")


def _outside_phrases(text: str, change: Any) -> str:
    """`change` applied to the text between phrases; the phrases as they are."""
    parts = re.split(r'("[^"]*")', text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))


def _check_syntax(text: str) -> None:
    """Refuse, with what to write instead, what Whoosh's forgiving parser would quietly turn
    into another query (a dangling AND searched as the word "and", an unclosed range as two
    words) or crash on (a boost of 0)."""
    if text.count('"') % 2:
        raise QueryError('unbalanced quote in query: close the phrase with "')
    # Phrases stand for one part of the query from here on: '"' marks where each one was.
    for m in re.finditer(r'"[^"]*"(~\S*)?', text):
        slop = m.group(1)
        if slop and not (slop[1:].isdigit() and 1 <= int(slop[1:]) <= MAX_SLOP):
            raise QueryError(
                f'{slop!r} after a phrase says how far apart its words may be: a whole number from 1 to '
                f'{MAX_SLOP}, as in "data pruning"~3'
            )
    unquoted = _PHRASE_RE.sub('"', re.sub(r'"[^"]*"~\d+', '"', text))
    depth = 0
    for ch in unquoted:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise QueryError('unbalanced ")" in query')
    if depth:
        raise QueryError('unbalanced "(" in query')
    if re.search(r"[\[{](?![^\]}]*[\]}])[^\]}]*\bTO\b", unquoted):
        raise QueryError("unclosed range in query: close it with ] as in year:[2019 TO 2021]")
    for name in _FIELD_RE.findall(unquoted):
        if name.lower() not in FIELD_NAMES:
            known = ", ".join(sorted(set(FIELD_NAMES)))
            raise QueryError(
                f"unknown field {name!r} in query (known fields: {known}); "
                f"to search for the text itself, put it in quotes: \"{name}:...\""
            )
    for m in re.finditer(r"(?<![\w\"])([A-Za-z]+):(?=$|[\s)])", unquoted):
        field = FIELD_NAMES.get(m.group(1).lower())
        if field:
            raise QueryError(f"{m.group(0)} needs a value right after the colon, as in {_EXAMPLES[field]}")
    for m in re.finditer(r"\byear:(\[[^\]}]*[\]}]?|\{[^\]}]*[\]}]?|[^\s)]+)", unquoted, re.IGNORECASE):
        value = m.group(1)
        if not _YEAR_VALUE.fullmatch(re.sub(r"\^\S*$", "", value)):
            raise QueryError(
                f"year takes a year of up to 4 digits (year:2022), a comparison (year:>2020) "
                f"or a range (year:[2019 TO 2021]), not {value!r}"
            )
    for m in re.finditer(r"(^|.)\^([^\s)]*)", unquoted):
        before, boost = m.group(1), m.group(2)
        if not boost:
            continue  # a lone ^ is punctuation
        if not before.strip() or before == "(":
            raise QueryError(f"^{boost} boosts nothing: put it right after a word, as in pruning^2")
        try:
            value = float(boost)
        except ValueError:
            value = float("nan")
        if not 0 < value <= MAX_BOOST:  # also refuses nan and inf
            raise QueryError(
                f"a boost is a number above 0 and at most {MAX_BOOST:g} that weighs a word, "
                f"as in pruning^2 (or pruning^0.5), not ^{boost}"
            )
    if tilde := re.search(r"(?<=\w)~\S*", unquoted):
        raise QueryError(
            f"{tilde.group(0)!r}: ~ after a word is not query syntax (a misspelt word is corrected by "
            'itself); after a phrase it lets the words stand apart, as in "data pruning"~3'
        )
    _check_operators(unquoted)


def _check_operators(unquoted: str) -> None:
    """AND and OR need a part on each side, NOT one after it."""
    masked = re.sub(r"[\[{][^\]}]*[\]}]", " R ", unquoted)  # a range is one part
    units = re.findall(r"[()]|[^\s()]+", masked)
    for i, unit in enumerate(units):
        if unit in _UNSUPPORTED:
            raise QueryError(f"{unit} is not supported: write {_UNSUPPORTED[unit]}")
        if unit not in _OPERATORS and unit != "NOT":
            continue
        before = units[i - 1] if i else None
        after = units[i + 1] if i + 1 < len(units) else None
        after_ok = after is not None and after != ")" and after not in _OPERATORS
        if unit == "NOT" and not after_ok:
            raise QueryError("NOT needs something after it to leave out, as in pruning NOT forgetting")
        before_ok = before is not None and before not in ("(", "NOT") and before not in _OPERATORS
        if unit != "NOT" and not (after_ok and before_ok):
            raise QueryError(
                f"{unit} needs something on each side, as in pruning {unit} forgetting "
                "(words in capitals are operators: write the word in lower case to search for it)"
            )


class _Parser(qparser.QueryParser):
    """Whoosh's parser, but a word holding CJK text is a phrase of each CJK run's bigrams
    (and its Latin words ANDed beside them): `注意力` must find 注意力, not notes that have 注意
    and 意力 apart. Words without CJK are parsed exactly as Whoosh does."""

    def term_query(
        self, fieldname: str, text: str, termclass: Any, boost: float = 1.0, tokenize: bool = True, removestops: bool = True
    ) -> Any:
        field = self.schema[fieldname] if self.schema and fieldname in self.schema else None
        if field is None or field.self_parsing() or not tokenize or not has_cjk(text) or field.analyzer is None:
            return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        groups: list[list[tuple[str, int]]] = []  # tokens whose characters overlap: one CJK run
        for t in field.analyzer(text, chars=True, mode="query", removestops=removestops):
            if groups and t.startchar < groups[-1][-1][1]:
                groups[-1].append((t.text, t.endchar))
            else:
                groups.append([(t.text, t.endchar)])
        parts = [
            termclass(fieldname, g[0][0], boost=boost)
            if len(g) == 1
            else query.Phrase(fieldname, [w for w, _ in g], boost=boost)
            for g in groups
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else query.And(parts)


# What a note holding a query word as written (or its plural) scores on top of its stem's score:
# the word once in `spell` (unstemmed, once per note, not scored by length) adds exactly this.
# More than a word's stem can score in every field at once (about 450 at 50,000 notes), so
# such notes come first and keep their order among themselves (`transformer` lists the papers
# on Transformers, then the chapter on transformations). Of 50 queries on the two real vaults
# (words whose stem other words share), 12 still had a note matching by stem alone above one
# holding the word in their top 10 with a bonus of 8 (33 with none); with 1000, none.
EXACT_BONUS = 1000.0


class _ExactBonus(qparser.syntax.SyntaxNode):
    """The optional half of `word-in-any-field ANDMAYBE word-as-written`: the `spell` terms of a
    word's exact forms (exact_forms), each worth EXACT_BONUS times the word's boost."""

    def __init__(self, forms: list[str], boost: float, startchar: int | None, endchar: int | None) -> None:
        self.forms, self.boost = forms, boost
        self.startchar, self.endchar = startchar, endchar

    def query(self, parser: Any) -> Any:
        terms = [query.Term("spell", form, boost=EXACT_BONUS * self.boost) for form in self.forms]
        return terms[0] if len(terms) == 1 else query.Or(terms)


class _WithBonus(qparser.syntax.AndMaybeGroup):
    """`word-in-any-field ANDMAYBE _ExactBonus`, weighed as a whole by `word^2` (Whoosh's
    ANDMAYBE takes no boost: the boost goes to both halves)."""

    has_boost = True

    def query(self, parser: Any) -> Any:
        if self.boost != 1.0:
            for node in self.nodes:
                node.boost *= self.boost
            self.boost = 1.0
        return super().query(parser)


class _Multifield(qparser.MultifieldPlugin):
    """Whoosh's MultifieldPlugin (a word without a field is searched in each of FIELD_BOOSTS),
    but a word that the body's analyzer drops (a stop word such as "for", or one letter) is
    dropped from the query: Whoosh kept it in the one field that keeps such words (authors),
    so `scaling laws for transformers` required an author named "for" and found nothing.

    A note holding the word as written, or its plural (not only its stem: `transformer`, not
    `transformation`), scores EXACT_BONUS more (_ExactBonus): a bonus, never a match of its own."""

    def do_multifield(self, parser: Any, group: Any) -> Any:
        # Whoosh's loop, with the one test added (one call per level of parentheses, as Whoosh's,
        # so that 500 nested parentheses still parse).
        for i, node in enumerate(group):
            if isinstance(node, qparser.syntax.GroupNode):
                group[i] = self.do_multifield(parser, node)
            elif node.has_fieldname and node.fieldname is None:
                if type(node) is qparser.syntax.WordNode and not list(
                    parser.schema["body"].process_text(node.text, mode="query")
                ):
                    group[i] = qparser.syntax.OrGroup([])
                    continue
                fielded = []
                for name in self.fieldnames:
                    copied = copy.copy(node)
                    copied.set_fieldname(name)
                    copied.set_boost(self.boosts.get(name, 1.0))
                    fielded.append(copied)
                group[i] = self.group(fielded)
                if type(node) is qparser.syntax.WordNode and (forms := exact_forms(node.text)):
                    bonus = _ExactBonus(forms, node.boost, node.startchar, node.endchar)
                    group[i] = _WithBonus([group[i], bonus])
        return group


def parse_query(text: str, names: set[str], hidden: tuple[str, ...] = ()) -> Any:
    """A Whoosh query for the user's text: fields, phrases, AND/OR/NOT, -term, prefixes, ranges."""
    text = text.strip()
    if not text:
        raise QueryError("empty query: give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    _check_syntax(text)
    # SO(3), f(x): a word touching a parenthesis is the text itself, not a word and a group.
    text = _outside_phrases(text, lambda part: _CALL_RE.sub(r'"\1(\2)"', part))
    # User-facing field names (author:, tag:) map onto schema fields (authors, tag).
    normalised = _outside_phrases(
        text,
        lambda part: _MINUS_RE.sub(  # `-word` excludes only at the start of a word: "vote-k" and "UTF-16" stay words
            r"\1NOT ",
            _FIELD_BEFORE_PHRASE_RE.sub(lambda m: FIELD_NAMES.get(m.group(1).lower(), m.group(1)) + ":", part),
        ),
    )
    fields = schema()
    parser = _Parser(None, fields)
    parser.add_plugin(_Multifield(list(FIELD_BOOSTS), fieldboosts=FIELD_BOOSTS))
    parser.replace_plugin(qparser.OperatorsPlugin(AndNot=None, AndMaybe=None, Require=None))
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        q = parser.parse(normalised)
    except Exception as exc:
        raise QueryError(f"cannot parse query: {exc}") from exc
    q = _merge_exclusions(_folder_prefixes(_words_without_positions(q, fields)))
    if q is query.NullQuery or isinstance(q, type(query.NullQuery)):
        raise QueryError("the query has no searchable words (only stop words or operators)")
    _check_leading_wildcards(q)
    # Left out: the pages vaultindex writes, and the notes of `hidden` folders (the templates
    # folder) unless a path: filter of the query names one of them.
    named = [str(leaf.text) for leaf in q.leaves() if isinstance(leaf, query.Prefix) and leaf.fieldname == "path"]
    out: list[Any] = [query.Term("kind", "generated")]
    for folder in hidden:
        if not any(f"{p}/".startswith(f"{folder}/") or f"{folder}/".startswith(f"{p}/") for p in named):
            out.append(query.Prefix("path", folder + "/"))
    return query.AndNot(q, out[0] if len(out) == 1 else query.Or(out))


def _check_leading_wildcards(q: Any) -> None:
    """A word starting with * or ? must be compared with every word of the index (seconds on a big
    vault); a lone * means every note."""
    for leaf in q.leaves():
        if isinstance(leaf, query.Wildcard) and str(leaf.text)[:1] in ("*", "?") and leaf.fieldname != "path":
            raise QueryError(
                f"{leaf.text!r} starts with a wildcard, so every word of the index would be compared "
                "with it: make it more specific (put a few letters before * or ?)"
            )


def _merge_exclusions(q: Any) -> Any:
    """`a -b -c ...` as `a AND NOT (b OR c ...)`, and `*` (every word of every field) as every note.

    Whoosh chains one AndNot matcher per excluded word and walks the chain for every document:
    300 excluded words took a minute on 2,000 notes; one exclusion of an OR takes milliseconds.
    Whoosh answers `*` by reading every posting of every field (50 s on 2,000 notes).
    """
    if isinstance(q, query.Every):
        return query.Every()
    if isinstance(q, query.Not):
        return query.Not(_merge_exclusions(q.query))
    if isinstance(q, query.And):
        subs = [_merge_exclusions(sub) for sub in q.subqueries]
        excluded = [sub.query for sub in subs if isinstance(sub, query.Not)]
        if len(excluded) > 1:
            subs = [sub for sub in subs if not isinstance(sub, query.Not)] + [query.Not(query.Or(excluded))]
        return query.And(subs, boost=q.boost)
    if hasattr(q, "subqueries") or hasattr(q, "child"):
        return q.apply(_merge_exclusions)
    return q


def _words_without_positions(q: Any, schema: Any) -> Any:
    """A phrase in a field that keeps no word positions (`status:"to read"`, `tag:`, `cites:`)
    as all of its words: Whoosh raises its own error at search time otherwise."""
    if isinstance(q, query.Phrase) and q.fieldname in schema and not schema[q.fieldname].format.supports("positions"):
        return query.And([query.Term(q.fieldname, w) for w in q.words], boost=q.boost)
    if hasattr(q, "subqueries") or hasattr(q, "child"):
        return q.apply(lambda sub: _words_without_positions(sub, schema))
    return q


def _folder_prefixes(q: Any) -> Any:
    """`path:papers` means every note in that folder (or a path starting with it)."""
    if isinstance(q, query.Term) and q.fieldname == "path":
        return query.Prefix("path", str(q.text).strip("/"))
    if isinstance(q, (query.Prefix, query.Wildcard)) and q.fieldname == "path":
        return query.Prefix("path", str(q.text).rstrip("*").strip("/"))
    if isinstance(q, query.Term) and q.fieldname == "tag":
        return query.Term("tag", str(q.text).lstrip("#").lower())
    if hasattr(q, "subqueries"):
        return q.apply(_folder_prefixes)
    if hasattr(q, "child"):
        return q.apply(_folder_prefixes)
    return q


def check_expansions(reader: Any, q: Any) -> None:
    """Refuse a prefix, wildcard or word range that stands for too many words (`a*`, `[a TO z]`
    in a big vault), before Whoosh builds a matcher for each of them.

    A `path:` prefix is a folder filter: it stands for one word per note in the folder, and
    refusing it would make `path:papers/` fail in any vault with more than 200 papers.
    """
    for leaf in q.leaves():
        if isinstance(leaf, query.Prefix) and leaf.fieldname == "path":
            continue
        if isinstance(leaf, (query.Prefix, query.Wildcard, query.TermRange)):
            for count, _ in enumerate(leaf._btexts(reader), 1):
                if count > MAX_EXPANSION:
                    if isinstance(leaf, query.TermRange):
                        shown = f"[{leaf.start or ''} TO {leaf.end or ''}]"
                    else:
                        shown = str(leaf.text) + ("*" if isinstance(leaf, query.Prefix) else "")
                    raise QueryError(
                        f"{shown!r} matches more than {MAX_EXPANSION} words in {leaf.fieldname}: "
                        "make it more specific"
                    )
