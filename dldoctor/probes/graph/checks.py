"""The catalogue entries of `dldoctor graph`'s checks: what each checks, why, what users see, the fix.

`dldoctor explain graph.ops-created-in-loop` prints one; diagnosis.py emits only these ids.
"""

from dldoctor.verdict.catalogue import CheckDoc

CHECKS = (
    CheckDoc(
        "graph.script-failed", "the script ran to its end",
        "`graph run` only: whether the training script could be started and ended by itself (or was stopped by "
        "dldoctor once the growth was established). Fails when it could not start, raised, exited with a non-zero "
        "status, was killed by a signal, ran past --timeout, or ended before the instrumentation could report.",
        "A script that fails before its loop says nothing about its graph: the measurement is incomplete.",
        "Traceback (most recent call last): ...",
        "Fix the error the script raised (its traceback is shown), or give it a larger --timeout or a smaller --steps.",
    ),
    CheckDoc(
        "graph.ops-created-in-loop", "a TF1 graph grows at every Session.run",
        "`graph run` on TF1 code: counts the ops of each graph at every Session.run and fails when ops keep being "
        "added after the warm-up runs; names the lines that create them (TensorFlow's creation traceback of each op), "
        "what they are (NumPy arrays embedded as constants, summaries, Savers, variables) and when the serialized "
        "graph reaches protobuf's 2 GB limit. Ok when the graph stays the same size.",
        "Each step's new ops make every Session.run slower and the saved .meta larger until the GraphDef passes 2 GB "
        "and TensorFlow crashes.",
        "ValueError: GraphDef cannot be larger than 2GB.\n"
        "[libprotobuf FATAL ...] CHECK failed: (byte_size_before_serialization) == (byte_size_after_serialization)",
        "Build every op once, before the loop (feed changing values through a tf.placeholder), and call "
        "`sess.graph.finalize()` before the loop: an op created after it raises "
        "`RuntimeError: Graph is finalized and cannot be modified` at the line that creates it.",
    ),
    CheckDoc(
        "graph.tf-function-retracing", "a tf.function retraces",
        "`graph run` on TF2 code: counts the traces of each tf.function per call and fails when one traces again on "
        "later calls, with why (a Python value, a new shape, a new object in the trace key). Ok when no function "
        "retraces.",
        "Every retrace rebuilds and recompiles the graph: steps become many times slower and memory grows with the "
        "cached concrete functions.",
        "WARNING:tensorflow:5 out of the last 5 calls to <function f> triggered tf.function retracing. Tracing is expensive",
        "Pass tensors, not Python numbers; give a shape-generic input_signature (or reduce_retracing=True); pass the "
        "same objects each call.",
    ),
    CheckDoc(
        "graph.tf-function-created-in-loop", "a new tf.function on every call",
        "`graph run` on TF2 code: fails when the same line creates a new tf.function again and again, each traced "
        "anew.",
        "A tf.function created in the loop is never reused: every call pays a full trace.",
        "WARNING:tensorflow:... triggered tf.function retracing. ... (2) passing Python objects instead of tensors, "
        "or (1) creating @tf.function repeatedly in a loop",
        "Create the tf.function once, outside the loop (decorate the function at module level), and call that one.",
    ),
    CheckDoc(
        "graph.autograd-graph-kept", "a tensor keeps every step's autograd graph",
        "`graph run` on PyTorch code: follows the tensors that hold an autograd graph across backward steps and "
        "fails when one keeps growing (a running loss summed as a tensor, a list of losses). Ok when none grows.",
        "The kept graph holds every step's activations: memory grows until CUDA runs out.",
        "RuntimeError: CUDA out of memory. Tried to allocate ...",
        "Accumulate a number, not the tensor: `total += loss.item()` (or `loss.detach()`).",
    ),
    CheckDoc(
        "graph.nothing-observed", "no graph execution observed",
        "`graph run`: skipped when the script ran no Session.run, tf.function call or backward step: nothing was "
        "measured.",
        "A clean verdict on a script that never reached its loop would be no verdict at all.",
        "", "Run the script with the arguments that start training (after `--`).",
    ),
    CheckDoc(
        "graph.instrumentation", "the instrumentation worked",
        "`graph run`: warns when part of the instrumentation could not be installed or read in the script's "
        "process; what it reports may then be incomplete.",
        "A growth the instrumentation could not see is not reported.",
    ),
    CheckDoc(
        "graph.meta-too-large", "a .meta file of 2 GB or more",
        "`graph meta`: fails for a .meta file of 2 GB or more.",
        "Protobuf cannot parse a message that large: TensorFlow cannot import the graph, and restoring from it fails.",
        "google.protobuf.message.DecodeError: Error parsing message\n"
        "[libprotobuf FATAL ...] CHECK failed ... GraphDef cannot be larger than 2GB.",
        "Rebuild the graph from code and restore the variables with `saver.restore` (the .meta is not needed); stop "
        "the growth that made it (graph.saved-graph-grows).",
    ),
    CheckDoc(
        "graph.meta-unreadable", "a .meta file cannot be read",
        "`graph meta`: fails for a .meta file that is empty, truncated (its fields need more bytes than it has) or "
        "not a MetaGraphDef; such a file is never used as growth evidence.",
        "`tf.train.import_meta_graph` fails on it, and a restore from that checkpoint cannot rebuild its graph.",
        "google.protobuf.message.DecodeError: Error parsing message with type 'tensorflow.MetaGraphDef'",
        "Save the checkpoint again (a truncated file is usually a full disk or a job killed while saving).",
    ),
    CheckDoc(
        "graph.saved-graph-grows", "the graph saved with each checkpoint grows",
        "`graph meta`: compares the .meta files of a train dir step by step and fails when later checkpoints hold "
        "nodes the first one does not, naming the scopes and op kinds that grow and the step at which the file "
        "reaches 2 GB. Ok when every readable checkpoint holds the same graph; skipped with fewer than two readable "
        "files.",
        "A graph that grows between checkpoints is built inside the training loop: it ends in the 2 GB crash.",
        "ValueError: GraphDef cannot be larger than 2GB.",
        "Build every op once, before the loop, and `sess.graph.finalize()`; `saver.save(..., write_meta_graph=False)` "
        "after the first save also stops rewriting the graph.",
    ),
)
