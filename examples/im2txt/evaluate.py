"""Evaluates the model on the validation set, every eval_interval_secs."""

import math
import os.path
import time

import numpy as np
import tensorflow as tf

from im2txt import configuration, show_and_tell_model

FLAGS = tf.flags.FLAGS
tf.flags.DEFINE_string("checkpoint_dir", "", "Directory containing model checkpoints.")
tf.flags.DEFINE_string("eval_dir", "", "Directory to write event logs.")
tf.flags.DEFINE_integer("eval_interval_secs", 600, "Interval between evaluation runs.")
tf.flags.DEFINE_integer("num_eval_examples", 10132, "Number of examples for evaluation.")

tf.logging.set_verbosity(tf.logging.INFO)


def evaluate_model(sess, model, global_step, summary_writer):
    num_eval_batches = int(math.ceil(FLAGS.num_eval_examples / model.config.batch_size))
    sum_losses, sum_weights = 0.0, 0.0
    for i in range(num_eval_batches):
        cross_entropy_losses, weights = sess.run([model.target_cross_entropy_losses,
                                                  model.target_cross_entropy_loss_weights])
        sum_losses += np.sum(cross_entropy_losses * weights)
        sum_weights += np.sum(weights)
        if not i % 100:
            tf.logging.info("Computed losses for %d of %d batches.", i + 1, num_eval_batches)
    perplexity = math.exp(sum_losses / sum_weights)
    tf.logging.info("Perplexity = %f", perplexity)


def run_once(model, saver, summary_writer):
    model_path = tf.train.latest_checkpoint(FLAGS.checkpoint_dir)
    if not model_path:
        tf.logging.info("Skipping evaluation. No checkpoint found in: %s", FLAGS.checkpoint_dir)
        return
    with tf.Session() as sess:
        saver.restore(sess, model_path)
        global_step = tf.train.global_step(sess, model.global_step.name)
        tf.logging.info("Successfully loaded %s at global step = %d.",
                        os.path.basename(model_path), global_step)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(coord=coord)
        try:
            evaluate_model(sess, model, global_step, summary_writer)
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)


def run():
    g = tf.Graph()
    with g.as_default():
        model = show_and_tell_model.ShowAndTellModel(configuration.ModelConfig(), mode="eval")
        model.build()
        saver = tf.train.Saver()
        summary_writer = tf.summary.FileWriter(FLAGS.eval_dir)
        g.finalize()
        # Run a new evaluation run every eval_interval_secs.
        while True:
            start = time.time()
            tf.logging.info("Starting evaluation at " + time.strftime(
                "%Y-%m-%d-%H:%M:%S", time.localtime()))
            run_once(model, saver, summary_writer)
            time_to_next_eval = start + FLAGS.eval_interval_secs - time.time()
            if time_to_next_eval > 0:
                time.sleep(time_to_next_eval)


def main(unused_argv):
    assert FLAGS.checkpoint_dir, "--checkpoint_dir is required"
    run()


if __name__ == "__main__":
    tf.app.run()
