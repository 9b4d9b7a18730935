"""Protocol parameters (walk 12, items 4, 8 and 18): a text share crashed the CLI with a TypeError traceback after
the data had loaded, out-of-range messages named neither the protocol nor a fix, and the protocol's summary described
the default parameters whatever the run used."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
from pathlib import Path

import pytest

from recaug.__main__ import main
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import (
    PROTOCOL_PARAMETERS,
    SPLITS,
    SplitSpec,
    check_protocol_params,
    make_split,
    protocol_params,
    protocol_summary,
)

# (protocol, parameter, a value that is not a number, the default the fix suggests)
NOT_NUMBERS = [
    ("cold-users", "share", "abc", "share=0.2"),
    ("cold-items", "fraction", "abc", "fraction=0.15"),
    ("temporal", "test", "x", "test=0.1"),
    ("cold-users", "n", "x", "n=3"),
]


@pytest.mark.parametrize(("protocol", "name", "value", "example"), NOT_NUMBERS)
def test_a_parameter_that_is_not_a_number_is_refused_naming_protocol_parameter_value_and_fix(
    protocol: str, name: str, value: str, example: str
) -> None:
    with pytest.raises(RecaugInputError) as refused:
        SplitSpec.of(protocol, {name: value})
    message = str(refused.value)
    assert f"protocol '{protocol}'" in message and f"{name} must be" in message and repr(value) in message
    assert f"e.g. {example} (the default)" in message


@pytest.mark.parametrize(
    ("protocol", "params", "words"),
    [
        ("temporal", {"valid": 0.6}, "valid must be in (0, 0.5]"),
        ("cold-users", {"share": 0.99}, "share must be in (0, 0.9]"),
        ("cold-items", {"fraction": 0.0}, "fraction must be in (0, 0.5]"),
        ("cold-users", {"n": 6}, "n must be in 1..5"),
        ("cold-users", {"n": 2.0}, "n must be a whole number 1..5"),
        ("cold-items", {"fraction": True}, "fraction must be a number"),
        ("cold-items", {"fraction": float("nan")}, "fraction must be in"),
    ],
)
def test_out_of_range_values_name_the_protocol_and_say_what_to_write(
    protocol: str, params: dict[str, object], words: str
) -> None:
    with pytest.raises(RecaugInputError) as refused:
        check_protocol_params(protocol, params)
    message = str(refused.value)
    assert message.startswith(f"protocol '{protocol}': ") and words in message
    assert "— write a value in" in message


def test_every_split_function_checks_its_own_parameters_too(ml100k: Dataset) -> None:
    """make_split is where the CLI's TypeError came from (``'<' not supported between float and str``)."""
    with pytest.raises(RecaugInputError, match="protocol 'cold-users': share must be a number"):
        make_split(ml100k.interactions, "cold-users", 0, share="abc")
    with pytest.raises(RecaugInputError, match="protocol 'temporal': test must be a number"):
        SPLITS.get("temporal")(ml100k.interactions, 0, test="x")


def test_the_declared_parameters_are_exactly_the_split_functions_keywords() -> None:
    for name in SPLITS.names():
        declared = [spec.name for spec in PROTOCOL_PARAMETERS.get(name, ())]
        assert declared == list(protocol_params(name)), name
        for spec in PROTOCOL_PARAMETERS.get(name, ()):  # every default passes its own check
            assert spec.problem(inspect.signature(SPLITS.get(name)).parameters[spec.name].default) is None


def test_the_summary_describes_the_parameters_actually_used() -> None:
    assert protocol_summary("cold-items").startswith("15% of items")
    assert protocol_summary("cold-items", {"fraction": 0.3}).startswith("30% of items")
    assert protocol_summary("cold-users", {"n": 2, "share": 0.125}).startswith(
        "12.5% of users keep only their first 2 interactions"
    )
    assert "latest 5% + 20%" in protocol_summary("temporal", {"valid": 0.05, "test": 0.2})
    assert "``" not in protocol_summary("leave-last-out") and protocol_summary("random-811").startswith("per-user")


def _cli(*argv: str) -> tuple[int, str]:
    with contextlib.redirect_stderr(io.StringIO()) as errors, contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, errors.getvalue()


@pytest.mark.parametrize(("protocol", "name", "value", "example"), NOT_NUMBERS[:3])
def test_the_cli_refuses_a_text_share_with_one_clear_line(
    tmp_path: Path, protocol: str, name: str, value: str, example: str
) -> None:
    code, errors = _cli(
        *("compare", "--data", "ml-100k", "--protocol", protocol, "--protocol-params", f"{name}={value}"),
        *("--augment", "random", "--models", "pop", "--no-save", "--quiet", "--out", str(tmp_path / "out")),
    )
    assert code == 2 and "Traceback" not in errors
    assert f"error: protocol '{protocol}': {name} must be a number" in errors and example in errors
    assert not (tmp_path / "out").exists()  # refused before anything was computed or written


def test_a_config_json_rerun_with_a_bad_parameter_is_refused_the_same_way(tmp_path: Path, ml100k: Dataset) -> None:
    config = {"data": "ml-100k", "protocol": "cold-users", "protocol_params": {"share": "abc"}, "models": ["pop"]}
    config |= {"augmenters": ["random"], "seeds": [0, 1, 2], "data_fingerprint": ml100k.fingerprint()}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    code, errors = _cli("compare", "--config", str(path), "--no-save", "--quiet", "--out", str(tmp_path / "out"))
    assert code == 2 and "Traceback" not in errors
    assert "error: protocol 'cold-users': share must be a number" in errors


def test_the_notebook_api_refuses_it_too(ml100k: Dataset) -> None:
    import recaug

    with pytest.raises(RecaugInputError, match="protocol 'cold-items': fraction must be a number"):
        recaug.compare(
            ml100k, augment=["random"], models=["pop"], protocol="cold-items", protocol_params={"fraction": "x"}
        )


def test_bad_protocol_parameters_are_refused_before_the_data_loads(tmp_path: Path) -> None:
    """A data path that does not exist: the protocol's message comes first, so nothing was read."""
    code, errors = _cli(
        *("compare", "--data", str(tmp_path / "missing.csv"), "--protocol", "cold-users"),
        *("--protocol-params", "share=abc", "--no-save", "--quiet", "--out", str(tmp_path / "out")),
    )
    assert code == 2 and "error: protocol 'cold-users': share must be a number" in errors


def test_the_notebook_api_refuses_before_the_data_loads(tmp_path: Path) -> None:
    import recaug

    with pytest.raises(RecaugInputError, match="protocol 'temporal': test must be a number"):
        recaug.compare(tmp_path / "missing.csv", protocol="temporal", protocol_params={"test": "x"})


def test_valid_and_test_that_leave_nothing_to_train_on_are_refused_with_the_reason() -> None:
    """Walk C: valid=0.5,test=0.5 passed each check, then failed with "needs more interactions — use more data"."""
    from recaug.data.splits import check_protocol_params

    with pytest.raises(RecaugInputError, match=r"valid 0.5 \+ test 0.5 leaves 0% of the interactions for training"):
        check_protocol_params("temporal", {"valid": 0.5, "test": 0.5})
    check_protocol_params("temporal", {"valid": 0.4, "test": 0.5})  # 10% left to train on: allowed


def test_a_protocol_without_parameters_says_so() -> None:
    """Walk C: "valid parameters: none" next to a parameter named valid read oddly."""
    from recaug.data.splits import check_protocol_params

    with pytest.raises(RecaugInputError, match="this protocol takes no parameters"):
        check_protocol_params("leave-last-out", {"valid": 0.2})
