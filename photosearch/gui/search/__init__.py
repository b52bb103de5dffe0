"""Asking and showing: the search bar, the search thread, the results grid and its model, the preview with its
explanation and text panels, the empty-state texts."""
