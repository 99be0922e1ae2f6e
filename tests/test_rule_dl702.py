"""DL702 hard-coded-cuda: CUDA used outside any check in a script meant to run without a GPU too."""

from lintutil import fixes, lines, messages


def test_criterion_and_tensors_moved_to_cuda_beside_a_computed_device():
    source = '''
        import torch
        import torch.nn as nn

        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = Net().to(device)
        criterion = nn.CrossEntropyLoss().cuda()
        for images, labels in loader:
            images, labels = images.to("cuda"), labels.to(device)
            noise = torch.randn(images.size(0), 100, device="cuda:0")
    '''
    assert lines(source, "DL702") == [7, 9, 10]
    message = messages(source, "DL702")[0]
    assert "Torch not compiled with CUDA enabled" in message and "`.to(device)`" in message


def test_the_fix_moves_to_the_computed_device():
    source = '''
        import torch
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        criterion = torch.nn.MSELoss().cuda()
    '''
    ((applicability, rendered, fixed),) = fixes(source, "DL702")
    assert applicability == "unsafe" and rendered == ["torch.nn.MSELoss().to(device)"]


def test_a_helper_called_outside_any_check():
    source = '''
        import torch
        parser.add_argument("--no-cuda", action="store_true")
        args = parser.parse_args()
        args.cuda = not args.no_cuda and torch.cuda.is_available()

        def build():
            return Net().cuda()

        model = build()
    '''
    assert lines(source, "DL702") == [8]
    assert "`args.cuda`" in messages(source, "DL702")[0]


def test_must_not_fire():
    sources = [
        # Checked in every form.
        "import torch\ncuda = torch.cuda.is_available()\nif cuda:\n    generator.cuda()\n    loss.cuda()\n",
        "import torch\nuse_gpu = torch.cuda.is_available()\nx = x.cuda() if use_gpu else x\n",
        "import torch\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
        "if device.type == 'cuda':\n    model.cuda()\n",
        "import torch\nngpu = torch.cuda.device_count() if torch.cuda.is_available() else 0\nif ngpu > 0:\n"
        "    netG = netG.cuda()\n",
        "import torch\nuse_cuda = torch.cuda.is_available()\ntry:\n    model.cuda()\nexcept RuntimeError:\n    pass\n",
        # The script insists on CUDA.
        "import torch\nimport sys\nif not torch.cuda.is_available():\n    sys.exit('needs a GPU')\n"
        "device_ok = torch.cuda.is_available()\nmodel.cuda()\n",
        # No availability check at all: a GPU-only script (nothing to say it meant to support CPUs).
        "import torch\nmodel = Net().cuda()\n",
        # A helper only called under a check, a method, a helper never called here.
        "import torch\ncuda = torch.cuda.is_available()\ndef to_gpu(x):\n    return x.cuda()\nif cuda:\n    m = to_gpu(m)\n",
        "import torch\ncuda = torch.cuda.is_available()\nclass Trainer:\n    def setup(self):\n        self.model.cuda()\n",
        "import torch\ncuda = torch.cuda.is_available()\ndef to_gpu(x):\n    return x.cuda()\n",
        # A message that mentions the check is not a choice of device.
        "import torch\nmem = f'{torch.cuda.memory_reserved() / 1e9 if torch.cuda.is_available() else 0:.3g}G'\n"
        "device = torch.device('cuda', LOCAL_RANK)\n",
        # `pin_memory=` is not the device, and `torch.cuda.*` attributes are not calls of `.cuda()`.
        "import torch\nuse_cuda = torch.cuda.is_available()\nTensor = torch.cuda.FloatTensor if use_cuda else torch.FloatTensor\n",
    ]
    for source in sources:
        assert lines(source, "DL702") == [], source
