"""Trains a face recognizer with a softmax loss (facenet's train_softmax.py, abridged)."""

import argparse
import sys

import tensorflow as tf

import facenet


def main(args):
    with tf.Graph().as_default():
        global_step = tf.Variable(0, trainable=False)
        image_batch, label_batch = facenet.inputs(args.data_dir, args.batch_size)
        total_loss = facenet.inference(image_batch, label_batch, args.embedding_size)
        train_op = facenet.train(total_loss, global_step, args.learning_rate)
        gpu_options = tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)
        sess = tf.Session(config=tf.ConfigProto(gpu_options=gpu_options, log_device_placement=False))
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        tf.train.start_queue_runners(coord=coord, sess=sess)
        for step in range(args.max_steps):
            sess.run(train_op)


def parse_arguments(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", type=str, default="~/datasets/casia/casia_maxpy_mtcnnalign_182_160")
    parser.add_argument("--batch_size", type=int, default=90)
    parser.add_argument("--embedding_size", type=int, default=128)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_steps", type=int, default=100000)
    parser.add_argument("--gpu_memory_fraction", type=float,
                        help="Upper bound on the amount of GPU memory that will be used by the process.", default=1.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse_arguments(sys.argv[1:]))
