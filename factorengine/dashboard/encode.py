"""The dashboard's values as JSON a browser parses: dataclasses as objects, arrays as lists, NaN and ±inf as null."""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_json(value: Any) -> bytes:
    """`value` (dataclasses, mappings, sequences, numpy arrays and numbers, text) as UTF-8 JSON."""
    return json.dumps(plain(value), allow_nan=False, separators=(",", ":")).encode()


def plain(value: Any) -> Any:
    """`value` as JSON's types: a dataclass by its fields, a mapping with text keys, NaN and ±inf as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
