"""A rating column under a name detection does not know is named in a note with the flag that maps it (walk 13:
'My Rating' was dropped and the data read as implicit feedback without a word)."""

from __future__ import annotations

import re

from recaug.data.readers import NOTES, read_interactions

ROWS = "".join(f"u{u},i{i},{(u + i) % 10 + 1},phone\n" for u in range(30) for i in range(5))


def _read(header: str, **options: object) -> tuple[list[str], list[str]]:
    frame = read_interactions((header + "\n" + ROWS).encode(), name="mine.csv", **options)  # type: ignore[arg-type]
    return list(frame.columns), [n for n in frame.attrs[NOTES] if "looks like ratings" in n]


def test_an_unknown_rating_name_gets_a_hint_that_works() -> None:
    columns, hints = _read("User ID,Movie ID,My Rating,device")
    assert "rating" not in columns and len(hints) == 1 and "column 'My Rating'" in hints[0]
    flag = re.search(r"CLI: --columns (\S+);", hints[0])
    assert flag is not None and flag.group(1) == "user_id,item_id,rating,device"
    columns, _ = _read("User ID,Movie ID,My Rating,device", columns=flag.group(1).split(","))
    assert "rating" in columns  # the hint's flag maps it


def test_no_hint_for_a_mapped_rating_or_words() -> None:
    columns, hints = _read("user_id,item_id,rating,device")
    assert "rating" in columns and hints == []
    _, hints = _read("user_id,item_id,count,score_label")
    assert hints == []  # "score_label" holds words, not ratings
