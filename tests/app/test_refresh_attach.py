"""A refresh during a running augmentation (second user walk): the new session takes the job over with the settings
it was started with, so the form shows them while it runs and its result is not called stale when it arrives."""

from __future__ import annotations

import threading

from streamlit.testing.v1 import AppTest

from recaug.core.progress import ProgressClock
from recaug.experiment import run_augmenters
from tests.app.conftest import REPO, no_errors
from ui.jobs import Job, _register
from ui.state import augment_preview


def test_a_refreshed_augment_page_takes_over_the_running_job_with_its_settings(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["random"]).run()
    no_errors(app)
    settings = dict(app.session_state["augment_config"])  # what Run augmentation would start the job with
    dataset = app.session_state["dataset"]
    results = run_augmenters(dataset, augment_preview(dataset, settings)[0], int(settings["seed"]))
    job = Job(kind="augment", label="Augmenting", clock=ProgressClock(), context=settings)  # the old session's
    _register(job)
    finishing = threading.Timer(2.0, lambda: (setattr(job, "value", results), job.done.set()))
    finishing.start()

    fresh = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)  # the refresh: only the URL is left
    fresh.query_params["data"] = dataset.fingerprint()
    fresh.query_params["jobs"] = job.id
    fresh.run()
    assert fresh.session_state["augment_config"]["augmenters"] == ["random"]  # not the default similarity
    fresh.switch_page("pages/1_Augment.py").run()  # watches the job until it ends, then shows it
    finishing.join()
    no_errors(fresh)
    assert fresh.multiselect(key="aug_methods").value == ["random"]
    assert list(fresh.session_state["augment_results"]) == ["random"]
    assert not [w for w in fresh.warning if "settings changed" in w.value]
    fresh.run()  # AppTest runs a switched-to page without app.py's closing URL sync; the browser has it
    assert job.taken and "jobs" not in fresh.query_params  # taken here, no longer named for a refresh
