"""The language server: diagnostics as the user types, quick fixes, `# noqa`, fix-all.

One process per editor session. libcst and the rules are imported once (a warm-up lint
runs as soon as the client says it is initialized), so an edit costs the lint of that
one document and nothing else: no start-up, no other file.

Linting runs on one worker thread, in order, so the event loop keeps reading the
client's messages while a document is linted (a newer change, a cancelled request,
`shutdown`). A change waits `debounce` seconds (0.2 by default, `initializationOptions`
`{"debounce": 0}` to turn it off) and a newer change of the same document cancels the
wait; a lint already running when the document changes has its result dropped, since
its version is no longer the document's. Opening and saving lint at once.

A document's rules are shared with a second process (`api.Linter(processes=2)`) where the
machine has two cores or more, so a keystroke waits for about half of them;
`initializationOptions` `{"processes": 1}` keeps everything in this one.

Settings come from the files, as on the command line: each file's nearest
`pyproject.toml` / `dldoctor.toml`, its per-file ignores and its target versions, with
one `api.Linter` per workspace folder. When the client watches files for the server,
an edited configuration file re-lints every open document with fresh settings.

The server never writes a file: fixes, `# noqa` comments and fix-all are edits the
editor applies to its buffer, each pinned to the version it was computed on. A rule
that crashes is a `window/logMessage` error, never the end of the session; a document
that does not parse is the DL000 diagnostic the command line would report.
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path, uri_scheme

import dldoctor
from dldoctor import api
from dldoctor.server import protocol

logger = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 0.2  # seconds a change waits for the next keystroke before it is linted
DEFAULT_PROCESSES = 2 if (os.cpu_count() or 1) >= 2 else 1  # processes a document's rules are shared by
CONFIG_FILES = ("pyproject.toml", "dldoctor.toml")
PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


@dataclass
class Linted:
    """A document's (or a notebook cell's) last lint: the text its findings count in, and the
    version of the document (or of its notebook) that text is."""

    version: int | None
    text: str
    findings: list[api.Finding]
    diagnostics: list[types.Diagnostic]
    lines: list[str] = field(default_factory=list)


class DoctorServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "dldoctor",
            dldoctor.__version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[types.NotebookDocumentFilterWithCells(
                    cells=[types.NotebookCellLanguage(language="python")],
                )],
                save=True,
            ),
        )
        self.debounce = DEFAULT_DEBOUNCE
        self.processes = DEFAULT_PROCESSES
        self.linted: dict[str, Linted] = {}  # by document or cell URI
        self._pending: dict[str, asyncio.Task] = {}  # by document or notebook URI
        self._linters: dict[str, api.Linter] = {}  # by workspace folder
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dldoctor-lint")
        self._shown: set[str] = set()  # configuration problems already shown to the user

    # Where a document is, and with which settings -----------------------------------------------

    def codec(self) -> protocol.Codec:
        return protocol.Codec(self.workspace.position_codec)

    def path_of(self, uri: str, suffix: str = ".py") -> str:
        """The file a document is linted as: its path, or for an unsaved buffer (`untitled:`) a
        file of that name in the workspace root, so the root's settings apply to it."""
        if uri_scheme(uri) in ("file", "", None):
            path = to_fs_path(uri)
            if path:
                return path
        name = os.path.basename(unquote(uri).rstrip("/")) or "untitled"
        if not name.endswith(suffix):
            name += suffix
        return os.path.join(self.workspace.root_path or os.getcwd(), name)

    def _roots(self) -> list[str]:
        roots = [to_fs_path(uri) for uri in self.workspace.folders]
        if self.workspace.root_path:
            roots.append(self.workspace.root_path)
        return [os.path.abspath(root) for root in roots if root]

    def linter_for(self, path: str) -> api.Linter:
        """The linter of the workspace folder holding `path` (the innermost), else of the root."""
        absolute = os.path.abspath(path)
        containing = [root for root in self._roots() if absolute == root or absolute.startswith(root.rstrip(os.sep) + os.sep)]
        root = max(containing, key=len) if containing else (self.workspace.root_path or os.getcwd())
        if root not in self._linters:
            self._linters[root] = api.Linter(root=root, incremental=True, processes=self.processes)
        return self._linters[root]

    # The worker thread ------------------------------------------------------------------------------

    async def call(self, function, *args):
        """Run `function(*args)` on the lint thread; the event loop goes on reading messages."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)

    def _guarded(self, path: str, work):
        """(result, None) or (None, why): a rule's crash or a bad configuration file is a message
        for the client's log, not an exception that would end the request or the session."""
        try:
            return work(self.linter_for(path)), None
        except api.ConfigurationError as problem:
            return None, ("config", f"dldoctor: configuration for {path}: {problem}")
        except api.InternalError as problem:
            return None, ("internal", f"dldoctor: {problem} (please report it)\n{problem.details}")
        except Exception:  # anything else is a bug too: it is logged, the session goes on
            return None, ("internal", f"dldoctor: internal error on {path} (please report it)\n{traceback.format_exc(limit=-4)}")

    def report(self, problem) -> None:
        kind, message = problem
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))
        if kind == "config" and message not in self._shown:
            self._shown.add(message)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message.splitlines()[0]))

    # Scheduling ---------------------------------------------------------------------------------------

    def schedule(self, uri: str, delay: float) -> None:
        """Lint the document (or notebook) `uri` after `delay` seconds, replacing a lint still waiting."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._pending[uri] = asyncio.get_running_loop().create_task(self._lint_later(uri, delay))

    async def _lint_later(self, uri: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            if self.workspace.get_notebook_document(notebook_uri=uri) is not None:
                await self.lint_notebook(uri)
            else:
                await self.lint_document(uri)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.report(("internal", f"dldoctor: internal error on {uri} (please report it)\n{traceback.format_exc(limit=-4)}"))
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    def cancel(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()

    # Linting ---------------------------------------------------------------------------------------

    def open_document(self, uri: str):
        return self.workspace.text_documents.get(unquote(uri))

    def is_python(self, document) -> bool:
        language = (document.language_id or "").lower()
        return language == "python" or (not language and document.uri.endswith(PYTHON_SUFFIXES))

    async def lint_document(self, uri: str, publish: bool = True) -> Linted | None:
        document = self.open_document(uri)
        if document is None or not self.is_python(document):
            return None
        text, version, path = document.source, document.version, self.path_of(uri)
        findings, problem = await self.call(self._guarded, path, lambda linter: linter.lint(text, path))
        if problem is not None:
            self.report(problem)
            findings = []
        current = self.open_document(uri)
        if current is None or current.version != version:
            return None  # changed while it was linted: the newer version's lint is on its way
        linted = self._store(uri, version, text, findings)
        if publish:
            self._publish(uri, linted)
        return linted

    def _cells(self, notebook) -> list[tuple[str, str, str, object]]:
        """(kind, text, cell URI, cell document) of each cell, in the notebook's order; a code cell
        in another language (SQL, R) is passed as markdown: it is no part of the Python module."""
        cells = []
        for cell in notebook.cells:
            document = self.open_document(cell.document)
            text = document.source if document is not None else ""
            language = (document.language_id or "python").lower() if document is not None else "python"
            kind = "code" if cell.kind == types.NotebookCellKind.Code and language == "python" else "markdown"
            cells.append((kind, text, cell.document, document))
        return cells

    async def lint_notebook(self, uri: str, publish: bool = True) -> bool:
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return False
        version, cells, path = notebook.version, self._cells(notebook), self.path_of(uri, ".ipynb")
        pairs = [(kind, text) for kind, text, _, _ in cells]
        findings, problem = await self.call(self._guarded, path, lambda linter: linter.lint_cells(pairs, path))
        if problem is not None:
            self.report(problem)
            findings = []
        current = self.workspace.get_notebook_document(notebook_uri=uri)
        if current is None or current.version != version:
            return False
        by_cell: dict[int, list[api.Finding]] = {}
        for finding in findings:
            by_cell.setdefault(finding.cell or 1, []).append(finding)
        for number, (_, text, cell_uri, _) in enumerate(cells, start=1):
            linted = self._store(cell_uri, version, text, by_cell.get(number, []))
            if publish:
                self._publish(cell_uri, linted)
        return True

    def _store(self, uri: str, version: int | None, text: str, findings: list[api.Finding]) -> Linted:
        lines, codec = protocol.split_lines(text), self.codec()
        diagnostics = [protocol.diagnostic(lines, finding, codec) for finding in findings]
        self.linted[uri] = linted = Linted(version, text, list(findings), diagnostics, lines)
        return linted

    def _publish(self, uri: str, linted: Linted) -> None:
        document = self.open_document(uri)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=linted.diagnostics, version=document.version if document is not None else None,
        ))

    def clear(self, uri: str) -> None:
        self.linted.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    async def current(self, uri: str) -> Linted | None:
        """The lint of the document or cell `uri` as it is now: the last one when nothing changed
        since, else a fresh one (a code action asked for before the debounce ran out)."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            linted = self.linted.get(uri)
            if linted is None or linted.version != notebook.version:
                self.cancel(notebook.uri)
                await self.lint_notebook(notebook.uri)
            linted, notebook = self.linted.get(uri), self.workspace.get_notebook_document(cell_uri=uri)
            return linted if linted is not None and notebook is not None and linted.version == notebook.version else None
        document = self.open_document(uri)
        if document is None:
            return None
        linted = self.linted.get(uri)
        if linted is None or linted.version != document.version:
            self.cancel(uri)
            return await self.lint_document(uri)
        return linted

    def relint_all(self) -> None:
        """Settings changed on disk: forget them and lint every open document and notebook again."""
        old, self._linters = list(self._linters.values()), {}
        self._worker.submit(_close_all, old)  # after any lint that is using them
        self._shown.clear()
        for uri in list(self.workspace.notebook_documents):
            self.schedule(uri, 0)
        for uri, document in list(self.workspace.text_documents.items()):
            if self.workspace.get_notebook_document(cell_uri=uri) is None and self.is_python(document):
                self.schedule(document.uri, 0)

    # Code actions ----------------------------------------------------------------------------------

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        linted = await self.current(uri)
        if linted is None:
            return None
        codec, only = self.codec(), params.context.only
        versions = self._versions([uri])
        actions: list[types.CodeAction] = []
        if protocol.wants(only, types.CodeActionKind.QuickFix):
            fixes, silencers = [], []
            for finding, diagnostic in zip(linted.findings, linted.diagnostics):
                if not protocol.overlaps(diagnostic.range, params.range):
                    continue
                fix = protocol.fix_action(uri, versions[uri], linted.lines, finding, codec, diagnostic)
                if fix is not None:
                    fixes.append(fix)
                silencer = protocol.noqa_action(uri, versions[uri], linted.text, linted.lines, finding, codec, diagnostic)
                if silencer is not None and silencer.title not in {action.title for action in silencers}:
                    silencers.append(silencer)
            actions += fixes + silencers
        if protocol.wants(only, protocol.FIX_ALL_KIND):
            fix_all = await self.fix_all(uri)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def _versions(self, uris) -> dict[str, int | None]:
        found = {}
        for uri in uris:
            document = self.open_document(uri)
            found[uri] = document.version if document is not None else None
        return found

    async def fix_all(self, uri: str) -> types.CodeAction | None:
        """Every safe fix of the document, or of the whole notebook the cell `uri` belongs to
        (one module: a fix may need an import another cell holds)."""
        codec = self.codec()
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            cells, path, version = self._cells(notebook), self.path_of(notebook.uri, ".ipynb"), notebook.version
            pairs = [(kind, text) for kind, text, _, _ in cells]
            outcome, problem = await self.call(self._guarded, path, lambda linter: linter.fix_cells(pairs, path))
            if problem is not None:
                self.report(problem)
                return None
            now = self.workspace.get_notebook_document(notebook_uri=notebook.uri)
            if now is None or now.version != version:
                return None  # edited meanwhile: these edits would land on other text
            sources, fixed = outcome
            changes = {
                cell_uri: protocol.whole_text_edit(text, new, codec)
                for (kind, text, cell_uri, _), new in zip(cells, sources) if kind == "code" and new != text
            }
            return protocol.fix_all_action(changes, self._versions(changes), fixed.applied)
        document = self.open_document(uri)
        if document is None or not self.is_python(document):
            return None
        text, path = document.source, self.path_of(uri)
        fixed, problem = await self.call(self._guarded, path, lambda linter: linter.fix(text, path))
        if problem is not None:
            self.report(problem)
            return None
        if self.open_document(uri) is None or self.open_document(uri).source != text:
            return None
        changes = {uri: protocol.whole_text_edit(text, fixed.text, codec)}
        return protocol.fix_all_action(changes, self._versions([uri]), fixed.applied)

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        linted = await self.current(params.text_document.uri)
        if linted is None:
            return None
        here = types.Range(start=params.position, end=params.position)
        hit = [(finding, diagnostic) for finding, diagnostic in zip(linted.findings, linted.diagnostics)
               if protocol.overlaps(diagnostic.range, here)]
        if not hit:
            return None
        markdown = await self.call(protocol.hover_markdown, [finding.code for finding, _ in hit])
        if not markdown:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown), range=hit[0][1].range)

    def warm_up(self) -> None:
        """Import libcst and every rule now, before the first document needs them, and start the
        workspace folders' linters (their helper processes warm up meanwhile)."""
        api.Linter(select=["ALL"], isolated=True).lint('data = open("warm-up.jpg").read()\n', "warm-up.py")
        for root in self._roots():
            self.linter_for(root)

    def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
        self._worker.shutdown(wait=False, cancel_futures=True)
        _close_all(list(self._linters.values()))
        self._linters = {}


def _close_all(linters: list[api.Linter]) -> None:
    for linter in linters:
        linter.close()


class _OneLine(logging.Formatter):
    """pygls logs a message it cannot read with its traceback; the editor's log of the
    server's stderr gets one line, the exception's own message at its end."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return f"dldoctor server: {message}".replace("\n", " ")


def log_to_stderr() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine())
    for name in ("pygls", __name__):
        found = logging.getLogger(name)
        found.addHandler(handler)
        found.setLevel(logging.WARNING)
        found.propagate = False


def build() -> DoctorServer:
    server = DoctorServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: DoctorServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)) and options["debounce"] >= 0:
            ls.debounce = float(options["debounce"])
        if isinstance(options, dict) and type(options.get("processes")) is int and options["processes"] >= 1:
            ls.processes = options["processes"]

    @server.feature(types.INITIALIZED)
    async def initialized(ls: DoctorServer, params: types.InitializedParams) -> None:
        watching = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watching and watching.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                    id="dldoctor-configuration", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                )]))
            except Exception as problem:  # a client that refuses: settings are then read once
                logger.info("file watching refused: %s", problem)
        await ls.call(ls.warm_up)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DoctorServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DoctorServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DoctorServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DoctorServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.cancel(params.text_document.uri)
        ls.clear(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: DoctorServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: DoctorServer, params: types.DidChangeNotebookDocumentParams) -> None:
        structure = params.change.cells.structure if params.change.cells else None
        for closed in (structure.did_close or []) if structure else []:
            ls.clear(closed.uri)
        ls.schedule(params.notebook_document.uri, ls.debounce)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: DoctorServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: DoctorServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.cancel(params.notebook_document.uri)
        for cell in params.cell_text_documents:
            ls.clear(cell.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: DoctorServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(unquote(change.uri).endswith(CONFIG_FILES) for change in params.changes):
            ls.relint_all()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, protocol.FIX_ALL_KIND]),
    )
    async def code_action(ls: DoctorServer, params: types.CodeActionParams):
        return await ls.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: DoctorServer, params: types.HoverParams):
        return await ls.hover(params)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DoctorServer, params) -> None:
        ls.close()

    return server
