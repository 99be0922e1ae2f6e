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
