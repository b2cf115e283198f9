"""Text columns as Arrow lays them out: per chunk, the offsets of each string and the bytes they point into.

Vectorised passes over these buffers answer questions about every string (does any start with a space,
what is each one's hash) without making a Python object per value.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa


def text_array(s: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow strings without a copy; None when it is not a column of Arrow strings."""
    try:
        arr = pa.chunked_array(pa.array(s))
    except (pa.ArrowException, TypeError):
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def string_chunks(arr: pa.ChunkedArray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(offsets as int64, with one more entry than strings; data bytes) of each non-empty chunk."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    for chunk in arr.chunks:
        if len(chunk) == 0:
            continue
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        yield offsets.astype(np.int64), data
