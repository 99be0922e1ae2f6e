"""DL602 removed-api."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.installed import installed_version as _installed
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import catches
from dldoctor.lint.textscan import imports_any, uses_any
from dldoctor.lint.walk import child_nodes


@dataclass(frozen=True)
class Removed:
    """An API that a release removed, and what to write instead.

    `fix` says how to rewrite a use when the replacement is exact: `attr:NAME`
    (same module, new attribute), `builtin:NAME` (a builtin), `tf:SYMBOL` (another
    TensorFlow symbol, under the module path the code used). `safe` is False where
    the replacement behaves differently in some detail (`note` says how).
    """

    package: str
    removed_in: str
    replacement: str
    fix: str | None = None
    safe: bool = True
    note: str = ""


_SUMMARY_NOTE = "the first argument becomes the summary's name, prefixed by the name scope, instead of its tag"

# TensorFlow 1.0 renamed these (https://www.tensorflow.org/install/migration); no
# TensorFlow since has them, not even under `tf.compat.v1`. Keys are symbols
# without the module path.
TF_REMOVED = {
    "scalar_summary": Removed("TensorFlow", "1.0", "`tf.summary.scalar`", "tf:summary.scalar", False, _SUMMARY_NOTE),
    "histogram_summary": Removed("TensorFlow", "1.0", "`tf.summary.histogram`", "tf:summary.histogram", False, _SUMMARY_NOTE),
    "image_summary": Removed(
        "TensorFlow", "1.0", "`tf.summary.image`", "tf:summary.image", False, _SUMMARY_NOTE + "; `max_images` is `max_outputs`"
    ),
    "audio_summary": Removed(
        "TensorFlow", "1.0", "`tf.summary.audio`", "tf:summary.audio", False, _SUMMARY_NOTE + "; `max_images` is `max_outputs`"
    ),
    "merge_summary": Removed("TensorFlow", "1.0", "`tf.summary.merge`", "tf:summary.merge"),
    "merge_all_summaries": Removed("TensorFlow", "1.0", "`tf.summary.merge_all`", "tf:summary.merge_all"),
    "train.SummaryWriter": Removed("TensorFlow", "1.0", "`tf.summary.FileWriter`", "tf:summary.FileWriter"),
    "train.SummaryWriterCache": Removed("TensorFlow", "1.0", "`tf.summary.FileWriterCache`", "tf:summary.FileWriterCache"),
    "initialize_all_variables": Removed(
        "TensorFlow", "1.0", "`tf.global_variables_initializer`", "tf:global_variables_initializer"
    ),
    "initialize_local_variables": Removed(
        "TensorFlow", "1.0", "`tf.local_variables_initializer`", "tf:local_variables_initializer"
    ),
    "initialize_variables": Removed("TensorFlow", "1.0", "`tf.variables_initializer`", "tf:variables_initializer"),
    "initialize_all_tables": Removed("TensorFlow", "1.0", "`tf.tables_initializer`", "tf:tables_initializer"),
    "all_variables": Removed("TensorFlow", "1.0", "`tf.global_variables`", "tf:global_variables"),
    "mul": Removed("TensorFlow", "1.0", "`tf.multiply`", "tf:multiply"),
    "sub": Removed("TensorFlow", "1.0", "`tf.subtract`", "tf:subtract"),
    "neg": Removed("TensorFlow", "1.0", "`tf.negative`", "tf:negative"),
    "pack": Removed("TensorFlow", "1.0", "`tf.stack`", "tf:stack"),
    "unpack": Removed("TensorFlow", "1.0", "`tf.unstack`", "tf:unstack"),
    "select": Removed("TensorFlow", "1.0", "`tf.where`", "tf:where"),
    "listdiff": Removed("TensorFlow", "1.0", "`tf.setdiff1d`", "tf:setdiff1d"),
    "complex_abs": Removed("TensorFlow", "1.0", "`tf.abs`", "tf:abs"),
    "batch_matmul": Removed(
        "TensorFlow", "1.0", "`tf.matmul` (which batches; `adj_x`/`adj_y` are `adjoint_a`/`adjoint_b`)"
    ),
}

_BUILTIN_ALIAS = "NumPy's alias was the builtin itself"
# Full dotted names (after the module's imports) of other packages' removed APIs.
QUALIFIED_REMOVED = {
    # Pillow 10 removed the old resampling constants (deprecated in 9.1).
    "PIL.Image.ANTIALIAS": Removed("Pillow", "10.0", "`Image.LANCZOS` (the same filter)", "attr:LANCZOS"),
    "PIL.Image.LINEAR": Removed("Pillow", "10.0", "`Image.BILINEAR` (the same filter)", "attr:BILINEAR"),
    "PIL.Image.CUBIC": Removed("Pillow", "10.0", "`Image.BICUBIC` (the same filter)", "attr:BICUBIC"),
    # NumPy 1.24 removed the aliases of builtins deprecated in 1.20.
    "numpy.int": Removed("NumPy", "1.24", "the builtin `int` (or `np.int64` for a fixed width)", "builtin:int"),
    "numpy.float": Removed("NumPy", "1.24", "the builtin `float` (or `np.float64`)", "builtin:float"),
    "numpy.bool": Removed("NumPy", "1.24", "the builtin `bool` (or `np.bool_`)", "builtin:bool"),
    "numpy.object": Removed("NumPy", "1.24", "the builtin `object`", "builtin:object"),
    "numpy.str": Removed("NumPy", "1.24", "the builtin `str`", "builtin:str"),
    "numpy.complex": Removed("NumPy", "1.24", "the builtin `complex`", "builtin:complex"),
    # NumPy 2.0 removed these aliases (NEP 52).
    "numpy.unicode": Removed("NumPy", "2.0", "the builtin `str`", "builtin:str"),
    "numpy.float_": Removed("NumPy", "2.0", "`np.float64`", "attr:float64"),
    "numpy.complex_": Removed("NumPy", "2.0", "`np.complex128`", "attr:complex128"),
    "numpy.cfloat": Removed("NumPy", "2.0", "`np.complex128`", "attr:complex128"),
    "numpy.singlecomplex": Removed("NumPy", "2.0", "`np.complex64`", "attr:complex64"),
    "numpy.longfloat": Removed("NumPy", "2.0", "`np.longdouble`", "attr:longdouble"),
    "numpy.longcomplex": Removed("NumPy", "2.0", "`np.clongdouble`", "attr:clongdouble"),
    "numpy.clongfloat": Removed("NumPy", "2.0", "`np.clongdouble`", "attr:clongdouble"),
    "numpy.string_": Removed("NumPy", "2.0", "`np.bytes_`", "attr:bytes_"),
    "numpy.unicode_": Removed("NumPy", "2.0", "`np.str_`", "attr:str_"),
    "numpy.NaN": Removed("NumPy", "2.0", "`np.nan`", "attr:nan"),
    "numpy.NAN": Removed("NumPy", "2.0", "`np.nan`", "attr:nan"),
    "numpy.Inf": Removed("NumPy", "2.0", "`np.inf`", "attr:inf"),
    "numpy.Infinity": Removed("NumPy", "2.0", "`np.inf`", "attr:inf"),
    "numpy.infty": Removed("NumPy", "2.0", "`np.inf`", "attr:inf"),
    "numpy.PINF": Removed("NumPy", "2.0", "`np.inf`", "attr:inf"),
    "numpy.NINF": Removed("NumPy", "2.0", "`-np.inf`"),
    "numpy.product": Removed("NumPy", "2.0", "`np.prod`", "attr:prod"),
    "numpy.cumproduct": Removed("NumPy", "2.0", "`np.cumprod`", "attr:cumprod"),
    "numpy.sometrue": Removed("NumPy", "2.0", "`np.any`", "attr:any"),
    "numpy.alltrue": Removed("NumPy", "2.0", "`np.all`", "attr:all"),
    "numpy.round_": Removed("NumPy", "2.0", "`np.round`", "attr:round"),
    "numpy.mat": Removed("NumPy", "2.0", "`np.asmatrix`", "attr:asmatrix"),
    "numpy.asfarray": Removed("NumPy", "2.0", "`np.asarray(a, dtype=np.float64)`"),
    "numpy.msort": Removed("NumPy", "2.0", "`np.sort(a, axis=0)`"),
    "numpy.find_common_type": Removed("NumPy", "2.0", "`np.result_type` or `np.promote_types`"),
    # SciPy 1.3 removed the image helpers of scipy.misc (deprecated in 1.0), and 1.2 ndimage.imread.
    "scipy.misc.imread": Removed("SciPy", "1.3", "`imageio.v2.imread` (or `np.asarray(PIL.Image.open(path))`)"),
    "scipy.misc.imsave": Removed("SciPy", "1.3", "`imageio.imwrite` (or `PIL.Image.fromarray(arr).save(path)`)"),
    "scipy.misc.imresize": Removed(
        "SciPy", "1.3",
        "`np.array(PIL.Image.fromarray(arr).resize((width, height)))` (PIL takes (width, height); imresize also "
        "rescaled to uint8) or `skimage.transform.resize`",
    ),
    "scipy.misc.imrotate": Removed("SciPy", "1.3", "`scipy.ndimage.rotate` or `PIL.Image.rotate`"),
    "scipy.misc.imfilter": Removed("SciPy", "1.3", "`PIL.ImageFilter`"),
    "scipy.misc.toimage": Removed("SciPy", "1.3", "`PIL.Image.fromarray`"),
    "scipy.misc.fromimage": Removed("SciPy", "1.3", "`np.asarray(image)`"),
    "scipy.misc.bytescale": Removed("SciPy", "1.3", "`((a - a.min()) * 255 / (a.max() - a.min())).astype(np.uint8)`"),
    "scipy.misc.imshow": Removed("SciPy", "1.3", "`matplotlib.pyplot.imshow`"),
    "scipy.misc.logsumexp": Removed("SciPy", "1.3", "`scipy.special.logsumexp`"),
    "scipy.misc.comb": Removed("SciPy", "1.3", "`scipy.special.comb`"),
    "scipy.misc.factorial": Removed("SciPy", "1.3", "`scipy.special.factorial`"),
    "scipy.ndimage.imread": Removed("SciPy", "1.2", "`imageio.v2.imread`"),
}
_TF_MODULES = ("tensorflow", "tensorflow.compat.v1")
_REMOVED_OUTSIDE_TF = frozenset(QUALIFIED_REMOVED)
# np.bool came back in NumPy 2.0 (as np.bool_): only 1.24-1.26 lack it.
_BACK_IN = {"numpy.bool": (2, 0)}

# Distributions that install each package (read from metadata, never imported).
DISTRIBUTIONS = {
    "TensorFlow": (
        "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
        "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
    ),
    "NumPy": ("numpy",),
    "Pillow": ("pillow", "pillow-simd"),
    "SciPy": ("scipy",),
}

# TensorFlow 1 names that TensorFlow 2 no longer has at the top level or in the
# submodule named (they live on under `tf.compat.v1`): the names of the installed
# TensorFlow 2.21 `compat.v1` API less those of its v2 API.
_TF1_ONLY_TOP = frozenset(
    """
    AUTO_REUSE AttrValue COMPILER_VERSION CXX11_ABI_FLAG CXX_VERSION ConditionalAccumulator
    ConditionalAccumulatorBase ConfigProto Dimension Event FIFOQueue FixedLenFeature
    FixedLenSequenceFeature FixedLengthRecordReader GIT_VERSION GPUOptions GRAPH_DEF_VERSION
    GRAPH_DEF_VERSION_MIN_CONSUMER GRAPH_DEF_VERSION_MIN_PRODUCER GraphDef GraphKeys GraphOptions
    HistogramProto IdentityReader InteractiveSession LMDBReader LogMessage MONOLITHIC_BUILD MetaGraphDef
    NameAttrList NoGradient NodeDef NotDifferentiable OpError OptimizerOptions PaddingFIFOQueue Print
    PriorityQueue QUANTIZED_DTYPES QueueBase RandomShuffleQueue ReaderBase RunMetadata RunOptions
    Session SessionLog SparseConditionalAccumulator SparseFeature SparseTensorValue Summary
    SummaryMetadata TFRecordReader TensorInfo TextLineReader VERSION VarLenFeature VariableScope
    WholeFileReader accumulate_n add_check_numerics_ops add_to_collection add_to_collections
    all_variables angle app arg_max arg_min assert_greater_equal assert_integer assert_less_equal
    assert_near assert_negative assert_non_negative assert_non_positive assert_none_equal
    assert_positive assert_proper_iterable assert_rank_at_least assert_rank_in assert_same_float_dtype
    assert_scalar assert_type assert_variables_initialized assign assign_add assign_sub batch_gather
    batch_scatter_update batch_to_space_nd betainc bincount ceil check_numerics cholesky cholesky_solve
    clip_by_average_norm colocate_with confusion_matrix conj container control_flow_v2_enabled
    convert_to_tensor_or_indexed_slices convert_to_tensor_or_sparse_tensor count_nonzero count_up_to
    create_partitioned_variables cross cumprod decode_base64 decode_compressed decode_csv
    decode_json_example decode_raw delete_session_tensor depth_to_space dequantize
    deserialize_many_sparse diag diag_part digamma dimension_at_index dimension_value
    disable_control_flow_v2 disable_eager_execution disable_resource_variables disable_tensor_equality
    disable_v2_behavior disable_v2_tensorshape distributions div div_no_nan enable_control_flow_v2
    enable_eager_execution enable_resource_variables enable_tensor_equality enable_v2_behavior
    enable_v2_tensorshape encode_base64 erf erfc executing_eagerly_outside_functions expm1
    extract_image_patches fake_quant_with_min_max_args fake_quant_with_min_max_args_gradient
    fake_quant_with_min_max_vars fake_quant_with_min_max_vars_gradient
    fake_quant_with_min_max_vars_per_channel fake_quant_with_min_max_vars_per_channel_gradient fft fft2d
    fft3d fixed_size_partitioner flags floor_div floordiv floormod get_collection get_collection_ref
    get_default_graph get_default_session get_local_variable get_seed get_session_handle
    get_session_tensor get_variable get_variable_scope gfile global_norm global_variables
    global_variables_initializer glorot_normal_initializer glorot_uniform_initializer ifft ifft2d ifft3d
    igamma igammac imag initialize_all_tables initialize_all_variables initialize_local_variables
    initialize_variables invert_permutation is_finite is_inf is_nan is_non_decreasing is_numeric_tensor
    is_strictly_increasing is_variable_initialized layers lbeta lgamma lin_space
    load_file_system_library local_variables local_variables_initializer log log1p log_sigmoid logging
    logical_xor make_template manip matching_files matrix_band_part matrix_determinant matrix_diag
    matrix_diag_part matrix_inverse matrix_set_diag matrix_solve matrix_solve_ls matrix_transpose
    matrix_triangular_solve min_max_variable_partitioner mixed_precision mod model_variables
    moving_average_variables multinomial no_regularizer op_scope orthogonal_initializer parse_example
    parse_single_example parse_single_sequence_example parse_tensor placeholder placeholder_with_default
    polygamma py_func python_io qr quantize quantize_v2 quantized_concat random_crop random_gamma
    random_normal random_poisson random_shuffle random_uniform read_file real reciprocal reduce_join
    regex_replace report_uninitialized_variables reset_default_graph resource_loader
    resource_variables_enabled reverse_v2 rint rsqrt scatter_add scatter_div scatter_max scatter_min
    scatter_mul scatter_nd_add scatter_nd_sub scatter_nd_update scatter_sub scatter_update segment_max
    segment_mean segment_min segment_prod segment_sum self_adjoint_eig self_adjoint_eigvals
    serialize_many_sparse serialize_sparse serialize_tensor set_random_seed setdiff1d space_to_depth
    sparse_add sparse_concat sparse_fill_empty_rows sparse_mask sparse_matmul sparse_maximum
    sparse_merge sparse_minimum sparse_placeholder sparse_reduce_max sparse_reduce_max_sparse
    sparse_reduce_sum sparse_reduce_sum_sparse sparse_reorder sparse_reset_shape sparse_reshape
    sparse_retain sparse_segment_mean sparse_segment_sqrt_n sparse_segment_sum sparse_slice
    sparse_softmax sparse_split sparse_tensor_dense_matmul sparse_tensor_to_dense sparse_to_dense
    sparse_to_indicator sparse_transpose spectral squared_difference string_join string_split
    string_strip string_to_hash_bucket string_to_hash_bucket_fast string_to_hash_bucket_strong
    string_to_number substr svd tables_initializer tensor_scatter_add tensor_scatter_sub
    tensor_scatter_update to_bfloat16 to_complex128 to_complex64 to_double to_float to_int32 to_int64
    trace trainable_variables truncated_normal truncated_normal_initializer
    uniform_unit_scaling_initializer unsorted_segment_max unsorted_segment_mean unsorted_segment_min
    unsorted_segment_prod unsorted_segment_sqrt_n unsorted_segment_sum user_ops
    variable_axis_size_partitioner variable_op_scope variable_scope variables_initializer
    variance_scaling_initializer verify_tensor_all_finite where_v2 wrap_function write_file zeta
    """.split()
)
_TF1_ONLY_IN_MODULE = {
    "train": frozenset(
        """
        AdadeltaOptimizer AdagradDAOptimizer AdagradOptimizer AdamOptimizer CheckpointSaverHook
        CheckpointSaverListener ChiefSessionCreator FeedFnHook FinalOpsHook FtrlOptimizer
        GlobalStepWaiterHook GradientDescentOptimizer LoggingTensorHook LooperThread MomentumOptimizer
        MonitoredSession MonitoredTrainingSession NanLossDuringTrainingError NanTensorHook
        NewCheckpointReader Optimizer ProfilerHook ProximalAdagradOptimizer
        ProximalGradientDescentOptimizer QueueRunner RMSPropOptimizer Saver SaverDef Scaffold
        SecondOrStepTimer Server SessionCreator SessionManager SessionRunArgs SessionRunContext
        SessionRunHook SessionRunValues SingularMonitoredSession StepCounterHook StopAtStepHook
        SummarySaverHook Supervisor SyncReplicasOptimizer VocabInfo WorkerSessionCreator
        add_queue_runner assert_global_step basic_train_loop batch batch_join checkpoint_exists
        cosine_decay cosine_decay_restarts create_global_step do_quantize_training_on_graphdef
        exponential_decay export_meta_graph generate_checkpoint_state_proto get_checkpoint_mtimes
        get_global_step get_or_create_global_step global_step import_meta_graph init_from_checkpoint
        input_producer inverse_time_decay limit_epochs linear_cosine_decay match_filenames_once
        maybe_batch maybe_batch_join maybe_shuffle_batch maybe_shuffle_batch_join natural_exp_decay
        noisy_linear_cosine_decay piecewise_constant piecewise_constant_decay polynomial_decay
        queue_runner range_input_producer remove_checkpoint replica_device_setter sdca_fprint
        sdca_optimizer sdca_shrink_l1 shuffle_batch shuffle_batch_join slice_input_producer
        start_queue_runners string_input_producer summary_iterator update_checkpoint_state warm_start
        write_graph
        """.split()
    ),
    "summary": frozenset(
        """
        Event FileWriter FileWriterCache SessionLog Summary SummaryDescription TaggedRunMetadata
        all_v2_summary_ops get_summary_description initialize merge merge_all tensor_summary
        """.split()
    ),
    "nn": frozenset(
        """
        avg_pool_v2 bidirectional_dynamic_rnn conv2d_backprop_filter conv2d_backprop_input
        conv3d_backprop_filter conv3d_backprop_filter_v2 ctc_beam_search_decoder_v2 ctc_loss_v2
        depthwise_conv2d_native depthwise_conv2d_native_backprop_filter
        depthwise_conv2d_native_backprop_input dynamic_rnn fused_batch_norm
        log_uniform_candidate_sampler max_pool_v2 quantized_avg_pool quantized_conv2d quantized_max_pool
        quantized_relu_x raw_rnn relu_layer rnn_cell softmax_cross_entropy_with_logits_v2
        static_bidirectional_rnn static_rnn static_state_saving_rnn uniform_candidate_sampler xw_plus_b
        """.split()
    ),
    "image": frozenset(
        """
        extract_image_patches resize_area resize_bicubic resize_bilinear resize_image_with_crop_or_pad
        resize_image_with_pad resize_images resize_nearest_neighbor transpose_image
        """.split()
    ),
    "io": frozenset(
        """
        PaddingFIFOQueue PriorityQueue QueueBase RandomShuffleQueue TFRecordCompressionType
        tf_record_iterator
        """.split()
    ),
    "data": frozenset(
        """
        get_output_classes get_output_shapes get_output_types make_initializable_iterator
        make_one_shot_iterator
        """.split()
    ),
    "random": frozenset(
        """
        get_seed multinomial set_random_seed stateless_multinomial
        """.split()
    ),
    "saved_model": frozenset(
        """
        Builder LEGACY_INIT_OP_KEY MAIN_OP_KEY build_signature_def build_tensor_info builder
        classification_signature_def constants get_tensor_from_tensor_info is_valid_signature load_v2
        loader main_op main_op_with_restore maybe_saved_model_directory predict_signature_def
        regression_signature_def signature_constants signature_def_utils simple_save tag_constants utils
        """.split()
    ),
}


def installed_version(package: str) -> str | None:
    """The installed version of `package` (a key of DISTRIBUTIONS) from metadata; None if absent."""
    return _installed(*DISTRIBUTIONS.get(package, ()))


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def _installed_note(removed: Removed) -> str:
    version = installed_version(removed.package)
    if version is None:
        return ""
    if version_tuple(version) >= version_tuple(removed.removed_in):
        return f" ({removed.package} {version} is installed here)"
    return f" (the installed {removed.package} {version} still has it, deprecated)"


def _int_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        expr = expr.expression
    return isinstance(expr, cst.Integer)


def _positional(call: cst.Call) -> list[cst.Arg] | None:
    """The positional arguments, or None when a `*args`/`**kwargs` hides where they go."""
    if any(arg.star for arg in call.args):
        return None
    return [arg for arg in call.args if arg.keyword is None]


class RemovedApi(Rule):
    """
    ## What it does
    Finds uses of APIs that a release of TensorFlow, NumPy, Pillow or SciPy removed or
    renamed, with the version that removed them and the replacement:

    - TensorFlow 1.0 renames: `tf.scalar_summary`, `tf.histogram_summary`,
      `tf.image_summary`, `tf.audio_summary`, `tf.merge_summary`, `tf.merge_all_summaries`,
      `tf.train.SummaryWriter`, `tf.initialize_all_variables` (and its siblings),
      `tf.all_variables`, `tf.mul`/`tf.sub`/`tf.neg`, `tf.pack`/`tf.unpack`, `tf.select`;
      the old argument order `tf.concat(0, values)` / `tf.split(0, n, value)` and the
      keywords `concat_dim`, `split_dim`, `num_split`;
    - Pillow 10: `Image.ANTIALIAS`, `Image.LINEAR`, `Image.CUBIC`;
    - NumPy 1.24: `np.int`, `np.float`, `np.bool`, `np.object`, `np.str`, `np.complex`;
      NumPy 2.0: `np.float_`, `np.NaN`, `np.Inf`, `np.string_`, `np.unicode_`, `np.product`, ...;
    - SciPy 1.3: `scipy.misc.imread`/`imsave`/`imresize`/`imrotate`/... (and 1.2's
      `scipy.ndimage.imread`);
    - TensorFlow 1 names used from top-level `tf` under TensorFlow 2: `tf.Session`,
      `tf.placeholder`, `tf.gfile`, `tf.train.AdamOptimizer`, `tf.logging`, ... (every
      name the `tf.compat.v1` API has and the v2 API lacks). This one is reported once per
      module, at `import tensorflow as tf`, listing the names, and only where TensorFlow 2
      is installed (see below).

    Names are resolved through the module's imports (`from PIL import Image`,
    `import numpy as N`, `tf.compat.v1.`...); a `from numpy import float` is reported at
    the import, which is where it fails. When the package is installed, the message says
    which version is, read from package metadata (nothing is imported). Code that
    handles both versions is left alone: uses under `if hasattr(np, "float_"):` or a
    `__version__` test, in `try: ... except AttributeError/ImportError:`, an old name
    in the handler of a `try` whose body tried its replacement first (`try:
    tf.global_variables_initializer() except: tf.initialize_all_variables()`), and
    assignments (`np.object = object`, a compatibility patch).

    ## Why is this bad
    The code stops at the first use:

        AttributeError: module 'tensorflow' has no attribute 'scalar_summary'
        AttributeError: module 'PIL.Image' has no attribute 'ANTIALIAS'
        AttributeError: module 'numpy' has no attribute 'int'
        AttributeError: module 'scipy.misc' has no attribute 'imresize'

    Fine-tuning AlexNet from a 2016 tutorial on a newer TensorFlow fails on
    `tf.scalar_summary`; the EXIF-rotation snippet that everyone copies ends in
    `image.thumbnail(size, Image.ANTIALIAS)`, which Pillow 10 no longer has. `tf.concat(0,
    [a, b])`, written for TensorFlow 0.x, fails with `TypeError: Expected int32, got list
    containing Tensors of type '_Message' instead.`

    ## Example
    ```python
    tf.scalar_summary("loss", loss)
    writer = tf.train.SummaryWriter(log_dir, sess.graph)
    sess.run(tf.initialize_all_variables())
    image.thumbnail((256, 256), Image.ANTIALIAS)
    labels = labels.astype(np.int)
    ```

    ## Use instead
    ```python
    tf.summary.scalar("loss", loss)
    writer = tf.summary.FileWriter(log_dir, sess.graph)
    sess.run(tf.global_variables_initializer())
    image.thumbnail((256, 256), Image.LANCZOS)
    labels = labels.astype(int)
    ```
    For a TensorFlow 1 program under TensorFlow 2: `import tensorflow.compat.v1 as tf`
    and `tf.disable_v2_behavior()`, or port it (`tf_upgrade_v2`).

    **When TensorFlow 1 names count as removed.** `tf.Session` is fine under TensorFlow 1,
    so that check needs to know which TensorFlow runs the code. dldoctor reads the
    installed version from package metadata and reports only when it is 2 or later; when
    TensorFlow is not installed (or is 1.x) it says nothing, rather than guess. It
    considers only names reached through a real `import tensorflow` (not the
    conventional `tf` of a snippet without imports, and not `tensorflow.compat.v1`), and
    skips a module that also binds that name to `tf.compat.v1` (`try: import
    tensorflow.compat.v1 as tf`) or checks `tf.__version__`. `np.bool` is not reported
    when NumPy 2 is installed, where it exists again (as `np.bool_`).

    ## Fix safety
    Safe where the replacement is the same object under a new name: `tf.merge_all_summaries`,
    `tf.train.SummaryWriter`, `tf.initialize_all_variables` and the other initializers,
    `tf.mul`/`sub`/`neg`/`pack`/`unpack`/`select`, `Image.ANTIALIAS` -> `Image.LANCZOS`,
    `np.int` -> `int` (and the other builtins, which is what NumPy's aliases were),
    `np.float_` -> `np.float64` and the other NumPy 2.0 aliases, and the argument order of
    `tf.concat`/`tf.split` (the literal dimension moves behind the values; old keywords
    are renamed). Unsafe: `tf.scalar_summary` -> `tf.summary.scalar` and the other summary
    ops (the first argument becomes the summary's name, prefixed by the name scope,
    instead of its tag), and `import tensorflow as tf` -> `import tensorflow.compat.v1 as
    tf` for TensorFlow 1 code (graph mode also needs `tf.disable_v2_behavior()`). No fix
    where there is no drop-in replacement (`scipy.misc.imresize`, `np.NINF`, imports).
    """

    code = "DL602"
    name = "removed-api"
    severity = Severity.ERROR
    summary = "API removed or renamed by TensorFlow, NumPy, Pillow or SciPy: AttributeError at run time"
    # Every name this rule resolves is rooted in one of these (or the conventional `np`/`tf`);
    # the removed names themselves (`int`, `str`, ...) are too common to filter on.
    triggers = ("numpy", "tensorflow", "pil", "scipy")
    reads_installed = tuple(DISTRIBUTIONS.values())

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """Names resolve through imports: TensorFlow imported (its removed and TF1-only
        names are too many to list), or a removed NumPy, Pillow or SciPy name used
        through an import of its package."""
        if not super().could_fire(text, lowered):
            return False
        return imports_any(text, ("tensorflow",)) or uses_any(text, _REMOVED_OUTSIDE_TF)

    VALID = (
        "import tensorflow.compat.v1 as tf\ntf.summary.scalar('loss', loss)\nw = tf.summary.FileWriter(d)\n",
        "from PIL import Image\nimg = img.resize((224, 224), Image.LANCZOS)\n",
        "import numpy as np\nx = np.zeros(3, dtype=np.int64)\ny = x.astype(int)\n",
        "import tensorflow as tf\nx = tf.concat([a, b], 0)\ny = tf.concat([a, b], axis=1)\nz = tf.split(x, 2, 0)\n",
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nsess = tf.Session()\n",
        # Not numpy: a project's own module called np.
        "class np:\n    int = 3\nx = np.int\n",
    )
    INVALID = (
        "import tensorflow as tf\ntf.scalar_summary('loss', loss)\n",
        "import tensorflow as tf\nwriter = tf.train.SummaryWriter(log_dir, sess.graph)\n",
        "import tensorflow as tf\nsess.run(tf.initialize_all_variables())\n",
        "from PIL import Image\nimage.thumbnail((128, 128), Image.ANTIALIAS)\n",
        "import numpy as np\nlabels = labels.astype(np.int)\n",
        "from scipy import misc\nsmall = misc.imresize(img, (64, 64))\n",
        "import tensorflow as tf\nx = tf.concat(1, [a, b])\n",
        "from numpy import float\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._in_import = False
        self._tf1_chain: cst.Attribute | None = None
        self._tf_imports: dict[str, cst.ImportAlias] = {}  # local name -> `import tensorflow [as it]`
        self._compat_names: set[str] = set()  # names also bound to tensorflow.compat.v1
        self._tf1_uses: dict[str, str] = {}  # TF1-only symbol -> root name it was reached through
        self._tf1_from_imports: list[tuple[cst.ImportFrom, str]] = []
        self._version_checked = False
        self._guarded = 0  # inside `if hasattr(np, "float_")`, a version test, or `try: ... except AttributeError`
        self._targets: set[int] = set()  # attributes assigned to (`np.object = object`): a patch, not a use
        # `try: tf.global_variables_initializer() except: tf.initialize_all_variables()`: in the
        # handlers of a try, the identifiers its body used; an old name whose replacement the
        # body tried first is a fallback for old releases, not a use.
        self._handler_words: dict[int, set[str]] = {}
        self._fallbacks: list[set[str]] = []

    # -- imports ---------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self._in_import = True
        for alias in node.names:
            name = dotted_name(alias.name)
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            if name == "tensorflow":
                self._tf_imports.setdefault(local or "tensorflow", alias)
            elif name in ("tensorflow.compat.v1", "tensorflow.compat.v1.compat.v1") and local:
                self._compat_names.add(local)

    def leave_Import(self, original_node: cst.Import) -> None:
        self._in_import = False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._in_import = True
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = dotted_name(node.module)
        if module is None:
            return
        for alias in node.names:
            imported = dotted_name(alias.name)
            if imported is None:
                continue
            qualified = f"{module}.{imported}"
            removed = self._removed(qualified)
            if removed is not None:
                if not self._guarded:
                    self.report(alias, self._message(qualified, removed, import_=True))
            elif module == "tensorflow" and imported in _TF1_ONLY_TOP:
                self._tf1_from_imports.append((node, imported))
            elif module == "tensorflow.compat" and imported == "v1" and alias.asname is not None:
                self._compat_names.add(alias.asname.name.value)

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._in_import = False

    def visit_Assign(self, node: cst.Assign) -> None:
        # `tf = tf.compat.v1`
        if (self.names.qualify(node.value) or "").startswith("tensorflow.compat.v1"):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._compat_names.add(target.target.value)

    # -- guards ----------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        if _is_guard(node.test):
            self._guarded += 1

    def leave_If(self, original_node: cst.If) -> None:
        if _is_guard(original_node.test):
            self._guarded -= 1

    def visit_IfExp(self, node: cst.IfExp) -> None:
        if _is_guard(node.test):
            self._guarded += 1

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        if _is_guard(original_node.test):
            self._guarded -= 1

    def visit_Try(self, node: cst.Try) -> None:
        if node.handlers and catches(node, _MISSING_ERRORS):
            words = set(_IDENTIFIER.findall(cst.Module(body=[]).code_for_node(node.body)))
            for handler in node.handlers:
                self._handler_words[id(handler)] = words

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if id(node) in self._handler_words:
            self._fallbacks.append(self._handler_words[id(node)])

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        if id(original_node) in self._handler_words:
            self._fallbacks.pop()

    def _is_fallback(self, removed: Removed) -> bool:
        names = _IDENTIFIER.findall(removed.replacement)
        return bool(names) and any(names[-1] in words for words in self._fallbacks)

    def visit_Try_body(self, node: cst.Try) -> None:
        if catches(node, _MISSING_ERRORS):
            self._guarded += 1

    def leave_Try_body(self, original_node: cst.Try) -> None:
        if catches(original_node, _MISSING_ERRORS):
            self._guarded -= 1

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    # -- uses ------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._in_import:
            return
        qualified = self.names.qualify(node)
        if qualified is None:
            return
        removed = self._removed(qualified)
        if removed is not None:
            if not self._guarded and id(node) not in self._targets and not self._is_fallback(removed):
                self.report(node, self._message(qualified, removed), self._rename_fix(node, qualified, removed))
            return
        if qualified in ("tensorflow.__version__", "tensorflow.VERSION", "tensorflow.version.VERSION"):
            self._version_checked = True
        if self._tf1_chain is None and qualified.startswith("tensorflow.") and not qualified.startswith(
            ("tensorflow.compat.", "tensorflow.python.", "tensorflow.core.", "tensorflow.contrib")
        ):
            symbol = _tf1_only(qualified[len("tensorflow.") :])
            if symbol is not None:
                self._tf1_chain = node
                root = (dotted_name(node) or "").split(".")[0]
                self._tf1_uses.setdefault(symbol, root)

    def leave_Attribute(self, original_node: cst.Attribute) -> None:
        if original_node is self._tf1_chain:
            self._tf1_chain = None

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "hasattr" and node.args:
            if tf_symbol(self.names.qualify(node.args[0].value)) == "":
                self._version_checked = True  # `hasattr(tf, "Session")`: the code handles both
        if self._guarded:
            return
        symbol = tf_symbol(self.names.qualify(node.func))
        if symbol == "concat":
            self._check_concat(node)
        elif symbol == "split":
            self._check_split(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._report_tf1_names()

    # -- removed names -----------------------------------------------------------
    def _removed(self, qualified: str) -> Removed | None:
        removed = QUALIFIED_REMOVED.get(qualified)
        if removed is None:
            symbol = tf_symbol(qualified)
            removed = TF_REMOVED.get(symbol) if symbol else None
        if removed is not None and qualified in _BACK_IN:
            version = installed_version(removed.package)
            if version is not None and version_tuple(version) >= _BACK_IN[qualified]:
                return None
        return removed

    def _message(self, qualified: str, removed: Removed, import_: bool = False) -> str:
        module, _, attribute = qualified.rpartition(".")
        if removed.package == "TensorFlow":
            symbol = tf_symbol(qualified) or attribute
            shown = f"tf.{symbol}"
            module = "tensorflow" if "." not in symbol else f"tensorflow.{symbol.rpartition('.')[0]}"
        elif qualified.startswith("numpy."):
            shown = "np." + qualified[len("numpy.") :]
        else:
            shown = qualified
        if import_:
            error = f"ImportError: cannot import name '{attribute}' from '{module}'"
        else:
            error = f"AttributeError: module '{module}' has no attribute '{attribute}'"
        text = (
            f"`{shown}` was removed in {removed.package} {removed.removed_in}{_installed_note(removed)}: "
            f"`{error}`; use {removed.replacement}"
        )
        return f"{text} ({removed.note})" if removed.note else text

    def _rename_fix(self, node: cst.Attribute, qualified: str, removed: Removed) -> Fix | None:
        if removed.fix is None:
            return None
        kind, _, target = removed.fix.partition(":")
        applicability = Applicability.SAFE if removed.safe else Applicability.UNSAFE
        if kind == "attr":
            new: cst.BaseExpression = node.with_changes(attr=cst.Name(target))
        elif kind == "builtin":
            if self.names.qualify(cst.Name(target)) != f"builtins.{target}":
                return None  # the module has its own `int`
            new = cst.Name(target)
        else:  # "tf": the same TensorFlow module path, another symbol
            written = dotted_name(node)
            symbol = tf_symbol(qualified)
            if not written or not symbol or not written.endswith("." + symbol):
                return None
            prefix = written[: -len(symbol) - 1]
            if self.names.qualify(cst.parse_expression(prefix)) not in _TF_MODULES if prefix else True:
                return None  # not reached through the tensorflow module itself
            new = cst.parse_expression(f"{prefix}.{target}")
        return Fix(f"use {removed.replacement.split(' (')[0]}", applicability, ((node, new),))

    # -- argument order ----------------------------------------------------------
    def _check_concat(self, node: cst.Call) -> None:
        positional = _positional(node)
        if positional is None:
            return
        old = self._keyword(node, "concat_dim")
        if old is not None:
            fix = Fix("rename `concat_dim` to `axis`", Applicability.SAFE, ((old.keyword, cst.Name("axis")),))
            self.report(node, _keyword_message("concat", "concat_dim", "axis"), fix)
        elif len(positional) == 2 and _int_literal(positional[0].value) and not _int_literal(positional[1].value):
            first, second = positional
            fix = Fix(
                "put the values first and the axis second",
                Applicability.SAFE,
                ((first.value, second.value), (second.value, first.value)),
            )
            self.report(node, _order_message("concat", "`tf.concat(0, values)` is now `tf.concat(values, 0)`"), fix)

    def _check_split(self, node: cst.Call) -> None:
        positional = _positional(node)
        if positional is None:
            return
        renames = [(arg, new) for old, new in (("split_dim", "axis"), ("num_split", "num_or_size_splits"))
                   if (arg := self._keyword(node, old)) is not None]
        if renames:
            fix = Fix(
                "rename the keywords to `axis` / `num_or_size_splits`",
                Applicability.SAFE,
                tuple((arg.keyword, cst.Name(new)) for arg, new in renames),
            )
            arg, new = renames[0]
            self.report(node, _keyword_message("split", arg.keyword.value, new), fix)
        elif len(positional) == 3 and _int_literal(positional[0].value) and not _int_literal(positional[2].value):
            first, _, third = positional
            fix = Fix(
                "put the value first and the axis last",
                Applicability.SAFE,
                ((first.value, third.value), (third.value, first.value)),
            )
            self.report(
                node, _order_message("split", "`tf.split(0, n, value)` is now `tf.split(value, n, 0)`"), fix
            )

    @staticmethod
    def _keyword(node: cst.Call, keyword: str) -> cst.Arg | None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg
        return None

    # -- TensorFlow 1 names under TensorFlow 2 ----------------------------------------
    def _report_tf1_names(self) -> None:
        if self._version_checked or not (self._tf1_uses or self._tf1_from_imports):
            return
        version = installed_version("TensorFlow")
        if version is None or version_tuple(version)[:1] < (2,):
            return
        uses = [symbol for symbol, root in self._tf1_uses.items()
                if root in self._tf_imports and root not in self._compat_names]
        if uses:
            root = self._tf1_uses[uses[0]]
            alias = self._tf_imports[root]
            fix = None
            if alias.asname is not None:
                fix = Fix(
                    "import tensorflow.compat.v1 (add `tf.disable_v2_behavior()` for graph mode)",
                    Applicability.UNSAFE,
                    ((alias.name, cst.parse_expression("tensorflow.compat.v1")),),
                )
            self.report(alias, _tf1_message([f"{root}.{symbol}" for symbol in uses], version, root), fix)
        for node, imported in self._tf1_from_imports:
            self.report(
                node,
                f"`from tensorflow import {imported}`: `{imported}` is a TensorFlow 1 name and TensorFlow "
                f"{version} is installed here: `ImportError: cannot import name '{imported}' from 'tensorflow'`; "
                f"import it from `tensorflow.compat.v1`, or port the code to TensorFlow 2",
            )


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_MISSING_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _is_guard(test: cst.BaseExpression) -> bool:
    """An `if` test that checks a version or whether an attribute exists."""
    stack = [test]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Attribute) and node.attr.value in ("__version__", "VERSION", "version_info"):
            return True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("hasattr", "getattr"):
            return True
        if isinstance(node, (cst.BooleanOperation, cst.Comparison, cst.UnaryOperation, cst.Call, cst.Attribute,
                             cst.Subscript, cst.ComparisonTarget, cst.Arg, cst.BinaryOperation)):
            stack.extend(child_nodes(node))
    return False


def _tf1_only(symbol: str) -> str | None:
    """The TensorFlow 1-only name `symbol` (without `tensorflow.`) starts with, if any."""
    parts = symbol.split(".")
    if parts[0] in _TF1_ONLY_TOP:
        return parts[0]
    if len(parts) > 1 and parts[1] in _TF1_ONLY_IN_MODULE.get(parts[0], ()):
        return f"{parts[0]}.{parts[1]}"
    return None


def _tf1_message(shown: list[str], version: str, root: str) -> str:
    listed = ", ".join(f"`{name}`" for name in shown[:5])
    if len(shown) > 5:
        listed += f" and {len(shown) - 5} more"
    first = shown[0][len(root) + 1 :]
    module, _, attribute = first.rpartition(".")
    where = f"tensorflow.{module}" if module else "tensorflow"
    verb = "does" if len(shown) == 1 else "do"
    return (
        f"TensorFlow 1 code under TensorFlow {version} (installed here): {listed} {verb} not exist in TensorFlow 2 "
        f"(`AttributeError: module '{where}' has no attribute '{attribute}'`); "
        f"`import tensorflow.compat.v1 as {root}` and call `{root}.disable_v2_behavior()`, or port it with `tf_upgrade_v2`"
    )


def _keyword_message(function: str, old: str, new: str) -> str:
    return (
        f"old `tf.{function}` keyword: TensorFlow 1.0 renamed `{old}` to `{new}`; written the TF 0.x way it fails "
        f"with `TypeError: {function}() got an unexpected keyword argument '{old}'`"
    )


def _order_message(function: str, what: str) -> str:
    error = (
        "`TypeError: Expected int32, got list containing Tensors of type '_Message' instead.`"
        if function == "concat"
        else "a `TypeError`/`ValueError`"
    )
    return (
        f"old `tf.{function}` call: TensorFlow 1.0 changed its signature ({what}); written the TF 0.x way it "
        f"fails with {error}"
    )
