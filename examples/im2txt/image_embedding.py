"""Image embedding ops: Inception v4 in place of im2txt's Inception v3."""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tensorflow as tf

from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base

slim = tf.contrib.slim


def inception_v4(images, trainable=True, is_training=True, weight_decay=0.00004, stddev=0.1,
                 dropout_keep_prob=0.8, use_batch_norm=True, batch_norm_params=None,
                 add_summaries=True, scope="InceptionV4"):
    is_inception_model_training = trainable and is_training
    weights_regularizer = tf.contrib.layers.l2_regularizer(weight_decay) if trainable else None
    with tf.variable_scope(scope, "InceptionV4", [images]) as scope:
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_regularizer=weights_regularizer, trainable=trainable):
            with slim.arg_scope([slim.conv2d],
                                weights_initializer=tf.truncated_normal_initializer(stddev=stddev),
                                activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm,
                                normalizer_params=batch_norm_params):
                net, end_points = inception_v4_base(images, scope=scope)
                with tf.variable_scope("logits"):
                    shape = net.get_shape()
                    net = slim.avg_pool2d(net, shape[1:3], padding="VALID", scope="pool")
                    net = slim.dropout(net, dropout_keep_prob, is_training=is_inception_model_training,
                                       scope="dropout")
                    net = slim.flatten(net, scope="flatten")
    return net
