"""Sentence splitting shared by the indexer (which embeds each sentence) and the composer (which quotes them)."""

import re

from index.lexical import cjk_chars

# A sentence ends at . ! ? followed by a capital, digit or quote; a line break or a bullet ends one too.
# Single letters and a few abbreviations ("DGR n. XI/4155", "c. 2015", "e.g. Milan") do not end a sentence.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b\w\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bca\.)(?<!\bno\.)(?<!\bNo\.)(?<!\bvs\.)(?<!\bSt\.)"
    r"\s+(?=[A-Z0-9\"“«(À-Ý])|(?<=[。！？])\s*|\n+|\s+[•·]\s+|^\s*[-•·]\s+",
    re.MULTILINE,
)
MIN_CHARS = 25
LIST_ITEM_CHARS = 80  # a line this short after a "...:" line is an item of that list


_URL = re.compile(r"https?://\S+|www\.\S+")


def _is_reference_list(piece: str) -> bool:
    """"Sources: https://... ; https://..." lines: provenance, not statements to quote."""
    urls = _URL.findall(piece)
    return piece.lower().startswith(("sources:", "fonti:")) or (len(urls) > 1 and len("".join(urls)) > len(piece) / 2)


def _is_heading(piece: str) -> bool:
    return not piece.endswith((".", "!", "?", ":", ";", "。", "！", "？", "：")) and len(piece.split()) < 8


def _length(piece: str) -> int:
    """Characters, a Chinese character counting as three: it carries about as much as a short word."""
    return len(piece) + 2 * cjk_chars(piece)


def split_sentences(text: str) -> list[str]:
    """Quotable sentences of a chunk. A line ending in ':' takes the short list items after it along
    ("... seven areas: Aerospazio; Agroalimentare; ..."); headings and fragments are left out."""
    pieces = [p.strip(" \t-•·") for p in _SENTENCE_END.split(text)]
    pieces = [p for p in pieces if p]
    out: list[str] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        i += 1
        if piece.endswith((":", "：")):
            items = []
            while i < len(pieces) and len(pieces[i]) <= LIST_ITEM_CHARS and not pieces[i].endswith((":", "：")):
                items.append(pieces[i].rstrip(";."))
                i += 1
            if not items:
                continue
            piece = f"{piece} {'; '.join(items)}."
        if _length(piece) >= MIN_CHARS and not _is_heading(piece) and not _is_reference_list(piece):
            out.append(piece)
    return out
