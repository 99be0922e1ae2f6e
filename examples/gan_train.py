"""A vanilla GAN on MNIST in TF1 style: the discriminator outputs a sigmoid probability."""

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

X = tf.placeholder(tf.float32, shape=[None, 784])
Z = tf.placeholder(tf.float32, shape=[None, 100])


def xavier_init(size):
    return tf.random_normal(shape=size, stddev=1.0 / tf.sqrt(size[0] / 2.0))


D_W1 = tf.Variable(xavier_init([784, 128]))
D_b1 = tf.Variable(tf.zeros(shape=[128]))
D_W2 = tf.Variable(xavier_init([128, 1]))
D_b2 = tf.Variable(tf.zeros(shape=[1]))
G_W1 = tf.Variable(xavier_init([100, 128]))
G_b1 = tf.Variable(tf.zeros(shape=[128]))
G_W2 = tf.Variable(xavier_init([128, 784]))
G_b2 = tf.Variable(tf.zeros(shape=[784]))
theta_D = [D_W1, D_W2, D_b1, D_b2]
theta_G = [G_W1, G_W2, G_b1, G_b2]


def generator(z):
    G_h1 = tf.nn.relu(tf.matmul(z, G_W1) + G_b1)
    return tf.nn.sigmoid(tf.matmul(G_h1, G_W2) + G_b2)


def discriminator(x):
    D_h1 = tf.nn.relu(tf.matmul(x, D_W1) + D_b1)
    D_logit = tf.matmul(D_h1, D_W2) + D_b2
    D_prob = tf.nn.sigmoid(D_logit)
    return D_prob, D_logit


G_sample = generator(Z)
D_real, D_logit_real = discriminator(X)
D_fake, D_logit_fake = discriminator(G_sample)

D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1.0 - D_fake))
G_loss = -tf.reduce_mean(tf.log(D_fake))

D_solver = tf.train.AdamOptimizer().minimize(D_loss, var_list=theta_D)
G_solver = tf.train.AdamOptimizer().minimize(G_loss, var_list=theta_G)


def train(mnist, steps=100000, batch_size=128):
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for step in range(steps):
        X_mb, _ = mnist.train.next_batch(batch_size)
        z = np.random.uniform(-1.0, 1.0, size=[batch_size, 100])
        _, D_loss_curr = sess.run([D_solver, D_loss], feed_dict={X: X_mb, Z: z})
        _, G_loss_curr = sess.run([G_solver, G_loss], feed_dict={Z: z})
        if step % 1000 == 0:
            print("Iter: {}; D loss: {:.4}; G_loss: {:.4}".format(step, D_loss_curr, G_loss_curr))
