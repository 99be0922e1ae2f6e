"""Tiny TF1 (tf.compat.v1) graphs with InceptionV3 / InceptionV4 slim scope names.

Used by tests/test_ckpt_tf1.py, which copies this file next to the checkpoints and
names its functions with `dldoctor ckpt ... --model inception_models.py:FUNCTION`.
The variables have the real scopes (InceptionV4/Conv2d_1a_3x3/BatchNorm/beta, ...)
and small shapes; the two architectures share a few layer names, as the real ones do.
"""

import tensorflow as tf

v1 = tf.compat.v1


def _conv(scope, k, cin, cout):
    with v1.variable_scope(scope):
        v1.get_variable("weights", [k, k, cin, cout])
        with v1.variable_scope("BatchNorm"):
            v1.get_variable("beta", [cout])
            v1.get_variable("moving_mean", [cout], trainable=False)
            v1.get_variable("moving_variance", [cout], trainable=False)


def _logits(scope, cin, classes):
    with v1.variable_scope(scope):
        v1.get_variable("weights", [1, 1, cin, classes])
        v1.get_variable("biases", [classes])


def inception_v3(num_classes=1001):
    with v1.variable_scope("InceptionV3"):
        _conv("Conv2d_1a_3x3", 3, 3, 8)
        _conv("Conv2d_2a_3x3", 3, 8, 8)
        _conv("Conv2d_2b_3x3", 3, 8, 16)
        _conv("Conv2d_3b_1x1", 1, 16, 20)
        _conv("Conv2d_4a_3x3", 3, 20, 48)
        _conv("Mixed_5b/Branch_0/Conv2d_0a_1x1", 1, 48, 16)
        _conv("Mixed_5b/Branch_1/Conv2d_0b_5x5", 5, 16, 16)
        _conv("Mixed_6a/Branch_0/Conv2d_1a_1x1", 3, 32, 96)
        _logits("Logits/Conv2d_1c_1x1", 96, num_classes)
    v1.train.get_or_create_global_step()


def inception_v4(num_classes=1001, stem_channels=8):
    with v1.variable_scope("InceptionV4"):
        _conv("Conv2d_1a_3x3", 3, 3, stem_channels)
        _conv("Conv2d_2a_3x3", 3, stem_channels, 8)
        _conv("Conv2d_2b_3x3", 3, 8, 16)
        _conv("Mixed_3a/Branch_1/Conv2d_0a_3x3", 3, 16, 24)
        _conv("Mixed_4a/Branch_0/Conv2d_0a_1x1", 1, 40, 16)
        _conv("Mixed_4a/Branch_1/Conv2d_1a_3x3", 3, 16, 24)
        _conv("Mixed_5a/Branch_0/Conv2d_1a_3x3", 3, 48, 48)
        _conv("Mixed_5b/Branch_0/Conv2d_0a_1x1", 1, 96, 24)
        _conv("Mixed_6a/Branch_0/Conv2d_1a_3x3", 3, 96, 96)
        _logits("Logits/Logits", 96, num_classes)
        _logits("AuxLogits/Aux_logits", 96, num_classes)
    v1.train.get_or_create_global_step()


def inception_v4_flowers():
    """Fine-tuning InceptionV4 on 5 flower classes: the heads change shape."""
    inception_v4(num_classes=5)


def inception_v4_new_head():
    """Fine-tuning with a new head layer under a new name: only it is missing from the checkpoint."""
    inception_v4()
    with v1.variable_scope("InceptionV4/Logits_flowers"):
        v1.get_variable("weights", [96, 5])
        v1.get_variable("biases", [5])


def inception_v4_tower():
    """The same model built inside a multi-GPU tower scope: every name gains `tower_0/`."""
    with v1.variable_scope("tower_0"):
        inception_v4()


def inception_v4_wide_stem():
    """The stem's first convolution widened 8 -> 16 channels: a shape change that is not in a head."""
    inception_v4(stem_channels=16)
