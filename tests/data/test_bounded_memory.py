"""Issue #19's bounded memory: an upload's unpacked size is capped while it is unpacked, never after.

A 3.9 MB gzip upload once took the app from 236 MB to 4.2 GB before being refused, and a 3.7 MB gzip of valid
rows ended in an ArrowMemoryError traceback at 7.65 GB. Here the unpacking is measured with tracemalloc (the
chunks are Python bytes, so every one is counted).
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
import zlib

import pytest

from recaug.core.errors import RecaugInputError
from recaug.data import readers, sniff
from recaug.data.readers import read_interactions, read_table

MB = 2**20


def _zeros_gzip(size: int) -> bytes:
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"0" * MB
    return b"".join([*(stream.compress(block) for _ in range(size // MB)), stream.flush()])


def test_a_gzip_bomb_is_refused_while_unpacking_with_memory_near_the_limit() -> None:
    bomb = _zeros_gzip(200 * MB)  # ~200 KB that unpacks to 200 MB
    assert len(bomb) < MB
    tracemalloc.start()
    try:
        with pytest.raises(RecaugInputError) as info:
            read_interactions(bomb, name="bomb.csv.gz", max_bytes=2 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "unpacked, the file is over 2 MB (the limit applies to the unpacked size)" in str(info.value)
    assert peak < 2 * MB + 3 * sniff._CHUNK + 2 * len(bomb), peak  # the limit plus one step, not 200 MB


def test_the_upload_limit_applies_to_the_unpacked_size_and_disk_files_get_ten_times_theirs(tmp_path) -> None:
    rows = b"user_id,item_id\n" + b"".join(f"{u},{u % 31}\n".encode() for u in range(60_000))
    packed = gzip.compress(rows)
    with pytest.raises(RecaugInputError, match="unpacked, the file is over"):
        read_interactions(packed, name="r.csv.gz", max_bytes=len(rows) - 1)
    assert len(read_interactions(packed, name="r.csv.gz", max_bytes=len(rows))) == 60_000
    path = tmp_path / "r.csv.gz"
    path.write_bytes(packed)  # ~10x compression: from disk, unpacking to 10x the file is allowed
    assert len(read_interactions(path, max_bytes=100)) == 60_000
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(_zeros_gzip(64 * MB))
    with pytest.raises(RecaugInputError, match="unpacked"):
        read_interactions(bomb, max_bytes=100)


def test_zip_members_are_capped_and_gzip_members_concatenate() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ratings.csv", b"0" * (8 * MB))
    with pytest.raises(RecaugInputError, match=r"r\.zip/ratings\.csv': unpacked, the file is over 1 MB"):
        read_table(buffer.getvalue(), name="r.zip", max_bytes=MB)
    text = b"user,item\n" + b"".join(f"{u},{u % 7}\n".encode() for u in range(50_000))
    members = b"".join(gzip.compress(text[i : i + 65_536]) for i in range(0, len(text), 65_536))  # pigz/bgzip
    assert len(read_interactions(members, name="r.csv.gz")) == 50_000
    whole = gzip.compress(text)
    for damaged, fragment in ((whole[:-6], "cut short"), (whole + b"junk", "trailing data")):
        with pytest.raises(RecaugInputError, match=fragment):
            read_interactions(damaged, name="r.csv.gz")


def test_running_out_of_memory_is_one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    def exhausted(*args: object, **kwargs: object) -> None:
        raise pa.ArrowMemoryError("malloc of size 8589934592 failed")

    monkeypatch.setattr(readers, "_parse_csv", exhausted)
    with pytest.raises(RecaugInputError, match=r"file 'big\.csv': there was not enough memory to read it"):
        read_interactions(b"user,item\n1,2\n", name="big.csv")
