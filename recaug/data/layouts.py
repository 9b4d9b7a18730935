"""The public data sets LLM-for-recommendation papers use, recognised by their column names.

Column aliases find the user, item, rating and time of most files; a known layout adds what names alone cannot
say: which of several id columns is the item (a Goodreads book has an ``isbn``, an ``asin`` and a ``book_id``),
which fields describe an item in words (categories and features, not ``kindle_asin`` or ``postal_code``), and a
rating convention (Book-Crossing and Goodreads write 0 for "not rated").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recaug.data.schema import normalise_name


@dataclass(frozen=True)
class Layout:
    """A public data set's file, identified by column names (compared as :func:`normalise_name` writes them)."""

    name: str
    keys: tuple[str, ...]  # all present: this is the file
    item: str = ""  # the item id column, where aliases would pick another
    title: str = ""
    text: tuple[str, ...] = ()  # the columns that describe an item, in the order they are written
    rating: str = ""
    zero_means_unrated: bool = False  # a rating of 0 records an interaction without a rating

    def column(self, columns: Iterable[str], normalised: str) -> str | None:
        """The file's own spelling of a column this layout names (None when absent)."""
        return next((c for c in columns if normalise_name(c) == normalised), None)


INTERACTION_LAYOUTS = (
    Layout("Amazon Reviews 2014/2018", ("reviewerid", "asin", "overall"), item="asin", rating="overall"),
    Layout("Amazon Reviews 2023", ("userid", "parentasin", "rating", "timestamp"), item="parentasin", rating="rating"),
    Layout(
        "Goodreads interactions",
        ("userid", "bookid", "rating", "dateadded"),
        item="bookid",
        rating="rating",
        zero_means_unrated=True,
    ),
    Layout("Yelp reviews", ("userid", "businessid", "stars", "date"), item="businessid", rating="stars"),
    Layout(
        "Book-Crossing ratings",
        ("userid", "isbn", "bookrating"),
        item="isbn",
        rating="bookrating",
        zero_means_unrated=True,
    ),
)
ITEM_LAYOUTS = (
    Layout(
        "Amazon metadata 2023",
        ("parentasin", "maincategory"),
        item="parentasin",
        title="title",
        text=("maincategory", "categories", "features", "description", "store"),
    ),
    Layout(
        "Amazon metadata 2018",
        ("asin", "category", "feature"),
        item="asin",
        title="title",
        text=("maincat", "category", "feature", "description", "brand"),
    ),
    Layout(
        "Amazon metadata 2014",
        ("asin", "categories"),
        item="asin",
        title="title",
        text=("categories", "description", "brand"),
    ),
    Layout(
        "Goodreads books",
        ("bookid", "title", "workid"),
        item="bookid",
        title="title",
        text=("description", "publisher", "publicationyear"),
    ),
    Layout(
        "Yelp businesses",
        ("businessid", "name", "categories"),
        item="businessid",
        title="name",
        text=("categories", "city"),
    ),
    Layout(
        "Book-Crossing books",
        ("isbn", "booktitle", "bookauthor"),
        item="isbn",
        title="booktitle",
        text=("bookauthor", "yearofpublication", "publisher"),
    ),
)


def match_layout(columns: Iterable[object], layouts: tuple[Layout, ...]) -> Layout | None:
    """The first layout whose key columns are all present, else None."""
    present = {normalise_name(c) for c in columns}
    return next((layout for layout in layouts if set(layout.keys) <= present), None)
