"""The benchmark's vault generator: deterministic, and its notes have the promised features."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parent.parent / "bench"
N = 50


def _load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_generate"] = module
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen") / "vault"
    info = generate.generate(root, N, seed=1)
    return root, info


def _split(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]), text[end + 5 :]


def test_same_seed_gives_byte_identical_files(vault, tmp_path):
    root, _ = vault
    again = tmp_path / "again"
    generate.generate(again, N, seed=1)
    assert _digest(again) == _digest(root)


def test_other_seed_gives_another_vault(vault, tmp_path):
    root, _ = vault
    other = tmp_path / "other"
    generate.generate(other, N, seed=2)
    assert _digest(other) != _digest(root)


def test_exactly_n_notes_in_folders(vault):
    root, info = vault
    notes = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md"))
    assert len(notes) == N == info.notes
    assert sorted(info.paths) == notes
    assert any(re.fullmatch(r"papers/[a-z]+/.+\.md", p) for p in notes)
    assert any(p.startswith("topics/") for p in notes)
    assert (root / ".obsidian" / "app.json").is_file()


def test_paper_notes_have_frontmatter_and_300_to_600_words(vault):
    root, _ = vault
    papers = sorted((root / "papers").rglob("*.md"))
    assert papers
    for path in papers:
        meta, body = _split(path.read_text(encoding="utf-8"))
        for key in ("title", "authors", "year", "citekey", "tags", "aliases"):
            assert meta.get(key), f"{path.name}: no {key}"
        assert "arxiv" in meta or "doi" in meta
        assert isinstance(meta["year"], int) and 2000 < meta["year"] < 2030
        assert any("/" in t for t in meta["tags"]), "nested tags"
        # Prose words: drop links, citations, tags and headings, count what is left.
        prose = re.sub(r"!?\[\[[^\]]*\]\]|\[[^\]]*\]\([^)]*\)|\[[^\]]*@[^\]]*\]|#\S+|^#+ .*$", " ", body, flags=re.M)
        words = len(re.findall(r"[A-Za-z][\w-]*", prose))
        assert 300 <= words <= 640, f"{path.name}: {words} words"


def test_links_citations_tags_embeds_and_broken_links(tmp_path):
    # A bigger vault so that the rarer features (embeds, broken links) surely occur.
    root = tmp_path / "v"
    info = generate.generate(root, 400, seed=3)
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.md")))
    names = {p.stem.lower() for p in root.rglob("*.md")}
    assert re.search(r"\[\[[^\]|#]+#Results\]\]", text), "heading links"
    assert re.search(r"\[\[[^\]|]+\|[^\]]+\]\]", text), "links with shown text"
    assert re.search(r"\]\([^)]+%20[^)]*\.md\)", text), "Markdown links"
    assert re.search(r"\[@[a-z]+\d{4}\w+\]", text), "[@key] citations"
    assert re.search(r"(^|\s)#ml/[a-z]+/[a-z-]+", text, re.M), "nested inline tags"
    embeds = re.findall(r"!\[\[(fig-[^\]|]+\.png)", text)
    assert embeds and info.attachments == len(embeds)
    for fig in embeds:
        data = (root / "attachments" / fig).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    targets = [t.split("#")[0].split("|")[0].rsplit("/", 1)[-1].lower() for t in re.findall(r"(?<!!)\[\[([^\]]+)\]\]", text)]
    broken = [t for t in targets if t and t not in names]
    assert broken and len(broken) == info.broken_links
    assert len(broken) < 0.02 * len(targets)


def test_in_degree_is_heavy_tailed(tmp_path):
    info = generate.generate(tmp_path / "v", 1000, seed=1)
    degrees = sorted(info.in_degree.values(), reverse=True)
    median = degrees[len(degrees) // 2]
    assert degrees[0] >= 20 * max(1, median), "a few hubs, most notes with few backlinks"


def test_notes_parse_with_vaultindex(vault):
    parse = pytest.importorskip("vaultindex.parse")
    root, _ = vault
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        note = parse.parse_note(rel, path.read_text(encoding="utf-8"))
        assert note.title
        assert note.links, rel
        assert not [d for d in note.diagnostics if d.severity == "error"], rel
        if rel.startswith("papers/"):
            assert note.paper.citekey and note.paper.year
            assert any("/" in t for t in note.tags)


def test_the_vocabulary_option_is_a_deterministic_zipf_vocabulary_of_that_size(tmp_path):
    words = generate.sized_vocabulary(200_000)
    assert len(words) == len(set(words)) == 200_000
    assert words[: len(generate.vocabulary())] == generate.vocabulary()  # the same frequent head
    assert all(w.isalpha() and w.isascii() for w in words[len(generate.vocabulary()):])  # plain words any tool can query
    assert generate.sized_vocabulary(200_000) == words
    a = generate.generate(tmp_path / "a", 200, seed=3, vocabulary_size=200_000)
    b = generate.generate(tmp_path / "b", 200, seed=3, vocabulary_size=200_000)
    texts = {p: (tmp_path / "a" / p).read_text() for p in a.paths}
    assert texts == {p: (tmp_path / "b" / p).read_text() for p in b.paths}
    seen = {w for text in texts.values() for w in text.split()}
    assert len(seen & set(words[len(generate.vocabulary()):])) > 1000  # the long tail is used
