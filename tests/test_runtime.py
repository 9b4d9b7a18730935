"""Thread defaults for small machines: set only on <= 2 cores, never over an explicit setting."""

from __future__ import annotations

from recaug.runtime import THREAD_VARIABLES, prefer_single_thread_on_small_machines


def test_small_machine_gets_one_thread_but_explicit_settings_win() -> None:
    env = {"MKL_NUM_THREADS": "4"}
    assert prefer_single_thread_on_small_machines(env, cores=2)
    assert env["OMP_NUM_THREADS"] == "1" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["MKL_NUM_THREADS"] == "4"


def test_larger_machine_is_left_alone() -> None:
    env: dict[str, str] = {}
    assert not prefer_single_thread_on_small_machines(env, cores=16)
    assert not any(variable in env for variable in THREAD_VARIABLES)
