"""Saving and loading a CNNModel: a Keras 3 ``.keras`` file (safe mode) and a JSON sidecar."""

from __future__ import annotations

import datetime as _dt
import json
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import MissingFile, as_path, checked_output
from .backend import keras

if TYPE_CHECKING:  # pragma: no cover
    from .wrapper import CNNModel

__all__ = ["DEFAULT_MODEL_FILE", "Persistence", "metadata_path"]

#: File name of the embedded model inside ``cnn_widgets/assets``.
DEFAULT_MODEL_FILE = "mnist_cnn.keras"


def metadata_path(path: Path) -> Path:
    """The JSON file beside a ``.keras`` file (standardisation, class names, facts)."""
    return path.with_suffix(".json")


class Persistence:
    """:class:`~cnn_widgets.CNNModel`'s file side: ``default()``, ``load()`` and ``save()``."""

    @classmethod
    def default(cls) -> "CNNModel":
        """The embedded MNIST CNN, pretrained, loaded from package data (no network)."""
        asset = resources.files("cnn_widgets") / "assets" / DEFAULT_MODEL_FILE
        with resources.as_file(asset) as path:
            return cls.load(path)


    @classmethod
    def load(cls, path: str | os.PathLike[str], *, jit_compile: bool = False) -> "CNNModel":
        """Load a model saved by :meth:`save` (Keras 3 ``.keras`` file, safe mode on).

        The metadata file beside it (same name, ``.json``) gives the standardisation
        and class names; without it the model takes pixels as they are.

        Raises:
            FileNotFoundError: No such file (a :class:`~cnn_widgets.checks.MissingFile`, also a ValueError).
            ValueError: Not a ``.keras`` file, or a corrupt or truncated one.
        """
        path = as_path(path, "path")
        if path.suffix != ".keras":
            raise ValueError(f"{path}: only Keras 3 '.keras' files are accepted (got {path.suffix!r})")
        if not path.is_file():
            raise MissingFile(f"no model file at {path}" + (" (it is a folder)" if path.is_dir() else ""))
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a valid .keras file (a .keras file is a zip archive); "
                             "it may be truncated or corrupt")
        try:
            net = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many kinds for damaged archives
            raise ValueError(f"could not load the Keras model in {path}: {error}") from error
        meta: dict[str, Any] = {}
        meta_path = metadata_path(path)
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"metadata file {meta_path} is not valid JSON: {error}") from error
            if not isinstance(meta, dict):
                raise ValueError(f"metadata file {meta_path} must hold a JSON object")
        standardization = meta.get("standardization", {})
        if not isinstance(standardization, dict):
            raise ValueError(f"metadata file {meta_path}: 'standardization' must be an object with "
                             f"'mean' and 'std'; got {type(standardization).__name__}")
        try:
            return cls(
                net,
                mean=standardization.get("mean", 0.0),
                std=standardization.get("std", 1.0),
                class_names=meta.get("class_names"),
                metadata=meta,
                jit_compile=jit_compile,
            )
        except (TypeError, ValueError) as error:
            if not meta:
                raise
            raise ValueError(f"metadata file {meta_path}: {error}") from error


    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the network (Keras 3 ``.keras``) and its metadata (``.json`` beside it).

        The optimizer state is not saved; the file holds architecture and weights.

        Returns:
            The path of the ``.keras`` file.

        Raises:
            TypeError: ``path`` is not a path.
            ValueError: ``path`` does not end in ``.keras``, is a folder or lies under a
                file; the metadata holds values JSON cannot store.
        """
        path = checked_output(path, (".keras",), "the model file")
        meta = dict(self.metadata)
        meta.update(
            {
                "format": 1,
                "class_names": self.class_names,
                "standardization": {"mean": self.mean.tolist(), "std": self.std.tolist()},
                "keras_version": keras.__version__,
                "saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
        )
        try:
            text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"the metadata must hold only JSON values (str, finite numbers, bool, None, lists, "
                f"dicts): {error}"
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fresh copy from the config: architecture and weights, no compile state.
        clean = type(self.keras_model).from_config(self.keras_model.get_config())
        clean.set_weights(self.keras_model.get_weights())
        clean.save(path)
        metadata_path(path).write_text(text, encoding="utf-8")
        return path

