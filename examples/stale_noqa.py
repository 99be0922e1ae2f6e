"""Training session set-up whose suppressions outlived the bugs they were written for."""

import argparse

import tensorflow.compat.v1 as tf

parser = argparse.ArgumentParser()
parser.add_argument("--log-placement", action="store_true")
FLAGS = parser.parse_args()

# Placement logging was made a flag, but the comment that silenced the old
# `log_device_placement=True` stayed: it would hide the next real finding here.
config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=FLAGS.log_placement)  # noqa: DL201
config.gpu_options.allow_growth = True


def read_image(path):
    # A misspelt code silences nothing.
    with tf.gfile.GFile(path, "rb") as handle:  # noqa: DL010
        return handle.read()
