"""A real LSP client for `dldoctor server`, over stdio, as an editor drives it.

pytest-lsp's client, with every `textDocument/publishDiagnostics` kept in order (its own
handler keeps only the last per URI), so a test can wait for the diagnostics that follow
the message it sent and count how many came. Edits are applied the way an editor applies
them: positions in UTF-16 code units (the encoding the client offers).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from dldoctor.server.protocol import client_converter

REPO = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, "-m", "dldoctor.server"]
TIMEOUT = 20.0  # a loaded CI machine; a passing test never waits this long


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=client_converter)
    client.published = []  # every PublishDiagnosticsParams, in arrival order

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


def config(server: list[str] = SERVER) -> ClientServerConfig:
    return ClientServerConfig(server_command=server, client_factory=make_client, server_env=None)


def capabilities(encodings: list[str] | None = None) -> types.ClientCapabilities:
    """A client that supports notebooks and code-action literals, as VS Code does."""
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(value_set=[
                        types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll,
                    ]),
                ),
            ),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities(),
        ),
        workspace=types.WorkspaceClientCapabilities(workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
    )


async def initialize(client: LanguageClient, root: Path, *, debounce: float | None = 0.0,
                     encodings: list[str] | None = None) -> types.InitializeResult:
    options = {"debounce": debounce} if debounce is not None else None
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(encodings),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options,
    ))


async def diagnostics_for(client: LanguageClient, uri: str, after: int, timeout: float = TIMEOUT) -> types.PublishDiagnosticsParams:
    """The first diagnostics published for `uri` after the `after`-th publication."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for params in client.published[after:]:
            if params.uri == uri:
                return params
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no diagnostics for {uri} within {timeout} s; got {client.published[after:]}")
        await asyncio.sleep(0.01)


def open_file(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text),
    ))
    return uri


def change(client: LanguageClient, uri: str, version: int, edits: list[types.TextEdit]) -> None:
    """Send `edits` as incremental content changes, as an editor does after applying them."""
    changes = [types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)
               for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)]
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=changes,
    ))


def replace_all(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    ))


_LINE = re.compile(r"\r\n|\r|\n")


def offset(text: str, position: types.Position) -> int:
    """The string index of an LSP position (UTF-16 code units) in `text`."""
    starts = [0] + [match.end() for match in _LINE.finditer(text)]
    if position.line >= len(starts):
        return len(text)
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    units = 0
    for index in range(start, end):
        if units >= position.character:
            return index
        units += 2 if ord(text[index]) > 0xFFFF else 1
    return end


def apply(text: str, edits) -> str:
    """`text` with LSP text edits applied (non-overlapping, as the protocol requires)."""
    spans = sorted(((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(action: types.CodeAction) -> dict[str, list[types.TextEdit]]:
    """The edits of a code action by document URI (its `documentChanges`)."""
    found: dict[str, list[types.TextEdit]] = {}
    for change_ in action.edit.document_changes or []:
        found.setdefault(change_.text_document.uri, []).extend(change_.edits)
    for uri, edits in (action.edit.changes or {}).items():
        found.setdefault(uri, []).extend(edits)
    return found


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
