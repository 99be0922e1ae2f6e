"""The comparison and the diagnosis are pure functions: tested on facts, no frameworks."""

from __future__ import annotations

import pytest

from dldoctor.probes.ckpt import compare as cmp
from dldoctor.probes.ckpt.diagnosis import diagnose
from dldoctor.probes.ckpt.facts import Entry, Safety, TrainDir, Family, VariableSet
from dldoctor.probes.ckpt.inventory import inventory
from dldoctor.probes.ckpt.traindir import parse_state_file, split_step

RESNETISH = {
    "conv1.weight": ((64, 3, 7, 7), "float32"),
    "bn1.weight": ((64,), "float32"),
    "bn1.bias": ((64,), "float32"),
    "layer1.0.conv1.weight": ((64, 64, 3, 3), "float32"),
    "layer1.0.bn1.weight": ((64,), "float32"),
    "layer2.0.conv1.weight": ((128, 64, 3, 3), "float32"),
    "layer2.0.bn1.weight": ((128,), "float32"),
    "fc.weight": ((1000, 512), "float32"),
    "fc.bias": ((1000,), "float32"),
}


def torch_set(names: dict, prefix: str = "", label="ckpt") -> VariableSet:
    found = VariableSet(label=label, format="torch", framework="torch", separator=".", loads_as="torch-strict")
    for name, (shape, dtype) in names.items():
        found.entries[prefix + name] = Entry(prefix + name, shape, dtype)
    return found


@pytest.mark.parametrize("prefix, origin", [("module.", "DataParallel"), ("_orig_mod.", "torch.compile"), ("model.", "LightningModule")])
def test_wrapper_prefixes(prefix, origin):
    result = diagnose(torch_set(RESNETISH, prefix), torch_set(RESNETISH, label="model"))
    assert result.exit_code == 1
    assert result.findings[0].kind == "rename" and origin in result.findings[0].message
    assert result.findings[0].fix == f"state_dict = {{k.removeprefix({prefix!r}): v for k, v in state_dict.items()}}"
    assert len(result.comparison.matched) == len(RESNETISH)


def test_prefix_missing_from_the_checkpoint():
    result = diagnose(torch_set(RESNETISH), torch_set(RESNETISH, "module."))
    assert result.findings[0].fix == "state_dict = {'module.' + k: v for k, v in state_dict.items()}"
    scope = {"state_dict": {"a.b": 1}}
    exec(result.findings[0].fix, scope)
    assert scope["state_dict"] == {"module.a.b": 1}


def test_replaced_outer_scope_code_runs():
    result = diagnose(torch_set(RESNETISH, "encoder."), torch_set(RESNETISH, "backbone."))
    fix = result.findings[0].fix
    scope = {"state_dict": {"encoder.fc.bias": 1, "other": 2}}
    exec(fix, scope)
    assert scope["state_dict"] == {"backbone.fc.bias": 1, "other": 2}


def test_clean_and_extra_entries():
    assert diagnose(torch_set(RESNETISH), torch_set(RESNETISH)).exit_code == 0
    extra = dict(RESNETISH, **{"aux.weight": ((10, 512), "float32")})
    result = diagnose(torch_set(extra), torch_set(RESNETISH))
    assert result.exit_code == 1 and result.comparison.unexpected == ["aux.weight"]


def test_class_count_and_fine_tuning():
    model = dict(RESNETISH, **{"fc.weight": ((10, 512), "float32"), "fc.bias": ((10,), "float32")})
    result = diagnose(torch_set(RESNETISH), torch_set(model))
    kinds = [f.kind for f in result.findings]
    assert kinds == ["fine-tuning", "class-count"]
    assert "from 1000 to 10" in result.findings[1].message
    assert "strict=False" in result.findings[0].fix and "('fc.',)" in result.findings[0].fix


def test_stem_change_is_not_fine_tuning():
    model = dict(RESNETISH, **{"conv1.weight": ((64, 1, 7, 7), "float32")})
    result = diagnose(torch_set(RESNETISH), torch_set(model))
    assert [f.kind for f in result.findings] == ["input-channels"]
    assert "3 input channels in the checkpoint and 1 in the model" in result.findings[0].message


def test_position_embedding_size():
    names = {"pos_embed": ((1, 197, 768), "float32"), "blocks.0.w": ((768, 768), "float32"), "blocks.1.w": ((768, 768), "float32")}
    model = dict(names, pos_embed=((1, 577, 768), "float32"))
    result = diagnose(torch_set(names), torch_set(model))
    assert any(f.kind == "input-size" and "image size or sequence length" in f.message for f in result.findings)


def tf_set(names, label="ckpt", loads_as="tf1-saver"):
    found = VariableSet(label=label, format="tf1", framework="tensorflow", separator="/", loads_as=loads_as)
    for name in names:
        found.entries[name] = Entry(name, (3,), "float32")
    return found


V3 = [f"InceptionV3/{layer}/{v}" for layer in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Mixed_5b", "Mixed_6a") for v in ("weights", "BatchNorm/beta")]
V4 = [f"InceptionV4/{layer}/{v}" for layer in ("Conv2d_1a_3x3", "Mixed_3a", "Mixed_4a", "Mixed_5a", "Mixed_6a") for v in ("weights", "BatchNorm/beta")]


def test_another_architecture_names_the_selected_file():
    ckpt = tf_set(V3)
    ckpt.train_dir = TrainDir(
        "train", "train/checkpoint", "train/model.ckpt-0", 0, 1_500_000_000.0, "state file",
        [Family("model.ckpt", "tensorflow", ["train/model.ckpt-0"], [0], 1.0, ["InceptionV3"]),
         Family("inception_v4.ckpt", "tensorflow", ["train/inception_v4.ckpt"], [None], 1.0, ["InceptionV4"])],
    )
    result = diagnose(ckpt, tf_set(V4, "model"))
    assert result.exit_code == 1
    finding = result.findings[0]
    assert finding.kind == "another-architecture"
    assert finding.message.startswith("Stale checkpoint of another model in the train dir: the `checkpoint` state file in train selects model.ckpt-0 (step 0, ")
    assert "holds InceptionV3, while the model is InceptionV4" in finding.message
    assert finding.fix.startswith("load inception_v4.ckpt (it holds InceptionV4): restore from the prefix 'train/inception_v4.ckpt'")


def test_same_structure_other_scope_is_a_rename_not_another_model():
    renamed = [n.replace("InceptionV3", "MyNet") for n in V3]
    result = diagnose(tf_set(V3), tf_set(renamed, "model"))
    assert result.findings[0].kind == "rename"
    assert result.findings[0].fix == "saver = tf.compat.v1.train.Saver({v.op.name.replace('MyNet/', 'InceptionV3/', 1): v for v in tf.compat.v1.global_variables()})"


def test_tf1_extra_checkpoint_entries_are_ignored_by_saver():
    result = diagnose(tf_set(V4 + ["InceptionV4/Extra/weights"]), tf_set(V4, "model"))
    assert result.exit_code == 0 and "1 extra checkpoint entry ignored" in result.headline


def test_tf2_missing_variables_are_a_silent_misload():
    result = diagnose(tf_set(V4[2:], loads_as="tf2-object"), tf_set(V4, "model", loads_as="tf2-object"))
    assert result.exit_code == 1
    assert any("initial values without an error" in f.message for f in result.findings)


def test_unsafe_checkpoint_is_not_compared():
    ckpt = torch_set({})
    ckpt.safety = Safety(False, ["posix.system"], "it calls posix.system when unpickled")
    result = diagnose(ckpt, torch_set(RESNETISH))
    assert result.exit_code == 1 and result.findings[0].kind == "unsafe" and result.comparison is None


def test_inventory_groups_and_totals():
    found = torch_set(RESNETISH)
    found.entries["bn1.num_batches_tracked"] = Entry("bn1.num_batches_tracked", (), "int64")
    inv = inventory(found)
    assert [s.name for s in inv.scopes] == ["conv1", "bn1", "layer1", "layer2", "fc"]
    bn1 = inv.scopes[1]
    assert bn1.count == 3 and bn1.params == 129 and bn1.dtypes == {"float32": 2, "int64": 1}
    assert inv.params == sum(s.params for s in inv.scopes) and inv.bytes == (inv.params - 1) * 4 + 8


def test_inventory_one_model_scope_groups_one_level_down():
    inv = inventory(tf_set(V3))
    assert [s.name for s in inv.scopes] == ["InceptionV3/Conv2d_1a_3x3", "InceptionV3/Conv2d_2a_3x3", "InceptionV3/Mixed_5b", "InceptionV3/Mixed_6a"]


def test_state_file_parsing_and_steps():
    state = parse_state_file('model_checkpoint_path: "E:\\\\train\\\\model.ckpt-0"\nall_model_checkpoint_paths: "a-1"\nall_model_checkpoint_paths: "a-2"\n')
    assert state == {"model_checkpoint_path": "E:\\train\\model.ckpt-0", "all_model_checkpoint_paths": ["a-1", "a-2"]}
    assert split_step("model.ckpt-100") == ("model.ckpt", 100)
    assert split_step("inception_v3.ckpt") == ("inception_v3.ckpt", None)


def test_best_rename_refuses_a_weak_match():
    assert cmp.best_rename(tf_set(V3).entries, tf_set(V4).entries, "/") is None


def test_a_shared_global_step_does_not_turn_another_model_into_a_partial_match():
    """Bookkeeping (a global_step both graphs have) is no evidence that the checkpoint is this model's."""
    ckpt, model = tf_set(V3[:4]), tf_set(V4[:4], "model")
    for found in (ckpt, model):
        found.entries["global_step"] = Entry("global_step", (), "int64", "meta")
    result = diagnose(ckpt, model)
    assert result.findings[0].kind == "another-architecture"
    assert "(0 of 4 model parameters are in it)" in result.findings[0].message


def test_the_headline_is_an_error_before_a_warning():
    """An extra TF2 entry (a warning, listed first) never heads the verdict over a real shape error."""
    ckpt = tf_set(V4 + ["InceptionV4/Extra/weights"], loads_as="tf2-object")
    ckpt.entries["InceptionV4/Logits/weights"] = Entry("InceptionV4/Logits/weights", (3, 3), "float32")
    model = tf_set(V4, "model", loads_as="tf2-object")
    model.entries["InceptionV4/Logits/weights"] = Entry("InceptionV4/Logits/weights", (2, 2), "float32")
    result = diagnose(ckpt, model)
    assert [f.severity for f in result.findings] == ["warning", "error"]
    assert result.headline == result.findings[1].message and "shape mismatch" in result.headline
