"""The library's folders and keeping their index current: the sidebar, indexing, the text pass, live folders,
skipped files."""
