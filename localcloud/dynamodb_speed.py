"""moto's DynamoDB without the costs that grow with the table or the item, answering the same.

- moto's response serializer looks every member of every structure up under up to a dozen
  spellings (model names, snake_case, class prefixes). A DynamoDB item is a map of AttributeValue
  structures, each with ten members, built by moto as plain dicts keyed by member name: a Query of
  1,000 items took half a second to serialise. Here an AttributeValue dict of one member is read
  by that member's name, which is what the lookup finds first in such a dict. Requests are parsed
  the same way: an AttributeValue with one member is parsed as that member, without trying the
  other nine.
- Every Query and Scan first sorts the whole table by key (`Table.all_items`), a query of an index
  sorts its results again by the index keys, and moto's key objects (DynamoType) convert their
  values again in every comparison. Here each item's keys are converted once per sort, and a
  string, binary or boolean value, which needs no conversion, is given back at once (moto asked
  it first whether it was a number, a set, a list, a map or a null); so is a string's size.
- A new item checked the 400 KB item limit again after adding each attribute, summing the sizes
  of all attributes so far: quadratic in its attributes, and over a quarter of the server's CPU
  while ticket-ranking ran (its batch writes). Here the whole item is measured once, against the
  same limit, with the same error.
- A Query read the whole table, sorted, to find its key's items. A Query on the table now reads
  its hash key's items directly, as DynamoDB does; a Query on an index still reads every item but
  does not sort the table first, as it sorts its results by the index's and the table's keys, a
  total order, anyway. Within a Query each result's size (the 1 MB page limit) is computed once,
  not twice.
- Before serialising, moto turns each answer's DynamoType objects into dicts, asking of every
  value whether it is a datetime, a DynamoType, a model, a dict or a list. A string, number,
  boolean or null attribute is turned into its dict at once; the rest goes moto's way.
- A Query deep-copies its results through `copy.deepcopy` attribute by attribute; an attribute
  holding a string, number, binary, boolean or null (an immutable value) is copied directly.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from localcloud import pins

_TABLE = pins.resolve("moto.dynamodb.models.table", "Table")
_ITEM = pins.resolve("moto.dynamodb.models.dynamo_type", "Item")
_DYNAMO_TYPE = pins.resolve("moto.dynamodb.models.dynamo_type", "DynamoType")
_LIMITED_SIZE_DICT = pins.resolve("moto.dynamodb.models.dynamo_type", "LimitedSizeDict")
_TOO_LARGE = pins.resolve("moto.dynamodb.models.dynamo_type", "ItemSizeTooLarge")
_JSON_SERIALIZER = pins.resolve("moto.core.serialize", "JSONSerializer")
_JSON_PARSER = pins.resolve("moto.core.parse", "BaseJSONParser")
_RESPONSES = pins.resolve("moto.dynamodb.responses")
pins.resolve("moto.dynamodb.responses", "dynamo_to_dict")
_bytesize = pins.resolve("moto.dynamodb.models.dynamo_type", "bytesize")
pins.resolve("moto.dynamodb.models.table", "Table", "all_items")
pins.resolve("moto.dynamodb.models.table", "Table", "query")
pins.resolve("moto.dynamodb.models.dynamo_type", "Item", "size")
pins.resolve("moto.dynamodb.models.dynamo_type", "Item", "__deepcopy__")
pins.resolve("moto.dynamodb.models.table", "Table", "sorted_items")
pins.resolve("moto.dynamodb.models.table", "Table", "_generate_attr_to_sort_by")
pins.resolve("moto.dynamodb.models.dynamo_type", "DynamoType", "cast_value")
pins.resolve("moto.dynamodb.models.dynamo_type", "DynamoType", "size")
pins.resolve("moto.core.parse", "BaseJSONParser", "_parse_structure")
pins.resolve("moto.core.parse", "BaseJSONParser", "_parse_shape")
for _method in ("_serialize_type_structure", "_serialize", "_default_serialize"):
    pins.resolve("moto.core.serialize", "JSONSerializer", _method)

# moto's LimitedSizeDict limit: DynamoDB documents 400 KB and refuses items between 409 and 410 KB
ITEM_SIZE_LIMIT = 405_000


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    values = {key: _DYNAMO_TYPE(value) for key, value in attrs.items()}
    # moto refused the attribute that took the running total over the limit: the same items
    # fail, as the total only grows
    if sum(_bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
        raise _TOO_LARGE
    self.attrs = _LIMITED_SIZE_DICT()  # later updates are still checked one by one
    dict.update(self.attrs, values)


def _scalars_first(cast_value: Any) -> Any:
    def fast_cast_value(self: Any) -> Any:
        kind = self.type
        if kind == "S" or kind == "B" or kind == "BOOL":
            return self.value  # moto's last case, after five tests
        return cast_value(self)

    fast_cast_value.__localcloud_original__ = cast_value  # type: ignore[attr-defined]
    return property(fast_cast_value)


def _string_size_first(size: Any) -> Any:
    def fast_size(self: Any) -> int:
        if self.type == "S" and type(self.value) is str:
            return len(self.value.encode("utf-8"))  # moto's bytesize, its last case
        return int(size(self))

    fast_size.__localcloud_original__ = size  # type: ignore[attr-defined]
    return fast_size


def _one_member_parsed(parse_structure: Any) -> Any:
    def _parse_structure(self: Any, shape: Any, value: Any) -> Any:
        # AttributeValue's members carry no wire names of their own: the one key is the member
        if shape.name == "AttributeValue" and type(value) is dict and len(value) == 1:
            ((name, raw),) = value.items()
            member = shape.members.get(name)
            if member is not None and raw is not None and "name" not in member.serialization:
                parsed = self.MAP_TYPE()
                parsed[name] = self._parse_shape(member, raw)
                return parsed
        return parse_structure(self, shape, value)

    _parse_structure.__localcloud_original__ = parse_structure  # type: ignore[attr-defined]
    return _parse_structure


class _QueryScope(threading.local):
    """The Query running in this thread: its table, the hash key it reads (None: every item) and
    its results' sizes."""

    table: Any = None
    hash_key: Any = None
    sizes: dict[int, tuple[Any, int]] | None = None


_query = _QueryScope()


def _scoped_query(query: Any) -> Any:
    def query_in_scope(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _query.table, _query.sizes = self, {}
        _query.hash_key = hash_key if index_name is None else None
        try:
            return query(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                *args,
                **kwargs,
            )
        finally:
            _query.table = _query.hash_key = _query.sizes = None

    query_in_scope.__localcloud_original__ = query  # type: ignore[attr-defined]
    return query_in_scope


def _item_size_once(size: Any) -> Any:
    def size_once(self: Any) -> int:
        sizes = _query.sizes
        if sizes is None:
            return int(size(self))
        known = sizes.get(id(self))
        if known is None:
            known = sizes[id(self)] = (self, int(size(self)))  # held, so that its id stays its own
        return known[1]

    size_once.__localcloud_original__ = size  # type: ignore[attr-defined]
    return size_once


def _in_query_order(self: Any) -> list[Any] | None:
    """The items a Query of this table reads, in any order (it sorts them itself), or None when
    no Query of this table runs in this thread."""
    if _query.table is not self:
        return None
    if _query.hash_key is None:
        return _stored_items(self)
    found = self.items.get(_query.hash_key)  # moto keeps items by hash key (then range key)
    if found is None:
        return []
    return list(found.values()) if self.range_key_attr else [found]


_IMMUTABLE_VALUES = frozenset({"S", "N", "B", "BOOL", "NULL"})  # str, bytes or bool values


def _copy_attribute(value: Any, memo: dict[int, Any]) -> Any:
    if type(value) is not _DYNAMO_TYPE or value.type not in _IMMUTABLE_VALUES:
        return copy.deepcopy(value, memo)
    copied = memo.get(id(value))
    if copied is None:
        copied = memo[id(value)] = object.__new__(_DYNAMO_TYPE)
        copied.type, copied.value = value.type, value.value
    return copied


def _item_deepcopy(deepcopy: Any) -> Any:
    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        """moto's copy (keys and attributes, no size check on the way), scalars copied directly."""
        if id(self) in memo:
            return memo[id(self)]
        result = memo[id(self)] = object.__new__(type(self))
        result.hash_key = _copy_attribute(self.hash_key, memo)
        result.range_key = _copy_attribute(self.range_key, memo)
        attrs = _LIMITED_SIZE_DICT.__new__(_LIMITED_SIZE_DICT)
        dict.__init__(attrs, ((key, _copy_attribute(value, memo)) for key, value in self.attrs.items()))
        result.attrs = attrs
        return result

    __deepcopy__.__localcloud_original__ = deepcopy  # type: ignore[attr-defined]
    return __deepcopy__


def _stored_items(self: Any) -> list[Any]:
    if self.range_key_attr:
        return [item for hash_set in self.items.values() for item in hash_set.values()]
    return list(self.items.values())


def _all_items(self: Any) -> list[Any]:
    """moto's order: by hash key, then range key, each compared by its converted value (a table's
    keys all have the one type its definition gives them)."""
    items = _in_query_order(self)
    if items is not None:
        return items
    return sorted(
        _stored_items(self),
        key=lambda x: (
            (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value
        ),
    )


def _sorted_items(
    self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
) -> list[Any]:
    """moto's order for an index query: by the index's keys, then the table's."""
    names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
    items.sort(key=lambda x: tuple([x.attrs[name].cast_value for name in names]))
    return items


def _transformed(serializer: Any, shape: Any) -> bool:
    """Whether a response transformer (moto applies one to the key paths ending with its path)
    could apply to a member; asked once per response, as a serializer serialises one."""
    known = serializer.__dict__.get("_localcloud_attribute_values_transformed")
    if known is None:
        picker = getattr(serializer, "_value_picker", None)
        paths = getattr(picker, "response_transformers", None) or {}
        known = any(
            member.endswith(path) or path.endswith(member) for path in paths for member in shape.members
        )
        serializer.__dict__["_localcloud_attribute_values_transformed"] = known
    return bool(known)


# AttributeValue members whose value moto's JSON serialiser writes unchanged under the member's name
_WRITTEN_AS_IS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}


def _plain_values_first(dynamo_to_dict: Any) -> Any:
    def plain_dynamo_to_dict(obj: Any) -> Any:
        kind = type(obj)
        if kind is _DYNAMO_TYPE and type(obj.value) is _WRITTEN_AS_IS.get(obj.type):
            return {obj.type: obj.value}
        if kind is dict or kind is _LIMITED_SIZE_DICT:  # an answer, an item's attributes
            return {key: plain_dynamo_to_dict(value) for key, value in obj.items()}
        if kind is list:
            return [plain_dynamo_to_dict(value) for value in obj]
        return dynamo_to_dict(obj)

    plain_dynamo_to_dict.__localcloud_original__ = dynamo_to_dict  # type: ignore[attr-defined]
    return plain_dynamo_to_dict


def _attribute_values_by_name(serialize_structure: Any) -> Any:
    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        # a well-formed AttributeValue has one member, its type; anything else takes moto's path
        if (
            shape.name != "AttributeValue"
            or type(value) is not dict
            or len(value) != 1
            or _transformed(self, shape)
        ):
            serialize_structure(self, serialized, value, shape, key)
            return
        wrapper = self.MAP_TYPE() if key else serialized
        ((member_key, member_value),) = value.items()
        member_shape = shape.members.get(member_key)
        if type(member_value) is _WRITTEN_AS_IS.get(member_key):
            wrapper[member_key] = member_value  # what moto's string and boolean paths write
        elif member_shape is not None and member_value is not None:
            self._serialize(wrapper, member_value, member_shape, member_key)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    _serialize_type_structure.__localcloud_original__ = serialize_structure  # type: ignore[attr-defined]
    return _serialize_type_structure


def install() -> None:
    """Idempotent. Each replacement keeps moto's own function as `__localcloud_original__`."""
    _ITEM.__init__ = _replacing(pins.original(_ITEM.__init__), _item_init)
    _TABLE.all_items = _replacing(pins.original(_TABLE.all_items), _all_items)
    _TABLE.sorted_items = _replacing(pins.original(_TABLE.sorted_items), _sorted_items)
    _TABLE.query = _scoped_query(pins.original(_TABLE.query))
    _ITEM.size = _item_size_once(pins.original(_ITEM.size))
    _ITEM.__deepcopy__ = _item_deepcopy(pins.original(_ITEM.__deepcopy__))
    _RESPONSES.dynamo_to_dict = _plain_values_first(pins.original(_RESPONSES.dynamo_to_dict))
    _DYNAMO_TYPE.cast_value = _scalars_first(pins.original(_DYNAMO_TYPE.cast_value.fget))
    _DYNAMO_TYPE.size = _string_size_first(pins.original(_DYNAMO_TYPE.size))
    _JSON_PARSER._parse_structure = _one_member_parsed(pins.original(_JSON_PARSER._parse_structure))
    _JSON_SERIALIZER._serialize_type_structure = _attribute_values_by_name(
        pins.original(_JSON_SERIALIZER._serialize_type_structure)
    )


def _replacing(original: Any, replacement: Any) -> Any:
    replacement.__localcloud_original__ = original
    return replacement
