"""Byte units as people and tools write them: `200MB` and `20kB` are decimal (docker, dive),
`1.5GiB` and `512Mi` binary. Keys are lower-cased unit names."""

BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "ki": 1024,
    "mib": 1024**2,
    "mi": 1024**2,
    "gib": 1024**3,
    "gi": 1024**3,
    "tib": 1024**4,
    "ti": 1024**4,
}
