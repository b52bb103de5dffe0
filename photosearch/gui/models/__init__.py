"""Search models: the model page (choose, download), the model host (load, serve), the first-run suggestion."""
