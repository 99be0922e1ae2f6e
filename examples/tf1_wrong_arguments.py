"""A TF 0.x-era image classifier moved onto TensorFlow 1.x/2.x graph mode, argument by argument."""

import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

IMAGE_SIZE = 64
CHECKPOINT = "train/classifier.ckpt"


def input_pipeline(filenames):
    return tf.data.TFRecordDataset(filenames).map(parse).batch(32)


def parse(record):
    features = tf.parse_single_example(record, {"image": tf.FixedLenFeature([], tf.string),
                                                "label": tf.FixedLenFeature([], tf.int64)})
    image = tf.image.decode_jpeg(features["image"], channels=3)
    image = tf.image.resize_images(image, IMAGE_SIZE, IMAGE_SIZE)
    return tf.reshape(image, [IMAGE_SIZE * IMAGE_SIZE * 3]), tf.one_hot(features["label"], 10)


def train(filenames, steps):
    images = tf.placeholder(tf.float64, [None, IMAGE_SIZE * IMAGE_SIZE * 3])
    labels = tf.placeholder(tf.float32, [None, 10])
    weights = tf.Variable(tf.truncated_normal([IMAGE_SIZE * IMAGE_SIZE * 3, 10], stddev=0.01))
    logits = tf.matmul(images, weights)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits, labels))
    train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    iterator = tf.data.make_one_shot_iterator(input_pipeline(filenames))
    batch_images, batch_labels = iterator.get_next()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(steps):
            sess.run(train_op, feed_dict={images: batch_images, labels: batch_labels})
        saver.save(sess, CHECKPOINT, global_step=steps, max_to_keep=3)
