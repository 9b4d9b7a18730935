"""Which augmenter parameters a user may set, of what kind, and parsing them from text.

The dashboard builds its per-method forms from this and the CLI parses ``--param METHOD.KEY=VALUE`` with it, so a
new augmenter parameter shows up in both without UI code. Parameters the run sets for every method (seed, target),
the LLM connection (set once in the LLM settings) and nested dictionaries are not offered here.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass
from typing import Any, Literal, Union, Unpack, get_args, get_origin, get_type_hints

from recaug.augment.base import AUGMENTERS, BASE_OPTIONS, Augmenter, AugmentOptions
from recaug.core.errors import RecaugInputError
from recaug.core.variants import split_variant

ParamKind = Literal["int", "float", "bool", "str", "choice", "multi"]
# Set once for the whole run (seed, target) or nested dicts; LLM methods take their connection from the LLM settings.
NOT_PER_METHOD = frozenset({"seed", "target", "member_params", "model_params"})
LLM_CONNECTION = frozenset({"backend", "model", "base_url", "key_from_url"})
# What the dashboard's "LLM settings" (and the CLI's --llm-* flags) set for every LLM method at once; a per-method
# form showing them too would show a second, contradicting value.
LLM_SHARED_SETTINGS = frozenset(
    {"batch_size", "max_calls", "timeout", "item_noun", "min_skill", "insist", "skill_users"}
)
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class ParamSpec:
    """One settable constructor parameter of an augmenter."""

    name: str
    default: Any
    kind: ParamKind
    choices: tuple[str, ...] = ()
    optional: bool = False  # ``None`` is allowed (e.g. "derive it from the data")


def _choices(cls: type[Augmenter], name: str) -> tuple[str, ...]:
    """Fixed values of a parameter: declared by the class, or registry names for model/member/device parameters."""
    if name in cls.param_choices:
        return tuple(cls.param_choices[name])
    if name == "device":
        return DEVICES
    if name in ("candidate_model", "model", "source_model"):
        from recaug.models import MODELS

        return tuple(MODELS.names())
    if name == "members":
        from recaug.augment.ensemble import combinable

        return tuple(n for n in AUGMENTERS.names() if n != cls.name and combinable(n))
    return ()


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """(the non-None type, whether None is allowed) of an annotation such as ``int | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(get_args(annotation))
    return annotation, False


def param_specs(name: str, *, include_base: bool = False) -> list[ParamSpec]:
    """The parameters of augmenter ``name`` a user may set, in constructor order.

    ``include_base`` adds the options every augmenter has (``denoise``, ``max_per_user``); forms show those once
    for all methods instead.
    """
    cls = AUGMENTERS.get(name)
    specs: dict[str, ParamSpec] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        hints = get_type_hints(init)
        for param in inspect.signature(init).parameters.values():
            if param.kind is not param.KEYWORD_ONLY or param.name in NOT_PER_METHOD:
                continue
            if cls.family == "llm" and param.name in LLM_CONNECTION:
                continue
            if param.name in BASE_OPTIONS and not include_base:
                continue
            spec = _spec(cls, param.name, param.default, hints.get(param.name, type(param.default)))
            if spec is not None:
                specs[param.name] = spec
    return list(specs.values())


def _spec(cls: type[Augmenter], name: str, default: Any, annotation: Any) -> ParamSpec | None:
    base, optional = _base_type(annotation)
    choices = _choices(cls, name)
    if choices:
        multi = get_origin(base) is not None or isinstance(default, list | tuple)
        return ParamSpec(name, list(default) if multi else default, "multi" if multi else "choice", choices, optional)
    for kind, python_type in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if base is python_type:
            return ParamSpec(name, default, kind, (), optional)  # type: ignore[arg-type]
    return None  # dicts, backend objects, ...: set through the Python API or a config file


def parse_param(spec: ParamSpec, text: str, *, method: str = "") -> Any:
    """Turn the text of ``--param METHOD.KEY=VALUE`` into a value of the parameter's kind, or explain the error."""
    label = f"{method}.{spec.name}" if method else spec.name
    value = text.strip()
    if spec.optional and value.lower() in ("", "none"):
        return None
    try:
        if spec.kind == "bool":
            lowered = value.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return lowered in ("true", "1", "yes")
        if spec.kind == "int":
            return int(value)
        if spec.kind == "float":
            return float(value)
    except ValueError:
        raise RecaugInputError(
            f"{label} must be {'true or false' if spec.kind == 'bool' else 'a number'}, got '{text}'",
            fix=f"for example {label}={spec.default!r}",
        ) from None
    if spec.kind == "choice":
        if value not in spec.choices:
            raise RecaugInputError(f"{label} cannot be '{value}'", fix=f"use one of {', '.join(spec.choices)}")
        return value
    if spec.kind == "multi":
        picked = [v.strip() for v in value.split("+") if v.strip()]
        unknown = [v for v in picked if v not in spec.choices]
        if unknown or not picked:
            raise RecaugInputError(
                f"{label} has unknown value(s) {', '.join(unknown) or '(none)'}",
                fix=f"join values from {', '.join(spec.choices)} with '+', e.g. {'+'.join(spec.default)}",
            )
        return picked
    return value


def parse_param_assignments(assignments: list[str], methods: list[str]) -> dict[str, dict[str, Any]]:
    """``["cfgan.epochs=30", "ensemble.members=random+popularity"]`` → ``{"cfgan": {"epochs": 30}, ...}``.

    ``METHOD`` may be ``*`` for every chosen method (useful for ``*.denoise=0.2`` or ``*.max_per_user=5``).
    """
    params: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        method, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise RecaugInputError(
                f"cannot read --param '{assignment}'", fix="write METHOD.KEY=VALUE, e.g. cfgan.epochs=30"
            )
        targets = methods if method == "*" else [method]
        for target in targets:
            if target not in methods:
                raise RecaugInputError(
                    f"--param '{assignment}' names '{target}', which is not among --augment",
                    fix=f"use one of {', '.join(methods)} (or * for all of them)",
                )
            specs = {spec.name: spec for spec in param_specs(target, include_base=True)}
            if name not in specs:
                raise RecaugInputError(
                    f"{target} has no settable parameter '{name}'", fix=f"settable: {', '.join(specs) or 'none'}"
                )
            params.setdefault(target, {})[name] = parse_param(specs[name], text, method=target)
    return params


def merge_params(*layers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-method parameter dicts merged left to right (a later layer wins key by key)."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for method, values in layer.items():
            merged.setdefault(method, {}).update(values)
    return merged


def shared_options(methods: list[str], **options: Unpack[AugmentOptions]) -> dict[str, dict[str, Any]]:
    """The options every augmenter has, for each method, leaving defaults (0) out so configs stay minimal."""
    values = {key: value for key, value in options.items() if value}
    return {method: dict(values) for method in methods} if values else {}


def describe_methods(methods: list[str], params: dict[str, dict[str, Any]]) -> str:
    """``similarity (max_per_user=3), random``: the methods with their non-default settings, for captions and reports.

    LLM connection details are left out (a base URL may be private; the key never reaches params anyway).
    """

    def shown(value: Any) -> str:
        return "+".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

    parts = []
    for method in methods:
        base = split_variant(method)[0]
        merged = {**params.get(base, {}), **params.get(method, {})}
        settings = {k: v for k, v in merged.items() if k not in LLM_CONNECTION}
        rowless = base in AUGMENTERS and not AUGMENTERS.get(base).adds_rows
        details = ", ".join(
            ["no rows: item start vectors"] * rowless + [f"{key}={shown(value)}" for key, value in settings.items()]
        )
        parts.append(f"{method} ({details})" if details else method)
    return ", ".join(parts) or "none"
