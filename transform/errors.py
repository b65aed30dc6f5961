"""Errors of the transform stage; each message names the file (and line) at fault.

    TransformError
    ├── ModelError    a model cannot be rendered or parsed (Jinja, unknown ref/source, SQL syntax)
    ├── GraphError    the models do not form a DAG, or two models share a name
    ├── SeedError     a value-map CSV is malformed
    ├── BuildError    one or more models failed to materialise or failed their checks
    └── FixtureError  a golden fixture case (models/tests/<model>/<case>/) is malformed
"""


class TransformError(Exception):
    """Root of the transform stage's errors."""


class ModelError(TransformError):
    pass


class GraphError(TransformError):
    pass


class SeedError(TransformError):
    pass


class BuildError(TransformError):
    pass


class FixtureError(TransformError):
    pass
