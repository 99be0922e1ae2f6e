"""DL206 assign-op-per-call: weight loaders that build an assign op and a constant per array."""

from lintutil import fixes, lines, messages


def test_alexnet_style_weight_loader():
    source = '''
        import numpy as np
        import tensorflow as tf

        class AlexNet:
            def load_initial_weights(self, session):
                weights_dict = np.load(self.WEIGHTS_PATH, encoding="bytes", allow_pickle=True).item()
                for op_name in weights_dict:
                    if op_name in self.SKIP_LAYER:
                        continue
                    with tf.variable_scope(op_name, reuse=True):
                        for data in weights_dict[op_name]:
                            if len(data.shape) == 1:
                                var = tf.get_variable("biases", trainable=False)
                                session.run(var.assign(data))
                            else:
                                var = tf.get_variable("weights", trainable=False)
                                session.run(var.assign(data))
    '''
    assert lines(source, "DL206") == [15, 18]
    message = messages(source, "DL206")[0]
    assert "a constant holding a copy of `data`" in message and "`var.load(data, session)`" in message


def test_the_fix_loads_through_the_variable():
    source = '''
        import numpy as np
        import tensorflow.compat.v1 as tf
        weights = np.load("vgg16.npz")
        for name in weights:
            sess.run(variables[name].assign(weights[name]))
    '''
    ((applicability, rendered, fixed),) = fixes(source, "DL206")
    assert applicability == "unsafe"
    assert rendered == ["variables[name].load(weights[name], sess)"]
    assert "    variables[name].load(weights[name], sess)\n" in fixed


def test_tf_assign_of_a_transposed_caffe_array_and_a_checkpoint_reader():
    source = '''
        import numpy as np
        import tensorflow.compat.v1 as tf

        def load_caffe(sess, path):
            data = np.load(path, allow_pickle=True, encoding="latin1").item()
            ops = []
            for key, value in data.items():
                ops.append(tf.assign(tf.get_variable(key + "/W"), np.transpose(value[0], (2, 3, 1, 0))))
            sess.run(ops)

        def copy_from(sess, ckpt):
            reader = tf.train.NewCheckpointReader(ckpt)
            for name in reader.get_variable_to_shape_map():
                pass
            for key in sorted(reader.get_variable_to_shape_map()):
                value = reader.get_tensor(key)
                sess.run(tf.assign(lookup[key], value))
    '''
    # The second loop iterates over the reader's names, not over loaded data: its assign is
    # left to DL202, which knows whether that loop repeats.
    assert lines(source, "DL206") == [9]
    assert fixes(source, "DL206") == []  # not the `sess.run(var.assign(x))` statement


def test_must_not_fire():
    sources = [
        # Fed through one placeholder and one assign op, or loaded without an op.
        '''
        import numpy as np
        import tensorflow.compat.v1 as tf
        weights = np.load(path, allow_pickle=True).item()
        value_in = tf.placeholder(tf.float32)
        setters = {name: tf.assign(variables[name], value_in, validate_shape=False) for name in weights}
        for name, value in weights.items():
            sess.run(setters[name], feed_dict={value_in: value})
        ''',
        '''
        import numpy as np
        import tensorflow.compat.v1 as tf
        weights = np.load(path, allow_pickle=True).item()
        for name, value in weights.items():
            variables[name].load(value, sess)
        ''',
        # An assign of a tensor, not of loaded data; one outside any loop.
        '''
        import numpy as np
        import tensorflow.compat.v1 as tf
        weights = np.load(path, allow_pickle=True).item()
        for name in weights:
            sess.run(variables[name].assign(variables[name] * 0.5))
        sess.run(lr.assign(weights["lr"]))
        ''',
        # TF2 eager: `assign` writes into the variable.
        '''
        import numpy as np
        import tensorflow as tf
        weights = np.load(path, allow_pickle=True).item()
        for layer in model.layers:
            for var, value in zip(layer.weights, weights[layer.name]):
                var.assign(value)
        ''',
        # pandas' assign.
        '''
        import pandas as pd
        import tensorflow.compat.v1 as tf
        frames = pd.read_pickle(path)
        for name, df in frames.items():
            df = df.assign(total=df.a + df.b)
        ''',
    ]
    for source in sources:
        assert lines(source, "DL206") == [], source
