"""`dldoctor server` end to end: a real LSP client drives the server over stdio.

Every test starts `python -m dldoctor.server` (what `dldoctor server` runs), initializes
it on a temporary workspace and talks to it as an editor does: open, change, save and
close documents and notebooks, ask for code actions and apply their edits to its own
copy of the text (UTF-16 positions), then check what the server publishes next.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from server_client import (
    REPO, apply, change, config, diagnostics_for, edits_of, initialize, open_file, replace_all, utf16,
)

CRASHING_SERVER = [sys.executable, str(Path(__file__).with_name("server_crashing_rule.py"))]

# The im2txt case of the casebook, reduced: a JPEG read in text mode and handed to a decoder.
BUILDER = '''\
import tensorflow as tf


def load_image(filename, decoder):
    with open(filename + ".jpg") as f:
        encoded_image = f.read()
    return decoder.decode_jpeg(encoded_image)
'''


@pytest_lsp.fixture(config=config())
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=config(CRASHING_SERVER))
async def crashing(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


def project(tmp_path: Path, pyproject: str | None = None) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    # Settings stop here, whatever lies above the temporary directory.
    (root / "pyproject.toml").write_text(pyproject or "[tool.dldoctor]\n", encoding="utf-8")
    return root


async def opened(client: LanguageClient, path: Path, text: str) -> tuple[str, types.PublishDiagnosticsParams]:
    before = len(client.published)
    uri = open_file(client, path, text)
    return uri, await diagnostics_for(client, uri, before)


async def actions(client: LanguageClient, uri: str, diagnostic_range: types.Range, only=None) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=diagnostic_range,
        context=types.CodeActionContext(diagnostics=[], only=only),
    ))
    return list(found or [])


@pytest.mark.asyncio
async def test_dl101_diagnostic_quick_fix_and_clean_after_the_fix(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    result = await initialize(client, root)
    assert result.server_info.name == "dldoctor"
    path = root / "build_data.py"
    uri, published = await opened(client, path, BUILDER)

    (diagnostic,) = published.diagnostics
    assert diagnostic.code == "DL101" and diagnostic.source == "dldoctor"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "UnicodeDecodeError" in diagnostic.message and "'rb'" in diagnostic.message
    # `open(filename + ".jpg")` on line 5 (0-based 4), from its first character to the `)`.
    line = BUILDER.splitlines()[4]
    assert diagnostic.range == types.Range(
        start=types.Position(line=4, character=line.index("open")),
        end=types.Position(line=4, character=line.index(" as f")),
    )
    page = diagnostic.code_description.href
    assert page.startswith("file://") and page.endswith("/docs/rules/DL101.md")
    assert (REPO / "docs" / "rules" / "DL101.md").as_uri() == page

    found = await actions(client, uri, diagnostic.range)
    fix = next(action for action in found if "open with 'rb'" in action.title)
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred and "(unsafe)" not in fix.title
    assert fix.diagnostics[0].code == "DL101"
    (edit_uri, edits), = edits_of(fix).items()
    assert edit_uri == uri and fix.edit.document_changes[0].text_document.version == 1
    fixed = apply(BUILDER, edits)
    assert 'open(filename + ".jpg", "rb")' in fixed

    before = len(client.published)
    change(client, uri, 2, edits)
    after = await diagnostics_for(client, uri, before)
    assert list(after.diagnostics) == [] and after.version == 2


@pytest.mark.asyncio
async def test_columns_are_utf16_after_chinese_text_and_an_emoji(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    prefix = 'name = "猫の写真 🐱"; raw = '
    text = f'{prefix}open("/data/猫.jpg").read()  # 读取图片\n'
    uri, published = await opened(client, root / "cats.py", text)
    (diagnostic,) = published.diagnostics
    # The emoji is two UTF-16 code units: one code point more than Python counts.
    assert diagnostic.range.start == types.Position(line=0, character=utf16(prefix))
    assert diagnostic.range.end == types.Position(line=0, character=utf16(prefix + 'open("/data/猫.jpg")'))
    assert utf16(prefix) == len(prefix) + 1

    (fix,) = [a for a in await actions(client, uri, diagnostic.range) if "'rb'" in a.title]
    fixed = apply(text, edits_of(fix)[uri])
    assert fixed == f'{prefix}open("/data/猫.jpg", "rb").read()  # 读取图片\n'


@pytest.mark.asyncio
async def test_a_client_that_counts_code_points_gets_code_points(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    result = await initialize(client, root, encodings=["utf-32"])
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf32
    prefix = 'tag = "🐱"; raw = '
    _, published = await opened(client, root / "cats.py", f'{prefix}open("cat.jpg").read()\n')
    assert published.diagnostics[0].range.start.character == len(prefix)


@pytest.mark.asyncio
async def test_noqa_action_silences_the_finding(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    uri, published = await opened(client, root / "build_data.py", BUILDER)
    (diagnostic,) = published.diagnostics
    found = await actions(client, uri, diagnostic.range)
    (noqa,) = [action for action in found if "noqa" in action.title]
    assert noqa.kind == types.CodeActionKind.QuickFix and "`# noqa: DL101`" in noqa.title
    fixed = apply(BUILDER, edits_of(noqa)[uri])
    assert fixed.splitlines()[4].endswith('open(filename + ".jpg") as f:  # noqa: DL101')

    before = len(client.published)
    replace_all(client, uri, 2, fixed)
    # Silenced, and the comment is used (no DL100 unused-noqa).
    assert (await diagnostics_for(client, uri, before)).diagnostics == ()


@pytest.mark.asyncio
async def test_fix_all_applies_the_safe_fixes_and_offers_unsafe_ones_labelled(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    text = '''\
import torch
import tensorflow.compat.v1 as tf

config = tf.ConfigProto(log_device_placement=True)
state = torch.load("checkpoints/last.pt")
with open("weights.npy") as handle:
    weights = handle.read()
'''
    uri, published = await opened(client, root / "resume.py", text)
    codes = sorted(d.code for d in published.diagnostics)
    assert "DL101" in codes and "DL201" in codes and "DL501" in codes

    load = next(d for d in published.diagnostics if d.code == "DL501")
    unsafe = [a for a in await actions(client, uri, load.range) if a.title.startswith("dldoctor (DL501)") and "noqa" not in a.title]
    assert unsafe and all(a.title.endswith("(unsafe)") and not a.is_preferred for a in unsafe)

    (fix_all,) = await actions(client, uri, load.range, only=[types.CodeActionKind.SourceFixAll])
    assert fix_all.kind == "source.fixAll.dldoctor" and "2 safe fixes" in fix_all.title
    fixed = apply(text, edits_of(fix_all)[uri])
    assert "log_device_placement=False" in fixed or "log_device_placement" not in fixed
    assert 'open("weights.npy", "rb")' in fixed
    assert 'torch.load("checkpoints/last.pt")' in fixed  # unsafe: left for the user to choose
    # Only the lines that changed are replaced: the imports stay untouched for the editor.
    (edit,) = edits_of(fix_all)[uri]
    assert edit.range.start.line >= 3

    before = len(client.published)
    replace_all(client, uri, 2, fixed)
    remaining = (await diagnostics_for(client, uri, before)).diagnostics
    assert [d.code for d in remaining] == ["DL501"]
    assert await actions(client, uri, remaining[0].range, only=["source.fixAll.dldoctor"]) == []


@pytest.mark.asyncio
async def test_project_configuration_is_honoured_per_file(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    quiet = root / "legacy"
    quiet.mkdir()
    (quiet / "pyproject.toml").write_text('[tool.dldoctor]\nignore = ["DL101"]\n', encoding="utf-8")
    await initialize(client, root)

    _, inside = await opened(client, quiet / "build_data.py", BUILDER)
    assert inside.diagnostics == ()
    _, outside = await opened(client, root / "build_data.py", BUILDER)
    assert [d.code for d in outside.diagnostics] == ["DL101"]


@pytest.mark.asyncio
async def test_force_exclude_keeps_excluded_files_quiet(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path, '[tool.dldoctor]\nexclude = ["vendor"]\nforce-exclude = true\n')
    (root / "vendor").mkdir()
    await initialize(client, root)
    _, vendored = await opened(client, root / "vendor" / "build_data.py", BUILDER)
    assert vendored.diagnostics == ()
    _, own = await opened(client, root / "build_data.py", BUILDER)
    assert [d.code for d in own.diagnostics] == ["DL101"]


@pytest.mark.asyncio
async def test_an_edited_configuration_file_relints_open_documents(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    uri, published = await opened(client, root / "build_data.py", BUILDER)
    assert [d.code for d in published.diagnostics] == ["DL101"]

    (root / "pyproject.toml").write_text('[tool.dldoctor]\nignore = ["DL101"]\n', encoding="utf-8")
    before = len(client.published)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(root / "pyproject.toml").as_uri(), type=types.FileChangeType.Changed),
    ]))
    assert (await diagnostics_for(client, uri, before)).diagnostics == ()


@pytest.mark.asyncio
async def test_target_versions_come_from_the_files_pins(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    old, new = root / "old", root / "new"
    for folder, pin in ((old, "torch==2.4.1"), (new, "torch==2.6.0")):
        folder.mkdir()
        (folder / "requirements.txt").write_text(pin + "\n", encoding="utf-8")
    await initialize(client, root)
    # Without weights_only, torch < 2.6 unpickles whatever the file holds: DL502 there only.
    text = 'import torch\nstate = torch.load("model.pt", map_location="cpu")\n'
    _, before_26 = await opened(client, old / "load.py", text)
    _, since_26 = await opened(client, new / "load.py", text)
    assert "DL502" in [d.code for d in before_26.diagnostics]
    assert "DL502" not in [d.code for d in since_26.diagnostics]


@pytest.mark.asyncio
async def test_a_document_that_does_not_parse_gets_dl000_and_the_session_goes_on(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    broken = 'data = open("cat.jpg").read()\nif data\n    print(len(data))\n'
    uri, published = await opened(client, root / "broken.py", broken)
    (diagnostic,) = published.diagnostics
    assert diagnostic.code == "DL000" and diagnostic.severity == types.DiagnosticSeverity.Error
    assert "SyntaxError" in diagnostic.message and diagnostic.range.start.line == 1
    assert diagnostic.code_description.href.endswith("/docs/rules/DL000.md")
    assert [a for a in await actions(client, uri, diagnostic.range) if "noqa" not in a.title] == []

    before = len(client.published)
    replace_all(client, uri, 2, broken.replace("if data\n", "if data:\n"))
    assert [d.code for d in (await diagnostics_for(client, uri, before)).diagnostics] == ["DL101"]


@pytest.mark.asyncio
async def test_changes_are_debounced_and_only_the_newest_is_published(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root, debounce=0.3)
    uri, published = await opened(client, root / "build_data.py", BUILDER)  # opening lints at once
    assert [d.code for d in published.diagnostics] == ["DL101"]

    before = len(client.published)
    typed = BUILDER
    for version, piece in enumerate(["x", "y", "z"], start=2):  # three keystrokes, faster than the debounce
        typed += piece
        replace_all(client, uri, version, typed)
        await asyncio.sleep(0.02)
    final = await diagnostics_for(client, uri, before)
    assert final.version == 4 and [d.code for d in final.diagnostics] == ["DL101"]
    await asyncio.sleep(0.5)
    assert [p for p in client.published[before:] if p.uri == uri] == [final]


@pytest.mark.asyncio
async def test_save_and_close(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root, debounce=30)  # a change alone would wait half a minute
    uri, _ = await opened(client, root / "build_data.py", BUILDER)
    fixed = BUILDER.replace('".jpg")', '".jpg", "rb")')
    replace_all(client, uri, 2, fixed)
    before = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert (await diagnostics_for(client, uri, before)).diagnostics == ()

    replace_all(client, uri, 3, BUILDER)
    before = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [d.code for d in (await diagnostics_for(client, uri, before)).diagnostics] == ["DL101"]
    before = len(client.published)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert (await diagnostics_for(client, uri, before)).diagnostics == ()


@pytest.mark.asyncio
async def test_an_unsaved_buffer_and_other_languages(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path, '[tool.dldoctor]\nextend-select = ["DL205"]\n')
    await initialize(client, root)
    before = len(client.published)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri="untitled:Untitled-1", language_id="python", version=1,
        text="import tensorflow.compat.v1 as tf\nopts = tf.GPUOptions(per_process_gpu_memory_fraction=0.99)\n",
    )))
    # Linted with the workspace root's settings: DL205 is off by default, selected there.
    assert [d.code for d in (await diagnostics_for(client, "untitled:Untitled-1", before)).diagnostics] == ["DL205"]

    before = len(client.published)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=(root / "notes.md").as_uri(), language_id="markdown", version=1, text='open("a.jpg").read()\n',
    )))
    uri, _ = await opened(client, root / "after.py", BUILDER)
    assert [p.uri for p in client.published[before:]] == [uri]  # nothing for the Markdown file


@pytest.mark.asyncio
async def test_hover_shows_the_rules_documentation(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    uri, published = await opened(client, root / "build_data.py", BUILDER)
    (diagnostic,) = published.diagnostics
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start,
    ))
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("# DL101 binary-read-in-text-mode")
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0),
    ))
    assert nothing is None


# --- notebooks ------------------------------------------------------------------------------------


def cell(kind: types.NotebookCellKind, uri: str) -> types.NotebookCell:
    return types.NotebookCell(kind=kind, document=uri)


def cell_item(uri: str, text: str, language: str = "python", version: int = 1) -> types.TextDocumentItem:
    return types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)


@pytest.mark.asyncio
async def test_notebook_cells_are_one_module_with_diagnostics_per_cell(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    notebook = root / "explore.ipynb"
    book_uri = notebook.as_uri()
    uris = [f"vscode-notebook-cell:{notebook.as_posix()}#cell{index}" for index in range(3)]
    sources = [
        "import tensorflow.compat.v1 as tf\n%matplotlib inline\n",
        "# Reading the images\nThe JPEGs are read with `gfile`.",
        "for name in names:\n    raw = tf.gfile.FastGFile(name + '.jpg', 'r').read()\n",  # `tf` from the first cell
    ]
    before = len(client.published)
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=book_uri, notebook_type="jupyter-notebook", version=1,
            cells=[cell(types.NotebookCellKind.Code, uris[0]), cell(types.NotebookCellKind.Markup, uris[1]),
                   cell(types.NotebookCellKind.Code, uris[2])],
        ),
        cell_text_documents=[cell_item(uris[0], sources[0]), cell_item(uris[1], sources[1], "markdown"),
                             cell_item(uris[2], sources[2])],
    ))
    third = await diagnostics_for(client, uris[2], before)
    first = await diagnostics_for(client, uris[0], before)
    assert first.diagnostics == ()
    (diagnostic,) = third.diagnostics
    assert diagnostic.code == "DL101"
    assert diagnostic.range.start == types.Position(line=1, character=sources[2].splitlines()[1].index("tf.gfile"))

    found = await actions(client, uris[2], diagnostic.range)
    fix = next(a for a in found if "'rb'" in a.title)
    (edit_uri, edits), = edits_of(fix).items()
    assert edit_uri == uris[2]
    fixed = apply(sources[2], edits)
    assert "FastGFile(name + '.jpg', 'rb')" in fixed or "FastGFile(name + '.jpg', \"rb\")" in fixed
    (noqa,) = [a for a in found if "noqa" in a.title]
    assert apply(sources[2], edits_of(noqa)[uris[2]]).splitlines()[1].endswith("# noqa: DL101")

    (fix_all,) = await actions(client, uris[0], types.Range(start=types.Position(line=0, character=0),
                                                            end=types.Position(line=0, character=0)),
                               only=["source.fixAll.dldoctor"])
    assert list(edits_of(fix_all)) == [uris[2]]
    assert apply(sources[2], edits_of(fix_all)[uris[2]]) == fixed

    before = len(client.published)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=book_uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=uris[2], version=2),
                changes=[types.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in edits],
            ),
        ])),
    ))
    assert (await diagnostics_for(client, uris[2], before)).diagnostics == ()

    # A new cell that needs the first cell's import, added by structure change.
    new_uri = f"vscode-notebook-cell:{notebook.as_posix()}#cell3"
    before = len(client.published)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=book_uri, version=3),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=3, delete_count=0, cells=[cell(types.NotebookCellKind.Code, new_uri)]),
                did_open=[cell_item(new_uri, "sess = tf.Session(config=tf.ConfigProto(log_device_placement=True))\n")],
            ),
        )),
    ))
    assert [d.code for d in (await diagnostics_for(client, new_uri, before)).diagnostics] == ["DL201"]

    before = len(client.published)
    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=book_uri),
        cell_text_documents=[types.TextDocumentIdentifier(uri=uri) for uri in [*uris, new_uri]],
    ))
    assert (await diagnostics_for(client, new_uri, before)).diagnostics == ()


@pytest.mark.asyncio
async def test_a_notebook_with_a_broken_cell_reports_it_there(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(client, root)
    notebook = root / "py2.ipynb"
    uris = [f"vscode-notebook-cell:{notebook.as_posix()}#c{index}" for index in range(2)]
    before = len(client.published)
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=notebook.as_uri(), notebook_type="jupyter-notebook", version=1,
            cells=[cell(types.NotebookCellKind.Code, uri) for uri in uris],
        ),
        cell_text_documents=[cell_item(uris[0], 'print "loading"\n'), cell_item(uris[1], 'raw = open("x.png").read()\n')],
    ))
    broken = await diagnostics_for(client, uris[0], before)
    good = await diagnostics_for(client, uris[1], before)
    assert [d.code for d in broken.diagnostics] == ["DL000"]
    assert [d.code for d in good.diagnostics] == ["DL101"]


# --- failures that must not end the session --------------------------------------------------------


@pytest.mark.asyncio
async def test_a_crashing_rule_is_logged_and_the_session_goes_on(crashing: LanguageClient, tmp_path: Path):
    root = project(tmp_path)
    await initialize(crashing, root)
    uri, published = await opened(crashing, root / "build_data.py", BUILDER)
    assert published.diagnostics == ()
    errors = [m for m in crashing.log_messages if m.type == types.MessageType.Error]
    assert errors and "internal error" in errors[0].message and "please report it" in errors[0].message
    # The next document is served as usual: the rule only crashes on files named build_data.py.
    _, other = await opened(crashing, root / "other.py", BUILDER)
    assert [d.code for d in other.diagnostics] == ["DL101"]


@pytest.mark.asyncio
async def test_a_bad_configuration_file_is_shown_not_fatal(client: LanguageClient, tmp_path: Path):
    root = project(tmp_path, '[tool.dldoctor]\nselect = ["DL9999"]\n')
    await initialize(client, root)
    uri, published = await opened(client, root / "build_data.py", BUILDER)
    assert published.diagnostics == ()
    shown = [m.message for m in client.messages]
    assert any("DL9999" in message for message in shown), shown
    assert all("\n" not in message for message in shown)


def test_without_pygls_the_command_says_what_to_install(monkeypatch, capsys):
    from dldoctor import server

    monkeypatch.setitem(sys.modules, "pygls", None)
    assert server.serve() == 2
    assert capsys.readouterr().err == f"dldoctor: error: {server.INSTALL_HINT}\n"


def test_a_message_that_is_not_json_is_one_line_on_stderr():
    import subprocess

    from server_client import SERVER

    done = subprocess.run(SERVER, input=b"Content-Length: 5\r\n\r\n{bad}", capture_output=True, timeout=60)
    assert done.returncode == 0
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith("dldoctor server: ") and "JSONDecodeError" in line
    assert b"window/showMessage" in done.stdout  # and the client is told
