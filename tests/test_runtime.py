"""Thread defaults for small machines: set only on <= 2 cores, never over an explicit setting."""

from __future__ import annotations

from recaug.core.runtime import THREAD_VARIABLES, prefer_single_thread_on_small_machines


def test_small_machine_gets_one_thread_but_explicit_settings_win() -> None:
    env = {"MKL_NUM_THREADS": "4"}
    assert prefer_single_thread_on_small_machines(env, cores=2)
    assert env["OMP_NUM_THREADS"] == "1" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["MKL_NUM_THREADS"] == "4"


def test_larger_machine_is_left_alone() -> None:
    env: dict[str, str] = {}
    assert not prefer_single_thread_on_small_machines(env, cores=16)
    assert not any(variable in env for variable in THREAD_VARIABLES)


def test_blas_already_loaded_is_limited_too() -> None:
    """Streamlit imports numpy before any page runs; the env variables alone would leave OpenBLAS at 2 threads there,
    and the dashboard's similarity rankings then differed from the CLI's (float sums in another order)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info, threadpool_limits\n"
        "threadpool_limits(limits=2)\n"  # what a 2-core machine gets when numpy loads first
        "from recaug.core.runtime import prefer_single_thread_on_small_machines\n"
        "prefer_single_thread_on_small_machines(cores=2)\n"
        "print(max(pool['num_threads'] for pool in threadpool_info()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
