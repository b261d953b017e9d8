"""Time reading a large bibliography: a generated 5,000-entry .bib (Better BibTeX style).

    python bench/bib_read.py                 # 5,000 entries, 3 runs, target 2 s
    python bench/bib_read.py --entries 20000 --runs 1

Measures (median of the runs, in a fresh temporary folder):
- cold: the first read of the file (bibtexparser's split, macros, LaTeX decoding, names, ids);
- unchanged: a re-read against the previous Bibliography (the file is only stat()ed);
- one entry appended: the file is read and parsed again (only that file);
- in a vault (`--notes N`, default 1,000 notes citing the entries): the first sync, a no-op
  sync, and a sync after appending an entry to the .bib, counting the notes parsed (0: an edit
  to the bibliography never reads the notes again).
Exit status 1 when the cold read is over the target, or when a bib edit parses a note.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaultindex import bib
from vaultindex.bib import bibtex, fields

FIRST = ["Jürgen", "Łukasz", "François", "Ana", "Wei", "Kenji", "Olga", "Søren", "Priya", "José", "Mei", "Tomás"]
FIRST_TEX = {"Jürgen": 'J{\\"u}rgen', "Łukasz": "{\\L}ukasz", "François": "Fran{\\c{c}}ois", "Søren": "S{\\o}ren", "José": "Jos{\\'e}", "Tomás": "Tom{\\'a}s"}
LAST = ["Schmidhuber", "Kaiser", "Chollet", "Smith", "Zhang", "Tanaka", "Ivanova", "Kierkegaard", "Patel", "García", "Li", "van der Berg", "de la Cruz", "Müller"]
LAST_TEX = {"García": "Garc{\\'\\i}a", "Müller": 'M{\\"u}ller'}
WORDS = (
    "learning neural networks deep training data models language vision robust efficient scaling "
    "attention transformer graph reinforcement policy diffusion generative contrastive sparse "
    "pruning distillation benchmark optimization stochastic gradient representation transfer"
).split()
VENUES = ["neurips", "icml", "iclr", "jmlr", "tpami"]


SYLLABLES = ["ka", "ren", "so", "vi", "mo", "lin", "ta", "ber", "ni", "cho", "de", "ul", "fa", "gar", "po", "zi"]


def _name(rng: random.Random) -> str:
    # about 20,000 different names, so that a cache of names does not make the run look faster
    first = rng.choice(FIRST)
    base = rng.choice(LAST)
    last = LAST_TEX.get(base, base) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
    return f"{last}, {FIRST_TEX.get(first, first)}"


def generate(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out = [
        "@string{neurips = {Advances in Neural Information Processing Systems}}",
        "@string{icml = {International Conference on Machine Learning}}",
        "@string{iclr = {International Conference on Learning Representations}}",
        '@string{jmlr = "Journal of Machine Learning Research"}',
        "@string{tpami = {IEEE Transactions on Pattern Analysis and Machine Intelligence}}",
        "@proceedings{proc2020, title = {Proceedings of the Workshop}, year = {2020}, publisher = {PMLR}}",
        "",
    ]
    for i in range(n):
        words = rng.sample(WORDS, 6)
        acronym = "".join(w[0] for w in words[:3]).upper()
        title = f"{{{{{acronym}}}}}: {' '.join(words).capitalize()} {{{{for}}}} {rng.choice(WORDS)}"
        authors = " and ".join(_name(rng) for _ in range(rng.randint(1, 8)))
        kind = rng.choice(["article", "inproceedings", "online"])
        fields = [f"  title = {{{title}}}", f"  author = {{{authors}}}"]
        if kind == "online":
            arxiv = f"{rng.randint(15, 25):02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}"
            fields += [f"  date = {{20{arxiv[:2]}-{arxiv[2:4]}-0{rng.randint(1, 9)}}}", f"  eprint = {{{arxiv}}}",
                       "  eprinttype = {arXiv}", f"  url = {{http://arxiv.org/abs/{arxiv}}}"]
        else:
            venue = rng.choice(VENUES)
            fields += [f"  {'journal' if kind == 'article' else 'booktitle'} = {venue}",
                       f"  year = {rng.randint(1990, 2025)}", f"  month = {rng.choice(['jan', 'jun', '{July}', '11'])}",
                       f"  doi = {{10.{rng.randint(1000, 9999)}/{acronym.lower()}.{i}}}", f"  pages = {{{i}--{i + 9}}}"]
        if i % 20 == 0:
            fields.append("  crossref = {proc2020}")
        abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140)))
        fields.append(f"  abstract = {{{abstract.capitalize()}. Results improve by 10\\% over the \\emph{{baseline}}.}}")
        fields.append(f"  file = {{/Users/me/Zotero/storage/{i:08X}/paper.pdf}}")
        out.append(f"@{kind}{{key{i}{acronym.lower()},\n" + ",\n".join(fields) + "\n}\n")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=2.0, help="seconds allowed for the cold read")
    parser.add_argument("--notes", type=int, default=1000, help="notes of the vault for the sync part (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "library.bib"
        path.write_text(generate(args.entries), encoding="utf-8")
        source = bib.BibSource("library.bib", path, "bibtex")
        started = time.perf_counter()
        bibtex._quiet_bibtexparser()  # the import, once per process, timed on its own
        fields.normalizers()
        imports = time.perf_counter() - started
        cold, cold_cpu, unchanged, appended = [], [], [], []
        for _ in range(args.runs):
            clear = getattr(fields, "clear_caches", None) or fields._format_name.cache_clear
            clear()  # each run is a cold read: no name seen before (the last tree had one cache)
            t, c = time.perf_counter(), time.process_time()
            first = bib.read([source])
            cold.append(time.perf_counter() - t)
            cold_cpu.append(time.process_time() - c)
            t = time.perf_counter()
            again = bib.read([source], previous=first)
            unchanged.append(time.perf_counter() - t)
            assert again.files[0] is first.files[0]
            with path.open("a", encoding="utf-8") as fh:
                fh.write("\n@misc{appended, title = {One more}}\n")
            t = time.perf_counter()
            third = bib.read([source], previous=again)
            appended.append(time.perf_counter() - t)
            assert "appended" in third and third.changed_keys(again) == {"appended"}
            path.write_text(path.read_text(encoding="utf-8").replace("\n@misc{appended, title = {One more}}\n", ""), encoding="utf-8")
        size = path.stat().st_size / 1024 / 1024
        errors = [d for d in first.diagnostics if d.severity == "error"]
        median = statistics.median(cold)
        print(f"{args.entries:,} entries, {size:.1f} MB, {len(first):,} read, {len(errors)} errors")
        print(f"imports (bibtexparser, parse.py):   {imports * 1000:7.0f} ms")
        print(f"cold read (median of {args.runs}):        {median * 1000:7.0f} ms   target {args.target * 1000:.0f} ms: {'pass' if median <= args.target else 'FAIL'}")
        print(f"  of which CPU time of this process: {statistics.median(cold_cpu) * 1000:7.0f} ms   (load average {os.getloadavg()[0]:.1f})")
        print(f"re-read, unchanged (stat only):     {statistics.median(unchanged) * 1000:7.2f} ms")
        print(f"re-read after appending one entry:  {statistics.median(appended) * 1000:7.0f} ms")
    parsed = sync_bench(args.entries, args.notes) if args.notes else 0
    return 0 if median <= args.target and parsed == 0 else 1


def sync_bench(entries: int, notes: int) -> int:
    """The bibliography inside a vault's index; returns the notes parsed by the bib edit."""
    import vaultindex.indexer as indexer
    from vaultindex import Vault

    parses = [0]
    real = indexer.parse_file

    def counting(*a, **k):
        parses[0] += 1
        return real(*a, **k)

    indexer.parse_file = counting
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        (root / "notes").mkdir(parents=True)
        text = generate(entries)
        (root / "library.bib").write_text(text, encoding="utf-8")
        keys = [line[line.index("{") + 1 : -1] for line in text.splitlines() if line.startswith(("@article{", "@inproceedings{", "@online{"))]
        rng = random.Random(2)
        for i in range(notes):
            cited = " ".join(f"[@{k}]" for k in rng.sample(keys, 5))
            (root / "notes" / f"Note {i}.md").write_text(f"# Note {i}\nAbout {rng.choice(WORDS)}: {cited} [@missing{i}]\n", encoding="utf-8")
        os.environ["VAULTINDEX_INDEX_DIR"] = str(Path(tmp) / "index")
        timings = {}
        for label in ("first sync", "no-op sync"):
            t = time.perf_counter()
            Vault.open(root).sync()
            timings[label] = time.perf_counter() - t
        parses[0] = 0
        with (root / "library.bib").open("a", encoding="utf-8") as fh:
            fh.write("\n@misc{missing7, title = {Now in the bibliography}, year = 2026}\n")
        t = time.perf_counter()
        Vault.open(root).sync()
        timings["sync after a bib edit"] = time.perf_counter() - t
        after = Vault.open(root)
        resolved = {o.target: o.status for o in after.links("notes/Note 7.md")}
        assert resolved["missing7"] == "reference", resolved
        print(f"vault of {notes:,} notes citing {entries:,} entries ({notes * 5:,} citations of bib-only papers):")
        for label, seconds in timings.items():
            print(f"  {label + ':':32s} {seconds * 1000:7.0f} ms")
        print(f"  notes parsed by the bib edit:    {parses[0]:7d}")
        return parses[0]


if __name__ == "__main__":
    sys.exit(main())
