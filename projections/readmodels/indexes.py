"""The one index shape every paged query of ours needs.

A page filters on some fields by equality, sorts by one more field and `_id` (see
`api.pagination`), and bounds that field with ``$gte``/``$lt`` windows and cursors. An
ascending compound index serves that in both directions: MongoDB walks it backwards for
newest-first pages.

Ascending also on purpose: SecantusDB (the embedded server) loses the inclusive end of a
range at the far end of a compound key, e.g. ``$gte`` on a descending field drops the
documents equal to the bound. With ascending keys our windows (``$gte`` start, ``$lt``
end) and cursors (``$gt``/``$lt``) never meet that case.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel


def paging_index(sort_field: str, *equal_fields: str) -> IndexModel:
    """Equality on `equal_fields`, then pages sorted by `sort_field` and `_id`."""
    return IndexModel([(field, ASCENDING) for field in (*equal_fields, sort_field, "_id")])
