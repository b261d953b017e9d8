"""The version of each thing vaultindex keeps on disk: a change of any one rebuilds the index.

Kept apart from the modules they describe, so that checking the stamp before a graph query
imports neither Whoosh nor the parser.
"""

PARSER_VERSION = 4  # bump whenever parse output changes for the same input (3: templates keep no paper ids; 4: nor a citation file name)
SCHEMA_VERSION = 6  # the Whoosh schema and the documents built for it (4: CJK bigrams; 5: glued letters, Q-learning; 6: the store counts the spelling words; `spell` is the exact-word bonus; properties; accents folded)
STORE_VERSION = 5  # the SQLite store (store.py): its tables and what the rows hold (3: the bibliography; 4: reskeys; 5: links and headings only in their rows, not in the note JSON)


def version_stamp() -> str:
    """What the store's meta row `version` holds for this vaultindex (another: rebuild)."""
    import json

    return json.dumps({"schema": SCHEMA_VERSION, "parser": PARSER_VERSION, "store": STORE_VERSION}, sort_keys=True)
