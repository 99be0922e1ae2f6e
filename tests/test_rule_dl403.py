"""DL403 log-of-probability: the GAN discriminator loss, hand-written cross entropies, and safe forms."""

from lintutil import lines, lint, messages


def test_gan_discriminator_casebook_case():
    source = '''
        import tensorflow.compat.v1 as tf

        def discriminator(x):
            D_h1 = tf.nn.relu(tf.matmul(x, D_W1) + D_b1)
            D_logit = tf.matmul(D_h1, D_W2) + D_b2
            D_prob = tf.nn.sigmoid(D_logit)
            return D_prob, D_logit

        D_real, D_logit_real = discriminator(X)
        D_fake, D_logit_fake = discriminator(G_sample)

        D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))
        G_loss = -tf.reduce_mean(tf.log(D_fake))
    '''
    assert lint(source, "DL403") == [(13, 26, "DL403"), (13, 43, "DL403"), (14, 26, "DL403")]
    message = messages(source, "DL403")[0]
    assert "sigmoid" in message and "NaN" in message and "sigmoid_cross_entropy_with_logits" in message


def test_the_with_logits_fix_is_clean():
    source = '''
        import tensorflow.compat.v1 as tf
        D_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            logits=D_logit_real, labels=tf.ones_like(D_logit_real)))
        D_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            logits=D_logit_fake, labels=tf.zeros_like(D_logit_fake)))
    '''
    assert lint(source, "DL403") == []


def test_mnist_beginner_cross_entropy():
    source = '''
        import tensorflow.compat.v1 as tf
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.nn.softmax(tf.matmul(x, W) + b)
        y_ = tf.placeholder(tf.float32, [None, 10])
        cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    '''
    assert lines(source, "DL403") == [6]
    (message,) = messages(source, "DL403")
    assert "softmax" in message and "softmax_cross_entropy_with_logits" in message


def test_every_framework_and_form():
    cases = [
        "import torch\nimport torch.nn.functional as F\nlogp = torch.log(F.softmax(out, dim=1))\n",
        "import torch\np = torch.sigmoid(logits)\nloss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n",
        "import torch\nlogp = out.softmax(dim=-1).log()\n",
        "import numpy as np\nfrom scipy.special import expit\nll = np.log(expit(z))\n",
        "import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\nll = np.log(sigmoid(z))\n",
        "import tensorflow as tf\nprobs = tf.math.sigmoid(logits)\nll = tf.math.log(probs)\n",
        "from tensorflow.keras import backend as K\nll = K.log(K.softmax(x))\n",
    ]
    for source in cases:
        assert lint(source, "DL403") != [], source


def test_hand_written_cross_entropy_on_unknown_probabilities():
    cases = [
        "import torch\nloss = -(target * torch.log(pred)).sum(dim=1).mean()\n",
        "import torch\nloss = torch.mean(torch.sum(-target * torch.log(pred), dim=1))\n",
        "import numpy as np\nloss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))\n",
        "import tensorflow.compat.v1 as tf\nloss = -tf.reduce_sum(labels * tf.log(predictions))\n",
    ]
    for source in cases:
        assert lint(source, "DL403") != [], source
    (message,) = messages(cases[0], "DL403")
    assert "hand-written cross entropy" in message


def test_the_function_may_come_after_its_use():
    source = '''
        import tensorflow.compat.v1 as tf

        def build_loss(x, g):
            d_real, _ = discriminator(x)
            return -tf.reduce_mean(tf.log(d_real))

        def discriminator(x):
            logit = dense(x)
            return tf.nn.sigmoid(logit), logit
    '''
    assert lines(source, "DL403") == [6]


def test_must_not_fire():
    sources = [
        "import torch.nn.functional as F\nlogp = F.log_softmax(logits, dim=-1)\n",
        "import torch.nn.functional as F\nls = F.logsigmoid(x)\n",
        "import tensorflow as tf\nloss = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)\n",
        # Guarded by an epsilon or a clip.
        "import torch\np = torch.sigmoid(z)\nll = torch.log(p + 1e-7)\n",
        "import tensorflow.compat.v1 as tf\ny = tf.nn.softmax(z)\n"
        "ce = -tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))\n",
        "import torch\np = pred.clamp(min=1e-6)\nloss = -(t * torch.log(p)).sum()\n",
        "import numpy as np\noutput = np.clip(output, eps, 1 - eps)\nloss = -np.sum(target * np.log(output))\n",
        # Logs of things that are not probabilities.
        "import numpy as np\nlr = np.log(base_lr)\n",
        "import torch\nlog_var = torch.log(sigma ** 2)\n",
        "import numpy as np\nsnr = np.sum(np.log(power))\n",
        # A log-likelihood with a plus sign is not a cross entropy.
        "import numpy as np\nll = np.sum(y * np.log(p))\n",
        # A logger's log.
        "import logging\nlogger.log(logging.INFO, softmax_out)\n",
        # Another function's probabilities do not leak.
        "import torch\ndef f(z):\n    p = torch.sigmoid(z)\n    return p\ndef g(p):\n    return torch.log(p)\n",
        "import torch\np = torch.sigmoid(z)\np = calibrate(p)\nll = torch.log(p)\n",
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source


def test_log2_and_log10_in_a_hand_written_cross_entropy():
    for log in ("np.log2", "np.log10", "torch.log2"):
        source = f"import numpy as np\nimport torch\nloss = -np.sum(y * {log}(p))\n"
        assert lines(source, "DL403") == [3], log


# -- a log that only scores candidates at decode time -------------------------------------------


def test_beam_search_and_sampling_scores_are_not_losses():
    sources = [
        '''
        import torch
        import torch.nn.functional as F

        def beam_search(decoder, hidden, beam_size, max_len):
            beam_scores = torch.zeros(beam_size)
            tokens = torch.full((beam_size, 1), BOS)
            for _ in range(max_len):
                logits, hidden = decoder(tokens[:, -1], hidden)
                log_probs = torch.log(F.softmax(logits, dim=-1))
                scores = beam_scores.unsqueeze(1) + log_probs
                beam_scores, flat_ids = scores.view(-1).topk(beam_size)
                tokens = torch.cat([tokens[flat_ids // VOCAB], (flat_ids % VOCAB).unsqueeze(1)], dim=1)
            return tokens, beam_scores
        ''',
        '''
        import tensorflow.compat.v1 as tf

        def sample(logits, temperature):
            probs = tf.nn.softmax(logits / temperature)
            return tf.multinomial(tf.log(probs), num_samples=1)
        ''',
        '''
        import numpy as np

        def greedy_step(probs, k):
            log_probs = np.log(probs_of(probs))
            order = np.argsort(-log_probs)[:k]
            return order, log_probs[order]

        def probs_of(p):
            return np.exp(p) / np.sum(np.exp(p))
        ''',
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source


def test_a_decoding_step_followed_into_its_callers():
    decoder = '''
        import torch
        import torch.nn.functional as F

        class Decoder(torch.nn.Module):
            def step(self, token, state):
                logits, state = self.cell(self.embed(token), state)
                log_probs = torch.log(F.softmax(self.out(logits), dim=-1))
                return log_probs, state

            def beam_search(self, state, beam_size, steps):
                scores = torch.zeros(beam_size)
                for _ in range(steps):
                    log_probs, state = self.step(self.last, state)
                    total = scores[:, None] + log_probs
                    scores, ids = total.view(-1).topk(beam_size)
                return ids
        '''
    assert lint(decoder, "DL403") == []
    trained_too = decoder + '''
            def loss(self, tokens, state):
                log_probs, _ = self.step(tokens[:-1], state)
                return F.nll_loss(log_probs, tokens[1:])
        '''
    assert lines(trained_too, "DL403") == [8]


def test_the_same_log_in_a_loss_is_still_reported():
    source = '''
        import torch
        import torch.nn.functional as F

        def train_step(model, x, y):
            log_probs = torch.log(F.softmax(model(x), dim=-1))
            loss = F.nll_loss(log_probs, y)
            predicted = log_probs.argmax(dim=1)
            loss.backward()
            return loss, predicted
    '''
    assert lines(source, "DL403") == [6]
    sampler_with_a_loss = '''
        import tensorflow.compat.v1 as tf
        probs = tf.nn.softmax(logits)
        log_probs = tf.log(probs)
        action = tf.multinomial(log_probs, 1)
        policy_loss = -tf.reduce_mean(tf.reduce_sum(log_probs * actions_one_hot, axis=1) * advantages)
    '''
    assert lines(sampler_with_a_loss, "DL403") == [4]


# -- a sigmoid / softmax given to a layer as its activation ------------------------------------


def test_activation_argument_of_a_tensorflow_layer():
    sources = {
        "positional": "D_prob = tf.layers.dense(h, 1, tf.nn.sigmoid)\n",
        "keyword": "D_prob = tf.layers.dense(h, 1, activation=tf.sigmoid)\n",
        "contrib": "D_prob = tf.contrib.layers.fully_connected(h, 1, activation_fn=tf.nn.sigmoid)\n",
    }
    for form, layer in sources.items():
        source = (
            "import tensorflow.compat.v1 as tf\n"
            "h = tf.layers.dense(x, 128, activation=tf.nn.relu)\n"
            f"{layer}"
            "D_loss = -tf.reduce_mean(y * tf.log(D_prob) + (1. - y) * tf.log(1. - D_prob))\n"
        )
        assert lines(source, "DL403") == [4, 4], form
        message = messages(source, "DL403")[0]
        assert "drop the activation" in message and "sigmoid_cross_entropy_with_logits" in message, form


def test_activation_argument_of_a_keras_layer():
    source = '''
        import tensorflow as tf
        from tensorflow.keras import layers

        inputs = tf.keras.Input(shape=(784,))
        hidden = layers.Dense(256, activation="relu")(inputs)
        probs = layers.Dense(10, activation="softmax")(hidden)
        cross_entropy = -tf.reduce_sum(labels * tf.math.log(probs), axis=1)

        classifier = tf.keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(1, activation="sigmoid")])
        p_real = classifier(real_batch)
        bce = -tf.reduce_mean(tf.math.log(p_real))
    '''
    assert lines(source, "DL403") == [8, 12]
    softmax, sigmoid = messages(source, "DL403")
    assert "softmax output" in softmax and "drop the activation" in softmax and "log_softmax" in softmax
    assert "sigmoid output" in sigmoid and "sigmoid_cross_entropy_with_logits" in sigmoid


def test_other_activations_and_logits_layers_are_not_reported():
    sources = [
        # relu / softplus outputs are not probabilities
        "import tensorflow.compat.v1 as tf\nrate = tf.layers.dense(h, 1, tf.nn.softplus)\nll = tf.log(rate + 1e-6)\n",
        "import tensorflow.compat.v1 as tf\nh = tf.layers.dense(x, 64, activation=tf.nn.relu)\nz = tf.log(h)\n",
        # the fix: the layer returns logits and the loss takes them
        "import tensorflow.compat.v1 as tf\nD_logit = tf.layers.dense(h, 1)\n"
        "D_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=D_logit))\n",
        "from tensorflow.keras import layers\nimport tensorflow as tf\nout = layers.Dense(1, activation='tanh')(h)\n"
        "ll = tf.math.log((out + 1.) / 2.)\n",
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source


# -- a sigmoid / softmax as a model's last layer ------------------------------------------------


def test_sequential_ending_in_sigmoid_reports_both_terms():
    source = '''
        import torch

        linear = torch.nn.Linear(2, 1, bias=True)
        sigmoid = torch.nn.Sigmoid()
        model = torch.nn.Sequential(linear, sigmoid)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

        for step in range(1001):
            optimizer.zero_grad()
            hypothesis = model(X)
            cost = -(Y * torch.log(hypothesis) + (1 - Y)
                     * torch.log(1 - hypothesis)).mean()
            cost.backward()
            optimizer.step()
    '''
    assert lines(source, "DL403") == [12, 13]
    message = messages(source, "DL403")[0]
    assert "sigmoid output" in message and "drop the final sigmoid" in message and "BCEWithLogitsLoss" in message


def test_sequential_ending_in_softmax():
    source = '''
        import torch
        from torch import nn

        model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
        hypothesis = model(X)
        cost = -Y * torch.log(hypothesis)
        cost = torch.sum(cost, 1).mean()
    '''
    assert lines(source, "DL403") == [7]
    (message,) = messages(source, "DL403")
    assert "softmax output" in message and "F.cross_entropy" in message


def test_discriminator_class_whose_forward_ends_in_sigmoid():
    source = '''
        import torch
        import torch.nn as nn

        class Discriminator(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = nn.Sequential(
                    nn.Linear(784, 256),
                    nn.LeakyReLU(0.2),
                    nn.Linear(256, 1),
                    nn.Sigmoid(),
                )

            def forward(self, img):
                validity = self.model(img.view(img.size(0), -1))
                return validity

        class Critic(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(784, 1)

            def forward(self, x):
                return torch.sigmoid(self.fc(x))

        discriminator = Discriminator()
        critic = Critic()

        def train_step(real, fake):
            d_loss = -torch.mean(torch.log(discriminator(real)) + torch.log(1 - discriminator(fake)))
            c_loss = -torch.log(critic(real)).mean()
            return d_loss + c_loss
    '''
    assert lint(source, "DL403") == [(31, 26, "DL403"), (31, 59, "DL403"), (32, 15, "DL403")]
    first, _, third = messages(source, "DL403")
    assert "`Discriminator`" in first and "drop the final sigmoid" in first
    assert "`Critic`" in third and "torch.sigmoid" in third


def test_models_that_return_logits_are_not_reported():
    sources = [
        '''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Discriminator(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

            def forward(self, img):
                return self.model(img)

        D = Discriminator()
        d_loss = F.binary_cross_entropy_with_logits(D(real), torch.ones(n, 1))
        ''',
        # A model ending in Sigmoid whose log is offset by an epsilon.
        "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())\n"
        "h = model(X)\ncost = -(Y * torch.log(h + 1e-7)).mean()\n",
        # nn.BCELoss clamps its log; no log here.
        "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())\n"
        "cost = nn.BCELoss()(model(X), Y)\n",
        # A model ending in ReLU: not a probability, not unbounded below.
        "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(2, 1), nn.ReLU())\nz = torch.log(model(X))\n",
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source


def test_unknown_model_output_in_a_hand_written_cross_entropy():
    source = '''
        import torch
        model = torch.load("model.pt")
        hypothesis = model(X)
        cost = -(Y * torch.log(hypothesis) + (1 - Y) * torch.log(1 - hypothesis)).mean()
    '''
    assert lint(source, "DL403") == [(5, 14, "DL403"), (5, 48, "DL403")]
    first, second = messages(source, "DL403")
    assert "hand-written cross entropy" in first and "binary_cross_entropy_with_logits" in first


# -- a hand-written sigmoid / softmax ------------------------------------------------------------


def test_hand_written_sigmoid():
    source = '''
        import tensorflow.compat.v1 as tf

        W = tf.Variable(tf.random_normal([16, 7]))
        b = tf.Variable(tf.random_normal([7]))

        def sigma(x):
            return 1. / (1. + tf.exp(-x))

        layer_1 = tf.matmul(X, W) + b
        y_pred = sigma(layer_1)
        loss_i = - target * tf.log(y_pred) - (1. - target) * tf.log(1. - y_pred)
        loss = tf.reduce_sum(loss_i)

        p = tf.div(1., 1. + tf.exp(-logits))
        nll = -tf.reduce_mean(tf.log(p))
    '''
    assert lines(source, "DL403") == [12, 12, 16]
    message = messages(source, "DL403")[0]
    assert "sigmoid output" in message and "1. / (1. + tf.exp(-x))" in message


def test_a_column_of_probabilities_is_still_probabilities():
    source = "import torch\nprobs = torch.softmax(logits, dim=1)\nloss = -torch.log(probs[:, 1]).mean()\n"
    assert lines(source, "DL403") == [3]


def test_hand_written_softmax():
    source = '''
        import tensorflow.compat.v1 as tf
        probs = tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=1, keepdims=True)
        loss = -tf.reduce_mean(tf.reduce_sum(y * tf.log(probs), axis=1))
    '''
    assert lines(source, "DL403") == [4]
    assert "softmax output" in messages(source, "DL403")[0]


def test_what_only_looks_like_a_sigmoid_is_not_reported():
    sources = [
        # softplus: log(1 + exp(x)) is a guarded log of a positive value
        "import tensorflow.compat.v1 as tf\nsp = tf.log(1. + tf.exp(x))\n",
        "import numpy as np\nratio = np.log(1. / (1. + count))\n",
        "import torch\nscale = torch.log(torch.exp(a) / torch.exp(b))\n",
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source


# -- the log of an unbounded (linear) output ----------------------------------------------------


def test_discriminator_without_a_sigmoid_casebook_case():
    source = '''
        import tensorflow.compat.v1 as tf

        D_W1 = tf.Variable(xavier_init([784, 128]))
        D_b1 = tf.Variable(tf.zeros(shape=[128]))
        D_W2 = tf.Variable(xavier_init([128, 1]))
        D_b2 = tf.Variable(tf.zeros(shape=[1]))

        def discriminator(x):
            D_h1 = tf.nn.relu(tf.matmul(x, D_W1) + D_b1)
            return tf.matmul(D_h1, D_W2) + D_b2

        D_real = discriminator(X)
        D_fake = discriminator(G_sample)
        D_loss = -tf.reduce_mean(tf.log(D_real) + tf.log(1. - D_fake))
    '''
    assert lines(source, "DL403") == [15, 15]
    message = messages(source, "DL403")[0]
    assert "unbounded linear output" in message and "NaN" in message
    assert "sigmoid output" not in message and "sigmoid_cross_entropy_with_logits" in message


def test_log_of_a_linear_layer_or_model():
    sources = [
        "import torch\nfrom torch import nn\nD = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 1))\n"
        "g_loss = -torch.mean(torch.log(D(fake)))\n",
        "import tensorflow.compat.v1 as tf\nout = tf.layers.dense(h, 1)\nloss = -tf.reduce_mean(tf.log(out))\n",
        "import tensorflow.compat.v1 as tf\n"
        "weights = {'h1': tf.Variable(tf.random_normal([784, 256])), 'out': tf.Variable(tf.random_normal([256, 1]))}\n"
        "out = tf.add(tf.matmul(h, weights['out']), b)\nloss = -tf.reduce_mean(tf.log(out))\n",
    ]
    for source in sources:
        (message,) = messages(source, "DL403")
        assert "unbounded linear output" in message, source


def test_products_of_probabilities_are_not_linear_outputs():
    sources = [
        # a mixture: attention weights times a copy distribution, both probabilities
        "import torch\nmixed = torch.bmm(attn.unsqueeze(1), copy_probs).squeeze(1)\nll = torch.log(mixed + 1e-10)\n",
        "import tensorflow.compat.v1 as tf\nmix = tf.matmul(weights, component_probs)\nll = tf.log(mix)\n",
        "import numpy as np\nloss = -np.mean(np.log(np.dot(a, b)))\n",
    ]
    for source in sources:
        assert lint(source, "DL403") == [], source
