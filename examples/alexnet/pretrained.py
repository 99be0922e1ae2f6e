"""Loads the pretrained bvlc_alexnet.npy weights (a pickled dict of [weights, biases] lists)."""

import numpy as np
import tensorflow.compat.v1 as tf

WEIGHTS_PATH = "bvlc_alexnet.npy"


def load_initial_weights(session, skip_layers=("fc8",)):
    weights_dict = np.load(WEIGHTS_PATH, encoding="bytes").item()
    for op_name in weights_dict:
        if op_name in skip_layers:
            continue
        with tf.variable_scope(op_name, reuse=True):
            for data in weights_dict[op_name]:
                var = tf.get_variable("biases" if len(data.shape) == 1 else "weights", trainable=False)
                session.run(var.assign(data))
