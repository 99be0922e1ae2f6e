"""Reads the demo TFRecord written by write_tfrecord.py and prints ten records."""

import tensorflow as tf

reader = tf.TFRecordReader()
# Queue of file names to read.
filename_queue = tf.train.string_input_producer(["./demo.tfrecord"])
_, serialized_example = reader.read(filename_queue)
features = tf.parse_single_example(serialized_example, features={
    "pixels": tf.FixedLenFeature([], tf.int64),
    "label": tf.FixedLenFeature([], tf.int64),
    "image_raw": tf.FixedLenFeature([], tf.string),
})
image = tf.decode_raw(features["image_raw"], tf.uint8)
pixels = tf.cast(features["pixels"], tf.int32)
label = tf.cast(features["label"], tf.int32)

with tf.Session() as sess:
    for i in range(10):
        print(sess.run([image, pixels, label]))
