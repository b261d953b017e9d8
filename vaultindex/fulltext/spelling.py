"""Did you mean: the vault's word nearest to a misspelt one (optimal string alignment)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .analysis import STEMMING, fold_accents


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of a and b (insertions, deletions, substitutions and
    swaps of two neighbouring letters count one edit each), or limit + 1 when it is above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        before, prev = prev, row
    return min(prev[-1], limit + 1)


def _one_edit(word: str) -> set[str]:
    """Every string one edit from `word` (a swap of neighbours counts one), over the letters a-z
    and the word's own."""
    letters = set("abcdefghijklmnopqrstuvwxyz") | set(word)
    heads_tails = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {h + t[1:] for h, t in heads_tails if t}
    out |= {h + t[1] + t[0] + t[2:] for h, t in heads_tails if len(t) > 1}
    out |= {h + c + t[1:] for h, t in heads_tails if t for c in letters}
    out |= {h + c + t for h, t in heads_tails for c in letters}
    out.discard(word)
    return out


class Dictionary(Protocol):
    """The words "did you mean" may offer, with the number of notes of each (store.Store)."""

    def word_counts(self, words: Iterable[str]) -> dict[str, int]: ...

    def words_between(self, shortest: int, longest: int) -> list[str]: ...


def _candidates(words: Dictionary, word: str, edits: int) -> list[str]:
    """Words of the spelling dictionary that may be within `edits` (1 or 2) of `word`, compared
    without their accents (see closest_word).

    One edit: each string one edit away is looked up (about 50 * len(word) lookups, a few ms),
    and the accented words of a near length are tried, since `resumee` is one edit from the
    folded `résumé` but three from the word as written. Two: the dictionary's words of a near
    length that share enough letters (Whoosh's Levenshtein automaton took seconds per word at
    10,000 notes, and counts a swap as two edits)."""
    folded = fold_accents(word)
    if edits == 1:
        near = _one_edit(word) if folded == word else _one_edit(word) | _one_edit(folded) | {folded}
        found = sorted(words.word_counts(near))
        if found:  # an accented word the lookups missed cannot be nearer than these (one edit as written)
            return found
        low, high = len(folded) - 2, len(folded) + 2
        return [w for w in words.words_between(low, high) if not w.isascii() and _may_be_near(folded, w, 1)]
    low, high = len(word) - edits, len(word) + edits
    # Each edit brings in at most one letter the other word lacks: a cheap test before the distance.
    return [w for w in words.words_between(low, high) if _may_be_near(folded, w, edits)]


def _may_be_near(folded: str, candidate: str, edits: int) -> bool:
    letters, other = set(folded), set(fold_accents(candidate))
    return len(letters - other) <= edits and len(other - letters) <= edits


def closest_word(words: Dictionary, word: str) -> str | None:
    """The vault's word nearest to a misspelt `word`: fewest edits once both are without their
    accents (`naïvee` and `naivee` are one edit from `naïve`; `resumee` one from `résumé`), then
    fewest edits as written, then the word in most notes. Two edits only when no word is one
    edit away, and only for words of five letters or more; never a much shorter word (`ofset`
    is not `set`). The word is offered as the vault writes it."""
    folded = fold_accents(word)
    for edits in (1, 2):
        if edits == 2 and len(word) < 5:
            break
        close = []
        for candidate in _candidates(words, word, edits):
            if candidate == word or len(candidate) * 4 < len(word) * 3:
                continue
            distance = osa_distance(folded, fold_accents(candidate), edits)
            if distance <= edits:
                close.append((distance, osa_distance(word, candidate, edits + 2), candidate))
        if close:
            counts = words.word_counts(c for _, _, c in close)
            return min((distance, raw, -counts.get(c, 0), c) for distance, raw, c in close)[3]
    return None


def known(s: Any, words: Dictionary, word: str) -> bool:
    """Whether the vault has `word` (as typed, or its stem in a title or body)."""
    reader = s.reader()
    return bool(words.word_counts([word])) or reader.frequency("body", word) > 0 or any(
        reader.frequency(f, stem) for f in ("body", "title") for stem in _stems(word)
    )


def _stems(word: str) -> list[str]:
    return [t.text for t in STEMMING(word)]
