"""DL404 softmax-before-cross-entropy: probabilities into losses that apply the softmax themselves."""

from lintutil import fixes, lines, messages


def test_auxiliary_classifier_head_ending_in_softmax():
    source = '''
        import torch
        import torch.nn as nn

        class Discriminator(nn.Module):
            def __init__(self, n_classes):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2))
                self.adv_head = nn.Sequential(nn.Linear(64 * 16 * 16, 1), nn.Sigmoid())
                self.cls_head = nn.Sequential(nn.Linear(64 * 16 * 16, n_classes), nn.Softmax(dim=1))

            def forward(self, img):
                h = self.features(img).flatten(1)
                return self.adv_head(h), self.cls_head(h)

        adversarial_loss = nn.BCELoss()
        class_loss = nn.CrossEntropyLoss()
        D = Discriminator(10).cuda()
        for imgs, labels in loader:
            validity, class_scores = D(imgs)
            loss = adversarial_loss(validity, real) + class_loss(class_scores, labels)
    '''
    assert lines(source, "DL404") == [21]
    (message,) = messages(source, "DL404")
    assert "`CrossEntropyLoss` applies the softmax" in message and "Discriminator" in message
    assert "drop the final softmax so that the model returns logits" in message


def test_the_same_head_returning_logits_is_quiet():
    source = '''
        import torch.nn as nn
        import torch.nn.functional as F

        class Discriminator(nn.Module):
            def __init__(self, n_classes):
                super().__init__()
                self.cls_head = nn.Linear(1024, n_classes)

            def forward(self, h):
                return self.cls_head(h)

            def predict(self, h):
                return F.softmax(self.cls_head(h), dim=1)

        class_loss = nn.CrossEntropyLoss()
        D = Discriminator(10)
        loss = class_loss(D(h), labels)
    '''
    assert lines(source, "DL404") == []


def test_forward_that_returns_softmax_only_at_eval_time_is_quiet():
    source = '''
        import torch.nn as nn
        import torch.nn.functional as F

        class Classifier(nn.Module):
            def forward(self, x):
                logits = self.fc(x)
                if self.training:
                    return logits
                return F.softmax(logits, dim=1)

        model = Classifier()
        loss = F.cross_entropy(model(x), y)
    '''
    assert lines(source, "DL404") == []


def test_forward_ending_in_softmax_and_a_lightning_step():
    source = '''
        import torch
        import torch.nn.functional as F
        import pytorch_lightning as pl

        class LitClassifier(pl.LightningModule):
            def forward(self, x):
                x = torch.relu(self.l1(x))
                return torch.softmax(self.l2(x), dim=-1)

            def training_step(self, batch, batch_idx):
                x, y = batch
                probs = self(x)
                return F.cross_entropy(probs, y)
    '''
    assert lines(source, "DL404") == [14]


def test_direct_softmax_argument_and_its_fix():
    source = '''
        import torch.nn.functional as F
        loss = F.cross_entropy(F.softmax(out, dim=1), target)
    '''
    assert lines(source, "DL404") == [3]
    ((applicability, rendered, fixed),) = fixes(source, "DL404")
    assert applicability == "unsafe" and rendered == ["out"]
    assert "F.cross_entropy(out, target)" in fixed


def test_tensor_method_through_value_keeping_calls():
    source = '''
        import torch.nn as nn
        criterion = nn.CrossEntropyLoss()
        scores = logits.softmax(dim=-1)
        loss = criterion(scores.view(-1, n_classes), targets.view(-1))
    '''
    assert lines(source, "DL404") == [5]
    assert fixes(source, "DL404") == []  # the softmax is not the argument itself


def test_a_name_bound_in_one_branch_only_is_quiet():
    sources = [
        '''
        import torch.nn.functional as F
        if use_probs:
            out = F.softmax(logits, dim=1)
        else:
            out = logits
        loss = F.cross_entropy(out, y)
        ''',
        '''
        import torch.nn.functional as F
        out = F.softmax(logits, dim=1)
        if calibrate:
            out = logits / temperature
        loss = F.cross_entropy(out, y)
        ''',
        '''
        import torch.nn.functional as F
        probs = F.softmax(logits, dim=1)
        probs = torch.log(probs)
        loss = F.nll_loss(probs, y)
        ''',
    ]
    for source in sources:
        assert lines(source, "DL404") == [], source


def test_log_softmax_into_cross_entropy_is_only_redundant():
    source = '''
        import torch.nn as nn
        import torch.nn.functional as F
        criterion = nn.CrossEntropyLoss()
        loss = criterion(F.log_softmax(logits, dim=1), y) + F.cross_entropy(logits.log_softmax(-1), y)
    '''
    assert lines(source, "DL404") == []


def test_sigmoid_into_bce_with_logits():
    source = '''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        criterion = nn.BCEWithLogitsLoss()
        d_real = torch.sigmoid(netD(real))
        loss = criterion(d_real, ones) + F.binary_cross_entropy_with_logits(netD(fake).sigmoid(), zeros)
        ok = nn.BCELoss()(torch.sigmoid(netD(fake)), zeros)
    '''
    assert lines(source, "DL404") == [7, 7]
    assert all("sigmoid is applied twice" in message for message in messages(source, "DL404"))


def test_a_softmax_into_bce_with_logits_is_another_matter():
    source = '''
        import torch
        import torch.nn as nn
        loss = nn.BCEWithLogitsLoss()(torch.softmax(z, dim=1), onehot)
    '''
    assert lines(source, "DL404") == []


def test_tf1_softmax_output_as_logits():
    source = '''
        import tensorflow.compat.v1 as tf

        def conv_net(x, weights, biases):
            fc1 = tf.nn.relu(tf.matmul(x, weights["wd1"]) + biases["bd1"])
            out = tf.matmul(fc1, weights["out"]) + biases["out"]
            return tf.nn.softmax(out)

        pred = conv_net(X, weights, biases)
        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=Y))
        loss2 = tf.losses.sparse_softmax_cross_entropy(labels, tf.layers.dense(h, 10, activation=tf.nn.softmax))
    '''
    assert lines(source, "DL404") == [10, 11]
    first, second = messages(source, "DL404")
    assert "what `conv_net` returns" in first
    assert "drop the softmax activation" in second


def test_tf_logits_and_prediction_kept_apart_is_quiet():
    source = '''
        import tensorflow.compat.v1 as tf

        def conv_net(x):
            return tf.layers.dense(x, 10)

        logits = conv_net(X)
        prediction = tf.nn.softmax(logits)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=Y))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(prediction, 1), Y), tf.float32))
    '''
    assert lines(source, "DL404") == []


def test_keras_from_logits_on_a_softmax_model():
    source = '''
        import tensorflow as tf
        from tensorflow.keras import layers

        model = tf.keras.Sequential()
        model.add(layers.Flatten(input_shape=(28, 28)))
        model.add(layers.Dense(128, activation="relu"))
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(optimizer="adam",
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])

        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
    '''
    assert lines(source, "DL404") == [10, 15]
    assert "leave `from_logits` at its default" in messages(source, "DL404")[0]


def test_keras_models_that_return_logits_are_quiet():
    sources = [
        '''
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.Dense(128, activation="relu"), tf.keras.layers.Dense(10)])
        model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        ''',
        '''
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy")
        model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=False))
        ''',
        '''
        import tensorflow as tf
        model = tf.keras.Sequential()
        model.add(tf.keras.layers.Dense(10, activation="softmax"))
        if return_logits:
            model.add(tf.keras.layers.Dense(10))
        model.compile(loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True))
        ''',
    ]
    for source in sources:
        assert lines(source, "DL404") == [], source


def test_a_model_from_another_file_is_not_guessed():
    source = '''
        import torch.nn as nn
        from models import Net
        model = Net()
        loss = nn.CrossEntropyLoss()(model(x), y)
    '''
    assert lines(source, "DL404") == []
