"""Construction of the engine's frozen models without validation, for values built from checked data.

``Model.model_construct`` in pydantic 2.x walks every field in Python and costs about three times a
validated construction. :func:`maker` and :func:`builder` return constructors that do what
``model_construct`` does for models with plain fields (no aliases, no private attributes, no
``extra="allow"``, no post-init): a dict holding the defaults, updated with the given values, in
field order, set as the instance's state.

No validation happens: callers pass values they made themselves from valid data — pricing and
settlement in the engine (a 2,000-line order can change every line's item), the demo generator for a
million orders. The demo tests prove the output valid by round-tripping samples through
``model_validate``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar

from pydantic import BaseModel

from .money import Money

M = TypeVar("M", bound=BaseModel)

_REQUIRED = object()  # marks a required field no value was given for (caught by the tests)
_IMMUTABLE_DEFAULTS = (str, int, bool, type(None), tuple, frozenset, Decimal, Money, BaseModel)


def template(cls: type[BaseModel]) -> dict[str, Any]:
    """Every field of ``cls`` in order: its default, or a marker for a required one."""
    if cls.model_config.get("extra") == "allow" or cls.__private_attributes__:
        raise TypeError(f"{cls.__name__}: fast construction supports plain models only")
    if cls.__pydantic_post_init__:
        raise TypeError(f"{cls.__name__}: fast construction does not run model_post_init")
    template: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        if field.alias not in (None, name) or field.validation_alias is not None:
            raise TypeError(f"{cls.__name__}.{name}: aliases are not supported")
        if field.is_required():
            template[name] = _REQUIRED
            continue
        default = field.get_default(call_default_factory=True)
        if not isinstance(default, _IMMUTABLE_DEFAULTS):
            # A shared mutable default would be shared by every instance built here.
            raise TypeError(f"{cls.__name__}.{name}: mutable default {default!r} is not supported")
        template[name] = default
    return template


# BaseModel keeps its state in four slots; setting them through their descriptors is what
# ``object.__setattr__`` does, minus the attribute look-up.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def builder(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """A constructor from a dict holding *every* field of ``cls``, in field order.

    The dict becomes the instance's ``__dict__`` (pass a fresh one: a literal). The fastest way to
    a model instance; the tests check that everything built this way has exactly the model's fields.
    """
    # Every instance built here shares one fields-set: pydantic never mutates it in place
    # (model_copy copies it first), and a set per instance would cost a tenth of the construction.
    names = set(template(cls))
    new = object.__new__

    def build(values: dict[str, Any]) -> M:
        m = new(cls)
        _set_dict(m, values)
        _set_fields_set(m, names)
        _set_extra(m, None)
        _set_private(m, None)
        return m

    build.__name__ = f"build_{cls.__name__}"
    return build


def maker(cls: type[M]) -> Callable[..., M]:
    """A ``model_construct`` equivalent for ``cls`` (keyword arguments, defaults filled in)."""
    defaults = template(cls)
    new = object.__new__
    copy = defaults.copy
    names = tuple(defaults)
    n = len(names)

    def make(**values: Any) -> M:
        m = new(cls)
        if len(values) == n and tuple(values) == names:
            d = values  # every field given, in field order: the kwargs dict is already fresh
        else:
            d = copy()
            d.update(values)
        _set_dict(m, d)
        _set_fields_set(m, set(values))
        _set_extra(m, None)
        _set_private(m, None)
        return m

    make.__name__ = f"make_{cls.__name__}"
    return make
