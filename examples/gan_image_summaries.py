"""Trains a DCGAN and writes sample images to TensorBoard every SAMPLE_EVERY iterations."""

import tensorflow as tf

import dcgan

EPOCHS = 25
ITERATIONS = 1000
SAMPLE_EVERY = 100


def train():
    model = dcgan.DCGAN(batch_size=64)
    saver = tf.train.Saver()
    writer = tf.summary.FileWriter("logs/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(EPOCHS):
            for it in range(ITERATIONS):
                sess.run(model.d_optim)
                _, g_loss = sess.run([model.g_optim, model.g_loss])
                if it % SAMPLE_EVERY == 0:
                    saver.save(sess, "checkpoints/dcgan", global_step=epoch * ITERATIONS + it)
                    samples = tf.summary.image("samples_%d_%d" % (epoch, it), model.sampler, max_outputs=8)
                    writer.add_summary(sess.run(samples), epoch * ITERATIONS + it)


if __name__ == "__main__":
    train()
