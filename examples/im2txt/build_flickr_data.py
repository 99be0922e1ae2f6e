"""Converts Flickr8k images and captions to TFRecord files of SequenceExamples."""

import os
from collections import namedtuple

import tensorflow as tf

tf.flags.DEFINE_string("image_dir", "/data/Flickr8k_Dataset", "Image directory.")
tf.flags.DEFINE_string("captions_file", "/data/Flickr8k.token.txt", "Captions file.")
tf.flags.DEFINE_string("train_list", "/data/Flickr_8k.trainImages.txt", "Training image names.")
tf.flags.DEFINE_string("output_dir", "/data/tfrecords", "Output directory.")
FLAGS = tf.flags.FLAGS

ImageMetadata = namedtuple("ImageMetadata", ["image_id", "filename", "captions"])


class ImageDecoder(object):
    """Decodes JPEG data in a session of its own, to validate every image."""

    def __init__(self):
        self._sess = tf.Session()
        self._encoded_jpeg = tf.placeholder(dtype=tf.string)
        self._decode_jpeg = tf.image.decode_jpeg(self._encoded_jpeg, channels=3)

    def decode_jpeg(self, encoded_jpeg):
        return self._sess.run(self._decode_jpeg, feed_dict={self._encoded_jpeg: encoded_jpeg})


def _bytes_feature(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value)]))


def _int64_feature(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _bytes_feature_list(values):
    return tf.train.FeatureList(feature=[_bytes_feature(v) for v in values])


def _load_metadata(captions_file, image_dir, list_file):
    """Groups the captions of every image named in the list file.

    Flickr8k.token.txt has one caption per line: `1000268201_693b08cb0e.jpg#0<TAB>A child ...`.
    """
    with tf.gfile.FastGFile(list_file, "r") as f:
        filenames = [line.strip() for line in f.readlines()]
    with tf.gfile.FastGFile(captions_file, "r") as fc:
        lines = fc.readlines()
    id_to_captions = {}
    for line in lines:
        ll = line.split("\t")
        filename = ll[0].split("#")[0]
        caption = ll[1]
        if filename in filenames:
            id_to_captions.setdefault(filename, [])
            id_to_captions[filename].append(caption)
    metadata = []
    for image_id, name in enumerate(sorted(id_to_captions)):
        path = os.path.join(image_dir, name)
        metadata.append(ImageMetadata(image_id, path, id_to_captions[name]))
    return metadata


def _to_sequence_example(image, decoder):
    """Builds a SequenceExample for an image and its captions."""
    with tf.gfile.FastGFile(image.filename, "r") as f:
        encoded_image = f.read()
    try:
        decoder.decode_jpeg(encoded_image)
    except (tf.errors.InvalidArgumentError, AssertionError):
        print("Skipping file with invalid JPEG data: %s" % image.filename)
        return None
    context = tf.train.Features(feature={
        "image/image_id": _int64_feature(image.image_id),
        "image/data": _bytes_feature(encoded_image),
    })
    feature_lists = tf.train.FeatureLists(feature_list={
        "image/caption": _bytes_feature_list([c.encode("utf-8") for c in image.captions]),
    })
    return tf.train.SequenceExample(context=context, feature_lists=feature_lists)


def main(unused_argv):
    metadata = _load_metadata(FLAGS.captions_file, FLAGS.image_dir, FLAGS.train_list)
    decoder = ImageDecoder()
    output_file = os.path.join(FLAGS.output_dir, "train-00000-of-00001")
    with tf.python_io.TFRecordWriter(output_file) as writer:
        for image in metadata:
            example = _to_sequence_example(image, decoder)
            if example is not None:
                writer.write(example.SerializeToString())


if __name__ == "__main__":
    tf.app.run()
