"""The Textual app: wires settings, backend, role and theme, and turns backend errors into messages.

No business rules live here: the screens ask the backend (through the contract) and the engine
(for previews). Every backend call runs in a thread worker via :meth:`CareApp.call_backend`, so the
UI never waits on the store or the network.
"""

from __future__ import annotations

import gc
import logging
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from .backend.errors import BackendError, Offline
from .config import Settings
from .screens.commands import CareCommands

if TYPE_CHECKING:  # the contract module imports the whole engine: the first screen does not need it
    from textual.screen import Screen

    from .backend.contract import Backend, RecoveredCommit, ReferenceData
    from .backend.search_types import SearchPage

log = logging.getLogger("carecli")


class CareApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "carecli"
    COMMANDS = App.COMMANDS | {CareCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="Keys and what they do on this screen"),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave carecli", priority=True),
        # priority: checked before the screen, so it works inside dialogs too (as Quit does)
        Binding("ctrl+t", "cycle_theme", "Theme", id="theme", show=False, priority=True,
                tooltip="Switch to the next theme"),
    ]

    def __init__(self, backend: Backend, settings: Settings | None = None, *,
                 warnings: Iterable[str] = (), clock: Callable[[], datetime] | None = None,
                 extra_themes: Iterable[Any] = (), first_page: Future | None = None,
                 freeze_start: bool = False, files_check: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self._first_page = first_page  # the most recent orders, read while the app started (tui.run)
        self._freeze_start = freeze_start
        # Reads the operator's files after the first results (tui.files_check); a message it returns
        # ends the app, which then returns 2 and leaves the message in ``stopped_because``.
        self._files_check = files_check
        self.stopped_because = ""
        self._started = False  # the first screen has had its first results (started())
        self.backend = backend
        self.settings = settings or Settings()
        self.read_only = bool(backend.read_only or self.settings.effective_read_only)
        self.actor = self.settings.actor
        self.role = "supervisor" if backend.role == "supervisor" else self.settings.role
        self.clock = clock or (lambda: datetime.now(UTC))
        self._warnings = list(warnings)
        self._start_theme(list(extra_themes))
        self._reference: ReferenceData | None = None
        self.offline = False
        self.offline_detail = ""
        self._probe_timer: Any = None

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:  # float-ok: Textual's seconds
        """A toast. Its text often carries data (a refusal names the product, a server's message, a
        settings warning names a file), so it goes through the safe boundary and is never markup:
        a title like ``[@click=app.quit]`` is shown as typed, not parsed (nor a MarkupError)."""
        from .widgets.safe import clean

        super().notify(clean(message, one_line=False), title=clean(title), severity=severity, timeout=timeout,
                       markup=False)

    # -- start -------------------------------------------------------------------------------------
    def _start_theme(self, extra_themes: list[Any]) -> None:
        """Register the themes and put the one of the settings in force before the style sheets are
        first read. Setting ``App.theme`` once the app runs re-reads the style sheets of the app and
        of every widget (Textual's ``refresh_css``): done at start, the first screen's style sheets
        were read twice. So the theme is set here as Textual's own ``_watch_theme`` sets it, less that
        re-reading: its variables, the app's theme and dark/light classes, the ANSI colour mapping."""
        from .themes import builtin_themes

        for theme in [*builtin_themes(), *extra_themes]:
            self.register_theme(theme)
        name = self.settings.theme
        if name not in self.available_themes:
            self._warnings.append(f"settings: key theme: no theme called {name!r}; "
                                  f"using carecli-dark (themes: {', '.join(sorted(self.available_themes))})")
            name = "carecli-dark"
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())
        dark = self.current_theme.dark
        self.set_class(True, f"-theme-{name}", update=False)
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    def get_default_screen(self) -> Screen:
        """The search screen is the first screen and the bottom of the stack (not pushed over an
        empty default screen that would be built, styled and laid out for nothing)."""
        from .screens.search import SearchScreen

        return SearchScreen()

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self._set_sub_title()
        for w in self._warnings:
            self.notify(w, title="Settings", severity="warning", timeout=12)
        self.run_worker(self._start_check, thread=True, group="connection", exit_on_error=False)
        # Should the first results never come (a query that hangs), the start's work still runs.
        self.set_timer(self.STARTED_AT_THE_LATEST_S, self.started)

    def started(self) -> None:
        """Called by the first screen once its first results (or their error) are on it: after the
        frame that draws them, the work the start left for later runs (once). Not earlier: a thread
        importing the engine would take the interpreter from the first frame."""
        if not self._started:
            self._started = True
            self.call_after_refresh(self._after_start)

    def _after_start(self) -> None:
        if self._freeze_start:
            # What the start built (modules, classes, the first screen) lives as long as the app: out
            # of the garbage collector's view, so that a full collection while the agent types scans
            # only what came later (otherwise a pause of tens of milliseconds, at any keystroke). Only
            # for the process's one app (tui.run): objects frozen are never collected as cycles. The
            # collector was paused for the start (tui.run; a full collection of the start's objects
            # took ~30 ms just before the first frame) and runs again from here. The few cycles the
            # start left (about 3,000 objects) stay with the frozen ones.
            gc.freeze()
            gc.enable()
        if self._files_check is not None:
            # Not at once: the frame just drawn is still being written to the terminal by Textual's
            # writer thread, which needs the interpreter between its writes, and importing pydantic
            # in a thread holds it for ~200 ms. A moment later the frame is out.
            self.set_timer(self.FILES_CHECK_DELAY_S, lambda: self.run_worker(
                self._check_files, thread=True, group="files", exit_on_error=False))

    STARTED_AT_THE_LATEST_S = 5.0  # float-ok: seconds after mount

    FILES_CHECK_DELAY_S = 0.25  # float-ok: seconds after the first results

    def _check_files(self) -> None:
        """The operator's policy and templates, read a moment after the first results (pydantic and the
        policy's models come with them, which the first screen does without): a file that cannot be
        used ends the app with its message, as it would have before the screen opened."""
        problem = self._files_check() if self._files_check is not None else None
        if problem:
            self.stopped_because = problem
            self.call_from_thread(self.exit, None, 2)
        elif self._freeze_start:  # what the files brought in (pydantic, the engine) lives as long
            self.call_from_thread(gc.freeze)

    FIRST_PAGE_WAIT_S = 0.15  # float-ok: seconds the first screen waits for a page still being read
    """How long the first screen's mount waits for the page read during the start. From an embedded
    store the page is read before the app runs (tui.run), so there is nothing to wait for. From a
    server it is read in a thread while the main thread imports and builds the screens; a reply that
    has not come by then is waited for this long, and a page that takes longer (a slow server) is
    asked for again once the screen is drawn."""

    def take_first_page(self) -> SearchPage | None:
        """The first page of results read during the start, once it has come (once; waiting up to
        FIRST_PAGE_WAIT_S); None otherwise, and the search screen asks for it as for any other page (an
        error is shown then, not here)."""
        future, self._first_page = self._first_page, None
        if future is None:
            return None
        try:
            return future.result(timeout=self.FIRST_PAGE_WAIT_S)
        except Exception:  # noqa: BLE001 - not come in time, or failed: the screen asks again
            return None

    def _set_sub_title(self) -> None:
        self.sub_title = (f"{self.actor} · {self.role}" + (" · READ-ONLY" if self.read_only else "")
                          + (" · OFFLINE" if self.offline else ""))

    # -- connection: offline badge, probing, commits recovered from the journal -----------------------
    def _start_check(self) -> None:
        """On start: is the backend there, and did an earlier commit never get its answer?"""
        conn = self.backend.ping()
        if not conn.online:
            self.call_from_thread(self.set_offline, True, conn.detail)
            return
        self._recover()

    def _recover(self) -> None:
        try:
            outcomes = self.backend.recover()
        except BackendError as e:  # the journal could not be read or sent: say so, keep going
            self.call_from_thread(self.show_error, e)
            return
        except Exception:  # noqa: BLE001 - never a traceback on the agent's screen
            log.exception("recovering journalled commits failed")
            return
        for outcome in outcomes:
            self.call_from_thread(self.show_recovered, outcome)

    def show_recovered(self, outcome: RecoveredCommit) -> None:
        severity = {"applied": "information", "refused": "warning", "pending": "warning"}[outcome.outcome]
        self.notify(outcome.message, title="Change sent again after a lost answer", severity=severity,
                    timeout=30)

    def set_offline(self, offline: bool, detail: str = "") -> None:
        """Show (or clear) the OFFLINE badge; while offline, ask the backend every few seconds."""
        if offline == self.offline:
            return
        self.offline, self.offline_detail = offline, detail
        self.set_class(offline, "-offline")  # shows the OFFLINE badge of every screen (app.tcss)
        self._set_sub_title()
        if offline:
            self.notify(f"{detail or 'The server does not answer'}. What is on screen stays readable but may "
                        "be out of date; changes cannot be committed until the server answers again.",
                        title="Offline", severity="warning", timeout=12)
            if self._probe_timer is None:
                self._probe_timer = self.set_interval(5, self._probe)
        else:
            if self._probe_timer is not None:
                self._probe_timer.stop()
                self._probe_timer = None
            self.notify("The server answers again.", title="Back online", timeout=5)
            self.run_worker(self._recover, thread=True, group="connection", exit_on_error=False)

    def _probe(self) -> None:
        def probe() -> None:
            conn = self.backend.ping()
            if conn.online:
                self.call_from_thread(self.set_offline, False)

        self.run_worker(probe, thread=True, group="probe", exclusive=True, exit_on_error=False)

    # -- reference data (catalog, stores, policy), read once ------------------------------------------
    def reference(self) -> ReferenceData:
        """Reference data; read from the backend on first use (call from a worker)."""
        if self._reference is None:
            self._reference = self.backend.reference()
        return self._reference

    # -- backend calls ------------------------------------------------------------------------------
    def call_backend(self, fn: Callable[[], Any], on_ok: Callable[[Any], None], *, group: str,
                     on_error: Callable[[BackendError], None] | None = None) -> None:
        """Run ``fn`` in a thread worker; hand its result to ``on_ok`` on the UI thread.

        A newer call in the same group cancels the older one, whose result is then dropped. Backend
        errors go to ``on_error`` (or a titled message); anything else is logged and shown plainly.
        """
        def job() -> None:
            worker = get_current_worker()
            try:
                result = fn()
            except BackendError as e:
                if isinstance(e, Offline):
                    self.call_from_thread(self.set_offline, True, e.message)
                if not worker.is_cancelled:
                    self.call_from_thread(on_error or self.show_error, e)
                return
            except Exception as e:  # noqa: BLE001 - never a traceback on the agent's screen
                log.exception("backend call failed")
                if not worker.is_cancelled:
                    self.call_from_thread(self.show_unexpected, e)
                return
            if self.offline:
                self.call_from_thread(self.set_offline, False)
            if not worker.is_cancelled:
                self.call_from_thread(on_ok, result)

        # Owned by the screen in front: its workers are cancelled when it closes.
        self.screen.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)

    def show_error(self, error: BackendError) -> None:
        self.notify(error.message, title=error.title, severity="error", timeout=10)

    def show_unexpected(self, error: BaseException) -> None:
        self.notify(f"{type(error).__name__}: {error}. Nothing was changed; try again, and tell your "
                    "team lead if it keeps happening.", title="Unexpected problem", severity="error",
                    timeout=12)

    # -- actions -------------------------------------------------------------------------------------
    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_cycle_theme(self) -> None:
        names = ["carecli-dark", "carecli-light", "carecli-contrast", "ansi-dark", "ansi-light"]
        names = [n for n in names if n in self.available_themes]
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def copy_ref(self, ref: str) -> None:
        """Copy an order ref with OSC 52, which reaches the agent's own clipboard over SSH."""
        self.copy_to_clipboard(ref)
        self.notify(f"Copied {ref}", timeout=2)
