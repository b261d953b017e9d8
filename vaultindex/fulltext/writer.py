"""Whoosh's segment writer with its postings kept per term in memory, written a term at a time.

Whoosh's SegmentWriter puts every posting (field, word, document, weight, value) in a pool,
sorts the pool at commit (a tuple comparison per step, runs spilled to disk past `limitmb`)
and hands the sorted stream to the codec one posting at a time. Here the postings of each
(field, word) are appended to that word's lists as the documents come, already in document
order, so a commit only sorts the words and writes each word's postings in blocks, with the
codec's own block writer. A document's words come from the analyzers' one-pass `positions`
(analysis.py) where they have one, else from Whoosh's token chain.

The index holds what Whoosh's writer would write: the same words, postings, statistics, lengths
and stored fields (tests/test_fulltext_writer.py compares them all); only a block's pickle is
smaller, as postings with equal values share one value object (the single-position ones). Used
only on the whoosh3 version patches.py was tested on; on another one, Whoosh's own writer is.
"""

from __future__ import annotations

from typing import Any, cast

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter
from whoosh.formats import Frequency, Positions
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter


class _TermPool:
    """The postings of one segment, by field and word: what Whoosh's PostingPool holds, unsorted.

    `add` takes Whoosh's posting tuples (the writer's add_document and merges call it); the
    documents of one word arrive in increasing order, except when a merge adds an older
    segment's documents first, which `write` then sorts."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, tuple[list[int], list[float], list[bytes]]]] = {}
        self.unordered: set[tuple[str, bytes]] = set()
        # Values and weights many postings share (one position, a frequency), made once.
        self._single: dict[int, bytes] = {}
        self._weights: dict[tuple[int, float], float] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """One posting as Whoosh's writer gives it (merges, documents with options)."""
        fieldname, btext, docnum, weight, value = item
        words = self.fields.get(fieldname)
        if words is None:
            words = self.fields[fieldname] = {}
        postings = words.get(btext)
        if postings is None:
            words[btext] = ([docnum], [weight], [value or b""])
            return
        if postings[0][-1] >= docnum:
            self.unordered.add((fieldname, btext))
        postings[0].append(docnum)
        postings[1].append(weight)
        postings[2].append(value or b"")

    def add_field(self, fieldname: str, fieldobj: Any, value: Any, docnum: int) -> int:
        """The postings of one document's field; returns the field's length (its words counted
        with repeats) when the field is scorable, else 0, as Whoosh's add_document does."""
        fmt = fieldobj.format
        positions = getattr(fieldobj.analyzer, "positions", None) if isinstance(value, str) else None
        found = positions(value) if positions is not None and type(fmt) in (Positions, Frequency) else None
        if found is None:  # Whoosh's own analysis
            length = 0
            for btext, freq, weight, vbytes in fieldobj.index(value):
                self.add((fieldname, btext, docnum, weight, vbytes))
                length += freq
            return length if fieldobj.scorable else 0
        if not found:
            return 0
        words = self.fields.get(fieldname)
        if words is None:
            words = self.fields[fieldname] = {}
        boost = fmt.field_boost
        single, weights = self._single, self._weights
        encode = fmt.encode if type(fmt) is Positions else None
        length = 0
        for word, poses in found.items():
            freq = len(poses)
            length += freq
            # The value and weight Whoosh's format gives (Positions.word_values, Frequency.word_values).
            if encode is None:
                vbytes = single.get(-freq)
                if vbytes is None:
                    vbytes = single[-freq] = pack_uint(freq)
            elif freq == 1:
                vbytes = single.get(poses[0])
                if vbytes is None:
                    vbytes = single[poses[0]] = encode(poses)
            else:
                vbytes = encode(poses)
            weight = weights.get((freq, boost))
            if weight is None:
                weight = weights[freq, boost] = float(freq) * boost
            btext = word.encode("utf-8")
            postings = words.get(btext)
            if postings is None:
                words[btext] = ([docnum], [weight], [vbytes])
            else:
                postings[0].append(docnum)
                postings[1].append(weight)
                postings[2].append(vbytes)
        return length if fieldobj.scorable else 0

    def cleanup(self) -> None:
        self.fields = {}

    def write(self, fieldwriter: _FieldWriter, schema: Any, lengths: Any, doc_count: int) -> None:
        """Every word's postings through `fieldwriter`, fields and words in Whoosh's order, each
        posting with its document's length in the field as `lengths` (the segment's per-document
        reader) gives it."""
        for fieldname in sorted(self.fields):
            words = self.fields[fieldname]
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            get_length = lengths.doc_field_length_reader(fieldname)
            doc_length = [get_length(docnum) for docnum in range(doc_count)]
            for btext in sorted(words):
                ids, weights, values = words[btext]
                if (fieldname, btext) in self.unordered:
                    order = sorted(range(len(ids)), key=ids.__getitem__)
                    ids = [ids[i] for i in order]
                    weights = [weights[i] for i in order]
                    values = [values[i] for i in order]
                fieldwriter.add_term(btext, ids, weights, values, [doc_length[docnum] for docnum in ids])
            fieldwriter.finish_field()


class _Postings(W3PostingsWriter):
    """The codec's posting writer, given a whole block at once instead of one posting per call."""

    def block_limit(self) -> int:
        return self._blocklimit

    def add_block(self, ids: list[int], weights: list[float], values: list[bytes], lengths: list[int | None]) -> None:
        """Buffer up to one block's postings (the caller cuts them at the block limit), as that
        many add_posting calls would."""
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.extend(ids)
        self._weights.extend(weights)
        self._maxweight = max(self._maxweight, max(weights))
        self._values.extend(v for v in values if v)
        present = [n for n in lengths if n]
        if present:
            low = min(present)
            self._minlength = low if self._minlength is None else min(self._minlength, low)
            self._maxlength = max(self._maxlength, max(present))


class _FieldWriter(W3FieldWriter):
    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        self._postwriter = self._codec.bulk_postings_writer(self._postfile)

    def add_term(self, btext: bytes, ids: list[int], weights: list[float], values: list[bytes], lengths: list[int | None]) -> None:
        self.start_term(btext)
        postwriter = cast("_Postings", self._postwriter)
        limit = postwriter.block_limit()
        for start in range(0, len(ids), limit):
            end = start + limit
            postwriter.add_block(ids[start:end], weights[start:end], values[start:end], lengths[start:end])
        self.finish_term()


class _Codec(W3Codec):
    """W3Codec writing through _FieldWriter; pickled (into the segment list of the index's TOC) as
    the plain W3Codec, so the index written names no class of ours."""

    def field_writer(self, storage: Any, segment: Any) -> _FieldWriter:
        return _FieldWriter(self, storage, segment)

    def bulk_postings_writer(self, postfile: Any) -> _Postings:
        return _Postings(postfile, blocklimit=self._blocklimit, compression=self._compression, inlinelimit=self._inlinelimit)

    def __reduce__(self) -> tuple[type, tuple[int, int, int]]:
        return W3Codec, (self._blocklimit, self._compression, self._inlinelimit)


class TermWriter(SegmentWriter):
    """SegmentWriter with a _TermPool instead of Whoosh's sorting pool (see the module's docstring)."""

    def __init__(self, ix: Any, **options: Any) -> None:
        super().__init__(ix, codec=_Codec(), **options)
        self.terms = _TermPool()
        self.pool = self.terms  # type: ignore[assignment]  # (merges and Whoosh's add_document add to it)
        # Documents take the short way (add_document) when the schema has nothing it leaves out.
        self._plain = not any(f.vector or f.separate_spelling() or f.column_type for _, f in self.schema.items())

    def add_document(self, **fields: Any) -> None:
        """Whoosh's add_document (same postings, lengths and stored fields) for documents without
        boosts or custom stored values, in a schema without vectors, spelling words or columns;
        any other document goes Whoosh's way."""
        schema = self.schema
        if not self._plain or any(name.startswith("_") or name not in schema for name in fields):
            super().add_document(**fields)
            return
        self._check_state()
        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                length = self.terms.add_field(name, fieldobj, value, docnum) if fieldobj.indexed else 0
                perdoc.add_field(name, fieldobj, value if fieldobj.stored else None, length)
        except ValueError:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def finish_segment(self) -> Any:
        """Write this writer's segment and return it, uncommitted (a sub-writer's end: the
        parent writes the index's table of contents)."""
        return self._finalize_segment()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        try:
            self.terms.write(self.fieldwriter, self.schema, lengths, self.docnum)
            self.fieldwriter.close()
        finally:
            lengths.close()


class _TermSubWriter(SubWriterTask):
    """One of Whoosh's sub-writer processes, writing its segment with a TermWriter.

    Whoosh's SubWriterTask always makes a SegmentWriter; this one does the same work (documents
    read from the job files the parent writes, one segment of its own at the end: the
    multi-segment mode) through a TermWriter, which spent about a third less CPU on a
    10,000-note vault (bench/results/build-10k.md)."""

    def run(self) -> None:
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = TermWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            writer.cancel()
            return
        segment = writer.finish_segment()
        self.resultqueue.put((None, sorted(writer.terms.fields), segment), timeout=5)


class MpTermWriter(MpWriter):
    """Whoosh's multi-process writer whose sub-writers are TermWriters (multi-segment mode only:
    merging the sub-writers' sorted runs into one segment needs Whoosh's own pool)."""

    def __init__(self, ix: Any, procs: int = 2, multisegment: bool = True, **options: Any) -> None:
        if not multisegment:
            raise ValueError("MpTermWriter writes one segment per sub-writer (multisegment=True)")
        super().__init__(ix, procs=procs, multisegment=True, **options)

    def _new_task(self) -> _TermSubWriter:
        task = _TermSubWriter(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, True)
        self.tasks.append(task)
        task.start()
        return task
