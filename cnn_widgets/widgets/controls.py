"""Controls that keep their trait and the frontend in step and name what they refuse.

ipywidgets' pickers take whatever index a frontend sends; these refuse an index out of
range with a message naming the choices, and :func:`keep_in_step` puts a picker back on
its trait's value when the trait refuses a choice (and says why in the owner's status line).
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

__all__ = ["Picker", "Tabs", "Toggles", "WholeNumber", "download_link", "finite_only", "in_range", "keep_in_step"]


def keep_in_step(owner: Any, name: str, picker: widgets.Widget) -> None:
    """Two-way link of ``owner.name`` and ``picker.value`` that never lets them part.

    A value the trait refuses (its ``@validate`` raises), or no value at all (a
    Dropdown sent ``{"index": null}``), puts the picker back on the trait's value
    and says why in the owner's status line; ``traitlets.link`` would leave the
    picker showing what was refused.
    """
    def picked(change: dict[str, Any]) -> None:
        value = change["new"]
        if value == getattr(owner, name):
            return
        try:
            if value is None:
                raise traitlets.TraitError(f"no {name} chosen (an empty choice); kept {getattr(owner, name)!r}")
            setattr(owner, name, value)
        except traitlets.TraitError as error:
            picker.value = getattr(owner, name)
            say = getattr(owner, "_say", None)
            if say is not None:
                say(str(error), error=True)

    def changed(change: dict[str, Any]) -> None:
        if picker.value != change["new"]:
            picker.value = change["new"]

    picker.value = getattr(owner, name)
    picker.observe(picked, "value")
    owner.observe(changed, name)



def _checked_index(picker: widgets.widget_selection._Selection, index: Any) -> Any:
    labels = picker._options_labels
    if index is None or (isinstance(index, int) and 0 <= index < len(labels)):
        return index
    what = picker.description or "the picker"
    raise traitlets.TraitError(f"{what}: choice {index!r} is out of range; choose 0–{len(labels) - 1} "
                               f"({', '.join(labels[:12])}{', …' if len(labels) > 12 else ''})")



class Picker(widgets.Dropdown):
    """A Dropdown whose refusal of an index out of range (from a frontend out of step)
    names the choices, not just "index out of bounds"."""

    @traitlets.validate("index")
    def _validate_index(self, proposal: Any) -> Any:
        return _checked_index(self, proposal["value"])



class Toggles(widgets.ToggleButtons):
    """ToggleButtons whose refusal of an index out of range names the choices."""

    @traitlets.validate("index")
    def _validate_index(self, proposal: Any) -> Any:
        return _checked_index(self, proposal["value"])



class Tabs(widgets.Tab):
    """A Tab whose refusal of a tab index that does not exist names the tabs."""

    @traitlets.validate("selected_index")
    def _validated_index(self, proposal: Any) -> Any:
        index, count = proposal["value"], len(self.children)
        if index is None or 0 <= index < count:
            return index
        raise traitlets.TraitError(f"tab {index!r} does not exist; choose 0–{count - 1} "
                                   f"({', '.join(str(t) for t in self.titles)})")



class WholeNumber(traitlets.Int):
    """An Int trait that refuses floats (traitlets' Int turns 2.0 into 2) and booleans.

    Args:
        default_value: The default.
        info: What the error says is allowed.
    """

    def __init__(self, default_value: int = 0, *, info: str = "a whole number", **kwargs: Any) -> None:
        super().__init__(default_value, **kwargs)
        self.allowed = info

    def validate(self, obj: Any, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            self.error(obj, value, info=self.allowed)
        return super().validate(obj, int(value))



def finite_only(slider: widgets.FloatSlider, say: Any = None) -> None:
    """Put ``slider`` back on its last value when the frontend sends NaN (ipywidgets'
    FloatSlider keeps it; ±inf it clamps), and say why through ``say(text, error=True)``."""
    def check(change: dict[str, Any]) -> None:
        value = change["new"]
        if isinstance(value, (int, float)) and math.isfinite(value):
            return
        slider.value = change["old"]
        if say is not None:
            say(f"ignored {slider.description} = {value!r}: it must be a number in {slider.min:g}–{slider.max:g}",
                error=True)

    slider.observe(check, "value")



def in_range(what: str, value: Any, ok: Any, allowed: str) -> Any:
    """``value`` if it is a finite number and ``ok(value)``, else a TraitError saying
    ``"{what} must be {allowed}; got …"`` (for a setting's ``@validate``)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or not ok(float(value)):
        raise traitlets.TraitError(f"{what} must be {allowed}; got {value!r}")
    return value


def download_link(name: str, data: bytes, mime: str, note: str = "", css: str = "cnnw-download") -> str:
    """HTML of a link that saves ``data`` as ``name`` from the page itself (a data URI:
    no server, works offline and in a static export)."""
    import base64

    encoded = base64.b64encode(data).decode()
    extra = f", {note}" if note else ""
    return (f'<a download="{html.escape(name)}" href="data:{mime};base64,{encoded}" class="{html.escape(css)}">'
            f"save {html.escape(name)} ({len(data) // 1024 + 1} KB{html.escape(extra)})</a>")
