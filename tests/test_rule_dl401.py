"""DL401 infinite-poll-loop: realistic cases and code that must not fire."""

from lintutil import lint, messages

IM2TXT_EVALUATE = '''
import time
import tensorflow as tf

def run():
    g = tf.Graph()
    with g.as_default():
        saver = tf.train.Saver()
        g.finalize()
        # Run a new evaluation run every eval_interval_secs.
        while True:
            start = time.time()
            tf.logging.info("Starting evaluation at " + time.strftime(
                "%Y-%m-%d-%H:%M:%S", time.localtime()))
            run_once(model, saver, summary_writer, summary_op)
            time_to_next_eval = start + FLAGS.eval_interval_secs - time.time()
            if time_to_next_eval > 0:
                time.sleep(time_to_next_eval)
'''


def test_im2txt_evaluate_casebook_case():
    assert lint(IM2TXT_EVALUATE, "DL401") == [(11, 15, "DL401")]
    (message,) = messages(IM2TXT_EVALUATE, "DL401")
    assert "time.sleep" in message and "Starting evaluation at" in message


def test_the_seed_fix_is_clean():
    fixed = IM2TXT_EVALUATE.replace(
        "        while True:\n",
        "        eval_once = FLAGS.eval_interval_secs == 0\n        while True:\n",
    ).replace(
        "            run_once(model, saver, summary_writer, summary_op)\n",
        "            run_once(model, saver, summary_writer, summary_op)\n            if eval_once:\n                break\n",
    )
    assert "break" in fixed
    assert lint(fixed, "DL401") == []


def test_mnist_eval_casebook_case():
    source = '''
        import time
        import tensorflow as tf

        def evaluate(mnist):
            saver = tf.train.Saver()
            while True:
                with tf.Session() as sess:
                    ckpt = tf.train.get_checkpoint_state("models/")
                    if ckpt and ckpt.model_checkpoint_path:
                        saver.restore(sess, ckpt.model_checkpoint_path)
                    else:
                        print("Checkpoint File Is Not Found")
                time.sleep(10)
    '''
    assert lint(source, "DL401") == [(7, 11, "DL401")]


def test_other_spellings():
    cases = [
        "import time\nwhile(True):\n    time.sleep(1)\n",
        "import time as t\nwhile 1:\n    t.sleep(1)\n",
        "import tensorflow as tf\nwhile True:\n    p = tf.train.latest_checkpoint(d)\n    evaluate(p)\n",
        "import asyncio\nasync def f():\n    while True:\n        await asyncio.sleep(1)\n",
        # An outer infinite loop around an inner one that does break.
        "import time\nwhile True:\n    while True:\n        break\n    time.sleep(1)\n",
    ]
    for source in cases:
        found = lint(source, "DL401")
        assert len(found) == 1, source


def test_loops_with_a_way_out_or_no_waiting_are_fine():
    sources = [
        "import time\nwhile True:\n    if done():\n        break\n    time.sleep(1)\n",
        "import time\ndef f():\n    while True:\n        if done():\n            return 1\n        time.sleep(1)\n",
        "import time\nwhile True:\n    try:\n        step()\n    except StopIteration:\n        raise\n    time.sleep(1)\n",
        "import time, sys\nwhile True:\n    time.sleep(1)\n    if stop():\n        sys.exit(0)\n",
        "import time, os\nwhile True:\n    time.sleep(1)\n    if stop():\n        os._exit(1)\n",
        "import time\ndef batches():\n    while True:\n        yield load()\n        time.sleep(0.01)\n",
        "import time\nwhile not coord.should_stop():\n    time.sleep(1)\n",
        "import time\nwhile step < max_steps:\n    time.sleep(1)\n",
        "while True:\n    serve_one_request()\n",
        "import time\nfor _ in range(10):\n    time.sleep(1)\n",
        "import time\nwhile False:\n    time.sleep(1)\n",
        # `sleep` of another module is not time.sleep.
        "import mylib\nwhile True:\n    mylib.sleep(1)\n    work()\n",
    ]
    for source in sources:
        assert lint(source, "DL401") == [], source


def test_noqa_on_the_while_line():
    assert lint("import time\nwhile True:  # noqa: DL401\n    time.sleep(1)\n", "DL401") == []


def test_only_the_thread_target_is_exempt():
    source = '''
        import threading
        import time

        def heartbeat():
            while True:
                time.sleep(30)
                ping()

        def evaluate_forever():
            while True:
                run_once()
                time.sleep(600)

        threading.Thread(target=heartbeat, daemon=True).start()
        evaluate_forever()
    '''
    assert lint(source, "DL401") == [(11, 11, "DL401")]


def test_threads_meant_to_run_as_long_as_the_process():
    sources = [
        # A reader thread started from a method.
        '''
        import threading
        import time

        class Prefetcher:
            def __init__(self, loader):
                self.loader = loader
                self.batch = None
                threading.Thread(target=self._refill, daemon=True).start()

            def _refill(self):
                while True:
                    if self.batch is None:
                        self.batch = next(self.loader)
                    time.sleep(0.01)
        ''',
        # A GPU monitor bound with partial.
        '''
        import functools
        import threading
        import time

        def log_gpu_memory(writer, every):
            while True:
                writer.add_scalar("gpu/mem", gpu_memory())
                time.sleep(every)

        monitor = threading.Thread(target=functools.partial(log_gpu_memory, writer, 30))
        monitor.daemon = True
        monitor.start()
        ''',
        # A Thread subclass: run() is the thread's whole life.
        '''
        import time
        from threading import Thread

        class Heartbeat(Thread):
            def run(self):
                while True:
                    touch("/tmp/alive")
                    time.sleep(60)
        ''',
        # Spawned through a multiprocessing context, a lambda, or _thread.
        '''
        import multiprocessing as mp
        import time

        def watch(path):
            while True:
                sync(path)
                time.sleep(5)

        ctx = mp.get_context("spawn")
        ctx.Process(target=watch, args=("ckpt/",), daemon=True).start()
        ''',
        '''
        import threading, time

        def beat(url):
            while True:
                ping(url)
                time.sleep(30)

        threading.Thread(target=lambda: beat(URL), daemon=True).start()
        ''',
        '''
        import _thread, time

        def beat():
            while True:
                ping()
                time.sleep(30)

        _thread.start_new_thread(beat, ())
        ''',
        # A producer feeding a queue: it lives as long as its consumer.
        '''
        import time

        def enqueue_batches(data_queue, reader):
            while True:
                if data_queue.full():
                    time.sleep(0.1)
                    continue
                data_queue.put(reader.next_batch())
        ''',
    ]
    for source in sources:
        assert lint(source, "DL401") == [], source


def test_not_every_method_or_put_is_a_thread():
    sources = [
        # `run` of a class that is not a Thread: an evaluator that never stops.
        '''
        import time

        class Evaluator:
            def run(self):
                while True:
                    self.evaluate_latest()
                    time.sleep(600)
        ''',
        # `requests.put` is an HTTP call, not a queue.
        '''
        import time
        import requests

        while True:
            requests.put(URL, json=evaluate())
            time.sleep(600)
        ''',
        # A function that a thread runs is exempt; the eval loop beside it is not.
        '''
        import threading
        import time

        class Trainer:
            def start(self):
                threading.Thread(target=self.heartbeat, daemon=True).start()

            def heartbeat(self):
                while True:
                    time.sleep(30)

            def evaluate_forever(self):
                while True:
                    self.run_once()
                    time.sleep(600)
        ''',
    ]
    for source in sources:
        assert len(lint(source, "DL401")) == 1, source
