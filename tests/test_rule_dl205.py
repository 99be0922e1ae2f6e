"""DL205 gpu-memory-preallocation: realistic cases and code that must not fire."""

from dldoctor.lint.registry import default_selection
from lintutil import lines, lint, messages

FACENET_TRAIN_SOFTMAX = '''
import argparse
import sys

import tensorflow as tf


def main(args):
    with tf.Graph().as_default():
        gpu_options = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)
        sess = tf.Session(config=tf.ConfigProto(gpu_options=gpu_options, log_device_placement=False))
        sess.run(tf.global_variables_initializer())


def parse_arguments(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--gpu_memory_fraction', type=float,
        help='Upper bound on the amount of GPU memory that will be used by the process.', default=1.0)
    return parser.parse_args(argv)


if __name__ == '__main__':
    main(parse_arguments(sys.argv[1:]))
'''


def test_facenet_casebook_case():
    assert lint(FACENET_TRAIN_SOFTMAX, "DL205") == [(10, 69, "DL205")]
    (message,) = messages(FACENET_TRAIN_SOFTMAX, "DL205")
    assert "defaults to 1" in message and "CUBLAS_STATUS_ALLOC_FAILED" in message and "allow_growth" in message


def test_info_rule_is_not_selected_by_default():
    assert "DL205" not in default_selection()


def test_the_seed_fixes_are_clean():
    growth = FACENET_TRAIN_SOFTMAX.replace(
        "per_process_gpu_memory_fraction=args.gpu_memory_fraction)",
        "per_process_gpu_memory_fraction=args.gpu_memory_fraction, allow_growth=True)",
    )
    assert lint(growth, "DL205") == []
    headroom = FACENET_TRAIN_SOFTMAX.replace("default=1.0)", "default=0.9)")
    assert lint(headroom, "DL205") == []


def test_every_form():
    cases = [
        "import tensorflow as tf\no = tf.GPUOptions(per_process_gpu_memory_fraction=1)\n",
        "import tensorflow as tf\no = tf.compat.v1.GPUOptions(per_process_gpu_memory_fraction=0.95)\n",
        "import tensorflow as tf\nc = tf.ConfigProto()\nc.gpu_options.per_process_gpu_memory_fraction = 1.0\n",
        "import tensorflow as tf\ntf.app.flags.DEFINE_float('gpu_fraction', 1.0, 'how much')\n"
        "o = tf.GPUOptions(per_process_gpu_memory_fraction=FLAGS.gpu_fraction)\n",
        "import argparse, tensorflow as tf\np.add_argument('--gpu-fraction', dest='frac', type=float, default=0.98)\n"
        "o = tf.GPUOptions(per_process_gpu_memory_fraction=opt.frac)\n",
    ]
    for source in cases:
        assert len(lines(source, "DL205")) == 1, source


def test_growth_headroom_and_unknowns_are_fine():
    sources = [
        "import tensorflow as tf\no = tf.GPUOptions(per_process_gpu_memory_fraction=0.7)\n",
        "import tensorflow as tf\no = tf.GPUOptions(allow_growth=True, per_process_gpu_memory_fraction=1.0)\n",
        "import tensorflow as tf\nc = tf.ConfigProto()\nc.gpu_options.per_process_gpu_memory_fraction = 1.0\n"
        "c.gpu_options.allow_growth = True\n",
        "import os\nimport tensorflow as tf\nos.environ['TF_FORCE_GPU_ALLOW_GROWTH'] = 'true'\n"
        "o = tf.GPUOptions(per_process_gpu_memory_fraction=1.0)\n",
        # A value whose default is not known here.
        "import tensorflow as tf\no = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)\n",
        "import tensorflow as tf\no = tf.GPUOptions(per_process_gpu_memory_fraction=fraction)\n",
        # A bare session: too common to report.
        "import tensorflow as tf\nsess = tf.Session()\n",
        # Not TensorFlow's GPUOptions.
        "class GPUOptions:\n    pass\no = GPUOptions(per_process_gpu_memory_fraction=1.0)\n",
    ]
    for source in sources:
        assert lint(source, "DL205") == [], source
