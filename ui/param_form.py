"""Per-method parameter forms, built from ``recaug.augment.options`` so new augmenter parameters need no UI code."""

from __future__ import annotations

from typing import Any

import streamlit as st

from recaug.augment import AUGMENTERS
from recaug.augment.options import LLM_SHARED_SETTINGS, ParamSpec, param_specs
from ui.escape import markdown_code
from ui.state import recalled, remember

COLUMNS = 3

# What each parameter does, by name (the same names mean the same thing across augmenters).
PARAM_HELP = {
    "encoder": "Sentence encoder for item texts: a local folder, 'tuned' (the packaged one plus a map trained on this "
    "training split; its cost is shown) or the default, the packaged all-MiniLM-L6-v2.",
    "min_similarity": "Only add items at least this text-similar (cosine) to the user's history.",
    "cluster_size": "Users per cluster whose interactions are pooled.",
    "threshold": "Minimum score for a proposed interaction to be kept.",
    "epochs": "Training passes over the training split; more fits better and takes longer.",
    "hidden": "Width of the hidden layer of the generator and discriminator.",
    "noise_dim": "Size of the random noise vector the generator starts from.",
    "lr": "Learning rate of the optimiser.",
    "batch_size": "Rows (or prompts) processed together; larger is faster and uses more memory.",
    "zr_ratio": "CFGAN's zero reconstruction: the share of each user's unseen items whose generated score is pushed "
    "towards 0, so the generator does not spread scores over everything the user never chose.",
    "pm_ratio": "CFGAN's partial masking: the share of each user's unseen items the discriminator also sees, so the "
    "generator is not rewarded for scoring every item 1.",
    "zr_weight": "CFGAN: how much the zero-reconstruction penalty counts against the adversarial loss; higher keeps "
    "scores of unseen items lower.",
    "condition_dropout": "Share of each user's history hidden from the generator's condition.",
    "device": "Where torch runs: cpu, cuda when a GPU is present, or auto.",
    "min_keep": "Edges each user always keeps when edges are dropped.",
    "source": "Which embeddings the GAN learns to imitate.",
    "items_per_user": "Synthetic items drawn per generated user.",
    "members": "The augmenters whose proposals are combined.",
    "mode": "How proposals are combined or chosen.",
    "min_votes": "Members that must propose a row for it to be kept (vote mode).",
    "pool_factor": "Each member proposes this many times the budget before combining.",
    "inner_fraction": "Share of the budget each member fills on its own.",
    "neighbours": "Nearest neighbours considered per item or user.",
    "model": "Recommender that scores candidate links.",
    "candidate_model": "Recommender that proposes the candidates the LLM chooses among.",
    "temperature": "Sampling temperature: 0 is deterministic, higher is more varied.",
    "history_size": "Items of each user's history shown in the prompt.",
    "item_noun": "What the prompt calls an item (movie, product, book…).",
    "max_calls": "Stop after this many LLM calls (a cost cap).",
    "timeout": "Seconds to wait for one LLM answer.",
    "max_items": "Items the LLM is asked about at most.",
    "max_users": "Users the LLM is asked about at most.",
    "max_new_tokens": "Longest LLM answer, in tokens.",
    "users_per_item": "Users considered for each cold item.",
    "min_yes": "Yes-answers needed before a user receives a cold item.",
    "calibrate": "Correct the LLM's yes/no bias with a calibration prompt.",
    "n_candidates": "Candidates shown to the LLM per user.",
    "picks_per_user": "Items the LLM picks per user.",
    "choice": "How the LLM chooses: log-likelihood scoring or a generated answer.",
    "shuffle_candidates": "Show candidates in a different order per call (against position bias).",
    "n_orders": "Candidate orders averaged per user.",
    "negatives": "Also ask for items the user would dislike (hard negatives).",
    "profile_weight": "Weight of the LLM-written profile against the user's history embedding.",
    "alpha": "Mixing (mixup) or popularity exponent: higher favours popular items more.",
    "max_rounds": "Proposal rounds before giving up on filling the budget.",
    "reward": "What the generator is rewarded for.",
    "samples_per_user": "Items sampled per user per step.",
    "min_reward": "Rows below this reward are dropped.",
}


# Labels for parameter names that are abbreviations (the rest read well with "_" as a space, capitalised like the
# page's other fields). Their help names the parameter, as the CLI's --param and "Changed from the defaults" do.
PARAM_LABELS = {
    "zr_ratio": "Zero-reconstruction share",
    "pm_ratio": "Partial-masking share",
    "zr_weight": "Zero-reconstruction weight",
    "lr": "Learning rate",
    "noise_dim": "Noise size",
    "hidden": "Hidden layer width",
    "n_candidates": "Candidates per user",
    "n_orders": "Candidate orders",
}


def param_label(name: str) -> str:
    """The widget's label: readable words for parameter ``name``."""
    return PARAM_LABELS.get(name, name.replace("_", " ").capitalize())


def param_help(spec: ParamSpec) -> str:
    """The widget's help: what the parameter does, its default and (where the label differs) its name."""
    default = "+".join(map(str, spec.default)) if isinstance(spec.default, list | tuple) else spec.default
    what = PARAM_HELP.get(spec.name, spec.name.replace("_", " ").capitalize() + ".")
    named = f" Parameter `{spec.name}`." if spec.name in PARAM_LABELS else ""
    return f"{what} Default: {'automatic' if default is None else default}.{named}"


def param_key(method: str, name: str) -> str:
    """The widget (and form memory) key of one method parameter."""
    return f"aug_param:{method}:{name}"


def _widget(container: Any, spec: ParamSpec, key: str) -> Any:
    """One input of the right kind for ``spec``, showing the value last chosen, else the default."""
    label = param_label(spec.name)
    start = recalled(key, list(spec.default) if spec.kind == "multi" else spec.default)
    tip = param_help(spec)
    if spec.kind == "bool":
        value: Any = container.checkbox(label, value=bool(start), key=key, help=tip)
    elif spec.kind == "choice":
        value = container.selectbox(label, spec.choices, index=spec.choices.index(start), key=key, help=tip)
    elif spec.kind == "multi":
        value = container.multiselect(label, spec.choices, default=start, key=key, help=tip)
    elif spec.kind == "int" and spec.optional:
        value = container.number_input(
            label, min_value=1, value=start, step=1, placeholder="automatic", key=key, help=tip
        )
    elif spec.kind == "int":
        value = int(container.number_input(label, value=int(start), step=1, key=key, help=tip))
    elif spec.kind == "float":
        value = float(container.number_input(label, value=float(start), format="%g", key=key, help=tip))
    else:
        value = container.text_input(label, value=str(start), key=key, help=tip)
    return remember(key, value)


def method_params_form(methods: list[str]) -> dict[str, dict[str, Any]]:
    """An expander per chosen method with its parameters; returns only the values changed from the defaults."""
    changed: dict[str, dict[str, Any]] = {}
    for method in methods:
        specs = param_specs(method)
        if AUGMENTERS.get(method).family == "llm":  # set once for all LLM methods in "LLM settings"
            specs = [spec for spec in specs if spec.name not in LLM_SHARED_SETTINGS]
        if not specs:
            continue
        with st.expander(f"{method} parameters", icon=":material/tune:"):
            # Lists (ensemble members) get the full width: in a third of the page their chips were cut off.
            wide = [spec for spec in specs if spec.kind == "multi"]
            narrow = [spec for spec in specs if spec.kind != "multi"]
            placed = [(st.container(), spec) for spec in wide]
            columns = st.columns(COLUMNS) if narrow else []
            placed += [(columns[position % COLUMNS], spec) for position, spec in enumerate(narrow)]
            for container, spec in placed:
                value = _widget(container, spec, key=param_key(method, spec.name))
                default = list(spec.default) if spec.kind == "multi" else spec.default
                if value != default:
                    changed.setdefault(method, {})[spec.name] = value
            if method in changed:
                st.caption(
                    "Changed from the defaults: "
                    + ", ".join(markdown_code(f"{k}={v}") for k, v in changed[method].items())
                )
    return changed
