"""``max_per_user`` (a base option of every augmenter) and the parameter specs behind the forms and ``--param``."""

from __future__ import annotations

import pytest

from recaug.augment import AUGMENTERS, create_augmenter
from recaug.augment.options import (
    describe_methods,
    merge_params,
    param_specs,
    parse_param_assignments,
    shared_options,
)
from recaug.core.errors import RecaugInputError
from recaug.data.schema import CONFIDENCE, ITEM, USER


def test_max_per_user_keeps_each_users_most_confident_rows(ml100k_train) -> None:
    uncapped = create_augmenter("similarity").fit(ml100k_train).augment(0.1)
    capped = create_augmenter("similarity", max_per_user=5).fit(ml100k_train).augment(0.1)
    per_user = uncapped.rows.groupby(USER).size()
    assert per_user.max() > 5, "the precondition: without a cap light users get more than 5 rows each"
    assert capped.rows.groupby(USER).size().max() == 5
    assert set(capped.rows[USER]) == set(uncapped.rows[USER]), "the cap spreads rows, it drops no user"
    assert len(capped.rows) == 5 * capped.rows[USER].nunique() < len(uncapped.rows)
    assert capped.info["dropped_by_user_cap"] > 0 and "dropped_by_user_cap" not in uncapped.info
    # Each user keeps their top rows: the lowest confidence kept is at least the best one dropped.
    for user, kept in capped.rows.groupby(USER):
        dropped = uncapped.rows[(uncapped.rows[USER] == user) & ~uncapped.rows["item_id"].isin(kept["item_id"])]
        if len(dropped):
            assert kept[CONFIDENCE].min() >= dropped[CONFIDENCE].max() - 1e-9


def test_max_per_item_spreads_a_popularity_heavy_method_over_more_items(ml100k_train) -> None:
    uncapped = create_augmenter("popularity", target="all").fit(ml100k_train).augment(3000)
    capped = create_augmenter("popularity", target="all", max_per_item=5).fit(ml100k_train).augment(3000)
    assert uncapped.rows[ITEM].value_counts().max() > 5, "the precondition: popular items get many rows"
    assert capped.rows[ITEM].value_counts().max() <= 5
    assert capped.rows[ITEM].nunique() > uncapped.rows[ITEM].nunique()
    assert capped.info["dropped_by_item_cap"] > 0


@pytest.mark.parametrize("option", ["max_per_user", "max_per_item"])
@pytest.mark.parametrize("bad", [-1, 2.5, True, "5"])
def test_caps_are_validated(ml100k_train, option, bad) -> None:
    augmenter = create_augmenter("popularity", **{option: bad})
    with pytest.raises(RecaugInputError, match=option):  # checked in fit, and again in augment
        augmenter.fit(ml100k_train)
    valid = create_augmenter("popularity").fit(ml100k_train).set_params(**{option: bad})
    with pytest.raises(RecaugInputError, match=option):
        valid.augment(100)


def test_every_augmenter_offers_its_settable_parameters_with_valid_defaults() -> None:
    for name in AUGMENTERS.names():
        specs = param_specs(name, include_base=True)
        names = [spec.name for spec in specs]
        assert {"denoise", "max_per_user", "max_per_item"} <= set(names), name
        assert not {"seed", "target"} & set(names), name  # set once for the whole run
        for spec in specs:
            if spec.kind == "choice":
                assert spec.default in spec.choices, (name, spec)
            if spec.kind == "multi":
                assert set(spec.default) <= set(spec.choices), (name, spec)
        # The defaults, passed explicitly, build the same augmenter.
        explicit = create_augmenter(name, **{spec.name: spec.default for spec in specs})
        assert _lists(explicit.get_params()) == _lists(create_augmenter(name).get_params()), name
    assert "model" not in [s.name for s in param_specs("llm-interactions")], "LLM connection is set elsewhere"
    assert [s.kind for s in param_specs("link-prediction") if s.name == "model"] == ["choice"]


def _lists(params: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in params.items()}


def test_param_assignments_are_typed_and_errors_name_the_fix() -> None:
    methods = ["cfgan", "ensemble", "embedding-gan", "llm-cold-items"]
    parsed = parse_param_assignments(
        [
            "cfgan.epochs=30",
            "cfgan.lr=0.01",
            "ensemble.members=random+popularity",
            "ensemble.mode=union",
            "embedding-gan.items_per_user=none",
            "llm-cold-items.calibrate=false",
            "*.max_per_user=4",
        ],
        methods,
    )
    assert parsed["cfgan"] == {"epochs": 30, "lr": 0.01, "max_per_user": 4}
    assert parsed["ensemble"] == {"members": ["random", "popularity"], "mode": "union", "max_per_user": 4}
    assert parsed["embedding-gan"] == {"items_per_user": None, "max_per_user": 4}
    assert parsed["llm-cold-items"] == {"calibrate": False, "max_per_user": 4}
    bad = {
        "cfgan.epochs=many": "must be a number",
        "ensemble.mode=majority": "cannot be 'majority'",
        "ensemble.members=random+gpt": "unknown value",
        "cfgan.epoch=3": "no settable parameter 'epoch'",
        "mixup.alpha=1": "not among --augment",
        "cfgan-epochs=3": "METHOD.KEY=VALUE",
    }
    for assignment, message in bad.items():
        with pytest.raises(RecaugInputError, match=message):
            parse_param_assignments([assignment], methods)


def test_layers_merge_key_by_key() -> None:
    merged = merge_params(shared_options(["a", "b"], max_per_user=3), {"a": {"x": 1}}, {"a": {"max_per_user": 9}})
    assert merged == {"a": {"max_per_user": 9, "x": 1}, "b": {"max_per_user": 3}}
    assert shared_options(["a"]) == {}, "defaults stay out of the config"


def test_describe_methods_shows_settings_and_says_when_a_method_adds_no_rows() -> None:
    text = describe_methods(
        ["similarity", "llm-init", "random@5%"],
        {"similarity": {"max_per_user": 3}, "llm-init": {"max_items": 0, "base_url": "http://10.0.0.1"}},
    )
    assert text == "similarity (max_per_user=3), llm-init (no rows: item start vectors, max_items=0), random@5%"
