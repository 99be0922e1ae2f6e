"""DL701 argparse-type-bool: the cifar10 flag, the fix in its two forms, and code that must not fire."""

import argparse

from lintutil import fixes, lines, lint, messages



CIFAR10 = '''
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument('--train_dir', type=str, default='/tmp/cifar10_train',
                        help='Directory where to write event logs and checkpoint.')
    parser.add_argument('--max_steps', type=int, default=1000000,
                        help='Number of batches to run.')
    parser.add_argument('--num_gpus', type=int, default=1,
                        help='How many GPUs to use.')
    parser.add_argument('--log_device_placement', type=bool, default=False,
                        help='Whether to log device placement.')
'''


def test_cifar10_multi_gpu_casebook_case():
    assert lint(CIFAR10, "DL701") == [(11, 47, "DL701")]
    (message,) = messages(CIFAR10, "DL701")
    assert "`--log_device_placement False` turns it ON" in message and 'action="store_true"' in message


def test_the_bug_is_real():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log_device_placement", type=bool, default=False)
    assert parser.parse_args(["--log_device_placement", "False"]).log_device_placement is True


def test_fix_store_true_for_a_false_default():
    ((applicability, (replacement,), fixed),) = fixes(CIFAR10, "DL701")
    assert applicability == "unsafe"
    assert replacement == (
        "parser.add_argument('--log_device_placement', action='store_true', default=False,\n"
        "                    help='Whether to log device placement.')"
    )
    assert lint(fixed, "DL701") == []
    # The fixed parser behaves: off unless the flag is given.
    namespace = {}
    exec(compile(fixed, "fixed.py", "exec"), namespace)
    parser = namespace["parser"]
    assert parser.parse_args([]).log_device_placement is False
    assert parser.parse_args(["--log_device_placement"]).log_device_placement is True


def test_fix_without_default():
    source = 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--fp16", type=bool)\n'
    ((_, (replacement,), _),) = fixes(source, "DL701")
    assert replacement == 'p.add_argument("--fp16", action="store_true")'


def test_fix_for_a_true_default_keeps_it_true():
    source = '''
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--pretrained", type=bool, default=True, help="start from ImageNet weights")
    '''
    ((applicability, (replacement,), fixed),) = fixes(source, "DL701")
    assert applicability == "unsafe"
    assert replacement == (
        'parser.add_argument("--pretrained", action=argparse.BooleanOptionalAction, default=True, '
        'help="start from ImageNet weights")'
    )
    namespace = {}
    exec(compile(fixed, "fixed.py", "exec"), namespace)
    parser = namespace["parser"]
    assert parser.parse_args([]).pretrained is True
    assert parser.parse_args(["--no-pretrained"]).pretrained is False


def test_fix_for_a_variable_default_with_an_imported_action():
    source = '''
        from argparse import ArgumentParser, BooleanOptionalAction
        def build(skip_export_error):
            parser = ArgumentParser()
            parser.add_argument("--skip-export-error", type=bool, default=skip_export_error)
    '''
    ((_, (replacement,), _),) = fixes(source, "DL701")
    assert "action=BooleanOptionalAction, default=skip_export_error" in replacement


def test_no_fix_where_it_cannot_be_mechanical():
    sources = [
        # A true default without a way to name BooleanOptionalAction.
        "import sys\nparser.add_argument('--cuda', type=bool, default=True)\n",
        # Keywords store_true refuses.
        "import argparse\nparser.add_argument('--cuda', type=bool, nargs='?', const=True, default=False)\n",
        "import argparse\nparser.add_argument('--cuda', type=bool, choices=[True, False])\n",
        "import argparse\nparser.add_argument('--cuda', type=bool, metavar='BOOL')\n",
        "import argparse\nparser.add_argument('--cuda', type=bool, required=True)\n",
        # A positional argument.
        "import argparse\nparser.add_argument('use_cuda', type=bool)\n",
        "import argparse\nparser.add_argument(*names, type=bool)\n",
    ]
    for source in sources:
        assert lines(source, "DL701") == [2], source
        assert fixes(source, "DL701") == [], source


def test_every_receiver():
    for receiver in ["parser", "group", "self.parser", "subparsers.add_parser('train')", "train_args"]:
        source = f"{receiver}.add_argument('--debug', default=False, type=bool)\n"
        assert lines(source, "DL701") == [1], receiver


def test_must_not_fire():
    sources = [
        "parser.add_argument('--debug', action='store_true')\n",
        "parser.add_argument('--lr', type=float, default=1e-3)\n",
        "parser.add_argument('--debug', type=str2bool, default=False)\n",
        "parser.add_argument('--debug', type=lambda s: s.lower() == 'true')\n",
        "flags.DEFINE_bool('debug', False, 'debug mode')\n",
        "config.add_argument('--debug', default=bool(os.environ.get('DEBUG')))\n",
        "from mytypes import bool\nparser.add_argument('--debug', type=bool)\n",
    ]
    for source in sources:
        assert lint(source, "DL701") == [], source
