"""The photo library: incremental, crash-safe indexing of the user's folders and fast search.

No Qt and no heavy imports here: torch is imported only when indexing or searching runs.
"""

from photosearch.library.index import IndexEvent, IndexReport
from photosearch.library.library import Library
from photosearch.library.query import Filters, Query
from photosearch.library.search import QueryError, SearchHit, parse_query
from photosearch.library.status import LibraryStatus, TextStatus

__all__ = ["Library", "Query", "Filters", "IndexEvent", "IndexReport", "SearchHit", "QueryError", "parse_query",
           "LibraryStatus", "TextStatus"]
