"""What every widget shares: being a view over a session, and one status line."""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ..session import Session

__all__ = ["Picker", "SessionView", "StatusLine", "Tabs", "Toggles", "WholeNumber", "close_tree", "finite_only",
           "keep_in_step"]


class StatusLine(widgets.HTML):
    """One line of status text with a fixed height: long texts are cut with an ellipsis
    (the whole text shows on hover), so a message never reflows the layout.

    Text is escaped here, once; callers pass plain text.
    """

    def __init__(self, css_class: str = "cnnw-status", **kwargs: Any) -> None:
        super().__init__("&nbsp;", layout=widgets.Layout(height="22px", overflow="hidden", width="100%"), **kwargs)
        self.add_class("cnnw-status")
        if css_class != "cnnw-status":
            self.add_class(css_class)
        self.text = ""
        self.error = False

    def say(self, text: str, error: bool = False) -> None:
        """Show ``text`` (plain text), red when ``error``."""
        self.text, self.error = " ".join(str(text).split()), bool(error)
        if not self.text:
            self.value = "&nbsp;"
            return
        escaped = html.escape(self.text)
        colour = "#b00020" if error else "#555"
        self.value = (f'<div title="{escaped}" style="white-space:nowrap;overflow:hidden;'
                      f'text-overflow:ellipsis;color:{colour};font-size:90%">{escaped}</div>')


def close_tree(widget: widgets.Widget) -> None:
    """Close ``widget`` and every widget below it (containers' children)."""
    for child in getattr(widget, "children", ()):
        if isinstance(child, SessionView):
            child.close()
        else:
            close_tree(child)
    if isinstance(widget, widgets.Widget) and getattr(widget, "comm", None) is not None:
        widgets.Widget.close(widget)


class SessionView:
    """Mixin for widgets that are views over a :class:`~cnn_widgets.session.session.Session`.

    ``_attach(source)`` finds or makes the session; ``close()`` detaches every observer
    the view registered with ``session.watch(..., view=self)``, closes its children and,
    when the view made the session itself, the session too.
    """

    session: Session

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        unknown = sorted(key for key in kwargs if not self.has_trait(key))
        if unknown:  # HasTraits would only warn, and a misspelt setting would be lost
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(unknown)}")
        super().__init__(*args, **kwargs)

    def _attach(self, source: Any) -> Session:
        from ..session import LiveModel

        # A view made from a model (or nothing) owns the session it makes; one made
        # from a session or a live model shares it with the other views.
        self._own_session = not isinstance(source, (Session, LiveModel))
        self.session = Session.of(source)
        if not self._own_session:
            self.session.on_close(self.close)
        return self.session

    def _watch(self, owner: Any, handler: Any, names: Any) -> None:
        """Observe a shared object until this view (or its session) closes."""
        self.session.watch(owner, handler, names, view=self)

    def _jslink(self, source: tuple[widgets.Widget, str], target: tuple[widgets.Widget, str]) -> Any:
        """``widgets.jslink`` (linked in the browser, e.g. Play → frame slider) that closes with the view.

        A link is a widget of its own, outside the view's children: left open, it would
        name closed widgets in every later export of the notebook's widget state.
        """
        link = widgets.jslink(source, target)
        self.__dict__.setdefault("_links", []).append(link)
        return link

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return getattr(self, "_closed", False)

    def close(self) -> None:
        """Stop following the session and close this widget and its parts."""
        if self.closed or getattr(self, "session", None) is None:  # closed, or never attached
            return
        self._closed = True
        self.session.unwatch(self)
        for link in self.__dict__.get("_links", []):
            link.close()
        self._closing()
        for child in getattr(self, "children", ()):
            close_tree(child)
        widgets.Widget.close(self)  # type: ignore[arg-type]
        if self._own_session:
            self.session.close()

    def _closing(self) -> None:
        """Hook: stop what only this view runs (jobs, timers)."""


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
