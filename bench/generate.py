"""Deterministic generator of realistic paper-note vaults for the benchmark.

    python bench/generate.py --notes 10000 --seed 1 OUT_DIR

writes an Obsidian-style vault of exactly N notes: paper notes in `papers/<area>/`, topic notes
in `topics/`, a few loose notes in `Inbox/`, tiny PNG figures in `attachments/`, and
`.obsidian/app.json`. The same (notes, seed) always gives byte-identical files.

What a note holds (the features the index and the graph must cope with):
- YAML frontmatter: title, authors, year, arxiv id or DOI, citekey, nested tags
  (`ml/vision`), aliases (an acronym), status, venue;
- 300-600 words of prose drawn from a Zipf-distributed vocabulary of ML research words
  (a shared vocabulary plus words typical of the note's area; the word lists are our own);
- `[[wikilinks]]` whose in-degree follows a power law (preferential attachment), in the
  forms `[[Name]]`, `[[Name|shown]]`, `[[Name#Results]]`, `[[folder/Name]]` and Markdown
  `[shown](Name%20x.md)`; a few links to notes that do not exist;
- pandoc citations `[@key]` and `[see @a; @b]`, some to papers with no note;
- inline nested tags (`#ml/vision/detection`), some embeds `![[fig-....png]]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import struct
import sys
import time
import zlib
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from urllib.parse import quote

GENERATOR_VERSION = 1

# --------------------------------------------------------------------------------------------
# Word lists (written for this benchmark). Order matters: earlier words are more frequent.
# --------------------------------------------------------------------------------------------

FUNCTION_WORDS = """
the of and to in a is that we for with on as by this are be from an which our it at can not
than more these when while each both also only their its into over between such but or they
has have was were under how most all two three one first new other across without per through
using used show shows find found whereas however thus then where here there very much many
few some any less same different given since after before because about further still often
""".split()

CORE_WORDS = """
model training data learning network loss performance results method dataset accuracy layer
parameters task baseline approach models tasks networks representation features scale
experiments evaluation benchmark error generalization optimization gradient inference
architecture distribution samples objective prediction transformer attention embedding
regularization validation test fine-tuning pretraining supervised labels classifier linear
neural deep large small compute budget scaling examples batch weights convergence stochastic
descent robustness accuracy metric variance bias ablation encoder decoder tokens sequence
context memory capacity efficiency sparse dense pruning distillation transfer adaptation
domain shift noise augmentation contrastive self-supervised semi-supervised policy reward
agent environment graph nodes edges kernel convolutional recurrent latent generative
diffusion variational prior posterior likelihood sampling estimate estimator theory bound
analysis empirical curriculum difficulty selection active uncertainty calibration ensemble
forgetting continual catastrophic replay buffer rehearsal teacher student logits softmax
temperature margin hinge entropy divergence projection normalization dropout residual depth
width heads positional vocabulary corpus multilingual translation retrieval question answering
summarization classification detection segmentation tracking recognition speech audio
video image pixel patch resolution vision language multimodal alignment instruction prompt
zero-shot few-shot in-context emergent adapter low-rank quantization hardware throughput
latency parallel distributed synchronous asynchronous communication federated privacy
differential fairness worst-group spurious correlation subgroup invariant causal
counterfactual intervention interpretability probing saliency attribution lottery ticket
subnetwork initialization rewinding hyperparameter schedule warmup momentum adam cosine
annealing plateau overfitting underfitting memorization double descent interpolation
overparameterized lazy regime feature-learning mean-field infinite-width tangent spectrum
eigenvalue hessian curvature sharpness flatness minima landscape saddle escape trajectory
""".split()

# Words typical of each area; the area is also the nested tag `ml/<area>`.
AREAS: dict[str, list[str]] = {
    "vision": "image pixel patch convolutional detection segmentation resolution backbone "
    "bounding box anchor crop viewpoint occlusion texture saliency imagenet object "
    "keypoint depth optical stereo".split(),
    "nlp": "language token vocabulary sentence syntax parsing translation summarization "
    "entailment corpus lexical morphology tokenizer decoding beam perplexity dialogue "
    "coreference multilingual".split(),
    "rl": "policy reward agent environment episode trajectory exploration exploitation value "
    "critic actor bellman return horizon offline rollout simulator planning "
    "q-learning".split(),
    "theory": "bound theorem lemma proof convex complexity rademacher sample-complexity pac "
    "margin kernel asymptotic minimax regret stability uniform convergence "
    "implicit".split(),
    "optimization": "gradient descent momentum adam learning-rate schedule warmup curvature "
    "hessian sharpness preconditioning second-order line-search clipping "
    "stochastic convergence step-size plateau".split(),
    "graphs": "graph node edge message-passing neighborhood adjacency spectral laplacian "
    "homophily oversmoothing readout molecule community link-prediction walk "
    "subgraph isomorphism".split(),
    "speech": "speech audio waveform spectrogram phoneme acoustic speaker prosody vocoder "
    "transcription wer asr utterance frame pitch diarization noise "
    "enhancement".split(),
    "generative": "generative diffusion score denoising variational autoencoder latent prior "
    "likelihood sampling adversarial discriminator generator flow guidance "
    "fidelity mode-collapse".split(),
    "fairness": "fairness bias subgroup worst-group spurious demographic parity disparity "
    "protected attribute calibration robustness shift minority reweighting "
    "audit harm".split(),
    "continual": "continual forgetting catastrophic replay rehearsal plasticity stability "
    "task-incremental class-incremental consolidation regularization buffer "
    "drift sequential lifelong".split(),
    "efficiency": "pruning distillation quantization sparsity compression latency throughput "
    "low-rank adapter parameter-efficient memory footprint hardware kernel "
    "flops mixed-precision".split(),
    "data": "data pruning selection curation coreset difficulty noisy label annotation "
    "deduplication filtering mixture importance influence valuation "
    "curriculum".split(),
}

# Subtopics give deeper nested tags: ml/vision/detection.
SUBTOPICS = {
    "vision": ["detection", "segmentation", "self-supervised", "video"],
    "nlp": ["llm", "translation", "retrieval", "instruction-tuning"],
    "rl": ["offline", "model-based", "multi-agent"],
    "theory": ["generalization", "optimization", "kernels"],
    "optimization": ["schedules", "second-order", "adaptive"],
    "graphs": ["gnn", "molecules", "knowledge-graphs"],
    "speech": ["asr", "tts", "enhancement"],
    "generative": ["diffusion", "vae", "gan"],
    "fairness": ["spurious", "worst-group", "auditing"],
    "continual": ["replay", "regularization", "class-incremental"],
    "efficiency": ["pruning", "quantization", "distillation", "peft"],
    "data": ["pruning", "selection", "curation", "labels"],
}

AREA_NAMES = {"nlp": "NLP", "rl": "RL"}
TOPIC_QUALIFIERS = ["open problems", "benchmarks", "surveys", "reading group", "history", "tricks"]

# Pieces for the long tail of rare technical words ("hypergrading", "crossnormity", ...).
TAIL_PREFIXES = """hyper meta multi cross self semi contra neuro poly sub inter trans auto co pre
post over under micro macro iso para proto""".split()
TAIL_ROOTS = """grad morph norm spect tensor vect graph kern token path scal prun quant spars lat
flow cod mix fus gat pool rout span lex phon frag clust align warp gauge tract""".split()
TAIL_SUFFIXES = "ing ation ity ness ive al ous ment izer ance ics ized able er ed".split()

FIRST_NAMES = """Ada Alan Amir Ana Arjun Aya Ben Bo Carla Chen Dana David Elena Eli Emma Farah
Felix Gita Hana Hugo Ines Ivan Jun Kai Kofi Lara Leo Lin Maya Mei Mina Nadia Noah Omar Pia Quinn
Ravi Rosa Sam Sara Tariq Tomas Uma Vera Wei Yara Yusuf Zoe""".split()
LAST_NAMES = """Abara Bianchi Castillo Dubois Eriksen Fujita Gomez Haddad Ivanova Jensen Kato
Larsen Moreau Nakamura Okafor Petrov Quist Rossi Sato Tanaka Ueda Varga Weber Xu Yamada Zhou
Alvarez Brandt Chowdhury Delgado Engel Fischer Guerra Horvat Iqbal Jovanovic Kim Lindqvist
Mendes Novak Ortega Park Reyes Schmidt Takahashi Usman Volkov Wang Young Zielinski""".split()

TITLE_ADJ = """Scalable Robust Efficient Simple Sparse Adaptive Contrastive Hierarchical Implicit
Provable Stable Fast Neural Unified Conditional Structured Learned Dynamic Local Global
Lightweight Calibrated Invariant Modular Progressive""".split()
TITLE_NOUNS = """Representations Objectives Networks Transformers Priors Bounds Schedules Features
Ensembles Embeddings Routers Adapters Kernels Estimators Policies Curricula Memories Tokens
Benchmarks Pipelines Regularizers Dynamics Laws""".split()
TITLE_PATTERNS = [
    "{adj} {noun} for {area_word} {area_word2}",
    "{adj} {area_word} with {noun}",
    "On the {core} of {adj} {noun}",
    "{noun} Are {adj} {area_word} Learners",
    "Towards {adj} {area_word} {noun}",
    "Rethinking {area_word} {noun}",
    "{adj} and {adj2} {noun} at Scale",
    "When Does {area_word} {core} Help",
]
VENUES = ["NeurIPS", "ICML", "ICLR", "CVPR", "ACL", "EMNLP", "AAAI", "JMLR", "TMLR", "arXiv"]
STATUSES = ["read", "read", "skimmed", "to-read", "reading"]
SECTIONS = ["Summary", "Key ideas", "Method", "Results", "Notes"]
LINK_SUBPATHS = ["Results", "Results", "Summary", "Key ideas", "Method"]

# Shares of each kind of note, and the link and citation mix.
TOPIC_SHARE = 0.01  # topics/ notes, at least one per area
MIN_NOTES = 30
INBOX_SHARE = 0.005  # Inbox/ notes, at least 2
EMBED_SHARE = 0.03  # paper notes with a figure embed (and a PNG in attachments/)
BROKEN_LINK_SHARE = 0.005  # links to notes that do not exist
UNKNOWN_CITE_SHARE = 0.15  # citations of papers that have no note
DOI_SHARE = 0.35  # papers identified by a DOI rather than an arXiv id
ZIPF_EXPONENT = 1.07
AREA_WORD_SHARE = 0.12  # share of body words drawn from the note's area list


def tail_words() -> list[str]:
    """Rare technical words, in a fixed order."""
    out = []
    for root in TAIL_ROOTS:
        for prefix in TAIL_PREFIXES:
            for suffix in TAIL_SUFFIXES:
                out.append(prefix + root + suffix)
    # Interleave deterministically so that each root reaches the frequent end of the tail.
    rng = random.Random(12345)
    rng.shuffle(out)
    return out


def vocabulary() -> list[str]:
    """All body words, most frequent first (duplicates removed, first rank kept)."""
    seen: dict[str, None] = {}
    core = CORE_WORDS
    # Mix function words and core words: function words dominate the head, as in real text.
    head = []
    for i in range(max(len(FUNCTION_WORDS), len(core))):
        if i < len(FUNCTION_WORDS):
            head.append(FUNCTION_WORDS[i])
        if i < len(core):
            head.append(core[i])
    for word in [*head, *(w for ws in AREAS.values() for w in ws), *tail_words()]:
        seen.setdefault(word, None)
    return list(seen)


_ONSETS = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cl", "st", "tr")
_NUCLEI = ("a", "e", "i", "o", "u", "ai", "ou", "ei")


def synthetic_words(count: int, avoid: set[str]) -> list[str]:
    """`count` letters-only pseudo-words (three or four syllables), in a fixed order: the long
    tail of a larger vocabulary (`--vocabulary`). The same count always gives the same words."""
    syllables = [o + v for o in _ONSETS for v in _NUCLEI]  # 160
    out: list[str] = []
    seen = set(avoid)
    i = 0
    while len(out) < count:
        parts = 3 + (i % 2)
        n, word = i * 7919 + 13, ""
        for _ in range(parts):
            n, r = divmod(n, len(syllables))
            word += syllables[r]
        i += 1
        if word not in seen:
            seen.add(word)
            out.append(word)
    rng = random.Random(count)  # rare words spread over the tail, deterministically
    rng.shuffle(out)
    return out


def sized_vocabulary(size: int | None) -> list[str]:
    """vocabulary(), extended with pseudo-words to `size` words when that is larger."""
    words = vocabulary()
    if size is not None and size > len(words):
        words += synthetic_words(size - len(words), set(words))
    return words


def zipf_cum_weights(n: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    return list(accumulate(1.0 / (rank**exponent) for rank in range(1, n + 1)))


# --------------------------------------------------------------------------------------------
# The plan: which notes exist, their metadata, and their links (decided before any text).
# --------------------------------------------------------------------------------------------


@dataclass
class PlannedNote:
    index: int
    kind: str  # "paper", "topic" or "inbox"
    area: str
    folder: str
    name: str  # file name without .md
    title: str
    citekey: str = ""
    links: list[int] = field(default_factory=list)  # indexes of target notes
    in_degree: int = 0

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}.md"


@dataclass
class VaultInfo:
    """What the benchmark needs to know about a generated vault."""

    root: str
    notes: int
    seed: int
    paths: list[str]
    hubs: list[str]  # paths with the highest in-degree, best first
    in_degree: dict[str, int]
    attachments: int
    links: int
    broken_links: int
    citations: int
    words: int
    vocabulary: list[str]  # body vocabulary, most frequent first
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "root": self.root,
            "notes": self.notes,
            "seed": self.seed,
            "attachments": self.attachments,
            "links": self.links,
            "broken_links": self.broken_links,
            "citations": self.citations,
            "words": self.words,
            "hubs": self.hubs[:10],
            "max_in_degree": max(self.in_degree.values()) if self.in_degree else 0,
            "seconds": round(self.seconds, 2),
        }


def _title(rng: random.Random, area: str) -> str:
    words = AREAS[area]
    pattern = rng.choice(TITLE_PATTERNS)
    adj, adj2 = rng.sample(TITLE_ADJ, 2)
    w1, w2 = rng.sample(words, 2)
    return pattern.format(
        adj=adj,
        adj2=adj2,
        noun=rng.choice(TITLE_NOUNS),
        area_word=w1.replace("-", " ").title(),
        area_word2=w2.replace("-", " ").title(),
        core=rng.choice(["Role", "Limits", "Geometry", "Cost", "Benefit", "Stability"]),
    )


def _acronym(title: str) -> str:
    letters = [w[0] for w in title.replace("-", " ").split() if w[0].isupper()]
    return "".join(letters)[:6]


def plan(n: int, seed: int) -> list[PlannedNote]:
    if n < MIN_NOTES:
        raise ValueError(f"a vault needs at least {MIN_NOTES} notes")
    rng = random.Random(seed)
    areas = list(AREAS)
    n_topics = max(len(areas), round(n * TOPIC_SHARE))  # at least one per area
    n_inbox = max(2, round(n * INBOX_SHARE))
    n_papers = n - n_topics - n_inbox
    notes: list[PlannedNote] = []
    used_names: set[str] = set()
    used_keys: set[str] = set()

    def unique(name: str, used: set[str]) -> str:
        candidate, k = name, 1
        while candidate.lower() in used:
            k += 1
            candidate = f"{name} {k}"
        used.add(candidate.lower())
        return candidate

    # Topic notes first: they are the hubs the papers point at.
    for t in range(n_topics):
        area = areas[t % len(areas)]
        rnd = t // len(areas)
        subs = SUBTOPICS[area]
        sub = subs[rnd % len(subs)]
        base = f"{AREA_NAMES.get(area, area.title())} - {sub.replace('-', ' ')}"
        if rnd >= len(subs):
            base += f" ({TOPIC_QUALIFIERS[(rnd // len(subs) - 1) % len(TOPIC_QUALIFIERS)]})"
        name = unique(base, used_names)
        notes.append(PlannedNote(len(notes), "topic", area, "topics", name, name))
    for _ in range(n_papers):
        area = rng.choice(areas)
        title = _title(rng, area)
        first_author = rng.choice(LAST_NAMES)
        year = rng.randint(2012, 2025)
        name = unique(f"{first_author} {year} - {title}", used_names)
        key = unique(f"{first_author.lower()}{year}{title.split()[0].lower()}", used_keys)
        notes.append(
            PlannedNote(len(notes), "paper", area, f"papers/{area}", name, title, citekey=key)
        )
    for i in range(n_inbox):
        area = rng.choice(areas)
        name = unique(f"Idea {i + 1:03d} - {rng.choice(AREAS[area]).replace('-', ' ')}", used_names)
        notes.append(PlannedNote(len(notes), "inbox", area, "Inbox", name, name))

    # Links between papers: preferential attachment (each paper links to earlier papers chosen
    # in proportion to 1 + their in-degree), which gives a power-law in-degree.
    papers = [p for p in notes if p.kind == "paper"]
    topics_by_area: dict[str, list[PlannedNote]] = {}
    for t in notes:
        if t.kind == "topic":
            topics_by_area.setdefault(t.area, []).append(t)
    pool: list[int] = []  # a paper appears once, plus once per link it receives
    for p in papers:
        if pool:
            m = min(len(pool), 1 + int(rng.expovariate(1 / 3.0)))
            chosen: list[int] = []
            for _ in range(m * 3):
                if len(chosen) == m:
                    break
                target = rng.choice(pool)
                if target not in chosen:
                    chosen.append(target)
            for target in chosen:
                p.links.append(target)
                notes[target].in_degree += 1
                pool.append(target)
        pool.append(p.index)
        topic = rng.choice(topics_by_area[p.area])
        p.links.append(topic.index)
        topic.in_degree += 1
    # Topic notes gather papers of their area (out-links); inbox notes link to a few papers.
    by_area: dict[str, list[PlannedNote]] = {}
    for p in papers:
        by_area.setdefault(p.area, []).append(p)
    for t in notes:
        if t.kind == "topic":
            members = by_area.get(t.area, [])
            for p in rng.sample(members, min(len(members), rng.randint(8, 30))):
                t.links.append(p.index)
                p.in_degree += 1
        elif t.kind == "inbox":
            for p in rng.sample(papers, min(len(papers), rng.randint(2, 6))):
                t.links.append(p.index)
                p.in_degree += 1
    return notes


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


class Writer:
    """Draws words and sentences; one instance per vault (all state comes from `rng`)."""

    def __init__(self, rng: random.Random, vocabulary_size: int | None = None):
        self.rng = rng
        self.vocab = sized_vocabulary(vocabulary_size)
        self.cum = zipf_cum_weights(len(self.vocab))
        self.area_cum = {a: zipf_cum_weights(len(ws), 0.8) for a, ws in AREAS.items()}

    def words(self, k: int, area: str) -> list[str]:
        rng = self.rng
        out = rng.choices(self.vocab, cum_weights=self.cum, k=k)
        area_words = AREAS[area]
        cum = self.area_cum[area]
        for i in range(k):
            if rng.random() < AREA_WORD_SHARE:
                out[i] = rng.choices(area_words, cum_weights=cum)[0]
        return out

    def sentence(self, area: str) -> list[str]:
        words = self.words(self.rng.randint(8, 20), area)
        words[0] = words[0][:1].upper() + words[0][1:]
        if len(words) > 10 and self.rng.random() < 0.4:
            words[self.rng.randint(3, len(words) - 4)] += ","
        words[-1] += "."
        return words

    def prose(self, area: str, n: int) -> list[str]:
        """Exactly `n` words of sentences (the last one cut short to fit)."""
        out: list[str] = []
        while len(out) < n:
            out += self.sentence(area)
        out = out[:n]
        if not out[-1].endswith("."):
            out[-1] = out[-1].rstrip(",") + "."
        return out


def _link_text(rng: random.Random, target: PlannedNote) -> tuple[str, bool]:
    """A link to `target` in one of Obsidian's forms."""
    r = rng.random()
    if r < 0.55:
        return f"[[{target.name}]]", False
    if r < 0.70:
        shown = target.title if target.kind == "paper" else target.name.split(" - ")[-1]
        return f"[[{target.name}|{shown}]]", False
    if r < 0.88:
        sub = rng.choice(LINK_SUBPATHS) if target.kind == "paper" else "Papers"
        return f"[[{target.name}#{sub}]]", False
    if r < 0.94:
        return f"[[{target.folder}/{target.name}]]", False
    shown = target.title if target.kind == "paper" else target.name
    return f"[{shown}]({quote(target.name + '.md')})", False


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` words over `parts` sections, unevenly but each at least 20."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    shares = [max(20, int(total * wt / sum(weights))) for wt in weights]
    shares[-1] = max(20, shares[-1] + total - sum(shares))
    return shares


def _chunks(words: list[str], rng: random.Random) -> list[list[str]]:
    """Cut prose into paragraphs of about 60-140 words, at sentence ends."""
    out: list[list[str]] = [[]]
    limit = rng.randint(60, 140)
    for word in words:
        out[-1].append(word)
        if len(out[-1]) >= limit and word.endswith("."):
            out.append([])
            limit = rng.randint(60, 140)
    return [p for p in out if p]


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(_yaml_scalar(i) for i in items) + "]"


def _yaml_scalar(text: str) -> str:
    plain = text and all(c.isalnum() or c in " -_/." for c in text) and not text[0].isdigit()
    return text if plain and text not in ("yes", "no", "on", "off", "true", "false", "null") else json.dumps(text)


def _png(rng: random.Random, size: int = 8) -> bytes:
    """A tiny valid RGB PNG with random colors (deterministic for the rng)."""
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(size * 3)) for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def render(note: PlannedNote, notes: list[PlannedNote], w: Writer, stats: dict) -> tuple[str, bytes | None]:
    """The note's Markdown text, and a PNG when the note embeds a figure."""
    rng = w.rng
    area = note.area
    sub = rng.choice(SUBTOPICS[area])
    lines: list[str] = []
    png = None
    words_target = rng.randint(300, 600)

    # Links (decided by the plan) and citations (of other papers, some with no note).
    link_texts = []
    for target in note.links:
        text, _ = _link_text(rng, notes[target])
        link_texts.append(text)
    stats["links"] += len(note.links)
    if rng.random() < BROKEN_LINK_SHARE * max(1, len(note.links)):
        missing = f"Missing paper {rng.randint(1, 40):02d}"
        link_texts.append(f"[[{missing}]]")
        stats["broken_links"] += 1
        stats["links"] += 1
    cites = []
    papers_with_keys = stats["citekeys"]
    for _ in range(rng.randint(0, 3) if note.kind == "paper" else rng.randint(0, 1)):
        if rng.random() < UNKNOWN_CITE_SHARE or not papers_with_keys:
            cites.append(f"{rng.choice(LAST_NAMES).lower()}{rng.randint(1990, 2011)}{rng.choice(TITLE_NOUNS).lower()}")
        else:
            cites.append(rng.choice(papers_with_keys))
    stats["citations"] += len(cites)
    tags = [f"ml/{area}", f"ml/{area}/{sub}"]

    if note.kind == "paper":
        authors = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.randint(1, 6))]
        authors[0] = f"{rng.choice(FIRST_NAMES)} {note.name.split(' ', 1)[0]}"
        year = int(note.name.split(" ")[1])
        fm = ["---", f"title: {_yaml_scalar(note.title)}", f"authors: {_yaml_list(authors)}", f"year: {year}"]
        if rng.random() < DOI_SHARE:
            fm.append(f"doi: 10.{rng.randint(1000, 99999)}/{rng.choice(['j', 'conf', 'tmlr', 'jmlr'])}.{year}.{rng.randint(100, 99999)}")
        else:
            yy = year % 100
            fm.append(f'arxiv: "{yy:02d}{rng.randint(1, 12):02d}.{rng.randint(1, 19999):05d}"')
        fm.append(f"citekey: {note.citekey}")
        fm_tags = [f"ml/{area}", f"ml/{area}/{sub}"]
        if rng.random() < 0.3:
            fm_tags.append(rng.choice(["to-reread", "seminal", "survey", "negative-result", "method"]))
        fm.append(f"tags: {_yaml_list(fm_tags)}")
        aliases = [_acronym(note.title)]
        if rng.random() < 0.3:
            aliases.append(f"{note.name.split(' ', 1)[0]} et al. {year}")
        fm.append(f"aliases: {_yaml_list(aliases)}")
        fm.append(f"status: {rng.choice(STATUSES)}")
        fm.append(f"venue: {rng.choice(VENUES)}")
        fm.append("---")
        lines += fm + ["", f"# {note.title}", ""]
        sections = SECTIONS
    elif note.kind == "topic":
        fm = ["---", f"tags: {_yaml_list(['topic', f'ml/{area}'])}", f"aliases: [{_yaml_scalar(sub.replace('-', ' '))}]", "---"]
        lines += fm + ["", f"# {note.title}", ""]
        sections = ["Overview", "Open questions", "Papers"]
    else:
        lines += [f"# {note.title}", ""]
        sections = ["Idea", "Next steps"]

    # Spread links, citations and tags over the sections; topic notes list their papers.
    per_section: list[list[str]] = [[] for _ in sections]
    if note.kind == "topic":
        per_section[-1] = [f"- {t}" for t in link_texts]
        link_texts = []
    for item in link_texts:
        per_section[rng.randrange(len(sections))].append(item)
    if cites:
        if len(cites) > 1 and rng.random() < 0.5:
            per_section[rng.randrange(len(sections))].append("[see " + "; ".join(f"@{c}" for c in cites) + "]")
        else:
            for c in cites:
                per_section[rng.randrange(len(sections))].append(f"[@{c}]")
    prose_sections = [h for h in sections if not (note.kind == "topic" and h == "Papers")]
    shares = _split(words_target, len(prose_sections), rng)
    for si, heading in enumerate(sections):
        lines += [f"## {heading}", ""]
        extras = per_section[si]
        if heading not in prose_sections:
            lines += extras + [""]
            continue
        words = w.prose(area, shares.pop(0))
        stats["words"] += len(words)
        paragraphs = _chunks(words, rng)
        for pi, para in enumerate(paragraphs):
            # Links and citations go between words of the prose.
            mine = extras[pi :: len(paragraphs)]
            for item in mine:
                para.insert(rng.randrange(1, len(para) + 1), item)
            text = " ".join(para)
            if heading in ("Key ideas", "Open questions", "Next steps"):
                lines += [f"- {s.strip()}" for s in re.split(r"(?<=\.) ", text) if s.strip()]
            else:
                lines.append(text)
            lines.append("")
        if heading == "Results" and note.kind == "paper" and stats["embed_rng"].random() < EMBED_SHARE:
            fig = f"fig-{note.citekey}.png"
            lines += [f"![[{fig}]]" if rng.random() < 0.7 else f"![[{fig}|400]]", ""]
            png = _png(rng)
            stats["attachments"].append(fig)
    lines.append(" ".join(f"#{t}" for t in tags) + (f" #status/{rng.choice(STATUSES)}" if note.kind == "paper" else ""))
    text = "\n".join(lines).rstrip("\n") + "\n"
    return text, png


def generate(out: str | os.PathLike, n: int, seed: int = 1, clean: bool = True, vocabulary_size: int | None = None) -> VaultInfo:
    """Write the vault for (n, seed) into `out` and describe it. `vocabulary_size` draws the
    prose from a Zipf vocabulary of that many words (the built-in one, about 11,000 words, when None)."""
    started = time.perf_counter()
    out = Path(out)
    if clean and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    notes = plan(n, seed)
    # Text gets its own stream so that the plan does not depend on how text is drawn.
    rng = random.Random(seed * 1_000_003 + 7)
    w = Writer(rng, vocabulary_size)
    stats: dict = {
        "links": 0,
        "broken_links": 0,
        "citations": 0,
        "words": 0,
        "attachments": [],
        "citekeys": [],
        "embed_rng": random.Random(seed * 7919 + 3),
    }
    (out / ".obsidian").mkdir(exist_ok=True)
    (out / ".obsidian" / "app.json").write_text(
        json.dumps({"attachmentFolderPath": "attachments", "newLinkFormat": "shortest"}, indent=2) + "\n",
        encoding="utf-8",
    )
    (out / "attachments").mkdir(exist_ok=True)
    folders: set[str] = set()
    for note in notes:
        text, png = render(note, notes, w, stats)
        if note.citekey:
            stats["citekeys"].append(note.citekey)
        if note.folder not in folders:
            (out / note.folder).mkdir(parents=True, exist_ok=True)
            folders.add(note.folder)
        with open(out / note.path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        if png is not None:
            (out / "attachments" / stats["attachments"][-1]).write_bytes(png)
    in_degree = {note.path: note.in_degree for note in notes}
    hubs = sorted((p for p in in_degree), key=lambda p: (-in_degree[p], p))
    return VaultInfo(
        root=str(out),
        notes=len(notes),
        seed=seed,
        paths=[note.path for note in notes],
        hubs=hubs[:50],
        in_degree=in_degree,
        attachments=len(stats["attachments"]),
        links=stats["links"],
        broken_links=stats["broken_links"],
        citations=stats["citations"],
        words=stats["words"],
        vocabulary=w.vocab,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", metavar="OUT_DIR", help="folder to write the vault into (replaced)")
    parser.add_argument("--notes", "-n", type=int, default=1000, help="number of notes (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--json", action="store_true", help="print a summary as JSON on stdout")
    parser.add_argument("--vocabulary", type=int, default=None, metavar="WORDS",
                        help="draw the prose from a Zipf vocabulary of WORDS words, e.g. 200000 (default: the built-in one)")
    args = parser.parse_args(argv)
    if args.notes < MIN_NOTES:
        parser.error(f"--notes must be at least {MIN_NOTES}")
    info = generate(args.out, args.notes, args.seed, vocabulary_size=args.vocabulary)
    summary = info.to_json()
    if args.json:
        print(json.dumps(summary, indent=2))
    print(
        f"Wrote {info.notes:,} notes, {info.attachments} attachments, {info.links:,} links "
        f"({info.broken_links} broken), {info.citations:,} citations, ~{info.words:,} words "
        f"to {args.out} in {info.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
