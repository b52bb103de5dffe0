"""The photo library: incremental, crash-safe indexing of the user's folders and fast search.

No Qt and no heavy imports here: torch is imported only when indexing or searching runs, and each name below
is imported on first use, so ``from photosearch.library.query import Query`` does not pull in the indexer
(Pillow) or sqlite-utils (the command line's search answers in about a second: cli/fast_path.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photosearch.library.index import IndexEvent, IndexReport
    from photosearch.library.library import Library
    from photosearch.library.query import Filters, Query
    from photosearch.library.search import QueryError, SearchHit, parse_query
    from photosearch.library.status import LibraryStatus, TextStatus

_HOMES = {"Library": "library", "Query": "query", "Filters": "query", "IndexEvent": "index", "IndexReport": "index",
          "SearchHit": "search", "QueryError": "search", "parse_query": "search", "LibraryStatus": "status",
          "TextStatus": "status"}
__all__ = ["Library", "Query", "Filters", "IndexEvent", "IndexReport", "SearchHit", "QueryError", "parse_query",
           "LibraryStatus", "TextStatus"]


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"photosearch.library.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'photosearch.library' has no attribute {name!r}")
