"""The full build's writer (fulltext/writer.py) and the analyzers' one-pass word lists
(NoteAnalyzer.positions) give exactly what Whoosh's own writer and token chain give: the same
words at the same positions, and an index with the same postings, lengths and stored fields,
so that search finds and ranks the same notes."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index
from whoosh.writing import SegmentWriter

from vaultindex.fulltext import _document, has_cjk
from vaultindex.fulltext.analysis import NoteAnalyzer, fold_accents, folds_longer, schema, spelling_words
from vaultindex.fulltext.writer import MpTermWriter, TermWriter
from vaultindex.indexer import parse_file
from vaultindex.scan import FileInfo

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"  # ../shared/corpora, read only (the notes are only read)
ANALYZERS = {"stemming": NoteAnalyzer(), "plain": NoteAnalyzer(stemming=False, stoplist=None), "spell": schema()["spell"].analyzer}

# Letters, digits, the glue characters, dots and stars (Whoosh's word pattern), stop words,
# letters whose lower case is longer (İ) or that fold (ß, ﬁ), and a CJK character and a
# fullwidth letter (the CJK chain then reads the text: positions() declines it).
PIECES = st.sampled_from([
    "a", "b", "Q", "k", "x", "3", "4", "the", "of", "and", "an", "to", "Learning", "means", "models", "pruning",
    "Data", "SO", "GPT", "C", "A", "-", "(", ")", "*", "+", ".", "..", ",", " ", "  ", "\n", "_", "'", "é", "İ",
    "ß", "ﬁ", "Ωmega", "naïve", "3.5", "e.g.", "x86_64", "注意", "Ｇ", "—", "/", "#tag",
    "thé", "Straße", "ÆON", "ﬀ", "ｱｲ", "Ａbc", "x" * 38, "é" * 20, "ß" * 20, "İstanbul",
])
TEXTS = st.lists(PIECES, max_size=40).map("".join)


def chain_positions(analyzer, text: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = collections.defaultdict(list)
    for t in analyzer(text, positions=True, mode="index"):
        if not t.stopped:
            found[t.text].append(t.pos)
    return dict(found)


@settings(max_examples=600, deadline=None)
@given(TEXTS, st.sampled_from(sorted(ANALYZERS)))
def test_one_pass_words_equal_the_token_chain(text, which):
    analyzer = ANALYZERS[which]
    fast = analyzer.positions(text)
    if fast is None:  # text with CJK or fullwidth characters: the chain itself is used
        assert has_cjk(text) or any("\uff10" <= c <= "\uff5a" for c in text)
        return
    assert fast == chain_positions(analyzer, text)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_the_spell_field_reads_the_same_words_from_the_note_words_as_from_the_text(text):
    """A document's `spell` value is the note's spelling words (what the store keeps), not its
    text again: the field's analyzer must find the very words it found in the text."""
    spell = ANALYZERS["spell"]
    if folds_longer(text):  # (_document sends the text then)
        return
    value = " ".join(sorted({fold_accents(w) for w in spelling_words(text)}))
    assert chain_positions(spell, value).keys() == chain_positions(spell, text).keys()


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_spelling_words_are_the_runs_of_three_to_forty_letters(text):
    """spelling_words takes letter runs and filters them by length: the same words as the
    pattern that says so (with lookarounds), in any script but CJK."""
    from vaultindex.fulltext.analysis import _SPELL_WORD, _WIDTH, STOP_WORDS

    assert spelling_words(text) == set(_SPELL_WORD.findall(text.translate(_WIDTH).lower())) - STOP_WORDS


def _postings(folder: Path) -> list:
    """Everything a search reads from an index: per field its length and each document's, per
    word its statistics and postings (document, weight, value), and the stored fields."""
    ix = index.open_dir(str(folder), indexname="MAIN")
    out: list = []
    with ix.reader() as r:
        for name in sorted(r.indexed_field_names()):
            out.append(("field", name, r.field_length(name), [r.doc_field_length(d, name) for d in range(r.doc_count_all())]))
            for btext in r.lexicon(name):
                ti = r.term_info(name, btext)
                out.append((name, btext, ti.weight(), ti.doc_frequency(), ti.min_length(), ti.max_length(),
                            ti.max_weight(), ti.min_id(), ti.max_id()))
                m = r.postings(name, btext)
                while m.is_active():
                    out.append((m.id(), m.weight(), m.value(), m.block_min_length(), m.block_max_length(), m.block_max_weight()))
                    m.next()
        out.append(list(r.all_stored_fields()))
    return out


def _documents(vault: Path) -> list[dict]:
    docs = []
    for path in sorted(vault.rglob("*.md")):
        rel = path.relative_to(vault).as_posix()
        data = path.read_bytes()
        record, body = parse_file(rel, data, FileInfo(len(data), 0), "0" * 40)
        docs.append(_document(record, body))
    return docs


def _build(folder: Path, writer_class, docs: list[dict]) -> list:
    folder.mkdir()
    ix = index.create_in(str(folder), schema(), indexname="MAIN")
    writer = writer_class(ix)
    for doc in docs:
        writer.update_document(**doc)
    writer.commit()
    return _postings(folder)


def _extra_notes(root: Path) -> None:
    """Notes the example vault lacks: CJK (Whoosh's chain), non-ASCII Latin, glued letters, repeats."""
    (root / "cjk.md").write_text("# 注意力机制\n\nTransformer的注意力机制 uses attention. 猫と犬。한국어 모델\n", encoding="utf-8")
    (root / "latin.md").write_text("---\ntitle: Naïve İstanbul\n---\n# Straße\nnaïve ﬁne-tuning of Q-learning, k-means, SO(3), GPT-4, A* and C++.\n", encoding="utf-8")
    (root / "repeat.md").write_text("pruning " * 300 + "\n" + "data pruning data. " * 200, encoding="utf-8")


def test_the_index_written_equals_whooshs(tmp_path, example_copy):
    _extra_notes(example_copy)
    docs = _documents(example_copy)
    assert len(docs) > 10
    assert _build(tmp_path / "ours", TermWriter, docs) == _build(tmp_path / "whoosh", SegmentWriter, docs)


def test_merged_segments_equal_whooshs(tmp_path, example_copy):
    """A second commit merges the first segment in (Whoosh's postings pool path), with a replaced note."""
    _extra_notes(example_copy)
    docs = _documents(example_copy)
    results = []
    for name, cls in (("ours", TermWriter), ("whoosh", SegmentWriter)):
        folder = tmp_path / name
        folder.mkdir()
        ix = index.create_in(str(folder), schema(), indexname="MAIN")
        for part in (docs[: len(docs) // 2], docs[len(docs) // 2 :] + docs[:1]):
            writer = cls(ix)
            for doc in part:
                writer.update_document(**doc)
            writer.commit(optimize=True)
        results.append(_postings(folder))
    assert results[0] == results[1]


@pytest.mark.skipif(not CORPORA.is_dir(), reason="the shared corpora are not here")
@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_real_vaults_index_as_whoosh_does(tmp_path, name):
    docs = _documents(CORPORA / name)
    assert _build(tmp_path / "ours", TermWriter, docs) == _build(tmp_path / "whoosh", SegmentWriter, docs)


def _by_document(folder: Path) -> tuple[dict, dict]:
    """An index as a search sees it whatever its segments: per note (by path) each field's length
    and postings (word, weight, value), and the fields' total lengths."""
    ix = index.open_dir(str(folder), indexname="MAIN")
    notes: dict = collections.defaultdict(dict)
    totals: dict = {}
    with ix.searcher() as s:
        r = s.reader()
        paths = {d: fields_["path"] for d, fields_ in r.iter_docs()}
        for name in sorted(r.indexed_field_names()):
            totals[name] = r.field_length(name)
            for d, path in paths.items():
                notes[path][name] = [r.doc_field_length(d, name)]
            for btext in r.lexicon(name):
                m = r.postings(name, btext)
                while m.is_active():
                    notes[paths[m.id()]][name].append((btext, m.weight(), m.value()))
                    m.next()
        stored = sorted(sorted(f.items()) for f in r.all_stored_fields())
    return {p: {k: sorted(v[1:]) + v[:1] for k, v in f.items()} for p, f in notes.items()}, {"totals": totals, "stored": stored}


def test_the_multi_process_writer_writes_what_whooshs_writes(tmp_path, example_copy):
    """A full build (BIG_BATCH notes and more) goes through sub-writer processes, each writing a
    segment of its own with a TermWriter: the notes' words, weights, values and lengths are
    those of Whoosh's multi-process writer (whose sub-writers are SegmentWriters)."""
    from whoosh.multiproc import MpWriter

    _extra_notes(example_copy)
    docs = [dict(doc) for doc in _documents(example_copy) * 3]
    for i, doc in enumerate(docs):
        doc["path"] = f"{i}-{doc['path']}"
    results = []
    for name, cls in (("ours", MpTermWriter), ("whoosh", MpWriter)):
        folder = tmp_path / name
        folder.mkdir()
        ix = index.create_in(str(folder), schema(), indexname="MAIN")
        writer = cls(ix, procs=2, multisegment=True, batchsize=7)
        for doc in docs:
            writer.update_document(**doc)
        writer.commit()
        results.append(_by_document(folder))
    assert len(results[0][0]) == len(docs)
    assert results[0] == results[1]
