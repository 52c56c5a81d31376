"""Reading part of a `datasets.IterableDataset` without leaving its reader to the interpreter's shutdown.

A streamed parquet file is read by pyarrow's dataset scanner through a Python file object, from pyarrow's own I/O
threads, each read taking the GIL. A scan abandoned half-read keeps reads in flight on those threads; if one of them
asks for the GIL once the interpreter has begun to shut down, CPython (3.11) ends that thread on the spot, and at exit
pyarrow's thread pool waits for it forever: the script prints its error, then hangs on a futex (or aborts with
"terminate called without an active exception"). See apache/arrow#45214 and #50482; `datasets` works around it in its
parquet reader (`del fragment; gc.collect()`) only for pyarrow <= 24, and pyarrow 26.0.1 still needs it.

So every partial read of a stream in this package goes through `reading_stream`, which closes the stream's iterator
(freeing the scan at once) and then collects garbage, as `datasets`' own workaround does, while the interpreter still
runs: reads already in flight then finish before an error can reach the top of a script. This narrows a race rather
than removing it (pyarrow offers no way to wait for its threads); measured on the report's command (a 166 MB parquet
file, an error right after the first read), the process hung in 3 of 6 runs before, 1 of 6 with the iterator closed
only, and 0 of 14 with it closed and collected.
"""

import contextlib
import gc
from collections.abc import Iterator

import datasets


@contextlib.contextmanager
def reading_stream(dataset: datasets.Dataset | datasets.IterableDataset) -> Iterator[Iterator[dict]]:
    """
    Iterate over `dataset`'s examples inside a `with` block; on leaving it (early, or on an error) the iterator is
    closed and, for a stream, its reader freed at once (see the module docstring). A `Dataset` is iterated as usual.
    """
    examples = iter(dataset)
    try:
        yield examples
    finally:
        close = getattr(examples, "close", None)
        if close is not None:
            close()
        del examples
        if isinstance(dataset, datasets.IterableDataset):
            gc.collect()


def first_example(dataset: datasets.Dataset | datasets.IterableDataset) -> dict:
    """The first example of `dataset` (a stream is left with no reader running); StopIteration when it is empty."""
    with reading_stream(dataset) as examples:
        return next(examples)
