"""DL217 op-outside-its-block: buggy and fixed versions of real TF1 code (the Stack Overflow
cases of a `tf.cond` branch and of a `control_dependencies` block that orders nothing), code
that must not fire, and what TensorFlow really does with each."""

from lintutil import lint, messages
from tf1run import run_tf1

# An assignment meant for one branch of a tf.cond, created before it.
CONDITIONAL_ASSIGN = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

pred = tf.placeholder(tf.bool)
x = tf.Variable([1])
assign_x_2 = tf.assign(x, [2])


def update_x_2():
    with tf.control_dependencies([assign_x_2]):
        return tf.identity(x)


y = tf.cond(pred, update_x_2, lambda: tf.identity(x))
with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    print(session.run(y, feed_dict={pred: False}).tolist())
'''
CONDITIONAL_ASSIGN_FIXED = CONDITIONAL_ASSIGN.replace("assign_x_2 = tf.assign(x, [2])\n", "").replace(
    "tf.control_dependencies([assign_x_2])", "tf.control_dependencies([tf.assign(x, [2])])")

# Batch-norm moving averages updated in the training branch only (the hand-made batch norm).
MOVING_MEAN = '''
import tensorflow as tf

is_train = tf.placeholder(tf.bool)
user_input = tf.placeholder(tf.float32)
beta = tf.Variable(tf.ones([1]))
batch_mean = beta.assign(user_input)
ema = tf.train.ExponentialMovingAverage(decay=0.5)
ema_apply_op = ema.apply([batch_mean])
ema_mean = ema.average(batch_mean)


def mean_var_with_update():
    with tf.control_dependencies([ema_apply_op]):
        return tf.identity(batch_mean)


mean = tf.cond(is_train, mean_var_with_update, lambda: ema_mean)
sess = tf.Session()
'''
MOVING_MEAN_FIXED = '''
import tensorflow as tf

is_train = tf.placeholder(tf.bool)
user_input = tf.placeholder(tf.float32)
beta = tf.Variable(tf.ones([1]))
batch_mean = beta.assign(user_input)
ema = tf.train.ExponentialMovingAverage(decay=0.5)


def mean_var_with_update():
    ema_apply_op = ema.apply([batch_mean])
    with tf.control_dependencies([ema_apply_op]):
        return tf.identity(batch_mean)


mean = tf.cond(is_train, mean_var_with_update, lambda: ema.average(batch_mean))
sess = tf.Session()
'''


def test_an_assign_created_before_the_cond_is_reported_and_really_runs_on_the_other_branch():
    assert lint(CONDITIONAL_ASSIGN, "DL217") == [(8, 1, "DL217")]
    (message,) = messages(CONDITIONAL_ASSIGN, "DL217")
    assert "assign_x_2" in message and "whichever branch" in message
    done = run_tf1(CONDITIONAL_ASSIGN)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[2]"]  # pred=False, and x was assigned all the same


def test_the_assign_created_in_the_branch_is_silent_and_conditional():
    assert lint(CONDITIONAL_ASSIGN_FIXED, "DL217") == []
    done = run_tf1(CONDITIONAL_ASSIGN_FIXED)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[1]"]


def test_moving_average_applied_outside_the_training_branch():
    assert [line for line, _, _ in lint(MOVING_MEAN, "DL217")] == [9]
    # `batch_mean` is also an assign made outside, but the branches use its value: not reported.
    assert lint(MOVING_MEAN_FIXED, "DL217") == []


def test_ops_used_outside_the_branches_or_made_inside_them_are_not_reported():
    sources = [
        # Used outside the cond too: it runs every step on purpose.
        CONDITIONAL_ASSIGN.replace("y = tf.cond(", "train = tf.group(assign_x_2)\ny = tf.cond("),
        # Rebound elsewhere: not known.
        CONDITIONAL_ASSIGN.replace("y = tf.cond(", "assign_x_2 = tf.no_op()\ny = tf.cond("),
        # progressive_growing_of_gans: the op is made in the branch lambda.
        "import tensorflow as tf\nop = tf.cond(grad_ok, lambda: opt.apply_gradients(grads), tf.no_op)\n",
        "import tensorflow as tf\nupdate = tf.cond(tf.is_variable_initialized(v), lambda: tf.assign_add(v, x), "
        "lambda: tf.assign(v, x))\n",
        # A value, not an op, made before the cond.
        "import tensorflow as tf\nscale = tf.cast(h, tf.float32)\nout = tf.cond(p, lambda: scale, lambda: 2 * scale)\n",
    ]
    for source in sources:
        assert lint(source, "DL217") == [], source


# The classic: a control dependency on an increment, around a block that creates nothing.
COUNTER = '''
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

x = tf.Variable(0.0)
x_plus_1 = tf.assign_add(x, 1.0)
with tf.control_dependencies([x_plus_1]):
    y = x
init = tf.global_variables_initializer()
with tf.Session() as session:
    session.run(init)
    print([float(session.run(y)) for _ in range(3)])
'''
COUNTER_FIXED = COUNTER.replace("    y = x\n", "    y = tf.identity(x)\n")


def test_a_dependency_block_that_creates_no_op_is_reported_and_orders_nothing():
    assert lint(COUNTER, "DL217") == [(9, 5, "DL217")]
    (message,) = messages(COUNTER, "DL217")
    assert "tf.identity(x)" in message and "creates no op" in message
    done = run_tf1(COUNTER)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[0.0, 0.0, 0.0]"
    assert lint(COUNTER_FIXED, "DL217") == []
    fixed = run_tf1(COUNTER_FIXED)
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert fixed.stdout.strip() == "[1.0, 2.0, 3.0]"


def test_other_blocks_that_order_nothing():
    cases = [
        "import tensorflow as tf\ntrain_op = opt.minimize(loss)\nupdate_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\n"
        "with tf.control_dependencies(update_ops):\n    train_op = train_op\n",
        "import tensorflow as tf\ndef loss_with_update(loss, update):\n    with tf.control_dependencies([update]):\n"
        "        return loss\n",
        "import tensorflow as tf\nwith tf.get_default_graph().control_dependencies([inc]):\n    out = counter\n",
    ]
    for source in cases:
        assert len(lint(source, "DL217")) == 1, source


def test_blocks_that_create_ops_are_fine():
    sources = [
        # facenet's center loss, tf-faster-rcnn's proposal targets, the CIFAR-10 train op.
        "import tensorflow as tf\nwith tf.control_dependencies([centers]):\n"
        "    loss = tf.reduce_mean(tf.square(features - centers_batch))\n",
        "import tensorflow as tf\nwith tf.control_dependencies([rpn_labels]):\n"
        "    rois, _ = self._proposal_target_layer(rois, roi_scores, 'rpn_rois')\n",
        "import tensorflow as tf\nwith tf.control_dependencies([apply_gradient_op, variables_averages_op]):\n"
        "    train_op = tf.no_op(name='train')\n",
        "import tensorflow as tf\nwith tf.control_dependencies(update_ops):\n    train_op = opt.minimize(loss)\n",
        # SSD-Tensorflow's streaming metrics: the value handed back is the dependencies themselves.
        "import tensorflow as tf\nwith ops.control_dependencies([nobjects_op, tp_op]):\n"
        "    update_op = (nobjects_op, tp_op)\n",
        # Clearing the dependencies, a context manager that yields, an operator on a tensor.
        "import tensorflow as tf\nwith tf.control_dependencies(None):\n    v = x\n",
        "import tensorflow as tf\ndef deps(ops):\n    with tf.control_dependencies(ops):\n        yield\n",
        "import tensorflow as tf\nwith tf.control_dependencies([inc]):\n    y = x + 0\n",
    ]
    for source in sources:
        assert lint(source, "DL217") == [], source
