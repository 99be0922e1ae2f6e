"""The bundled examples/ project: every rule fires where the casebook says, and nothing
else; with the fixes applied (automatic ones, then the casebook's by hand), nothing fires."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from dldoctor.lint.registry import all_rules

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    # The five core rules, at the casebook's places.
    ("im2txt/build_flickr_data.py", 30, "DL102"),
    ("im2txt/build_flickr_data.py", 55, "DL301"),
    ("im2txt/build_flickr_data.py", 67, "DL101"),
    ("im2txt/caption_loader.py", 43, "DL101"),
    ("im2txt/evaluate.py", 63, "DL401"),
    ("mnist_eval.py", 23, "DL401"),
    ("multi_gpu_train.py", 54, "DL201"),
    ("explore_flickr.ipynb", "cell 4:2", "DL101"),
    # The rest of the catalogue.
    ("alexnet/image_reader.py", 27, "DL104"),
    ("alexnet/image_reader.py", 31, "DL103"),
    ("gan_image_summaries.py", 24, "DL202"),
    ("read_tfrecord.py", 7, "DL203"),
    ("mnist_gpu.py", 22, "DL204"),
    ("train_softmax.py", 17, "DL205"),
    ("pytorch/finetune.py", 37, "DL402"),
    ("gan_train.py", 44, "DL403"),
    ("gan_train.py", 45, "DL403"),
    ("pytorch/finetune.py", 19, "DL501"),
    ("pytorch/finetune.py", 25, "DL502"),
    ("alexnet/pretrained.py", 17, "DL206"),
    ("pytorch/acgan.py", 57, "DL404"),
    ("pytorch/acgan.py", 65, "DL404"),
    ("pytorch/acgan.py", 59, "DL405"),
    ("pytorch/acgan.py", 42, "DL406"),
    ("alexnet/pretrained.py", 10, "DL504"),
    ("face_crops.py", 13, "DL105"),
    ("dcgan_discriminator.py", 19, "DL207"),
    ("pytorch/word_lm.py", 45, "DL503"),
    ("pytorch/word_lm.py", 38, "DL702"),
    ("stale_noqa.py", 13, "DL100"),
    ("stale_noqa.py", 19, "DL100"),
    ("tf1_resume_training.py", 21, "DL211"),
    ("tf1_resume_training.py", 36, "DL208"),
    ("tf1_resume_training.py", 55, "DL209"),
    ("tf1_resume_training.py", 67, "DL210"),
    ("tf1_graph_order.py", 31, "DL213"),
    ("tf1_graph_order.py", 50, "DL214"),
    ("tf1_graph_order.py", 63, "DL212"),
    ("tf1_graph_order.py", 75, "DL215"),
    ("tf1_graph_order.py", 84, "DL216"),
    ("tf1_wrong_arguments.py", 19, "DL218"),
    ("tf1_wrong_arguments.py", 28, "DL218"),
    ("tf1_wrong_arguments.py", 37, "DL218"),
    ("tf1_wrong_arguments.py", 36, "DL219"),
    ("tf1_wrong_arguments.py", 27, "DL220"),
    ("tf1_more.py", 23, "DL221"),
    ("tf1_more.py", 26, "DL217"),
    ("tf1_more.py", 33, "DL222"),
    ("tf1_more.py", 42, "DL202"),
    ("im2txt/image_embedding.py", 9, "DL601"),
    ("im2txt/image_embedding.py", 11, "DL601"),
    ("im2txt/image_embedding.py", 18, "DL601"),
    ("multi_gpu_train.py", 38, "DL601"),
    ("alexnet_finetune.py", 14, "DL602"),
    ("alexnet_finetune.py", 25, "DL602"),
    ("alexnet_finetune.py", 26, "DL602"),
    ("alexnet_finetune.py", 27, "DL602"),
    ("alexnet_finetune.py", 29, "DL602"),
    ("alexnet_finetune.py", 30, "DL602"),
    ("alexnet_finetune.py", 32, "DL602"),
    ("cifar10_multi_gpu_argparse.py", 23, "DL701"),
}
# With TensorFlow 2 installed (the test environment has it), every TF1-style module is
# also reported once, at its `import tensorflow as tf`.
TF1_IMPORTS = {
    ("alexnet_finetune.py", 4),
    ("gan_image_summaries.py", 3),
    ("im2txt/build_flickr_data.py", 6),
    ("im2txt/evaluate.py", 8),
    ("im2txt/image_embedding.py", 7),
    ("mnist_eval.py", 5),
    ("mnist_gpu.py", 3),
    ("multi_gpu_train.py", 7),
    ("read_tfrecord.py", 3),
    ("train_softmax.py", 6),
}

# What `--fix --unsafe-fixes` leaves (rules without an automatic fix), fixed by hand
# the way the casebook's engineers did.
MANUAL_FIXES = {
    "alexnet/image_reader.py": [
        ("img = cv2.imread(path)\n", "img = cv2.imread(path)\n            if img is None:\n                raise IOError(path)\n"),
        ("np.resize(img, (SCALE_SIZE, SCALE_SIZE, 3))", "cv2.resize(img, (SCALE_SIZE, SCALE_SIZE))"),
    ],
    "gan_image_summaries.py": [
        ('                    samples = tf.summary.image("samples_%d_%d" % (epoch, it), model.sampler, max_outputs=8)\n', ""),
        ("writer.add_summary(sess.run(samples)", "writer.add_summary(sess.run(model.sample_summary)"),
    ],
    "gan_train.py": [
        (
            "D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1.0 - D_fake))",
            "D_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logit_real, labels=tf.ones_like(D_logit_real)))",
        ),
        (
            "G_loss = -tf.reduce_mean(tf.log(D_fake))",
            "G_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logit_fake, labels=tf.ones_like(D_logit_fake)))",
        ),
    ],
    "im2txt/evaluate.py": [
        (
            "            run_once(model, saver, summary_writer)\n",
            "            run_once(model, saver, summary_writer)\n            if FLAGS.eval_interval_secs == 0:\n                break\n",
        )
    ],
    "im2txt/image_embedding.py": [
        ("from tensorflow.contrib.slim.python.slim.nets.inception_v4 import inception_v4_base", "from nets.inception_v4 import inception_v4_base"),
        ("slim = tf.contrib.slim", "import tf_slim as slim"),
        ("tf.contrib.layers.l2_regularizer(weight_decay)", "slim.l2_regularizer(weight_decay)"),
    ],
    "mnist_eval.py": [
        (
            "            time.sleep(EVAL_INTERVAL_SECS)\n",
            "            if EVAL_INTERVAL_SECS == 0:\n                break\n            time.sleep(EVAL_INTERVAL_SECS)\n",
        )
    ],
    "mnist_gpu.py": [(", allow_soft_placement=True)", ")")],
    "multi_gpu_train.py": [("tf.contrib.slim.prefetch_queue.prefetch_queue(", "tf_slim.prefetch_queue.prefetch_queue(")],
    "pytorch/finetune.py": [("running_loss += loss\n", "running_loss += loss.item()\n")],
    "pytorch/acgan.py": [
        ("nn.Sequential(nn.Linear(256, n_classes), nn.Softmax(dim=1))", "nn.Linear(256, n_classes)"),
        ("            gen_imgs = generator(z, gen_labels)\n",
         "            optimizer_G.zero_grad()\n            gen_imgs = generator(z, gen_labels)\n"),
        ("def sample_digits(n_rows=10):\n", "@torch.no_grad()\ndef sample_digits(n_rows=10):\n"),
    ],
    "pytorch/word_lm.py": [
        ("torch.save(model, f)", "torch.save(model.state_dict(), f)"),
        ("model = torch.load(f, map_location=device)", "model.load_state_dict(torch.load(f, map_location=device))"),
    ],
    "face_crops.py": [
        (
            "face = cv2.resize(img[y0:y1, x0:x1], (160, 160))",
            "face = cv2.cvtColor(cv2.resize(img[y0:y1, x0:x1], (160, 160)), cv2.COLOR_BGR2RGB)",
        ),
    ],
    "dcgan_discriminator.py": [
        ('tf.variable_scope("discriminator")', 'tf.variable_scope("discriminator", reuse=tf.AUTO_REUSE)'),
    ],
    "alexnet/pretrained.py": [
        (
            'np.load(WEIGHTS_PATH, encoding="bytes").item()',
            'np.load(WEIGHTS_PATH, encoding="bytes", allow_pickle=True).item()  # noqa: DL502 (the file we ship)',
        ),
    ],
    "read_tfrecord.py": [
        (
            "with tf.Session() as sess:\n",
            "with tf.Session() as sess:\n    coord = tf.train.Coordinator()\n    threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n",
        )
    ],
    "train_softmax.py": [
        ("tf.GPUOptions(per_process_gpu_memory_fraction=args.gpu_memory_fraction)", "tf.GPUOptions(allow_growth=True)"),
    ],
    "tf1_wrong_arguments.py": [
        ("tf.image.resize_images(image, IMAGE_SIZE, IMAGE_SIZE)", "tf.image.resize_images(image, [IMAGE_SIZE, IMAGE_SIZE])"),
        ("tf.placeholder(tf.float64", "tf.placeholder(tf.float32"),
        ("softmax_cross_entropy_with_logits(logits, labels)", "softmax_cross_entropy_with_logits(labels=labels, logits=logits)"),
        (
            "            sess.run(train_op, feed_dict={images: batch_images, labels: batch_labels})\n",
            "            x, y = sess.run([batch_images, batch_labels])\n            sess.run(train_op, feed_dict={images: x, labels: y})\n",
        ),
        ("tf.train.Saver()", "tf.train.Saver(max_to_keep=3)"),
        (", max_to_keep=3)", ")"),
    ],
    "tf1_more.py": [
        ("softmax_cross_entropy(logits, onehot_labels)", "softmax_cross_entropy(onehot_labels=onehot_labels, logits=logits)"),
        ("    warm_up_rate = tf.assign(learning_rate, 0.01)\n", ""),
        ("tf.control_dependencies([warm_up_rate])", "tf.control_dependencies([tf.assign(learning_rate, 0.01)])"),
        (
            "    train_op = tf.train.GradientDescentOptimizer(rate).minimize(loss)\n",
            "    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
            "        train_op = tf.train.GradientDescentOptimizer(rate).minimize(loss)\n",
        ),
        ("    step = tf.Variable(0, trainable=False)\n", "    step = tf.Variable(0, trainable=False)\n    next_step = tf.assign_add(step, 1)\n"),
        ("            step = step + 1\n            print(sess.run(step),", "            print(sess.run(next_step),"),
    ],
    "tf1_graph_order.py": [
        (
            "    for i in range(num_towers):\n        with tf.name_scope(\"tower_%d\" % i):\n"
            "            loss = tower_loss(images[i], labels[i])\n            tf.get_variable_scope().reuse_variables()\n"
            "            tower_grads.append(opt.compute_gradients(loss))\n",
            "    with tf.variable_scope(tf.get_variable_scope()):\n        for i in range(num_towers):\n"
            "            with tf.name_scope(\"tower_%d\" % i):\n                loss = tower_loss(images[i], labels[i])\n"
            "                tf.get_variable_scope().reuse_variables()\n                tower_grads.append(opt.compute_gradients(loss))\n",
        ),
        ("            g_err = sess.run(g_loss, feed_dict={z: noise})\n", "            _, g_err = sess.run([g_optim, g_loss], feed_dict={z: noise})\n"),
        ("tf.Variable(online * 1.0,", "tf.Variable(online.initialized_value() * 1.0,"),
        ("tf.Variable(averaged + 0.0,", "tf.Variable(averaged.initialized_value() + 0.0,"),
        ("        totals.write(i, running)\n", "        totals = totals.write(i, running)\n"),
        (
            "    threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n"
            "    filename_queue = tf.train.string_input_producer(filenames)\n    _, line = tf.TextLineReader().read(filename_queue)\n",
            "    filename_queue = tf.train.string_input_producer(filenames)\n    _, line = tf.TextLineReader().read(filename_queue)\n"
            "    threads = tf.train.start_queue_runners(sess=sess, coord=coord)\n",
        ),
    ],
    "tf1_resume_training.py": [
        (
            "    if is_training == True:\n        net = tf.nn.dropout(net, rate=0.5)\n",
            "    net = tf.cond(is_training, lambda: tf.nn.dropout(net, rate=0.5), lambda: net)\n",
        ),
        (
            "    init = tf.global_variables_initializer()\n    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
            "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n    init = tf.global_variables_initializer()\n",
        ),
        ("        saver.restore(sess, CHECKPOINT)\n        sess.run(init)\n", "        sess.run(init)\n        saver.restore(sess, CHECKPOINT)\n"),
        (
            '    sv = tf.train.Supervisor(logdir=logdir, summary_op=None)\n    with sv.managed_session() as sess:\n'
            '        loss_summary = tf.summary.scalar("loss", loss)\n',
            '    loss_summary = tf.summary.scalar("loss", loss)\n    sv = tf.train.Supervisor(logdir=logdir, summary_op=None)\n'
            "    with sv.managed_session() as sess:\n",
        ),
    ],
}


def lint_json(directory: Path, *extra: str) -> tuple[int, set[tuple[str, object, str]]]:
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", str(directory), "--output-format", "json", "--select", "ALL", *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.stderr == "", run.stderr
    found = {
        (
            Path(item["filename"]).relative_to(directory).as_posix(),
            f"cell {item['cell']}:{item['location']['row']}" if item["cell"] else item["location"]["row"],
            item["code"],
        )
        for item in json.loads(run.stdout)
    }
    return run.returncode, found


def test_every_rule_fires_where_expected_and_nothing_else():
    returncode, found = lint_json(EXAMPLES)
    tf1_imports = {(path, line, "DL602") for path, line in TF1_IMPORTS}
    assert found == EXPECTED | tf1_imports
    assert returncode == 1
    assert {code for _, _, code in found} == set(all_rules())


def test_the_examples_readme_table_matches_the_findings():
    table = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path, line, code in EXPECTED:
        assert f"| `{path}` | {line} | {code} |" in table, (path, line, code)


def test_with_the_fixes_applied_nothing_fires(tmp_path):
    fixed = tmp_path / "examples"
    shutil.copytree(EXAMPLES, fixed)
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", ".", "--select", "ALL", "--fix", "--unsafe-fixes", "--exit-zero"],
        cwd=fixed, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    for name, replacements in MANUAL_FIXES.items():
        path = fixed / name
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    returncode, found = lint_json(fixed)
    assert found == set()
    assert returncode == 0
