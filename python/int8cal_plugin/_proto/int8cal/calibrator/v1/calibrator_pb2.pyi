from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatisticsKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATISTICS_KIND_UNSPECIFIED: _ClassVar[StatisticsKind]
    STATISTICS_KIND_ABS_HISTOGRAM: _ClassVar[StatisticsKind]
    STATISTICS_KIND_SIGNED_HISTOGRAM: _ClassVar[StatisticsKind]
    STATISTICS_KIND_MIN_MAX: _ClassVar[StatisticsKind]
    STATISTICS_KIND_RAW: _ClassVar[StatisticsKind]
STATISTICS_KIND_UNSPECIFIED: StatisticsKind
STATISTICS_KIND_ABS_HISTOGRAM: StatisticsKind
STATISTICS_KIND_SIGNED_HISTOGRAM: StatisticsKind
STATISTICS_KIND_MIN_MAX: StatisticsKind
STATISTICS_KIND_RAW: StatisticsKind

class InfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Option(_message.Message):
    __slots__ = ("name", "default_value", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    default_value: str
    description: str
    def __init__(self, name: _Optional[str] = ..., default_value: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class InfoResponse(_message.Message):
    __slots__ = ("name", "version", "algorithm", "description", "statistics", "bins", "options")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    algorithm: str
    description: str
    statistics: StatisticsKind
    bins: int
    options: _containers.RepeatedCompositeFieldContainer[Option]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., algorithm: _Optional[str] = ..., description: _Optional[str] = ..., statistics: _Optional[_Union[StatisticsKind, str]] = ..., bins: _Optional[int] = ..., options: _Optional[_Iterable[_Union[Option, _Mapping]]] = ...) -> None: ...

class ConfigureRequest(_message.Message):
    __slots__ = ("options",)
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    options: _containers.ScalarMap[str, str]
    def __init__(self, options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ConfigureResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TensorHeader(_message.Message):
    __slots__ = ("name", "count", "min", "max", "histogram_range", "histogram_bins", "raw_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_RANGE_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_BINS_FIELD_NUMBER: _ClassVar[int]
    RAW_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    min: float
    max: float
    histogram_range: float
    histogram_bins: int
    raw_count: int
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., histogram_range: _Optional[float] = ..., histogram_bins: _Optional[int] = ..., raw_count: _Optional[int] = ...) -> None: ...

class CalibrateChunk(_message.Message):
    __slots__ = ("header", "bins", "values")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    header: TensorHeader
    bins: BinCounts
    values: RawValues
    def __init__(self, header: _Optional[_Union[TensorHeader, _Mapping]] = ..., bins: _Optional[_Union[BinCounts, _Mapping]] = ..., values: _Optional[_Union[RawValues, _Mapping]] = ...) -> None: ...

class BinCounts(_message.Message):
    __slots__ = ("counts",)
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, counts: _Optional[_Iterable[int]] = ...) -> None: ...

class RawValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class TensorRange(_message.Message):
    __slots__ = ("name", "amax", "curve", "chosen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMAX_FIELD_NUMBER: _ClassVar[int]
    CURVE_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    amax: float
    curve: _containers.RepeatedScalarFieldContainer[float]
    chosen: int
    def __init__(self, name: _Optional[str] = ..., amax: _Optional[float] = ..., curve: _Optional[_Iterable[float]] = ..., chosen: _Optional[int] = ...) -> None: ...

class CalibrateResponse(_message.Message):
    __slots__ = ("ranges",)
    RANGES_FIELD_NUMBER: _ClassVar[int]
    ranges: _containers.RepeatedCompositeFieldContainer[TensorRange]
    def __init__(self, ranges: _Optional[_Iterable[_Union[TensorRange, _Mapping]]] = ...) -> None: ...
