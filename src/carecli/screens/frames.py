"""Draw the first change after a quiet spell at once, not on the next tick of the frame clock.

Textual draws a screen's changes on a timer that ticks at most ``MAX_FPS`` times a second (60: every
16.7 ms), on a fixed grid: a change made between two ticks waits for the next one, 8 ms on average.
That wait is most of what separates a key from its echo. :class:`InstantFrames` draws the frame as
soon as the app is idle when no frame was drawn in the last period, and leaves later changes to the
timer as before: a key typed after a pause is drawn at once, and a burst of changes (a key repeat, a
page of results coming in while the agent types) is still drawn at most ``MAX_FPS`` times a second.

It also renders nothing while the app batches its updates (``App.batch_update``: the app's start, a
screen being pushed or popped). Textual renders such a frame in full and then throws it away, since a
batch shows nothing (the first screen's whole render, at every launch); the screen asks for a layout
instead, which draws once the batch has ended.

It works through three of Textual's Screen internals, ``_on_idle``, ``_on_timer_update`` and
``_compositor_refresh``, and the flags they read; ``tests/tui/test_frames.py`` checks the frame is
drawn before the timer's tick, and that no frame is rendered during a batch.
"""

from __future__ import annotations

import time

from textual import events
from textual.screen import UPDATE_PERIOD

_now = time.monotonic


class InstantFrames:
    """Mixed into a Screen (before ``Screen`` in its bases)."""

    _last_frame = 0.0

    def _needs_frame(self) -> bool:
        return bool(self._layout_required or self._scroll_required  # type: ignore[attr-defined]
                    or self._repaint_required or self._dirty_widgets)  # type: ignore[attr-defined]

    def _on_timer_update(self) -> None:
        if self._needs_frame():
            self._last_frame = _now()
        super()._on_timer_update()  # type: ignore[misc]

    def _compositor_refresh(self) -> None:
        screen = self  # a Screen
        if screen.app._batch_count and screen is screen.app.screen:  # type: ignore[attr-defined]
            # A layout once the batch has ended, which draws what changed (all of it, for a new screen);
            # not a repaint, which would draw the whole screen again after that layout.
            screen.refresh(layout=True, repaint=False)
            return
        super()._compositor_refresh()  # type: ignore[misc]

    async def _on_idle(self, event: events.Idle) -> None:
        # Dispatched before Screen._on_idle (earlier in the MRO); prevent_default() stops that one.
        screen = self  # a Screen
        if (screen.is_current and not screen.app._batch_count  # type: ignore[attr-defined]
                and not screen._recompose_required and self._needs_frame()  # type: ignore[attr-defined]
                and _now() - self._last_frame >= UPDATE_PERIOD):
            event.prevent_default()
            self._on_timer_update()  # the frame, now; the timer stays paused until the next change
            await screen._invoke_and_clear_callbacks()  # type: ignore[attr-defined]
