"""A models project: the registry of sources, the seeds and every rendered model."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.registry import Entity, load_project_registry
from transform.errors import GraphError, ModelError, TransformError
from transform.graph import order_without_cycles
from transform.render import Model, Renderer
from transform.seeds import seed_files

MODEL_DIRS = ("staging", "flows")
PROJECT_FILE = "project.toml"


@dataclass(frozen=True)
class Project:
    models_dir: Path
    entities: Mapping[tuple[str, str], Entity]
    models: Mapping[str, Model]
    order: tuple[str, ...]
    errors: Mapping[str, TransformError]  # models that failed to render, by name
    variables: Mapping[str, Any] = field(default_factory=dict)
    seed_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def seeds_dir(self) -> Path:
        return self.models_dir / "seeds"

    def entities_to_extract(self) -> list[Entity]:
        """What the models read, plus every flow's target (the diff compares against it)."""
        wanted = {s for m in self.models.values() for s in m.sources}
        for model in self.targets():
            target = model.config["target"]
            key = (target.get("system"), target.get("entity"))
            if key not in self.entities:
                raise GraphError(f"{model.path}: target {key[0]}.{key[1]} is not declared in sources.toml")
            wanted.add(key)
        return [e for k, e in self.entities.items() if k in wanted]

    def model_needs(self) -> dict[str, set[tuple[str, str]]]:
        """Per model: the entities it reads through source(), its refs' and its target (for ``extract --select``)."""
        def needs(name: str, seen: set[str]) -> set[tuple[str, str]]:
            model = self.models[name]
            target = model.config.get("target")
            found = set(model.sources) | ({(target.get("system"), target.get("entity"))} if isinstance(target, dict) else set())
            for parent in model.refs - seen:
                if parent in self.models:
                    found |= needs(parent, seen | {parent})
            return found

        return {name: needs(name, {name}) for name in self.models}

    def targets(self) -> list[Model]:
        """Flow models (those whose config names a target), in build order."""
        return [self.models[n] for n in self.order if "target" in self.models[n].config]


def load_project(models_dir: Path, variables: Mapping[str, Any]) -> Project:
    """Render every model. A model that fails is kept in ``errors``; the rest still load.

    ``variables`` (the profile's, e.g. ``fno_company``) override ``project.toml``'s ``[vars]``.
    """
    settings = read_project_file(models_dir)
    variables = {**settings.get("vars", {}), **variables}
    entities = load_project_registry(models_dir)
    paths, duplicates = model_paths(models_dir)
    renderer = Renderer(
        models_dir,
        model_names=set(paths),
        sources=set(entities),
        seeds=set(seed_files(models_dir / "seeds")),
        variables=variables,
    )
    models: dict[str, Model] = {}
    errors: dict[str, TransformError] = dict(duplicates)
    for name, path in paths.items():
        if name in errors:
            continue
        try:
            models[name] = renderer.render(path)
        except TransformError as exc:
            errors[name] = exc
    order, cycles = order_without_cycles(models)
    for name, exc in cycles.items():
        errors[name] = exc
        del models[name]
    seed_types = {name: dict(spec.get("columns", {})) for name, spec in settings.get("seeds", {}).items()}
    return Project(models_dir, entities, models, tuple(order), errors, variables, seed_types)


def read_project_file(models_dir: Path) -> dict[str, Any]:
    """``models/project.toml`` (optional): ``[vars]`` and ``[seeds.<name>.columns]`` types."""
    path = models_dir / PROJECT_FILE
    if not path.is_file():
        return {}
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: {exc}") from exc
    unknown = sorted(set(settings) - {"vars", "seeds"})
    if unknown:
        raise ModelError(f"{path}: unknown table(s) {', '.join(unknown)} (known: vars, seeds)")
    for name, spec in settings.get("seeds", {}).items():
        columns = spec.get("columns") if isinstance(spec, dict) else None
        if not isinstance(columns, dict) or not all(isinstance(t, str) for t in columns.values()):
            raise ModelError(f"{path}: [seeds.{name}] needs a columns table of DuckDB types")
    return settings


def model_paths(models_dir: Path) -> tuple[dict[str, Path], dict[str, GraphError]]:
    """Every ``*.sql`` under the model folders, by name; two files with one name are an error for that name."""
    paths: dict[str, Path] = {}
    duplicates: dict[str, GraphError] = {}
    for folder in MODEL_DIRS:
        for path in sorted((models_dir / folder).rglob("*.sql")):
            if path.stem in paths:
                duplicates[path.stem] = GraphError(f"{path}: a model named {path.stem!r} already exists at {paths[path.stem]}")
                continue
            paths[path.stem] = path
    return paths, duplicates
