"""The catalogue entries of `dldoctor data`'s checks: what each checks, why, what users see, the fix.

`dldoctor explain data.truncated-image` prints one; diagnosis.py emits only these ids
(a test holds it to that).
"""

from dldoctor.verdict.catalogue import CheckDoc

CHECKS = (
    CheckDoc(
        "data.images", "the images decode",
        "Every image file (a folder, a glob or a list file) is read once and decoded for real with Pillow; the "
        "summary gives how many, their formats, sizes and bytes. Ok when at least one image was decoded.",
        "A data loader finds a bad image only when an epoch reaches it, possibly hours in; a scan finds all of them "
        "before training starts.",
    ),
    CheckDoc(
        "data.truncated-image", "truncated images",
        "Fails for each image whose data ends before the decoder is done (a cut download or copy), with the "
        "decoder's own error and, for PNG, how many bytes are missing. Also fails for a PNG whose pixels decode but "
        "whose file stops before its end chunk.",
        "Pillow raises in the middle of an epoch (the DataLoader worker dies with it); "
        "`ImageFile.LOAD_TRUNCATED_IMAGES = True` hides it by filling the missing rows with grey.",
        "OSError: image file is truncated (15 bytes not processed)",
        "Download or copy the file again; else remove it from the data set (and its label).",
    ),
    CheckDoc(
        "data.corrupt-image", "images the decoder rejects",
        "Fails for each image file whose bytes Pillow cannot identify or decode, with the decoder's error.",
        "One such file stops every epoch at the same step.",
        "PIL.UnidentifiedImageError: cannot identify image file 'data/cat/12.jpg'",
        "Replace the file from its source or remove it (and its label).",
    ),
    CheckDoc(
        "data.not-an-image", "files named as images that hold something else",
        "Fails for files with an image extension that are empty or hold HTML, XML, JSON or text (an error page saved "
        "by a scraper, a placeholder).",
        "Scraped data sets keep the server's error page under the image's name; no decoder reads it.",
        "PIL.UnidentifiedImageError: cannot identify image file 'data/dog/0042.jpg'",
        "Remove the files (the scan lists them); re-download them if the source is still there.",
    ),
    CheckDoc(
        "data.extension-mismatch", "the content is another format than the extension",
        "Warns for images that decode but whose content is another format than their extension says (a PNG named "
        "`.jpg`).",
        "Pillow and OpenCV read by content, so they work; readers that trust the name do not (a JPEG-only decoder "
        "such as `tf.io.decode_jpeg` or DALI's JPEG path, tools that choose the codec by extension).",
        "InvalidArgumentError: Unknown image file format. One of JPEG, PNG, GIF, BMP required.",
        "Decode by content (`tf.io.decode_image`, `PIL.Image.open`), or re-save the files in the format their name "
        "says.",
    ),
    CheckDoc(
        "data.tiny-file", "files far smaller than the rest",
        "Warns for image files under 1 KB in a set whose median image is over 20 times larger: thumbnails, "
        "placeholders or cut files that still decode.",
        "The field notes remove them by hand with `find -size -1k`; they are rarely real samples.",
        "", "Look at the listed files; remove placeholders from the data set.",
    ),
    CheckDoc(
        "data.small-image", "images smaller than the threshold",
        "Warns for images with a side under the threshold (8 px unless `--min-side` says otherwise), such as 1x1 "
        "tracking pixels saved as photos.",
        "They survive decoding and break crops and resizes later, or teach the model nothing.",
        "ValueError: Crop size (224, 224) is larger than the image (1, 1)",
        "Remove them, or filter by size in the data set's index.",
    ),
    CheckDoc(
        "data.decompression-bomb", "images over Pillow's pixel limit",
        "Reports images with more pixels than `PIL.Image.MAX_IMAGE_PIXELS` (warn: Pillow warns and decodes them) or "
        "more than twice it (fail: Pillow refuses to open them). They are reported and never decoded.",
        "A huge image can take gigabytes of memory per loader worker; past twice the limit Pillow raises.",
        "PIL.Image.DecompressionBombError: Image size (200000000 pixels) exceeds limit of 178956970 pixels, "
        "could be decompression bomb DOS attack.",
        "Downscale those files once; raise `Image.MAX_IMAGE_PIXELS` only for files you trust.",
    ),
    CheckDoc(
        "data.mixed-modes", "images with different colour modes",
        "Counts the images of each Pillow mode (L, RGB, RGBA, P, CMYK, I;16, ...) and warns when they differ, listing "
        "the odd ones out (the modes fewer images have).",
        "A grayscale image among RGB ones has 1 channel, not 3: a mean subtraction of shape [227, 227, 3] or a "
        "batch collation fails on it, after however many steps it takes to reach it.",
        "RuntimeError: stack expects each tensor to be equal size, but got [3, 224, 224] at entry 0 and "
        "[1, 224, 224] at entry 5",
        "Convert when loading: `Image.open(p).convert(\"RGB\")` (torchvision's default loader already does; "
        "`tf.io.decode_image(..., channels=3)` in TensorFlow), or convert the files once.",
    ),
    CheckDoc(
        "data.exif-rotated", "photos with an EXIF rotation",
        "Warns for images whose EXIF orientation is not 1 (not upright as stored).",
        "Cameras store the pixels unrotated and the rotation in EXIF; `Image.open` does not apply it, so the model "
        "sees those photos sideways while every viewer shows them upright.",
        "", "`ImageOps.exif_transpose(Image.open(p))` when loading, or rotate the files once.",
    ),
    CheckDoc(
        "data.duplicate-images", "identical images",
        "Warns for files with identical bytes (content hash), listing each group; within an ImageFolder split the "
        "same image in two classes is its own check.",
        "Duplicates weight some samples twice; across train and validation they inflate the validation score.",
        "", "Keep one file of each group (the scan lists them).",
    ),
    CheckDoc(
        "data.class-counts", "ImageFolder classes",
        "For a folder of class sub-folders (torchvision's ImageFolder, Keras' image_dataset_from_directory): the "
        "images per class; warns when the largest class has 10 times or more the images of the smallest.",
        "A strong imbalance lets a model score well by predicting the big class.",
        "", "Weight the loss or sample by class (`WeightedRandomSampler`), or collect more of the small classes.",
    ),
    CheckDoc(
        "data.empty-class", "class folders without images",
        "Fails for a class sub-folder that holds no image file.",
        "torchvision's ImageFolder refuses the whole data set; Keras counts a class that never occurs.",
        "FileNotFoundError: Found no valid file for the classes empty_class. Supported extensions are: .jpg, .jpeg, "
        ".png, .ppm, .bmp, .pgm, .tif, .tiff, .webp",
        "Add its images or remove the folder.",
    ),
    CheckDoc(
        "data.same-image-two-classes", "one image under two labels",
        "Warns for identical files in two class folders of one split, and for identical files in two splits "
        "(train and validation).",
        "Two labels for one input is label noise the model cannot learn; the same image in train and validation "
        "makes the validation score a memory test.",
        "", "Decide the right class and keep one copy; remove from validation what train has.",
    ),
    CheckDoc(
        "data.not-image-files", "files in class folders that are not images",
        "Warns for files in ImageFolder class folders without an image extension (torchvision skips them).",
        "An image saved with an unusual extension is dropped silently; other files are clutter worth knowing of.",
        "", "Rename real images to a known extension; move other files out of the class folders.",
    ),
    CheckDoc(
        "data.tfrecord-count", "TFRecord records",
        "Reads every record of every TFRecord file (GZIP and ZLIB too), verifies both CRCs of each, and counts the "
        "records per file and in total.",
        "The true count is what `num_examples_per_epoch`-style settings must say; nothing else tells it without "
        "reading every record.",
    ),
    CheckDoc(
        "data.tfrecord-corrupt", "a record's bytes were changed",
        "Fails for a file with a record whose length CRC or data CRC (masked CRC32C) does not match, naming the first "
        "bad record, its byte offset and which check failed. After a bad length nothing further can be read.",
        "TensorFlow stops the input pipeline at that record, whenever an epoch reaches it.",
        "tensorflow.python.framework.errors_impl.DataLossError: corrupted record at 12345",
        "Write the shard again from the source; `tf.data.experimental.ignore_errors()` only skips what it cannot "
        "read.",
    ),
    CheckDoc(
        "data.tfrecord-truncated", "a TFRecord file ends mid-record",
        "Fails for a file whose last record is cut (the writer was killed or the copy stopped), with the offset and "
        "the bytes missing; a compressed stream that ends early is the same case.",
        "TensorFlow reads the records before the cut and then fails; when the cut leaves less than a record header it "
        "stops there without a word. The last record is lost either way.",
        "tensorflow.python.framework.errors_impl.DataLossError: truncated record at 238474' failed with Read less "
        "bytes than requested",
        "Write the shard again; a writer must be closed (`with tf.io.TFRecordWriter(...)`) before the file is used.",
    ),
    CheckDoc(
        "data.tfrecord-compression", "compressed TFRecord files",
        "Names the files that are GZIP or ZLIB compressed (read here by their first bytes); ok.",
        "`tf.data.TFRecordDataset` must be told: without `compression_type` it reads the compressed bytes as records.",
        "tensorflow.python.framework.errors_impl.DataLossError: corrupted record at 0 (Is this even a TFRecord file?)",
        "`tf.data.TFRecordDataset(files, compression_type=\"GZIP\")` (or \"ZLIB\").",
    ),
    CheckDoc(
        "data.tfrecord-schema", "the features the records hold",
        "Parses every record as tf.train.Example (or SequenceExample) without TensorFlow and summarises each key: its "
        "kind (bytes, float, int64), list lengths, byte lengths, and the share of records that have it. Skipped "
        "when the records are another kind of payload.",
        "A parse spec must match what was written; this is what was written.",
    ),
    CheckDoc(
        "data.tfrecord-schema-drift", "records or shards with another schema",
        "Warns when a key is missing from some records, or when shards differ in their keys or in a key's kind.",
        "A FixedLenFeature without a default fails on the records that lack the key; a kind that changes fails the "
        "parse of those records.",
        "InvalidArgumentError: Feature: label (data type: int64) is required but could not be found.",
        "Regenerate the odd shards with the same writer, or give the key a default_value / use VarLenFeature.",
    ),
    CheckDoc(
        "data.repr-bytes", "bytes features holding Python repr text",
        "Fails for a bytes feature whose values are the text `b'...'`: `str()` of a bytes object, written as text.",
        "Every caption, path or label string then carries `b'` and `'`; decoders read the wrong text without an "
        "error (the runtime twin of lint rule DL102).",
        "b\"b'a man riding a horse'\"",
        "Write `value.encode()` for str and the bytes themselves for bytes, never `str(value).encode()`; regenerate "
        "the records.",
    ),
    CheckDoc(
        "data.record-images", "images inside records",
        "Encoded images (JPEG, PNG, ...) in bytes features are decoded like image files: fails for ones that do not "
        "decode; warns for mixed modes, EXIF rotation and images under the size threshold.",
        "A bad encoded image fails `tf.io.decode_jpeg` at that record in every epoch.",
        "InvalidArgumentError: Invalid JPEG data or crop window, data size 4096",
        "Regenerate those records from good files.",
    ),
    CheckDoc(
        "data.example-count", "the example count in the code",
        "With `--code PATH`: literal example counts in the code (`num_examples_per_epoch = 586363`, "
        "`NUM_TRAIN_EXAMPLES`, flags, split tables) against the true record count; warns for a count that matches "
        "neither the total nor its split, naming the line.",
        "Steps per epoch, learning-rate decay and epoch-based evaluation are computed from it: a count five times "
        "the data makes every 'epoch' five passes.",
        "num_examples_per_epoch = 586363   # the records hold 117215",
        "Set it to the count this scan prints (or compute it from the data).",
    ),
    CheckDoc(
        "data.parse-spec", "the parse spec against the records",
        "With `--code PATH`: each `FixedLenFeature` / `VarLenFeature` / `FixedLenSequenceFeature` key in the code "
        "against the records: missing keys (without a default), another kind, another fixed length. Fails naming "
        "the line and the feature.",
        "`tf.io.parse_single_example` fails at the first record that disagrees.",
        "InvalidArgumentError: Key: label.  Data types don't match. Data type: int64 but expected type: float\n"
        "InvalidArgumentError: Key: bbox.  Can't parse serialized Example.",
        "Change the spec to what the records hold (printed), or regenerate the records.",
    ),
    CheckDoc(
        "data.decode-raw", "decode_raw dtypes against the bytes",
        "With `--code PATH`: each `decode_raw(features[\"key\"], dtype)` against the byte lengths of that key: fails "
        "when a length is not a multiple of the dtype's size; warns when the lengths vary.",
        "Bytes written as one dtype and decoded as another give the wrong number of elements; the reshape after it "
        "fails, or silently reads garbage.",
        "InvalidArgumentError: Input to DecodeRaw has length 150 that is not a multiple of 4, the size of float",
        "Decode with the dtype the array had when written (`array.dtype` before `.tobytes()`).",
    ),
    CheckDoc(
        "data.yolo-labels", "YOLO label files",
        "For images with YOLO `.txt` labels: each line is `class x y w h`; class ids within the declared classes "
        "(data.yaml, classes.txt), coordinates in [0, 1], boxes of positive size. Fails naming file and line.",
        "Ultralytics drops a label file with out-of-range values (the image trains as background) with only a "
        "warning; pixel coordinates instead of fractions are the usual cause.",
        "WARNING ⚠️ data/labels/12.txt: ignoring corrupt image/label: non-normalized or out of bounds coordinates",
        "Normalise coordinates by the image size; fix class ids to 0..nc-1.",
    ),
    CheckDoc(
        "data.yolo-pairs", "images and YOLO labels that do not pair",
        "Warns for images without a label file (they train as background) and label files without an image.",
        "A labels folder that does not mirror the images folder silently trains on empty targets.",
        "", "Check the images/ and labels/ folders mirror each other (same stems).",
    ),
    CheckDoc(
        "data.coco-annotations", "COCO annotation files",
        "For a COCO JSON file: annotations whose image_id or category_id resolves to nothing and boxes of zero size "
        "fail; boxes outside their image, images whose real size differs from the JSON's, and listed files that are "
        "missing warn.",
        "torchvision's detection models refuse degenerate boxes; unresolved ids crash pycocotools.",
        "AssertionError: All bounding boxes should have positive height and width. Found invalid box "
        "[10.0, 20.0, 10.0, 20.0] for target at index 0.",
        "Fix or drop the listed annotations; regenerate the JSON from the labelling tool.",
    ),
)
