"""A DCGAN discriminator applied to real and generated images (TF1 graph)."""

import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def discriminator(images):
    with tf.variable_scope("discriminator"):
        w = tf.get_variable("w", [5, 5, 3, 64], initializer=tf.truncated_normal_initializer(stddev=0.02))
        h = tf.nn.leaky_relu(tf.nn.conv2d(images, w, [1, 2, 2, 1], "SAME"))
        w_out = tf.get_variable("w_out", [32 * 32 * 64, 1])
        return tf.matmul(tf.reshape(h, [-1, 32 * 32 * 64]), w_out)


real_images = tf.placeholder(tf.float32, [None, 64, 64, 3])
fake_images = tf.placeholder(tf.float32, [None, 64, 64, 3])
d_real = discriminator(real_images)
d_fake = discriminator(fake_images)
d_loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(logits=d_real, labels=tf.ones_like(d_real))
    + tf.nn.sigmoid_cross_entropy_with_logits(logits=d_fake, labels=tf.zeros_like(d_fake))
)
