"""The store's tables and indexes (store.py creates them; every query in store.py reads them).
Kept apart so that the layout of the database reads as one page."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notes(
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha1 TEXT,
    title TEXT, name TEXT, generated INTEGER, aliases TEXT,
    citekey TEXT, doi TEXT, arxiv TEXT
);
-- The parsed notes apart from the narrow rows above: a sync reads every stamp, and with the
-- JSON beside them it read the whole table (46 MB at 10,000 notes) to get them.
CREATE TABLE IF NOT EXISTS notejson(path TEXT PRIMARY KEY, data TEXT);
CREATE INDEX IF NOT EXISTS notes_name ON notes(name);
CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names(key TEXT, path TEXT, what TEXT);
CREATE INDEX IF NOT EXISTS names_key ON names(key);
CREATE INDEX IF NOT EXISTS names_path ON names(path);
CREATE TABLE IF NOT EXISTS tags(tag TEXT, path TEXT);
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE INDEX IF NOT EXISTS tags_path ON tags(path);
-- Covering (tag, path): `tags` counts each tag's notes from the index alone (3x faster at 10,000 notes).
CREATE INDEX IF NOT EXISTS tags_tag_path ON tags(tag, path);
CREATE TABLE IF NOT EXISTS headings(path TEXT, level INTEGER, text TEXT, line INTEGER);
CREATE INDEX IF NOT EXISTS headings_path ON headings(path);
CREATE TABLE IF NOT EXISTS links(
    source TEXT, cite INTEGER, seq INTEGER, key TEXT, node TEXT, status TEXT, candidates TEXT,
    kind TEXT, target TEXT, subpath TEXT, display TEXT, form TEXT, line INTEGER, context TEXT,
    PRIMARY KEY(source, cite, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_node ON links(node);
CREATE INDEX IF NOT EXISTS links_key ON links(cite, key);
CREATE INDEX IF NOT EXISTS links_unresolved ON links(node) WHERE status = 'unresolved';
-- What link resolution looks notes up by (resolve.py's keys): `base` (name_key of the file
-- name), `alias` (name_key of each alias), `citekey` / `doi` / `arxiv` (CitationIndex.keys_for),
-- so that a batch builds its resolver from the few notes its links can reach, not all of them.
CREATE TABLE IF NOT EXISTS reskeys(kind TEXT, key TEXT, path TEXT);
CREATE INDEX IF NOT EXISTS reskeys_key ON reskeys(kind, key);
CREATE INDEX IF NOT EXISTS reskeys_path ON reskeys(path);
-- `rank`'s answer for one state of the index (meta `ranks_stamp`): PageRank over note-to-note
-- links is computed once per written batch, on the first `rank` after it, not on every ask.
CREATE TABLE IF NOT EXISTS ranks(
    path TEXT PRIMARY KEY, pagerank REAL, in_degree INTEGER, out_degree INTEGER, title TEXT
) WITHOUT ROWID;
-- The graph views' Louvain communities (export/views.py), kept like `ranks` for one state of
-- the index (`stamp`, as rank_stamp) and one view (`view`: its filters): node -> community.
CREATE TABLE IF NOT EXISTS communities(
    view TEXT, node TEXT, community INTEGER, stamp TEXT, PRIMARY KEY(view, node)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending(path TEXT PRIMARY KEY) WITHOUT ROWID;
-- The bibliography (references.py): each file as read (its stamp and entries, to re-read only
-- changed files), the entries in force (first definition of a key wins, crossref applied), and
-- the notes' pandoc `bibliography:` values (which name more files).
CREATE TABLE IF NOT EXISTS bibfiles(
    path TEXT PRIMARY KEY, file TEXT, format TEXT, origin TEXT, size INTEGER, mtime_ns INTEGER, data TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bibentries(
    key TEXT PRIMARY KEY, path TEXT, line INTEGER, type TEXT, title TEXT, authors TEXT, year INTEGER,
    venue TEXT, doi TEXT, arxiv TEXT, url TEXT, haystack TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notebib(path TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
-- "Did you mean": each word a note may offer as a correction (fulltext.note_words) with the number
-- of notes that have it, and each note's words (one a line, zlib), which an edit or a removal
-- takes off the counts. (A Whoosh field of them cost a third of a full build.)
CREATE TABLE IF NOT EXISTS spelling(word TEXT PRIMARY KEY, notes INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notewords(path TEXT PRIMARY KEY, words BLOB);  -- (a rowid table: a WITHOUT ROWID row of 1 KB takes an overflow page)
"""
