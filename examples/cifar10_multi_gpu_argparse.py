"""cifar10_multi_gpu_train with its flags ported from tf.app.flags to argparse."""

import argparse
import sys

import tensorflow.compat.v1 as tf

FLAGS = None


def train():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=FLAGS.log_device_placement)
    with tf.Session(config=config) as sess:
        print("training on %d GPUs for %d steps in %s" % (FLAGS.num_gpus, FLAGS.max_steps, FLAGS.train_dir))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_dir", type=str, default="/tmp/cifar10_train",
                        help="Directory where to write event logs and checkpoint.")
    parser.add_argument("--max_steps", type=int, default=1000000, help="Number of batches to run.")
    parser.add_argument("--num_gpus", type=int, default=1, help="How many GPUs to use.")
    parser.add_argument("--log_device_placement", type=bool, default=False,
                        help="Whether to log device placement.")
    FLAGS, unparsed = parser.parse_known_args()
    train()
