"""Long jobs in the core are generators: they yield progress events and ``return`` their report (an
:class:`~photosearch.library.index.IndexReport`, a :class:`~photosearch.train.options.TrainResult`...), the way
superqt's ``GeneratorWorker`` hands ``StopIteration.value`` to ``returned``. :func:`drain` runs one to its end
outside a GUI."""

from __future__ import annotations

from typing import Callable, Generator, TypeVar

R = TypeVar("R")


def drain(events: Generator[object, None, R], on_event: Callable[[object], None] | None = None) -> R:
    """Run a core generator to its end, showing ``on_event`` every event; returns what the generator returns."""
    while True:
        try:
            ev = next(events)
        except StopIteration as stop:
            return stop.value
        if on_event is not None:
            on_event(ev)
