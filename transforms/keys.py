"""Key uniqueness at export scale: a 64-bit hash per row finds the candidate duplicates, an exact comparison
decides among them.

Hashing the strings of an id column in a few vectorised passes over Arrow's buffers costs a fraction of
factorising them (millions of distinct ids), and rows whose hash is unique cannot be duplicates. Only the rows
that share a hash (true duplicates and rare collisions) are compared exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.arrow_text import string_chunks, text_array

_PRIME = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_BASIS = np.uint64(0xCBF29CE484222325)  # FNV-1a 64-bit offset basis
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio constant, to combine the hashes of several columns
MAX_HASHED_LENGTH = 64
"""Longer strings are compared by pandas directly (the byte loop is per position)."""


def duplicated_rows(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """Mask of rows whose key occurs more than once (every occurrence, like ``duplicated(keep=False)``)."""
    if df.empty:
        return pd.Series(False, index=df.index)
    hashes = None
    for col in key:
        h = column_hashes(df[col])
        if h is None:
            return df.duplicated(key, keep=False)
        hashes = h if hashes is None else (hashes * _MIX) ^ h
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return pd.Series(False, index=df.index)
    shared = np.isin(hashes, repeated)
    exact = df.loc[shared, key].duplicated(key, keep=False)
    out = np.zeros(len(df), dtype=bool)
    out[shared] = exact.to_numpy()
    return pd.Series(out, index=df.index)


def column_hashes(s: pd.Series) -> np.ndarray | None:
    """A uint64 per value, equal for equal values; None when the column's type has no fast path."""
    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        arr = text_array(s)
        return None if arr is None else _text_hashes(arr)
    if pd.api.types.is_datetime64_dtype(s) or pd.api.types.is_integer_dtype(s):
        return s.to_numpy().view(np.int64).astype(np.uint64) if not s.isna().any() else None
    if pd.api.types.is_float_dtype(s):
        return None if s.isna().any() else (s.to_numpy(dtype="float64") + 0.0).view(np.uint64)
    return None


_BYTE_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)


def _text_hashes(arr: pa.ChunkedArray) -> np.ndarray | None:
    """Hash 8 bytes per step: an unaligned little-endian word read at each string's start, masked to its
    length (ids of up to 8 bytes take one step, and then distinct ids never share a hash)."""
    if arr.null_count:
        return None
    parts = []
    for offsets, raw in string_chunks(arr):
        starts, lengths = offsets[:-1], np.diff(offsets)
        longest = int(lengths.max())
        if longest > MAX_HASHED_LENGTH:
            return None
        padded = np.zeros(int(offsets[-1]) + 8, dtype=np.uint8)
        padded[: int(offsets[-1])] = raw[: int(offsets[-1])]
        # words[i] is the 8 bytes starting at byte i (unaligned reads: stride 1)
        words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
        h = np.full(len(starts), _BASIS, dtype=np.uint64)
        for step in range(0, longest, 8):
            left = np.clip(lengths - step, 0, 8)
            word = words[np.minimum(starts + step, len(words) - 1)] & _BYTE_MASKS[left]
            h = (h ^ word) * _PRIME
            h ^= h >> np.uint64(29)
        parts.append(h ^ (lengths.astype(np.uint64) * _MIX))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)
