"""``denoise`` (on every augmenter via the base class) and the base-class options it relies on."""

from __future__ import annotations

import numpy as np
import pytest

from recaug.augment import create_augmenter
from recaug.augment.denoise import edge_plausibility
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import VIRTUAL_PREFIX
from recaug.data.schema import ITEM, USER


def test_denoise_drops_the_least_plausible_edges_and_keeps_the_budget(ml100k_train, hits) -> None:
    pool = create_augmenter("random", target="all").fit(ml100k_train).augment(4000).rows
    result = create_augmenter("random", target="all", denoise=0.5).fit(ml100k_train).augment(2000)
    kept = result.rows
    assert len(kept) == 2000, "the budget is still met: denoising starts from a pool of budget / (1 - fraction)"
    assert result.info["denoise_scored"] == 4000 and result.info["denoise_dropped"] == 2000
    keys = set(zip(kept[USER], kept[ITEM], strict=True))
    in_kept = np.array([k in keys for k in zip(pool[USER], pool[ITEM], strict=True)])
    assert in_kept.sum() == 2000, "the denoised rows are a subset of the same seed's undenoised pool"
    score = edge_plausibility(ml100k_train, pool)
    assert score[in_kept].min() >= score[~in_kept].max()
    assert result.info["denoise_plausibility_kept"] > result.info["denoise_plausibility_dropped"]
    # The BPR filter keeps random edges that are more often real held-out edges than the ones it drops.
    assert hits(kept) > 2 * hits(pool[~in_kept])


def test_denoise_scores_virtual_users_by_folding_them_in(ml100k_train) -> None:
    result = create_augmenter("mixup", denoise=0.3).fit(ml100k_train).augment(1000)
    assert result.rows[USER].str.startswith(VIRTUAL_PREFIX).all()
    assert result.info["denoise_dropped"] == round(0.3 * result.info["denoise_scored"]) > 0


def test_denoise_fraction_is_validated(ml100k_train) -> None:
    augmenter = create_augmenter("popularity", denoise=1.0)
    with pytest.raises(RecaugInputError, match="denoise"):  # checked in fit (and again in augment)
        augmenter.fit(ml100k_train)


def test_base_options_reach_subclasses_that_do_not_forward_them() -> None:
    augmenter = create_augmenter("cfgan", denoise=0.25, epochs=1)
    assert augmenter.get_params()["denoise"] == 0.25 and augmenter.epochs == 1
    with pytest.raises(RecaugInputError):
        create_augmenter("cfgan", denoised=0.25)
