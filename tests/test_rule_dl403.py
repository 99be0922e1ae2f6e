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
