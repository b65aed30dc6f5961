"""A models project: the registry of sources, the seeds and every rendered model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.registry import Entity, load_project_registry
from transform.errors import GraphError, TransformError
from transform.graph import build_order
from transform.render import Model, Renderer
from transform.seeds import seed_files

MODEL_DIRS = ("staging", "flows")


@dataclass(frozen=True)
class Project:
    models_dir: Path
    entities: Mapping[tuple[str, str], Entity]
    models: Mapping[str, Model]
    order: tuple[str, ...]
    errors: Mapping[str, TransformError]  # models that failed to render, by name

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

    def targets(self) -> list[Model]:
        """Flow models (those whose config names a target), in build order."""
        return [self.models[n] for n in self.order if "target" in self.models[n].config]


def load_project(models_dir: Path, variables: Mapping[str, Any]) -> Project:
    """Render every model. A model that fails is kept in ``errors``; the rest still load."""
    entities = load_project_registry(models_dir)
    paths = model_paths(models_dir)
    renderer = Renderer(
        models_dir,
        model_names=set(paths),
        sources=set(entities),
        seeds=set(seed_files(models_dir / "seeds")),
        variables=variables,
    )
    models: dict[str, Model] = {}
    errors: dict[str, TransformError] = {}
    for name, path in paths.items():
        try:
            models[name] = renderer.render(path)
        except TransformError as exc:
            errors[name] = exc
    order = build_order(models)
    return Project(models_dir, entities, models, tuple(order), errors)


def model_paths(models_dir: Path) -> dict[str, Path]:
    """Every ``*.sql`` under the model folders, by name; two files with one name are an error."""
    paths: dict[str, Path] = {}
    for folder in MODEL_DIRS:
        for path in sorted((models_dir / folder).rglob("*.sql")):
            if path.stem in paths:
                raise GraphError(f"{path}: a model named {path.stem!r} already exists at {paths[path.stem]}")
            paths[path.stem] = path
    return paths
