"""DL501 torch-load-map-location: realistic cases, the fix, and code that must not fire."""

from lintutil import fixes, lines, lint, messages


def test_busy_gpu0_casebook_case():
    source = '''
        import torch

        def load_pretrained(args, model):
            model_recover = torch.load(args.model_recover_path)
            model.load_state_dict(model_recover, strict=False)
    '''
    assert lint(source, "DL501") == [(5, 21, "DL501")]
    (message,) = messages(source, "DL501")
    assert "torch.load(args.model_recover_path)" in message
    assert "CUDA error: out of memory" in message and 'map_location="cpu"' in message


def test_the_seed_fix_is_clean():
    source = '''
        import torch
        model_recover = torch.load(args.model_recover_path, map_location='cuda:0')
    '''
    assert lint(source, "DL501") == []


def test_every_import_style_and_argument_form():
    cases = [
        "import torch\nstate = torch.load('best.pth')\n",
        "import torch as T\nstate = T.load(ckpt_path, weights_only=True)\n",
        "from torch import load\nstate = load(ckpt_path)\n",
        "from torch import load as tload\nstate = tload(f=ckpt_path)\n",
        "import torch\nwith open('model.pt', 'rb') as f:\n    state = torch.load(f)\n",
        "import torch\nstate = torch.load(io.BytesIO(blob))\n",
    ]
    for source in cases:
        assert len(lint(source, "DL501")) == 1, source


def test_unsafe_fix_adds_map_location_cpu():
    source = "import torch\nckpt = torch.load(args.resume, weights_only=True)\n"
    ((applicability, (replacement,), fixed),) = fixes(source, "DL501")
    assert applicability == "unsafe"
    assert replacement == 'torch.load(args.resume, weights_only=True, map_location="cpu")'
    assert lint(fixed, "DL501") == []


def test_fix_keeps_the_call_layout():
    source = '''
        import torch
        state = torch.load(
            os.path.join(args.output_dir, "pytorch_model.bin"),
        )
    '''
    ((_, (replacement,), fixed),) = fixes(source, "DL501")
    assert replacement == (
        'torch.load(\n    os.path.join(args.output_dir, "pytorch_model.bin"),\n    map_location="cpu",\n)'
    )
    assert "import torch\nstate = torch.load(\n" in fixed


def test_must_not_fire():
    sources = [
        "import torch\nstate = torch.load(path, map_location='cpu')\n",
        "import torch\nstate = torch.load(path, map_location=device)\n",
        "import torch\nstate = torch.load(path, lambda storage, loc: storage)\n",
        "import torch\nstate = torch.load(path, map_location={'cuda:1': 'cuda:0'})\n",
        "import torch\nstate = torch.load(path, **kwargs)\n",
        "import torch\nstate = torch.load(*args)\n",
        "import numpy as np\nx = np.load('a.npy')\n",
        "import pickle\nx = pickle.load(f)\n",
        "import torch\nm = torch.jit.load('model.pt')\n",
        "model.load('weights.pt')\n",
        # A project's own load.
        "from .checkpoint import load\nstate = load(path)\n",
        # A round trip through a buffer in the same function.
        "import io, torch\ndef clone(obj):\n    buf = io.BytesIO()\n    torch.save(obj, buf)\n"
        "    buf.seek(0)\n    return torch.load(buf)\n",
    ]
    for source in sources:
        assert lint(source, "DL501") == [], source


def test_a_save_in_another_function_is_no_round_trip():
    source = '''
        import torch

        def save(model, path):
            torch.save(model.state_dict(), path)

        def restore(model, path):
            model.load_state_dict(torch.load(path))
    '''
    assert lines(source, "DL501") == [8]


def test_a_round_trip_through_the_same_path_is_not_reported():
    # pytorch-tutorial's shape: save a CPU model's parameters, read them back at once.
    source = """
        import torch
        torch.save(resnet.state_dict(), 'params.ckpt')
        resnet.load_state_dict(torch.load('params.ckpt'))
        torch.save(model, os.path.join(out_dir, "model.ckpt"))
        model = torch.load(os.path.join(out_dir,"model.ckpt"))
    """
    assert lint(source, "DL501") == []
    # A notebook's training cell saves the best model; a later cell reloads it: same process.
    cells = """
        import torch
        for epoch in range(n_epochs):
            if valid_loss < best_valid_loss:
                torch.save(model.state_dict(), 'tut1-model.pt')
        model.load_state_dict(torch.load('tut1-model.pt'))
    """
    assert lint(cells, "DL501") == []


def test_loading_before_saving_the_same_path_is_still_reported():
    # PyTorch-GAN's shape: resume from a checkpoint (maybe trained on another GPU), then save.
    source = """
        import torch
        if opt.epoch != 0:
            generator.load_state_dict(torch.load("saved_models/%s/generator_%d.pth" % (opt.dataset_name, opt.epoch)))
        for epoch in range(opt.epoch, opt.n_epochs):
            torch.save(generator.state_dict(), "saved_models/%s/generator_%d.pth" % (opt.dataset_name, epoch))
    """
    assert lint(source, "DL501") == [(4, 31, "DL501")]
    # Another path, or a save in another function, is no round trip.
    assert lint("import torch\nm = Net().cuda()\ntorch.save(m, 'a.pt')\nm = torch.load('b.pt')\n", "DL501") == [(4, 5, "DL501")]


def test_a_module_that_caches_its_own_cpu_tensors_is_not_reported():
    # PyTorch-GAN's mnistm.py shape: download() saves tensors built from raw data,
    # __init__ loads them; nothing in the module touches a GPU.
    dataset = """
        import os, torch
        class MNISTM(torch.utils.data.Dataset):
            def __init__(self, root, train=True):
                self.root = root
                self.train_data, self.train_labels = torch.load(os.path.join(root, "processed", "training.pt"))
            def download(self):
                training_set = (torch.ByteTensor(images), torch.LongTensor(labels))
                with open(os.path.join(self.root, "processed", "training.pt"), "wb") as f:
                    torch.save(training_set, f)
    """
    assert lint(dataset, "DL501") == []
    # The same module once it moves data to a GPU, or once it saves a caller's model, is reported.
    on_gpu = dataset.replace("torch.ByteTensor(images)", "torch.ByteTensor(images).cuda()")
    assert lines(on_gpu, "DL501") == [6]
    helper = "import torch\ndef save(model, path):\n    torch.save(model, path)\ndef load(path):\n    return torch.load(path)\n"
    assert lines(helper, "DL501") == [5]
    through_a_name = "import torch\ndef save(net, path):\n    state = net.state_dict()\n    torch.save(state, path)\nx = torch.load(p)\n"
    assert lines(through_a_name, "DL501") == [5]


def test_a_module_that_saves_its_model_from_the_cpu_is_not_reported():
    # fast_neural_style's shape: train() moves the model to the CPU before each save;
    # stylize() reads those files back and then moves the model to its device.
    source = """
        import torch

        def train(args, device):
            transformer = TransformerNet().to(device)
            for epoch in range(args.epochs):
                fit(transformer, device)
                transformer.eval().cpu()
                torch.save(transformer.state_dict(), args.checkpoint_path)
                transformer.to(device).train()
            transformer.eval().cpu()
            torch.save(transformer.state_dict(), args.save_model_path)

        def stylize(args, device):
            style_model = TransformerNet()
            state_dict = torch.load(args.model)
            style_model.load_state_dict(state_dict)
            style_model.to(device)
    """
    assert lint(source, "DL501") == []
    # Saved while on the device (the move back comes first), the file holds GPU tensors.
    on_device = source.replace(
        "transformer.eval().cpu()\n                torch.save", "transformer.to(device)\n                torch.save"
    )
    assert lines(on_device, "DL501") == [16]
    # Every save must write host memory: one save of a GPU model is enough to report.
    mixed = source.replace(
        "torch.save(transformer.state_dict(), args.save_model_path)",
        "torch.save(transformer.state_dict(), args.save_model_path)\n"
        "            torch.save(TransformerNet().to(device).state_dict(), args.last_path)",
    )
    assert lines(mixed, "DL501") == [17]
    # `.cpu()` in the saved expression itself, and a NumPy payload, count too.
    inline = """
        import torch
        def save(net, path):
            torch.save({k: v.cpu() for k, v in net.state_dict().items()}, path)
        def load(net, path):
            net.load_state_dict(torch.load(path))
    """
    assert lint(inline, "DL501") == []
    direct = inline.replace("{k: v.cpu() for k, v in net.state_dict().items()}", "net.cpu().state_dict()")
    assert lint(direct, "DL501") == []
    as_is = inline.replace("{k: v.cpu() for k, v in net.state_dict().items()}", "net.state_dict()")
    assert lines(as_is, "DL501") == [6]
    numpy_payload = "import torch, numpy as np\ntorch.save(np.sin(x).astype('float64'), 'a.pt')\ny = torch.load(p)\ny.cuda()\n"
    assert lint(numpy_payload, "DL501") == []


def test_fsdp_state_dicts_gathered_to_cpu_are_not_reported():
    # FSDP checkpointing: a FULL_STATE_DICT gathered with offload_to_cpu=True, and the
    # optimizer state of full_optim_state_dict, which offloads to CPU.
    source = """
        import torch
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, FullStateDictConfig, StateDictType

        save_policy = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)

        def save_model_checkpoint(model, rank, cfg):
            with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, save_policy):
                cpu_state = model.state_dict()
            if rank == 0:
                torch.save(cpu_state, cfg.checkpoint_dir + "/model.pt")

        def save_optimizer_checkpoint(model, optimizer, rank, cfg):
            optim_state = FSDP.full_optim_state_dict(model, optimizer)
            if rank == 0:
                torch.save(optim_state, cfg.checkpoint_dir + "/optim.pt")

        def load_model_checkpoint(model, rank, cfg):
            if rank == 0:
                model.load_state_dict(torch.load(cfg.model_path))

        def load_optimizer_checkpoint(model, optimizer, rank, cfg):
            full_osd = torch.load(cfg.optimizer_path) if rank == 0 else None
            return FSDP.scatter_full_optim_state_dict(full_osd, model)
    """
    assert lint(source, "DL501") == []
    # Gathered without offloading, the full state dict sits on each rank's GPU.
    kept_on_gpu = source.replace("FullStateDictConfig(offload_to_cpu=True, rank0_only=True)", "FullStateDictConfig(rank0_only=True)")
    assert lines(kept_on_gpu, "DL501") == [20, 23]
    # The newer API says it with StateDictOptions(cpu_offload=True).
    newer = """
        import torch
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        def save(model, path):
            state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
            torch.save(state, path)

        def load(model, path):
            model.load_state_dict(torch.load(path))
    """
    assert lint(newer, "DL501") == []
    assert lines(newer.replace("cpu_offload=True", "cpu_offload=False"), "DL501") == [10]


def test_a_cache_read_in_one_branch_and_written_in_the_other_is_not_reported():
    # The SNLI example's word-vector cache: read if present, else built and saved.
    source = """
        import os, torch
        device = torch.device("cuda:0")
        if os.path.isfile(args.vector_cache):
            inputs.vocab.vectors = torch.load(args.vector_cache)
        else:
            inputs.vocab.load_vectors(args.word_vectors)
            torch.save(inputs.vocab.vectors, args.vector_cache)
    """
    assert lint(source, "DL501") == []
    inverted = """
        import os, torch
        device = torch.device("cuda:0")
        if not os.path.exists(cache_path):
            features = extract(model.to(device), loader)
            torch.save(features, cache_path)
        else:
            features = torch.load(cache_path)
    """
    assert lint(inverted, "DL501") == []
    # A branch on something else than the file is a resume, not a cache: the
    # checkpoint given to --resume may come from another machine.
    resume = source.replace("os.path.isfile(args.vector_cache)", "args.resume")
    assert lines(resume, "DL501") == [5]
    # Another file in the other branch is no cache of this one.
    other = source.replace("torch.save(inputs.vocab.vectors, args.vector_cache)", "torch.save(inputs.vocab.vectors, args.other)")
    assert lines(other, "DL501") == [5]


def test_a_numpy_array_read_by_a_script_without_a_gpu_is_not_reported():
    # time_sequence_prediction's shape: a sibling script saved a NumPy array with torch.save.
    source = """
        import torch
        import numpy as np

        if __name__ == "__main__":
            data = torch.load("traindata.pt")
            input = torch.from_numpy(data[3:, :-1])
            target = torch.from_numpy(data[3:, 1:])
            seq = Sequence().double()
    """
    assert lint(source, "DL501") == []
    # The same script on a GPU: the rule cannot tell what the file holds, and says so.
    assert lines(source.replace("Sequence().double()", "Sequence().double().cuda()"), "DL501") == [6]
    # A value used as a model, returned, or handed to other code is not data.
    as_model = "import torch\nnet = torch.load('net.pt')\nnet.eval()\nprint(net(x))\n"
    assert lines(as_model, "DL501") == [2]
    returned = "import torch\ndef read(path):\n    data = torch.load(path)\n    return data['arrays']\n"
    assert lines(returned, "DL501") == [3]
    handed = "import torch\nstate = torch.load('best.pth')\nrun_inference(state, images)\n"
    assert lines(handed, "DL501") == [2]
    stored = "import torch\nclass Dumper:\n    def __init__(self, path):\n        self.state = torch.load(path)\n"
    assert lines(stored, "DL501") == [4]


def test_a_metrics_dump_read_by_a_plotting_module_is_not_reported():
    # DETR's plot_utils shape: `eval.pth` holds COCOeval's NumPy arrays; the module only plots.
    source = """
        import torch
        import matplotlib.pyplot as plt

        def plot_precision_recall(files):
            fig, axs = plt.subplots(ncols=2)
            for f in files:
                data = torch.load(f)
                precision = data["precision"][0, :, :, 0, -1].mean(1)
                recall = data["params"].recThrs
                axs[0].plot(recall, precision)
            return fig, axs
    """
    assert lint(source, "DL501") == []
    # Inference code with no word of a GPU is the seed's bug: the weights come from a
    # training run on a GPU and load_state_dict is where they go.
    inference = """
        import torch

        def main(args):
            model = Generator()
            model.load_state_dict(torch.load(args.checkpoint))
            state = torch.load(args.other)
            print(state["epoch"])
    """
    assert lines(inference, "DL501") == [6, 7]
    # A value bound and never read gives no evidence either way: still reported.
    assert lines("import torch\nstate = torch.load('best.pth')\n", "DL501") == [2]
