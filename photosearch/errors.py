"""Typed errors. Each carries a message meant for the user: one clear line, no traceback."""


class PhotoSearchError(Exception):
    """Base class for every error the user is meant to read."""


class ModelError(PhotoSearchError):
    """A model could not be found, built or loaded."""


class UnsafeCheckpointError(ModelError):
    """A checkpoint would need unpickling arbitrary objects to load; refused."""


class LibraryError(PhotoSearchError):
    """The photo library database is missing, corrupt, foreign or could not be written."""


class DatasetError(PhotoSearchError):
    """A caption data set (Flickr8k layout) is missing or malformed."""


class DownloadError(PhotoSearchError):
    """A download failed, was truncated or did not verify."""


class TrainingError(PhotoSearchError):
    """Training stopped for a reason the user must know (NaN loss, bad options)."""


class Cancelled(PhotoSearchError):
    """A long job was cancelled by the user; what was finished so far is kept."""
