"""What the results area says when it shows no photos: a pure function of the window's situation, so the
texts are tested without widgets and new situations (offline folders, a model download) add one branch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Situation:
    """Everything the empty-state text depends on (filled in by the window)."""

    folders: int = 0  # folders in the library
    photos: int = 0  # photos indexed for the current model
    model_ready: bool = False
    model_loading: bool = False
    model_progress: str = ""  # the loader's latest message (building the starter on first use: phase, %, time left)
    query: str = ""  # the typed query, stripped
    like: str | None = None  # the example image of a "more like this" search
    searched: bool = False  # a search has been submitted since the window opened
    outcome: bool = False  # the current search has an answer (possibly empty)
    results: int = 0  # hits of that answer
    indexing: bool = False  # indexing runs, or waits for the model to start
    index_done: int | None = None  # photos embedded so far in this run (None before the embed phase)
    index_total: int | None = None
    min_score: float = 0.0  # an explicit minimum score (advanced override; 0: the automatic per-search cut)
    feedback: bool = False  # photos are marked more-like / less-like
    note: str = ""  # why the search found nothing: the filter that emptied it (Library.why_empty)


@dataclass(frozen=True)
class EmptyText:
    """One empty state: a key tests and actions use, texts, an icon kind and an optional button label."""

    key: str
    title: str
    body: str
    icon: str = "app"  # "app", "warning" or "info"
    button: str | None = None


def empty_state(s: Situation) -> EmptyText | None:
    """The state to show, or None when the grid of results should be shown instead."""
    querying = bool(s.query or s.like or s.feedback)
    if s.results:
        return None  # a search's results, or the library itself while the box is empty
    if not s.folders and not s.photos:
        return EmptyText("no-folders", "Add a folder of photos",
                         "PhotoSearch looks at the photos in your folders once, on this computer, so that you can "
                         "find any of them by describing it in a few words.\n\nChoose a folder, or drop one onto "
                         "this window.", "app", "Add folder…")
    if not s.model_ready and s.model_loading:
        doing = (s.model_progress[:1].upper() + s.model_progress[1:] + ".\n\n") if s.model_progress else ""
        return EmptyText("loading", "Getting ready…",
                         f"{doing}Loading the search model in the background. You can type now; results appear as "
                         "soon as it is ready.")
    if not s.model_ready:
        return EmptyText("no-model", "No search model",
                         "The model could not be loaded. Pick another one in Settings.", "warning", "Open settings…")
    if querying and s.like and not s.searched:
        return EmptyText("searching", "Searching…", "")
    if querying and s.outcome:
        if s.indexing:
            return EmptyText("no-results-yet", "No matches yet",
                             "Indexing is still running — matching photos appear here as they are indexed.")
        if s.note:
            return EmptyText("no-results", "No photos pass the filters",
                             f"Nothing for “{s.query or 'this photo'}”: {s.note}. Change or remove that filter.",
                             "info", "Clear search")
        if s.min_score > 0:
            return EmptyText("no-results", "No photos match well enough",
                             f"Nothing scored above the cut-off ({s.min_score:.2f}) for “{s.query or 'this photo'}”"
                             f" among {s.photos:,} photos. Try other words, remove filters, or set the minimum "
                             f"score in Settings back to automatic.", "info", "Clear search")
        return EmptyText("no-results", "No photos found",
                         f"Nothing for “{s.query or 'this photo'}” among {s.photos:,} photos.", "info", "Clear search")
    if querying:
        return EmptyText("searching", "Searching…", "")
    if s.outcome and s.note:
        return EmptyText("no-results", "No photos pass the filters", f"{s.note[0].upper()}{s.note[1:]}.", "info")
    if s.indexing:
        done = (f"{s.index_done:,} of {s.index_total:,} photos so far. "
                if s.index_done is not None and s.index_total is not None else "")
        return EmptyText("indexing", "Indexing your photos…",
                         f"{done}You can already search: results appear as photos are indexed.")
    plural = "s" if s.folders != 1 else ""
    return EmptyText("ready", "What are you looking for?",
                     f"Describe a photo in a few words — “a cup of coffee”, “snow + mountains - people” — or drop "
                     f"an image on the search box to find similar ones.\n\n{s.photos:,} photos indexed in "
                     f"{s.folders} folder{plural}.")
