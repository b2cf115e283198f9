"""Key uniqueness through hashes: every answer checked against pandas' own duplicated(keep=False)."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from transforms.keys import column_hashes, duplicated_rows


def _expected(df: pd.DataFrame, key: list[str]) -> list:
    dup = df.duplicated(key, keep=False)
    return list(dup[dup].index)


def _got(df: pd.DataFrame, key: list[str]) -> list:
    dup = duplicated_rows(df, key)
    assert dup.dtype == bool and dup.index.equals(df.index)
    return list(dup[dup].index)


def test_unique_ids_of_varying_length_have_no_duplicates():
    df = pd.DataFrame({"id": pd.Series([f"A{i}" for i in range(50_000)], dtype="str")}).set_axis(range(2, 50_002))
    assert _got(df, ["id"]) == []


def test_duplicates_are_every_occurrence_like_pandas():
    rng = np.random.default_rng(7)
    ids = [f"LD{n}" for n in rng.integers(0, 30_000, 40_000)]  # many repeats
    df = pd.DataFrame({"id": pd.Series(ids, dtype="str")}).set_axis(range(2, 40_002))
    assert _got(df, ["id"]) == _expected(df, ["id"])
    assert len(_expected(df, ["id"])) > 1000


def test_two_column_key():
    df = pd.DataFrame({"lead": pd.Series(["L1", "L1", "L2", "L2", "L1"], dtype="str"),
                       "stage": pd.Series(["mql", "sql", "mql", "mql", "mql"], dtype="str")}).set_axis([5, 6, 7, 8, 9])
    assert _got(df, ["lead", "stage"]) == [5, 7, 8, 9]


@pytest.mark.parametrize("values", [
    ["a", "a\x00", "", "ab", "ba", "é", "e\u0301"],  # zero bytes, empty, order, composed vs decomposed
    ["abcdefgh", "abcdefghi", "abcdefgh ", "abcdefgh"],  # around the 8-byte word boundary
    ["x" * 17 + "1", "x" * 17 + "2", "x" * 17 + "1"],  # differ only in the third word
])
def test_hard_strings(values):
    df = pd.DataFrame({"id": pd.Series(values, dtype="str")})
    assert _got(df, ["id"]) == _expected(df, ["id"])


def test_many_chunks_and_sliced_chunks_hash_like_one_array():
    values = [f"id-{i % 997}" for i in range(5_000)]
    whole = pa.chunked_array([pa.array(values)])
    sliced = pa.chunked_array([pa.array(values[:1234]), pa.array(["junk"] + values[1234:] + ["junk"])[1:-1]])
    a = pd.Series(pd.arrays.ArrowStringArray(whole))
    b = pd.Series(pd.arrays.ArrowStringArray(sliced))
    assert (column_hashes(a) == column_hashes(b)).all()


def test_long_strings_and_missing_values_fall_back_to_exact_comparison():
    long = pd.DataFrame({"id": pd.Series(["y" * 100, "y" * 100, "z"], dtype="str")})
    assert column_hashes(long["id"]) is None
    assert _got(long, ["id"]) == [0, 1]
    objects = pd.DataFrame({"id": pd.Series(["a", "b", "a"], dtype=object)})
    assert _got(objects, ["id"]) == [0, 2]


def test_dates_and_numbers_in_keys():
    df = pd.DataFrame({"d": pd.to_datetime(["2018-01-31", "2018-02-28", "2018-01-31"]),
                       "n": [1.0, 2.0, 1.0], "z": [0.0, -0.0, 3.0]})
    assert _got(df, ["d", "n"]) == [0, 2]
    assert _got(df, ["z"]) == [0, 1]  # 0.0 and -0.0 are one key, as pandas says
    assert _expected(df, ["z"]) == [0, 1]
