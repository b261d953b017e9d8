"""Chinese, Japanese and Korean search on a vault of Wikipedia-style notes (tests/fixtures/cjk_vault,
written for these tests): recall against substring containment, ranking, phrases, snippets.

Run as a script (`python tests/test_cjk.py`) to print the recall figure quoted in README.md.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultindex.fulltext import has_cjk

FIXTURE = Path(__file__).parent / "fixtures" / "cjk_vault"

# What a reader types, by language; the notes that should match are found by substring containment.
QUERIES = [
    # Chinese
    "注意力", "注意力机制", "神经网络", "剪枝", "数据剪枝", "遗忘", "灾难性遗忘", "长城", "熊猫", "大熊猫",
    "竹子", "翻译", "机器翻译", "语言模型", "预训练", "模型", "绿茶", "发酵", "强化学习", "奖励",
    "知识蒸馏", "蒸馏", "黄河", "中国", "图神经网络", "权重", "训练", "计算", "注意事项",
    # Japanese
    "富士山", "自然言語処理", "言語", "注意機構", "寿司", "新幹線", "東京", "深層学習", "学習", "花見",
    "強化学習", "京都", "神社", "知識蒸留", "翻訳", "モデル", "トランスフォーマー", "ニューラルネットワーク",
    "日本語", "ねずみ",
    # Korean
    "한글", "인공지능", "김치", "서울", "어텐션", "트랜스포머", "강화학습", "보상", "제주도", "한라산",
    "신경망", "비빔밥", "지식 증류", "모델", "학습", "번역", "세종대왕",
    # one character, and text mixed with Latin words
    "猫", "茶", "山", "河", "Transformer的注意力机制", "Transformer 注意力", "BERT 学習", "GPT 모델",
]


def note_texts(root: Path) -> dict[str, str]:
    """Each note's searchable text as a reader sees it: its file name and its whole file."""
    return {
        p.relative_to(root).as_posix(): (p.stem + "\n" + p.read_text(encoding="utf-8")).lower()
        for p in sorted(root.rglob("*.md"))
    }


def expected(texts: dict[str, str], query: str) -> set[str]:
    words = query.lower().split()
    return {path for path, text in texts.items() if all(w in text for w in words)}


def measure(vault, root: Path) -> tuple[float, float, list[str]]:
    """Recall and precision over all queries (pooled), and the queries that missed a note."""
    texts = note_texts(root)
    found_right = wanted = found = 0
    missed = []
    for q in QUERIES:
        want = expected(texts, q)
        got = {h.path for h in vault.search(q, limit=200, snippets=False).hits}
        found_right += len(got & want)
        wanted += len(want)
        found += len(got)
        if want - got:
            missed.append(f"{q}: {len(got & want)}/{len(want)}")
    return found_right / wanted, found_right / max(found, 1), missed


@pytest.fixture(scope="module")
def cjk_vault(tmp_path_factory):
    from vaultindex import Vault

    root = tmp_path_factory.mktemp("cjk") / "vault"
    shutil.copytree(FIXTURE, root)
    vault = Vault.open(root)
    vault.sync()
    return vault


def test_every_query_has_notes_to_find():
    texts = note_texts(FIXTURE)
    assert len(texts) >= 40
    assert all(expected(texts, q) for q in QUERIES)


def test_recall_on_the_cjk_vault(cjk_vault):
    recall, precision, missed = measure(cjk_vault, cjk_vault.root)
    assert recall >= 0.95, missed
    assert precision >= 0.95


def paths(vault, query: str) -> list[str]:
    return [h.path for h in vault.search(query, limit=50).hits]


def test_a_word_finds_every_note_containing_it_and_the_titled_note_first(cjk_vault):
    found = paths(cjk_vault, "注意力")
    want = expected(note_texts(FIXTURE), "注意力")
    assert set(found) == want and len(want) >= 5
    assert found[0] == "zh/注意力机制.md"


def test_the_words_of_a_query_must_stand_together(cjk_vault):
    # 活动.md has 注意 (注意事项) and 意力 (创意力量) apart, but not 注意力.
    assert "zh/活动.md" not in paths(cjk_vault, "注意力")
    assert "zh/活动.md" in paths(cjk_vault, "注意事项")


def test_phrases(cjk_vault):
    found = set(paths(cjk_vault, '"注意力机制"'))
    assert found == expected(note_texts(FIXTURE), "注意力机制")
    assert paths(cjk_vault, '"强化学习的重要应用"') == ["zh/强化学习.md"]
    assert paths(cjk_vault, '"的重要强化学习"') == []


def test_one_character_finds_it_inside_longer_words(cjk_vault):
    # 猫 (cat) is a word of its own in 猫.md and part of 大熊猫 (giant panda).
    assert set(paths(cjk_vault, "猫")) == {"ja/猫.md", "zh/大熊猫.md"}


def test_mixed_latin_and_cjk(cjk_vault):
    assert set(paths(cjk_vault, "Transformer的注意力机制")) == {"mixed/Transformer笔记.md", "zh/注意力机制.md"}
    assert paths(cjk_vault, "BERT 公開") == ["mixed/BERT.md"]
    assert "en/Attention is all you need.md" in paths(cjk_vault, "transformers")  # English still stems


def test_snippets_mark_the_whole_word(cjk_vault):
    hit = cjk_vault.search("灾难性遗忘").hits[0]
    assert hit.path == "zh/灾难性遗忘.md"
    assert "\x01灾难性遗忘\x02" in hit.snippet
    hit = cjk_vault.search("김치").hits[0]
    assert "\x01김치\x02" in hit.snippet
    hit = next(h for h in cjk_vault.search("猫").hits if h.path == "zh/大熊猫.md")
    assert "大熊\x01猫\x02" in hit.snippet


def test_no_typo_correction_of_cjk_words(cjk_vault):
    result = cjk_vault.search("量子计算机")  # in no note: nothing is "corrected" into another word
    assert result.hits == () and result.suggestion is None


def test_cli_search_in_chinese(cjk_vault):
    from click.testing import CliRunner

    from vaultindex.cli import cli

    out = CliRunner().invoke(cli, ["--vault", str(cjk_vault.root), "search", "--paths", "遗忘"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ["zh/灾难性遗忘.md"]


# Latin text is analysed exactly as before: same words, positions and offsets as Whoosh's analyzers.
_LATIN = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(lambda c: not has_cjk(c) and not "\uff00" <= c <= "\uffef"))


@settings(max_examples=300, deadline=None)
@given(_LATIN)
def test_text_without_cjk_is_analysed_as_whoosh_does(text):
    from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

    from vaultindex.fulltext import NoteAnalyzer as _Analyzer
    from vaultindex.fulltext.analysis import _FoldAccents

    # Whoosh's StemmingAnalyzer and StandardAnalyzer, with the accents of Latin letters folded
    # after lower-casing (tests/test_search_words.py): Jégou is indexed as jegou.
    def StemmingAnalyzer():
        return RegexTokenizer() | LowercaseFilter() | _FoldAccents() | StopFilter() | StemFilter()

    def StandardAnalyzer(stoplist):
        return RegexTokenizer() | LowercaseFilter() | _FoldAccents()

    def tokens(analyzer, mode, glued=True):
        found = analyzer(text, positions=True, chars=True, mode=mode)
        return [(t.text, t.pos, t.startchar, t.endchar) for t in found if glued or not getattr(t, "glued", False)]

    def without_positions(found):
        return [(word, start, end) for word, _, start, end in found]

    stem, plain = _Analyzer(), _Analyzer(stemming=False, stoplist=None)
    for mode in ("index", "query"):
        # Both ways through: Whoosh's own chain (taken for such text) and the CJK-aware one.
        # A letter glued to a word (the q of Q-learning) is the one word Whoosh drops that we keep.
        for ours in (stem, stem.cjk):
            kept = tokens(ours, mode)
            assert without_positions(tokens(ours, mode, glued=False)) == without_positions(tokens(StemmingAnalyzer(), mode))
            positions = [pos for _, pos, _, _ in kept]
            assert positions == sorted(set(positions))  # one after the other, as Whoosh renumbers
        for ours in (plain, plain.cjk):
            assert tokens(ours, mode) == tokens(StandardAnalyzer(stoplist=None), mode)


if __name__ == "__main__":  # the figure in README.md: python tests/test_cjk.py
    import tempfile

    from vaultindex import Vault

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        shutil.copytree(FIXTURE, root)
        vault = Vault.open(root)
        vault.sync()
        recall, precision, missed = measure(vault, root)
        print(f"{len(QUERIES)} queries, {len(note_texts(root))} notes: recall {recall:.3f}, precision {precision:.3f}")
        print("\n".join(missed), file=sys.stderr)
