"""PhotoSearch: find photos in your own folders from a typed sentence.

The core (everything here except :mod:`photosearch.gui`) imports no Qt and never prints; long jobs
are generators or take callbacks, errors are :class:`photosearch.errors.PhotoSearchError` subclasses.
Heavy libraries (torch, timm, transformers) are imported lazily, inside the functions that need them,
so that ``import photosearch`` and the GUI's first paint stay fast.
"""

__version__ = "0.1.0"
APP_NAME = "PhotoSearch"
APP_ID = "io.github.photosearch.PhotoSearch"

from photosearch import ortenv as _ortenv  # noqa: E402 - before anything imports onnxruntime

_ortenv.before_import()
