"""What every widget shares: being a view over a session, and one status line.

A view attaches to a session (:meth:`SessionView._attach`), watches shared objects
through it (so closing the view or the session leaves nothing computing), says what
it does in its own status line (:meth:`SessionView._say`) and follows the session's
model: when its weights change (training), :meth:`SessionView._model_changed` runs.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..session import LiveModel, Session

__all__ = ["SessionView", "StatusLine", "close_tree"]


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
    """Mixin for widgets that are views over a :class:`~cnn_widgets.session.Session`.

    ``_attach(source)`` finds or makes the session; ``close()`` detaches every observer
    the view registered with ``_watch`` (``session.watch(..., view=self)``), closes its
    children and, when the view made the session itself, the session too.

    A view with a ``status_line`` (:class:`StatusLine`) says what it does with
    :meth:`_say`; a view with an ``active`` trait computes only while it is on screen
    and catches up when shown (:meth:`_when_active`).
    """

    session: Session

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        unknown = sorted(key for key in kwargs if not self.has_trait(key))
        if unknown:  # HasTraits would only warn, and a misspelt setting would be lost
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(unknown)}")
        super().__init__(*args, **kwargs)

    def _attach(self, source: Any) -> Session:
        # A view made from a model (or nothing) owns the session it makes; one made
        # from a session or a live model shares it with the other views.
        self._own_session = not isinstance(source, (Session, LiveModel))
        self.session = Session.of(source)
        if not self._own_session:
            self.session.on_close(self.close)
        self._stale = False
        self._watch(self.session, self._model_version_changed, "model_version")
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

    # ------------------------------------------------------------------ saying, following
    def _say(self, message: str, error: bool = False) -> None:
        """Show one line (plain text; escaped once, by the status line) in the view's status
        line and ``status`` trait; red when ``error``; an empty message clears it."""
        text = " ".join(str(message).split())
        if self.has_trait("status"):  # type: ignore[attr-defined]
            self.status = text
        line = getattr(self, "status_line", None)
        if line is not None:
            line.say(text, error)

    def _model_version_changed(self, change: dict[str, Any]) -> None:
        if self.closed:
            return
        if self.has_trait("active") and not self.active:  # type: ignore[attr-defined]
            self._stale = True  # caught up when the view is shown
            return
        self._model_changed()

    def _model_changed(self) -> None:
        """Hook: the model's weights or standardisation changed (e.g. it was trained).
        Views whose pictures come from the model itself (not from the live drawing,
        which the live model recomputes) redo or mark them here."""

    def _when_active(self) -> None:
        """Call from the view's ``active`` observer when it turns on: a model change
        missed while hidden is caught up."""
        if self._stale:
            self._stale = False
            self._model_changed()

    # ------------------------------------------------------------------ life
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
