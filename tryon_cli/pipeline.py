"""Run a stage of a streaming pipeline in its own thread, handing items on through a bounded queue.

Chaining `threaded` around each generator of a chain (decode -> plan -> render -> encode) lets the stages
overlap: PyAV, OpenCV and numpy release the GIL while they work, so two cores stay busy. Each stage
still runs its items one by one in order, so the output is the same as the sequential chain's, bit for
bit; the queues are bounded, so memory does not grow with the video's length.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_DEPTH = 4  # items a stage may run ahead of its consumer
_POLL_S = 0.1  # how often a blocked stage checks whether its consumer has gone


class _End:
    """The producer is done: normally (error None) or with an exception to re-raise in the consumer."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def threaded(items: Iterable[T], depth: int = DEFAULT_DEPTH, name: str = "stage") -> Iterator[T]:
    """Iterate `items` in a background thread, `depth` items ahead at most; same items, same order.

    An exception in the producer is re-raised in the consumer. Closing the returned generator early
    (a break, an exception or Ctrl-C downstream) stops the producer and closes `items` in its thread.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_End())
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(_End(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=f"tryon-{name}", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        worker.join()


def threaded_map(function: Callable[[T], R], items: Iterable[T], workers: int = 2, ahead: int = 2,
                 name: str = "map") -> Iterator[R]:
    """`function(item)` for each of `items`, in order, computed by `workers` threads at once.

    For a stage whose items are independent (no state carried from one to the next), so the results are
    the sequential map's, in its order. At most `workers + ahead` items are in flight, so memory stays
    bounded. An exception in `function` is re-raised here, in order; closing the returned generator early
    drops the items not yet started and closes `items`.
    """
    if workers < 1 or ahead < 0:
        raise ValueError(f"need at least one worker and ahead >= 0, not {workers} and {ahead}")
    iterator = iter(items)
    pending: deque[Future] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"tryon-{name}")
    try:
        for item in iterator:
            pending.append(pool.submit(function, item))
            if len(pending) > workers + ahead - 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
