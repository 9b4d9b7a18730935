"""What-if: a new item's text, or a new user's few likes — who sees it, and what they get, before vs after."""

from __future__ import annotations

import time

import streamlit as st

from recaug.analysis.whatif import column_label, form_values, new_item_form, new_item_whatif, side_by_side
from recaug.augment.item_text import catalog_has_text
from ui.errors import friendly_errors
from ui.escape import markdown_code, markdown_prose, markdown_text
from ui.page import page_setup
from ui.progress import streamlit_progress
from ui.session import current_dataset
from ui.state import EXPERIMENT, results_config, results_split
from ui.whatif_controller import (
    content_index,
    content_index_ready,
    item_map,
    llm_judge,
    new_item_chart,
    new_user_answer,
    new_user_caveats,
)

# Readable headers with help for the answer's columns (the frames keep their ids for notebooks and CSVs).
BEFORE_COLUMNS = {
    "user_id": "user",
    "score": st.column_config.NumberColumn(
        "score", format="%.3f", help="The content model's score of the new item for this user."
    ),
    "kth_score": st.column_config.NumberColumn(
        "score to beat",
        format="%.3f",
        help="The score of this user's K-th best unseen catalog item: the new item enters the top-K above it.",
    ),
    "rank": st.column_config.NumberColumn("rank", help="The new item's place in this user's top-K."),
    "reason": st.column_config.TextColumn("why", help="The item in the user's history most like the new one."),
}
AFTER_COLUMNS = {
    "user_id": "user",
    "similarity": st.column_config.NumberColumn(
        "similarity", format="%.3f", help="Cosine similarity of the user's history to the new item's text."
    ),
    "confidence": st.column_config.NumberColumn(
        "confidence", format="%.3f", help="The similarity mapped to 0–1: the weight the synthetic row gets."
    ),
    "rank_among_cold": st.column_config.NumberColumn(
        "rank among cold items",
        help="The new item's place among this user's unseen cold catalog items; expansion adds the first few.",
    ),
    "reason": st.column_config.TextColumn("why", help="The item in the user's history most like the new one."),
}

page_setup("What-if")
st.title("Cold-start what-ifs")
dataset = current_dataset()
split, seed, protocol = results_split(dataset)
aug = results_config()
new_item, new_user = st.tabs(["New item", "New user"])


def place_new_item() -> None:
    """The New item tab: embed a described item, show its neighbours and who gets it before and after."""
    # Built once per split (item texts embedded, every user's content scores ranked): 15-20 s at 30k users x 20k
    # items. A status box, not st.spinner: the spinner appears from a timer thread after 0.5 s, and while the
    # encoder loads that thread can wait for seconds, so the tab stood blank (walk 11).
    step = f"{dataset.n_items:,} item texts and {dataset.n_users:,} users' content scores"
    if content_index_ready(dataset, split):
        index = content_index(dataset, split)
    else:
        with st.status(f"Indexing the catalog for what-ifs: {step} (once per split)...") as status:
            started = time.perf_counter()
            index = content_index(dataset, split)
            status.update(
                label=f"Indexed the catalog for what-ifs: {step} in {time.perf_counter() - started:.1f} s",
                state="complete",
            )
    st.markdown(
        "Describe an item that is not in the catalog. recaug embeds the text, shows its nearest catalog "
        "items (the reasons), which users would get it in their top-K from the **content model alone** "
        "(before augmentation), and which users **similarity cold-item expansion** would give it (after)."
    )
    # One input per meaning, named as the catalog names it: its description (or overview…) column IS the
    # description, so the page never shows two "Description" boxes (walk 13); the other worded columns follow.
    form = new_item_form(index.train.items, example_row=index.example_row)
    unused = dataset.unused_items
    if unused is not None and len(unused):
        # The catalog's items nobody interacted with are the cold-start question itself: one pick fills the form.
        rows = {str(row["title"]): row for row in unused.to_dict("records")}

        def fill() -> None:
            picked = st.session_state.get("whatif_unused")
            if picked in rows:
                values = form_values(form, rows[picked])
                st.session_state["whatif_title"] = values.pop("title")
                st.session_state["whatif_text"] = values.pop("description")
                for column, value in values.items():
                    st.session_state[f"whatif_field_{column}"] = value

        st.selectbox(
            f"Start from one of the {len(rows):,} catalog items nobody interacted with",
            [None, *rows],
            format_func=lambda title: "(describe a new item below)" if title is None else title,
            key="whatif_unused",
            on_change=fill,
            help="Your items file lists these, but no interaction names them: they were left out of the catalog "
            "at load. Picking one fills the form with its text; edit it or place it as it is.",
        )
    title = st.text_input(
        column_label(form.title),
        placeholder=form.examples.get(form.title) or "Space Rescue (1997)",
        key="whatif_title",
        help=f"The catalog's {markdown_code(form.title)} column for the new item."
        if form.in_catalog(form.title)
        else None,
    )
    description = st.text_area(
        column_label(form.description),
        placeholder=form.examples.get(form.description) or index.example_text(),
        key="whatif_text",
        help=f"The catalog's {markdown_code(form.description)} column for the new item; the placeholder is its "
        "most popular item's, so write it in that style for the best match."
        if form.in_catalog(form.description)
        else "Write it like the catalog's own texts (shown as the placeholder) for the best match.",
    )
    fields = {}
    for column, box in zip(form.fields, st.columns(len(form.fields)) if form.fields else [], strict=True):
        fields[column] = box.text_input(
            column_label(column), placeholder=form.examples.get(column, ""), key=f"whatif_field_{column}"
        )
    if form.in_catalog(form.title):  # the catalog's texts carry that column too: so does the new item's
        fields[form.title] = title
    k = st.slider("Top-K", 5, 50, 10, key="whatif_k")
    ask_llm = st.checkbox(
        "Also ask the LLM which of these users would like it (llm-cold-items)",
        key="whatif_llm",
        help="Judges the content model's top candidate users with the LLM chosen on the Augment page "
        "(default: the packaged SmolLM2, offline). Takes a few seconds per 10 users on 2 cores; answers are cached.",
    )
    if st.button("Place the item", type="primary", key="whatif_item_run", disabled=not title.strip()):
        space = item_map(dataset, split)
        similarity_params = aug["augmenter_params"].get("similarity", {})
        answer = new_item_whatif(
            index,
            title,
            description,
            k=k,
            budget=aug["budget"],
            min_similarity=float(similarity_params.get("min_similarity", 0.0)),
            embedding_map=space,
            fields=fields,
            description_column=form.description,
        )
        summary = answer.summary
        cols = st.columns(3)
        cols[0].metric("Users with it in top-K (before)", f"{len(answer.before):,}")
        cols[1].metric("Users given it by expansion (after)", f"{len(answer.after):,}")
        closest = answer.neighbours.iloc[0]
        # Markdown, not st.metric: a title as a metric's value was cut to the column's width ("Temptress Moon (…",
        # walk 11); here it wraps and is read whole.
        cols[2].markdown(
            f"Closest catalog item  \n**{markdown_text(closest['title'], 300)}**  \n"
            f":gray[similarity {closest['similarity']:.2f}]",
            help=f"Item {markdown_prose(closest['item_id'])}; the table below lists the nearest items and why.",
        )
        # The text that was embedded, so it is plain which inputs made it (and in what order).
        st.caption(f"Placed as: {markdown_text(answer.text, 600)}")
        if summary.get("warning"):
            st.warning(summary["warning"])
        left, right = st.columns(2)
        left.markdown("**Nearest catalog items (why)**")
        left.dataframe(answer.neighbours, hide_index=True, width="stretch")
        if answer.position is not None:
            right.plotly_chart(new_item_chart(space, answer.position, title), key="whatif_item_chart")
        b, a = st.columns(2)
        b.markdown("**Before: content model top-K**")
        if summary.get("before_reason"):  # an empty table says nothing; this says why
            b.caption(markdown_prose(summary["before_reason"]))
        else:
            b.dataframe(answer.before, hide_index=True, width="stretch", column_config=BEFORE_COLUMNS)
        a.markdown("**After: similarity cold-item expansion**")
        if summary.get("after_reason"):  # an empty table says nothing; this says why
            a.caption(markdown_prose(summary["after_reason"]))
        else:
            a.dataframe(answer.after, hide_index=True, width="stretch", column_config=AFTER_COLUMNS)
        if ask_llm and len(answer.before):
            judge = llm_judge(dataset, split, {"seed": seed, **aug["augmenter_params"].get("llm-cold-items", {})})
            candidates = dataset.user_ids.get_indexer(answer.before["user_id"].astype(str).head(20))
            report, bar = streamlit_progress("Asking the LLM")
            verdicts = judge.judge_new_item(answer.text, candidates, progress=report)
            bar.empty()
            st.markdown(
                f"**After: LLM cold-item judgement** — {int(verdicts['accepted'].sum())} of {len(verdicts)} candidate "
                f"users accepted (P(yes) ≥ {judge.min_yes}, calibrated against a user with no history)"
            )
            st.dataframe(verdicts.drop(columns="prompt"), hide_index=True, width="stretch", key="whatif_llm_table")
            with st.expander("Sample prompt"):
                st.code(verdicts["prompt"].iloc[0], language=None)


with new_item, friendly_errors("place the new item"):
    if catalog_has_text(dataset):
        place_new_item()
    else:  # its neighbours would be the items whose ids are spelled alike; and indexing them takes seconds
        st.info(
            f"A new item is placed by its text, and {markdown_prose(repr(dataset.name))} has no item text (its ids "
            "stand in for it), so its nearest items would be those whose ids are spelled alike. Load an items file "
            "(item id + title, genres or description) on Home to use this tab; **New user** works from likes alone.",
            icon=":material/text_fields:",
        )

with new_user, friendly_errors("recommend for the new user"):
    result = st.session_state.get(EXPERIMENT)
    if result is None or not result.models:
        if result is None:
            st.info("Run a comparison on the Compare page first: the new user is folded into the models trained there.")
        else:  # a run reopened from the Runs page (or a refresh) keeps its numbers, not its trained models
            st.info(
                "The comparison shown was reopened from a saved run, which keeps its results but not its trained "
                "models. Press **Run comparison** on the Compare page (same settings) to train them; this tab "
                "then folds the new user into them."
            )
        st.page_link("pages/3_Compare.py", label="Go to Compare", icon=":material/bar_chart:")
    else:
        titles = dataset.items.set_index("item_id")["title"]
        popular = dataset.interactions["item_id"].value_counts().index[:400]
        liked = st.multiselect(
            "Pick 1–5 items the new user likes",
            list(popular),
            max_selections=5,
            format_func=lambda i: titles.get(i, i),
            key="whatif_liked",
        )
        k_user = st.slider("Recommendations per model", 5, 20, 10, key="whatif_user_k")
        if liked:
            answer = new_user_answer(result, dataset, split, liked, k_user)
            if len(answer.recommendations):
                st.markdown("Top-K for this user from each trained model, baseline next to augmented:")
                table = side_by_side(answer.recommendations)
                st.dataframe(table, hide_index=True, width="stretch", key="whatif_user_table")
                for note in new_user_caveats(result):  # the comparison's own note, for the models used here
                    st.warning(markdown_prose(note), icon=":material/model_training:")
            for row in answer.skipped.itertuples(index=False):
                st.info(
                    f"**{markdown_prose(row.model)} · {markdown_prose(row.variant)}** is not shown: "
                    f"{markdown_prose(row.reason)}.",
                    icon=":material/person_off:",
                )
        else:
            st.caption("Choose liked items to see the recommendations.")
