"""The catalogue entries of `dldoctor ckpt`'s checks: what each checks, why, what users see, the fix.

Each finding kind of diagnosis.py is one check id (`KINDS`); `dldoctor explain ckpt.stale-checkpoint`
prints one.
"""

from dldoctor.verdict.catalogue import CheckDoc

# diagnosis.py's finding kinds -> check ids.
KINDS = {
    "unsafe": "ckpt.unsafe-to-load", "safety-note": "ckpt.unsafe-to-load", "empty": "ckpt.no-parameters",
    "wrapper": "ckpt.wrapped-state-dict", "note": "ckpt.file-note", "mixed-dir": "ckpt.other-models-in-dir",
    "stale-checkpoint": "ckpt.stale-checkpoint", "another-architecture": "ckpt.another-architecture",
    "rename": "ckpt.renamed-scope", "renamed-layer": "ckpt.renamed-layers", "fine-tuning": "ckpt.fine-tuning-head",
    "added-layer": "ckpt.added-layers", "removed-layer": "ckpt.removed-layers", "width": "ckpt.width-changed",
    "class-count": "ckpt.class-count-changed", "input-size": "ckpt.input-size-changed",
    "input-channels": "ckpt.input-channels-changed", "missing": "ckpt.missing-entries",
    "unexpected": "ckpt.unexpected-entries", "shape": "ckpt.shape-mismatch", "dtype": "ckpt.dtype-mismatch",
    "ignored": "ckpt.ignored-entries",
}
MISMATCH_FIX = "`dldoctor ckpt CHECKPOINT --model file.py:build_model` names the entries; the fix it prints maps, skips or rebuilds them."

CHECKS = (
    CheckDoc(
        "ckpt.unsafe-to-load", "loading the file would run code",
        "Reads the file's pickles (and archives, .npy object arrays, Keras configs) without unpickling and checks every "
        "global they import against torch's weights-only allow-list. Fails when loading would run code: a payload "
        "(os.system, eval, subprocess), or a whole pickled model whose classes must be trusted; ok otherwise, with a "
        "note on what was allowed.",
        "torch.load without weights_only, pickle.load and joblib.load run whatever the file imports: a downloaded "
        "checkpoint can execute code on your machine.",
        "_pickle.UnpicklingError: Weights only load failed. ... WeightsUnpickler error: Unsupported global: "
        "GLOBAL __main__.Net was not an allowed global by default.",
        "Do not load a payload at all. For a whole pickled model you trust, "
        "`torch.serialization.add_safe_globals([...])` (printed with the classes), or save a state_dict / .safetensors "
        "file instead.",
    ),
    CheckDoc(
        "ckpt.no-parameters", "the checkpoint holds no parameters",
        "Warns when a readable, safe checkpoint holds no model parameters.",
        "Restoring from it restores nothing: the model keeps its initial weights.",
        "", "Check that the right file was saved (the state_dict, not an empty dict or the optimizer alone).",
    ),
    CheckDoc(
        "ckpt.wrapped-state-dict", "the weights sit under a key",
        "Recognises a wrapper dict (a training loop's `{'model': ..., 'optimizer': ..., 'epoch': ...}`, a Lightning "
        "checkpoint) and names the key the weights are under. A note in an inventory; a failure when comparing with a "
        "torch model, because `load_state_dict(torch.load(path))` then fails.",
        "load_state_dict of the whole dict finds none of the model's keys.",
        "RuntimeError: Error(s) in loading state_dict for Net: Missing key(s) in state_dict: \"conv1.weight\", ... "
        "Unexpected key(s) in state_dict: \"model\", \"optimizer\", \"epoch\".",
        "Load the entry: `torch.load(path, map_location='cpu', weights_only=True)['model']`.",
    ),
    CheckDoc(
        "ckpt.file-note", "what reading the file showed",
        "Notes from reading the file: its layout, entries that are not tensors, what could and could not be read.",
        "They explain the inventory; none is a problem by itself.",
    ),
    CheckDoc(
        "ckpt.other-models-in-dir", "the train dir holds other models' checkpoints",
        "Notes checkpoint families in the same train dir that belong to other models.",
        "A `checkpoint` state file or a glob can pick the wrong family.",
    ),
    CheckDoc(
        "ckpt.stale-checkpoint", "the train dir selects a stale checkpoint",
        "Fails when the checkpoint the train dir selects (its `checkpoint` state file, else the newest) does not match "
        "the model while another checkpoint family in the same dir matches it exactly.",
        "A restore from the dir loads the old model's file and fails on its first missing key.",
        "NotFoundError: Key InceptionV4/Conv2d_1a_3x3/BatchNorm/beta not found in checkpoint",
        "Load the matching file by name (printed), or point the state file at it.",
    ),
    CheckDoc(
        "ckpt.another-architecture", "the checkpoint is of another model",
        "Fails when the checkpoint's scopes and the model's differ and no rename explains them (few parameters match).",
        "No key mapping makes one architecture's weights load into another.",
        "NotFoundError: Key InceptionV4/... not found in checkpoint\n"
        "RuntimeError: Error(s) in loading state_dict: Missing key(s) ... Unexpected key(s) ...",
        "Use the checkpoint of this architecture, or build the architecture the checkpoint was trained with.",
    ),
    CheckDoc(
        "ckpt.renamed-scope", "a renamed scope or prefix",
        "Fails when every entry matches after one rename of a scope or prefix: `module.` from DataParallel/DDP, "
        "`_orig_mod.` from torch.compile, `model.` from Lightning, an outer scope added or dropped.",
        "The load fails on every key although the weights are all there.",
        "RuntimeError: Error(s) in loading state_dict for ResNet: Missing key(s) in state_dict: \"conv1.weight\", ... "
        "Unexpected key(s) in state_dict: \"module.conv1.weight\", ...",
        "Strip or add the prefix when loading (the code is printed), or save `model.module.state_dict()`.",
    ),
    CheckDoc(
        "ckpt.renamed-layers", "renamed layers",
        "Fails when layers hold the same entries and shapes under other names: a rename, not a new layer.",
        "The renamed layers would be trained from scratch although their weights are in the file.",
        "RuntimeError: Error(s) in loading state_dict: Missing key(s) ... Unexpected key(s) ...",
        "Map the keys when loading (the code is printed).",
    ),
    CheckDoc(
        "ckpt.fine-tuning-head", "only the head differs (fine-tuning)",
        "Fails when everything matches except a few head scopes (a new classifier): restore all but the head and "
        "train it from scratch. A TF1 Saver that only meets extra entries is a note: it ignores them.",
        "A full restore fails on the head; restoring nothing throws the pretrained body away.",
        "NotFoundError: Key InceptionV4/Logits_flowers/weights not found in checkpoint",
        "Restore all variables but the head (the Saver var_list / strict=False code is printed).",
    ),
    CheckDoc(
        "ckpt.added-layers", "layers added to the model",
        "Fails when everything matches except layers the model has and the checkpoint does not.",
        "A strict load fails on their missing keys.",
        "RuntimeError: Error(s) in loading state_dict: Missing key(s) in state_dict: \"layer3.0.weight\", ...",
        "Restore all the rest and train the new layers from scratch (the code is printed).",
    ),
    CheckDoc(
        "ckpt.removed-layers", "layers removed from the model",
        "Fails when everything matches except layers the checkpoint has and the model does not.",
        "A strict load fails on their unexpected keys.",
        "RuntimeError: Error(s) in loading state_dict: Unexpected key(s) in state_dict: \"aux.weight\", ...",
        "Skip those entries when loading (the code is printed).",
    ),
    CheckDoc(
        "ckpt.width-changed", "the model is built at another width",
        "Fails when many layers' shapes differ by one factor: a configuration change (width, channels, hidden size).",
        "No mapping loads weights of another width; with TF1 resource variables the restore may even succeed with "
        "wrong shapes.",
        "RuntimeError: size mismatch for conv1.weight: copying a param with shape torch.Size([64, 3, 7, 7]) from "
        "checkpoint, the shape in current model is torch.Size([32, 3, 7, 7]).",
        "Build the model with the configuration the checkpoint was trained with.",
    ),
    CheckDoc(
        "ckpt.class-count-changed", "the head has another number of classes",
        "Fails when the only shape mismatch is the head's class dimension.",
        "The classifier cannot be loaded; the rest can.",
        "RuntimeError: size mismatch for fc.weight: copying a param with shape torch.Size([1000, 512]) from checkpoint, "
        "the shape in current model is torch.Size([10, 512]).",
        "Restore all but the head and train it for the new classes (the code is printed).",
    ),
    CheckDoc(
        "ckpt.input-size-changed", "the model expects another input size",
        "Fails when the shape mismatches follow the input size (position embeddings, a flattened first dense layer).",
        "The weights tied to the input size cannot be loaded as they are.",
        "RuntimeError: size mismatch for pos_embed: copying a param with shape torch.Size([1, 197, 768]) ...",
        "Use the input size the checkpoint was trained at, or interpolate the position embeddings.",
    ),
    CheckDoc(
        "ckpt.input-channels-changed", "the model expects another number of input channels",
        "Fails when the first convolution's input channels differ (grayscale vs RGB).",
        "The first layer cannot be loaded as it is.",
        "RuntimeError: size mismatch for conv1.weight: ... torch.Size([64, 3, 7, 7]) ... torch.Size([64, 1, 7, 7]).",
        "Feed the channels the checkpoint was trained with, or adapt the first layer's weights (sum over channels).",
    ),
    CheckDoc(
        "ckpt.missing-entries", "model entries missing from the checkpoint",
        "Fails for model entries the checkpoint lacks that no rename or head change explains, grouped by scope.",
        "TF1 Saver.restore and strict load_state_dict fail; a TF2 restore leaves them at their initial values silently.",
        "NotFoundError: Key ... not found in checkpoint\nRuntimeError: Error(s) in loading state_dict: Missing key(s) ...",
        MISMATCH_FIX,
    ),
    CheckDoc(
        "ckpt.unexpected-entries", "checkpoint entries the model does not have",
        "Checkpoint entries the model lacks, grouped by scope: a failure where the load refuses them (strict "
        "load_state_dict, Keras), a warning for a TF2 object restore (ignored silently), a note for a TF1 Saver.",
        "Weights the model should have used may sit under names it never reads.",
        "RuntimeError: Error(s) in loading state_dict: Unexpected key(s) in state_dict: ...",
        MISMATCH_FIX,
    ),
    CheckDoc(
        "ckpt.shape-mismatch", "entries of other shapes",
        "Fails for entries whose shapes differ between checkpoint and model and that no width, class-count or input "
        "change explains.",
        "The load fails on them (or, with TF1 resource variables, restores wrong shapes without a word).",
        "RuntimeError: size mismatch for ...: copying a param with shape ... from checkpoint, the shape in current model is ...",
        MISMATCH_FIX,
    ),
    CheckDoc(
        "ckpt.dtype-mismatch", "entries of other dtypes",
        "Fails for dtype changes that lose information (load_state_dict casts them silently) or that the restore "
        "refuses; a note for lossless widening (float16 into float32).",
        "A silent cast to a narrower dtype changes the model's numbers.",
        "InvalidArgumentError: tensor_name = ...; expected dtype float does not equal original dtype double",
        "Build the model in the checkpoint's dtype, or cast on purpose after loading.",
    ),
    CheckDoc(
        "ckpt.ignored-entries", "optimizer and counter entries not restored",
        "Notes optimizer slots and step counters in the checkpoint the model does not use.",
        "Bookkeeping, not weights: no evidence for or against another model.",
    ),
    CheckDoc(
        "ckpt.scan-incomplete", "a path could not be scanned whole",
        "`ckpt scan`: fails for a path that does not exist, cannot be read, or holds a container the scanner cannot "
        "read to its end (too deep, too large when inflated, corrupt).",
        "A file that was not read whole may hide the global that runs code.",
        "", "Scan a complete copy of the file, or do not load it.",
    ),
    CheckDoc(
        "ckpt.loads-cleanly", "the checkpoint loads into the model",
        "With a model (--model, --meta, --against): ok when every model entry is found with a matching shape and "
        "dtype and nothing else fails.",
        "The one answer that needs no other check: the restore will succeed as it is.",
    ),
)
