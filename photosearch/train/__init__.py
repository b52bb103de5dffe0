"""Fine-tuning and evaluation on caption data sets in the Flickr8k layout (no Qt; progress as events)."""

from photosearch.train.data import CaptionedImage, CaptionSet, load_captions
from photosearch.train.download import download_flickr8k
from photosearch.train.evaluate import evaluate, recall_at_k
from photosearch.train.options import TrainEvent, TrainOptions, TrainResult, merge_options
from photosearch.train.state import latest_run, load_run_options
from photosearch.train.trainer import train, train_to_end

__all__ = ["TrainOptions", "TrainEvent", "TrainResult", "train", "train_to_end", "evaluate", "recall_at_k",
           "load_captions", "CaptionSet", "CaptionedImage", "download_flickr8k", "load_run_options", "latest_run",
           "merge_options"]
