"""The Compare page's form: models, seeds, budget sweep, where the seeds run, and the caption stating the protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from recaug.augment.options import describe_methods
from recaug.data.dataset import Dataset
from recaug.data.splits import protocol_summary, seed_effect
from recaug.evaluate.design import DEFAULT_PRIMARY
from recaug.experiment import ExperimentConfig
from recaug.experiment.executor import make_executor
from recaug.models import MODELS
from ui.compare_controller import (
    DEFAULT_SEEDS,
    budget_text,
    compare_config,
    primary_choices,
    seeds_caption,
    shown_result,
)
from ui.escape import markdown_prose
from ui.state import recalled, remember

SWEEP_CHOICES = ["1%", "2%", "5%", "10%", "20%", "50%"]


def sweep_choices(chosen: list[str]) -> list[str]:
    """The sweep's options: the usual shares plus any budget a reopened run or the CLI swept (3%, 2000 rows)."""
    return [*SWEEP_CHOICES, *(label for label in chosen if label not in SWEEP_CHOICES)]


@dataclass(frozen=True)
class CompareForm:
    """What the form chose: the experiment and where its seeds run."""

    config: ExperimentConfig
    where: str
    ray_address: str

    def executor(self) -> Any:
        """None (the local process pool) or a Ray executor (a local head when no address is given)."""
        return None if self.where == "local" else make_executor("ray", self.ray_address.strip() or None)


def compare_form(dataset: Dataset, aug: dict[str, Any]) -> CompareForm:
    """Draw the form (settings survive leaving the page) and return its choices."""
    left, mid, right = st.columns([3, 1.3, 0.8])
    default_models = [m for m in ("pop", "itemknn", "bpr") if m in MODELS]
    models = remember(
        "cmp_models",
        left.multiselect(
            "Models",
            MODELS.names(),
            default=None if "cmp_models" in st.session_state else recalled("cmp_models", default_models),
            key="cmp_models",
            help="\n".join(f"- **{n}**: {MODELS.get(n).description}" for n in MODELS.names()),
        ),
    )
    protocol = aug.get("protocol", "random-811")
    mid.selectbox(
        "Split protocol",
        [protocol],
        disabled=True,
        key="cmp_protocol_shown",
        help=f"{protocol_summary(protocol, aug.get('protocol_params'))}. Chosen on the Augment page (the "
        "augmentation is made on this split's training part), so change it there.",
    )
    n_seeds = remember(
        "cmp_seeds",
        right.number_input(
            "Seeds",
            1,
            10,
            recalled("cmp_seeds", DEFAULT_SEEDS),
            key="cmp_seeds",
            help=f"Under **{protocol}**, {seed_effect(protocol)}. The seed is the unit of inference: fewer than 3 "
            "seeds shows deltas but no verdict.",
        ),
    )
    sweep_budgets = remember(
        "cmp_sweep",
        st.multiselect(
            "Budget sweep (optional)",
            sweep_choices(recalled("cmp_sweep", [])),
            default=recalled("cmp_sweep", []),
            key="cmp_sweep",
            help="Each method at several budgets against one shared baseline: Δ against budget. Empty: the Augment "
            "page's budget.",
        ),
    )
    with st.expander("The question and how many seeds"):
        primary = remember(
            "cmp_primary",
            st.multiselect(
                "Primary rows (decided before the run)",
                primary_choices(),
                default=recalled("cmp_primary", list(DEFAULT_PRIMARY)),
                key="cmp_primary",
                help="Per model and arm these metric@k rows, on all users and on the arm's target slice, are tested "
                "(Benjamini-Hochberg within that family only); every other row is exploratory: Δ and interval, no "
                "verdict. A verdict here never changes because you add models, arms or metrics.",
            ),
        )
        max_seeds = remember(
            "cmp_max_seeds",
            st.number_input(
                "Add seeds until decided, up to (0: off)",
                0,
                30,
                recalled("cmp_max_seeds", 0),
                key="cmp_max_seeds",
                help="Start with the seeds above and add 2 at a time while a primary row is undecided and could "
                "still be decided; the looks share alpha, so false verdicts stay at most 5%.",
            ),
        )
        aa_control = remember(
            "cmp_aa_control",
            st.checkbox(
                "Also run an A/A control",
                value=recalled("cmp_aa_control", False),
                key="cmp_aa_control",
                help="Refit the baseline with fresh seeds on the same data and test it as its own family: a check "
                "that verdicts are calibrated. Off by default: its fits are a third of the run, and spent as seeds "
                "they buy 1.5x the seeds (more power); each row's noise is already its own seed spread.",
            ),
        )
    config = compare_config(
        dataset,
        aug,
        models,
        int(n_seeds),
        sweep_budgets,
        primary=primary or None,
        max_seeds=int(max_seeds),
        aa_control=bool(aa_control),
    )
    with st.expander("Where the seeds run"):
        where = st.radio(
            "Executor",
            ["local", "ray"],
            horizontal=True,
            key="cmp_executor",
            help="Each (seed, arm, model) fit is a task. **local**: a process pool on this machine, one worker per "
            "core. **ray**: tasks on a Ray cluster (the data goes to it once); with no address, a local head on "
            "127.0.0.1 that this dashboard starts on its first Ray run and keeps until the dashboard stops. The "
            "results are identical either way.",
        )
        ray_address = st.text_input(
            "Ray address", key="cmp_ray_address", disabled=where == "local", placeholder="empty: a local head"
        )
    methods = describe_methods(aug["augmenters"], aug.get("augmenter_params", {}))
    st.caption(
        f"Data **{markdown_prose(dataset.name)}** · protocol **{protocol}** "
        f"({markdown_prose(protocol_summary(protocol, aug.get('protocol_params')))}) · "
        f"{seeds_caption(config, shown_result(dataset, config))} · **{markdown_prose(methods)}** "
        f"({budget_text(aug['budget'], sweep_budgets)}, {aug['target']}) · test split scored once; "
        "training and validation items excluded from the ranking · verdicts only on the primary rows declared below"
        + ("; an A/A control (baseline refitted with fresh seeds) checks calibration." if config.aa_control else ".")
    )
    return CompareForm(config, where, ray_address)
