"""DL602 removed-api."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint import target as target_environment
from dldoctor.lint.installed import installed_version as _installed
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, catches, string_tail, string_value
from dldoctor.lint.textscan import imports_any, uses_any


@dataclass(frozen=True)
class Removed:
    """An API that a release removed, and what to write instead.

    `fix` says how to rewrite a use when the replacement is exact: `attr:NAME`
    (same module, new attribute), `builtin:NAME` (a builtin), `tf:SYMBOL` (another
    TensorFlow symbol, under the module path the code used). `safe` is False where
    the replacement behaves differently in some detail (`note` says how).
    `deprecated_in`: the first release that warned about the name (the removal itself
    where none warned). On an older target the name is current API and its use is
    fine there (`np.float` on NumPy 1.14: deprecated only in 1.20); None: reported
    whatever the target.
    """

    package: str
    removed_in: str
    replacement: str
    fix: str | None = None
    safe: bool = True
    note: str = ""
    # TensorFlow only. `in_compat_v1`: TensorFlow 2 removed the name from its API but
    # `tf.compat.v1` still has it (a use through `compat.v1` is fine). `v1_replacement`:
    # the replacement is itself TensorFlow 1 API, which TensorFlow 2 keeps only under
    # `tf.compat.v1` (or, for the summary ops, under the same name with other semantics).
    in_compat_v1: bool = False
    v1_replacement: bool = False
    deprecated_in: str | None = None


_SUMMARY_NOTE = "the first argument becomes the summary's name, prefixed by the name scope, instead of its tag"

# TensorFlow 1.0 renamed most of these (https://www.tensorflow.org/install/migration)
# and no TensorFlow since has them, not even under `tf.compat.v1`; the variable
# initializers renamed in 0.12 lived on, deprecated, through TensorFlow 1.15, and
# TensorFlow 2.0 removed them from its API but kept them in `tf.compat.v1` (checked
# against `tensorflow.compat.v1` of TensorFlow 2.21). Keys are symbols without the
# module path.
def _tf(removed_in: str, replacement: str, fix: str | None = None, safe: bool = True, note: str = "",
        in_compat_v1: bool = False, v1_replacement: bool = False, deprecated_in: str | None = None) -> Removed:
    return Removed("TensorFlow", removed_in, replacement, fix, safe, note, in_compat_v1, v1_replacement, deprecated_in)


TF_REMOVED = {
    "scalar_summary": _tf("1.0", "`tf.summary.scalar`", "tf:summary.scalar", False, _SUMMARY_NOTE, v1_replacement=True),
    "histogram_summary": _tf(
        "1.0", "`tf.summary.histogram`", "tf:summary.histogram", False, _SUMMARY_NOTE, v1_replacement=True
    ),
    "image_summary": _tf(
        "1.0", "`tf.summary.image`", "tf:summary.image", False, _SUMMARY_NOTE + "; `max_images` is `max_outputs`",
        v1_replacement=True,
    ),
    "audio_summary": _tf(
        "1.0", "`tf.summary.audio`", "tf:summary.audio", False, _SUMMARY_NOTE + "; `max_images` is `max_outputs`",
        v1_replacement=True,
    ),
    "merge_summary": _tf("1.0", "`tf.summary.merge`", "tf:summary.merge", v1_replacement=True),
    "merge_all_summaries": _tf("1.0", "`tf.summary.merge_all`", "tf:summary.merge_all", v1_replacement=True),
    "train.SummaryWriter": _tf("1.0", "`tf.summary.FileWriter`", "tf:summary.FileWriter", v1_replacement=True),
    "train.SummaryWriterCache": _tf(
        "1.0", "`tf.summary.FileWriterCache`", "tf:summary.FileWriterCache", v1_replacement=True
    ),
    "initialize_all_variables": _tf(
        "2.0", "`tf.global_variables_initializer`", "tf:global_variables_initializer", in_compat_v1=True,
        v1_replacement=True,
    ),
    "initialize_local_variables": _tf(
        "2.0", "`tf.local_variables_initializer`", "tf:local_variables_initializer", in_compat_v1=True,
        v1_replacement=True,
    ),
    "initialize_variables": _tf(
        "2.0", "`tf.variables_initializer`", "tf:variables_initializer", in_compat_v1=True, v1_replacement=True
    ),
    "initialize_all_tables": _tf(
        "2.0", "`tf.tables_initializer`", "tf:tables_initializer", in_compat_v1=True, v1_replacement=True
    ),
    "all_variables": _tf("2.0", "`tf.global_variables`", "tf:global_variables", in_compat_v1=True, v1_replacement=True),
    "mul": _tf("1.0", "`tf.multiply`", "tf:multiply"),
    "sub": _tf("1.0", "`tf.subtract`", "tf:subtract"),
    "neg": _tf("1.0", "`tf.negative`", "tf:negative"),
    "pack": _tf("1.0", "`tf.stack`", "tf:stack"),
    "unpack": _tf("1.0", "`tf.unstack`", "tf:unstack"),
    "select": _tf("1.0", "`tf.where`", "tf:where"),
    "listdiff": _tf("1.0", "`tf.setdiff1d`", "tf:setdiff1d", v1_replacement=True),
    "complex_abs": _tf("1.0", "`tf.abs`", "tf:abs"),
    "batch_matmul": _tf("1.0", "`tf.matmul` (which batches; `adj_x`/`adj_y` are `adjoint_a`/`adjoint_b`)"),
    # TensorFlow 1.0's own upgrade script (tensorflow/tools/compatibility/tf_upgrade.py,
    # `symbol_renames`) and its release notes ("`tf.inv` has been renamed to be
    # `tf.reciprocal`"); `concat_v2`, 0.12's name for the new argument order, became
    # `tf.concat` in 1.0 (tensorflow/models#1017, "Update concat_v2 to be concat to match
    # 1.0 final"); `tf.nn.rnn` went to `tf.contrib.rnn.static_rnn` in 1.0 (release notes:
    # "most functions in tf.nn.rnn.* ... are temporarily in tf.contrib.rnn"), and came back
    # as `tf.nn.static_rnn` in 1.2.
    # Both are current API in 0.12, without a deprecation there.
    "concat_v2": _tf("1.0", "`tf.concat` (the same arguments: values, then axis)", "tf:concat", deprecated_in="1.0"),
    "inv": _tf("1.0", "`tf.reciprocal` (the element-wise reciprocal)", "tf:reciprocal", v1_replacement=True),
    "nn.rnn": _tf(
        "1.0", "`tf.nn.static_rnn` (TensorFlow 1.2 and later; `tf.contrib.rnn.static_rnn` in 1.0 and 1.1)",
        v1_replacement=True, deprecated_in="1.0",
    ),
    # TensorFlow 0.12's release notes: "Renamed `tf.image.per_image_whitening()` to
    # `tf.image.per_image_standardization()`", and "Combined `batch_*` and regular version of
    # linear algebra and FFT ops. The regular op now handles batches as well. All `batch_*`
    # Python interfaces were removed."
    "image.per_image_whitening": _tf(
        "0.12", "`tf.image.per_image_standardization`", "tf:image.per_image_standardization"
    ),
}
for _old, _new in (
    ("batch_matrix_diag", "matrix_diag"), ("batch_matrix_diag_part", "matrix_diag_part"),
    ("batch_matrix_set_diag", "matrix_set_diag"), ("batch_matrix_band_part", "matrix_band_part"),
    ("batch_matrix_transpose", "matrix_transpose"), ("batch_matrix_determinant", "matrix_determinant"),
    ("batch_matrix_inverse", "matrix_inverse"), ("batch_cholesky", "cholesky"), ("batch_cholesky_solve", "cholesky_solve"),
    ("batch_matrix_solve", "matrix_solve"), ("batch_matrix_triangular_solve", "matrix_triangular_solve"),
    ("batch_matrix_solve_ls", "matrix_solve_ls"), ("batch_self_adjoint_eig", "self_adjoint_eig"),
    ("batch_self_adjoint_eigvals", "self_adjoint_eigvals"), ("batch_svd", "svd"), ("batch_fft", "fft"),
    ("batch_ifft", "ifft"), ("batch_fft2d", "fft2d"), ("batch_ifft2d", "ifft2d"), ("batch_fft3d", "fft3d"),
    ("batch_ifft3d", "ifft3d"),
):
    TF_REMOVED[_old] = _tf("0.12", f"`tf.{_new}` (which batches)", f"tf:{_new}", v1_replacement=True)

_BUILTIN_ALIAS = "NumPy's alias was the builtin itself"


def _np(removed_in: str, replacement: str, fix: str | None = None, deprecated_in: str | None = None) -> Removed:
    """A NumPy name; `deprecated_in` defaults to the removal (no release warned before it)."""
    return Removed("NumPy", removed_in, replacement, fix, deprecated_in=deprecated_in or removed_in)


# Full dotted names (after the module's imports) of other packages' removed APIs.
QUALIFIED_REMOVED = {
    # Pillow 10 removed the old resampling constants (deprecated in 9.1).
    "PIL.Image.ANTIALIAS": Removed(
        "Pillow", "10.0", "`Image.LANCZOS` (the same filter)", "attr:LANCZOS", deprecated_in="9.1"
    ),
    "PIL.Image.LINEAR": Removed(
        "Pillow", "10.0", "`Image.BILINEAR` (the same filter)", "attr:BILINEAR", deprecated_in="9.1"
    ),
    "PIL.Image.CUBIC": Removed(
        "Pillow", "10.0", "`Image.BICUBIC` (the same filter)", "attr:BICUBIC", deprecated_in="9.1"
    ),
    # NumPy 1.20 deprecated the aliases of builtins ("Using the aliases of builtin types
    # like `np.int` is deprecated") and 1.24 removed them, but for `np.unicode`, which
    # lived on, deprecated, until 2.0.
    "numpy.int": _np("1.24", "the builtin `int` (or `np.int64` for a fixed width)", "builtin:int", "1.20"),
    "numpy.float": _np("1.24", "the builtin `float` (or `np.float64`)", "builtin:float", "1.20"),
    "numpy.bool": _np("1.24", "the builtin `bool` (or `np.bool_`)", "builtin:bool", "1.20"),
    "numpy.object": _np("1.24", "the builtin `object`", "builtin:object", "1.20"),
    "numpy.str": _np("1.24", "the builtin `str`", "builtin:str", "1.20"),
    "numpy.complex": _np("1.24", "the builtin `complex`", "builtin:complex", "1.20"),
    "numpy.unicode": _np("2.0", "the builtin `str`", "builtin:str", "1.20"),
    # NumPy 2.0 removed these aliases (NEP 52; its release notes, "NumPy 2.0 Python API
    # removals"), with no deprecation in any 1.x release: 1.x has them as current API.
    "numpy.float_": _np("2.0", "`np.float64`", "attr:float64"),
    "numpy.complex_": _np("2.0", "`np.complex128`", "attr:complex128"),
    "numpy.cfloat": _np("2.0", "`np.complex128`", "attr:complex128"),
    "numpy.singlecomplex": _np("2.0", "`np.complex64`", "attr:complex64"),
    "numpy.longfloat": _np("2.0", "`np.longdouble`", "attr:longdouble"),
    "numpy.longcomplex": _np("2.0", "`np.clongdouble`", "attr:clongdouble"),
    "numpy.clongfloat": _np("2.0", "`np.clongdouble`", "attr:clongdouble"),
    "numpy.string_": _np("2.0", "`np.bytes_`", "attr:bytes_"),
    "numpy.unicode_": _np("2.0", "`np.str_`", "attr:str_"),
    "numpy.NaN": _np("2.0", "`np.nan`", "attr:nan"),
    "numpy.NAN": _np("2.0", "`np.nan`", "attr:nan"),
    "numpy.Inf": _np("2.0", "`np.inf`", "attr:inf"),
    "numpy.Infinity": _np("2.0", "`np.inf`", "attr:inf"),
    "numpy.infty": _np("2.0", "`np.inf`", "attr:inf"),
    "numpy.PINF": _np("2.0", "`np.inf`", "attr:inf"),
    "numpy.NINF": _np("2.0", "`-np.inf`"),
    "numpy.mat": _np("2.0", "`np.asmatrix`", "attr:asmatrix"),
    "numpy.asfarray": _np("2.0", "`np.asarray(a, dtype=np.float64)`"),
    # Deprecated first: NumPy 1.25 (`np.product`, `np.cumproduct`, `np.sometrue`,
    # `np.alltrue`, `np.round_`, `np.find_common_type`) and 1.24 (`np.msort`, which 2.0's
    # notes list among the expired deprecations).
    "numpy.product": _np("2.0", "`np.prod`", "attr:prod", "1.25"),
    "numpy.cumproduct": _np("2.0", "`np.cumprod`", "attr:cumprod", "1.25"),
    "numpy.sometrue": _np("2.0", "`np.any`", "attr:any", "1.25"),
    "numpy.alltrue": _np("2.0", "`np.all`", "attr:all", "1.25"),
    "numpy.round_": _np("2.0", "`np.round`", "attr:round", "1.25"),
    "numpy.msort": _np("2.0", "`np.sort(a, axis=0)`", deprecated_in="1.24"),
    "numpy.find_common_type": _np("2.0", "`np.result_type` or `np.promote_types`", deprecated_in="1.25"),
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
# SciPy 1.0 deprecated the image helpers ("`scipy.misc.imread` is deprecated in SciPy 1.0.0").
for _name in ("imread", "imsave", "imresize", "imrotate", "imfilter", "toimage", "fromimage", "bytescale", "imshow"):
    QUALIFIED_REMOVED[f"scipy.misc.{_name}"] = replace(QUALIFIED_REMOVED[f"scipy.misc.{_name}"], deprecated_in="1.0")
QUALIFIED_REMOVED["scipy.ndimage.imread"] = replace(QUALIFIED_REMOVED["scipy.ndimage.imread"], deprecated_in="1.0")
# Whole modules that a release removed: an import of the module or of anything in it,
# or an attribute use of the module itself (`torch._six.inf`), is reported once.
REMOVED_MODULES = {
    "torch.utils.ffi": Removed(
        "torch", "1.0", "`torch.utils.cpp_extension` (`load()` or `CppExtension`/`BuildExtension` in setup.py)"
    ),
    "torch._six": Removed(
        "torch", "2.0",
        "the standard library it wrapped: `math.inf` for `inf`, `str` for `string_classes`, `int` for "
        "`int_classes`, `collections.abc` for `container_abcs`",
    ),
    "torchtext.legacy": Removed(
        "torchtext", "0.12",
        "`torchtext.datasets` / `torchtext.vocab` with a `torch.utils.data.DataLoader`, or pin `torchtext<0.12`",
    ),
    # Keras 3 (TensorFlow 2.16 and later) has no `layers.experimental`; the
    # preprocessing layers moved to `keras.layers` in TensorFlow 2.6.
    "tensorflow.keras.layers.experimental": Removed(
        "Keras", "3.0", "the same layers in `tf.keras.layers` (`Rescaling`, `Resizing`, `Normalization`, `RandomFlip`, ...)"
    ),
    "keras.layers.experimental": Removed(
        "Keras", "3.0", "the same layers in `keras.layers` (`Rescaling`, `Resizing`, `Normalization`, `RandomFlip`, ...)"
    ),
}
# torchtext 0.9 moved the Field/Iterator API to `torchtext.legacy.data` (which 0.12 removed).
for _name in ("Field", "LabelField", "ReversibleField", "NestedField", "RawField", "BucketIterator", "Iterator",
              "BPTTIterator", "TabularDataset", "Example", "Batch", "Pipeline"):
    QUALIFIED_REMOVED[f"torchtext.data.{_name}"] = Removed(
        "torchtext", "0.9", f"`torchtext.legacy.data.{_name}` on torchtext 0.9-0.11 (removed in 0.12), or the "
        "`torchtext.datasets` / `torchtext.vocab` API with a `torch.utils.data.DataLoader`"
    )
_TF_MODULES = ("tensorflow", "tensorflow.compat.v1")
_REMOVED_OUTSIDE_TF = frozenset(QUALIFIED_REMOVED) | frozenset(
    name for name in REMOVED_MODULES if not name.startswith("tensorflow.")
)
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
    "torch": ("torch",),
    "torchtext": ("torchtext",),
    "Keras": ("keras",),
    "matplotlib": ("matplotlib",),
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
    """The version of `package` (a key of DISTRIBUTIONS) in the target environment
    (`dldoctor.lint.target`: `--target-version`, configuration, `--python`, the file's
    version checks, the project's pins, else the installed one, from metadata); None if unknown."""
    distributions = DISTRIBUTIONS.get(package, ())
    library = target_environment.library_of(distributions[0]) if distributions else None
    return target_environment.current().version(library) if library else _installed(*distributions)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def _in_effect(removed: Removed) -> bool:
    """Whether the target has deprecated or removed the name: on a target older than its
    deprecation it is current API (or the target is unknown, and it is reported)."""
    if removed.deprecated_in is None:
        return True
    version = installed_version(removed.package)
    return version is None or version_tuple(version) >= version_tuple(removed.deprecated_in)


def _installed_note(removed: Removed) -> str:
    version = installed_version(removed.package)
    if version is None:
        return ""
    here = target_environment.installed_here(version)
    if version_tuple(version) >= version_tuple(removed.removed_in):
        if here:
            return f" ({removed.package} {version} is installed here)"
        return f" (the target is {removed.package} {target_environment.shown(version)}, {target_environment.source(version)})"
    since = f" since {removed.package} {removed.deprecated_in}" if removed.deprecated_in else ""
    if here:
        return f" (the installed {removed.package} {version} still has it, deprecated{since})"
    return (
        f" (the target {removed.package} {target_environment.shown(version)}, {target_environment.source(version)}, "
        f"still has it, deprecated{since})"
    )


def _int_literal(expr: cst.BaseExpression) -> bool:
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        expr = expr.expression
    return type(expr) is cst.Integer


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
      `tf.all_variables`, `tf.mul`/`tf.sub`/`tf.neg`, `tf.pack`/`tf.unpack`, `tf.select`,
      `tf.concat_v2`, `tf.inv`, `tf.nn.rnn`; TensorFlow 0.12's `tf.image.per_image_whitening`
      and `tf.batch_matrix_inverse`/`tf.batch_svd`/`tf.batch_fft` and the other `batch_*` ops;
      the old argument order `tf.concat(0, values)` / `tf.split(0, n, value)` and the
      keywords `concat_dim`, `split_dim`, `num_split`;
    - on a TensorFlow 0.x target, the reverse: TensorFlow 1.0's `tf.concat(values, 1)`,
      `tf.split(value, n, 1)` and keywords `axis`, `num_or_size_splits`,
      `sigmoid_cross_entropy_with_logits(labels=...)` (0.12's keyword is `targets`), and
      `tf.strided_slice(x, begin, end)` without the `strides` 0.x requires; on TensorFlow
      1.0 and 1.1, `tf.nn.rnn_cell` (in `tf.contrib.rnn` there, back in 1.2);
    - Pillow 10: `Image.ANTIALIAS`, `Image.LINEAR`, `Image.CUBIC`;
    - NumPy 1.24: `np.int`, `np.float`, `np.bool`, `np.object`, `np.str`, `np.complex`;
      NumPy 2.0: `np.float_`, `np.NaN`, `np.Inf`, `np.string_`, `np.unicode_`, `np.product`, ...;
    - SciPy 1.3: `scipy.misc.imread`/`imsave`/`imresize`/`imrotate`/... (and 1.2's
      `scipy.ndimage.imread`);
    - NumPy 2.3: `np.fromstring` in binary mode (no `sep`), and `.tostring()` on an array
      (one made by NumPy or `.astype`);
    - torch: `torch.utils.ffi` (1.0), `torch._six` (2.0), `loss.data[0]` on a 0-dim tensor
      (a reducing loss, `.sum()`, `.mean()`: an IndexError since 1.0), `Variable(...,
      volatile=True)` (ignored since 0.4), and a legacy autograd `Function` (non-static
      `forward`) used through an instance (an error since 1.5); torchtext 0.12's removal
      of `torchtext.legacy` (and 0.9's move of `torchtext.data.Field` and its kin);
    - Keras 3 (TensorFlow 2.16 and later): `tf.keras.layers.experimental`, an optimizer's
      `lr=` (Keras's own optimizers, not `torch.optim`'s), and `model.save(path)` of a
      Keras model with a path that evidently lacks `.keras`/`.h5` (or `save_format=`);
    - matplotlib 3.10: `canvas.tostring_rgb()`;
    - TensorFlow 1 names used from top-level `tf` under TensorFlow 2: `tf.Session`,
      `tf.placeholder`, `tf.gfile`, `tf.train.AdamOptimizer`, `tf.logging`, ... (every
      name the `tf.compat.v1` API has and the v2 API lacks). This one is reported once per
      module, at `import tensorflow as tf`, listing the names, and only where the project
      targets TensorFlow 2 (see below).

    Names are resolved through the module's imports (`from PIL import Image`,
    `import numpy as N`, `tf.compat.v1.`...); a `from numpy import float` is reported at
    the import, which is where it fails. When the target version of the package is known,
    the message says which it is and where it came from (nothing is imported). Code that
    handles both versions is left alone: uses under `if hasattr(np, "float_"):` (or `if
    "concat_v2" in dir(tf):`), a
    `__version__` test or a flag made from one (`is_tf2 = tf.__version__[0] == "2"` ...
    `if is_tf2:`), in `try: ... except AttributeError/ImportError:`, in a probe (`try:
    tf.Session; TF1 = True except: TF1 = False`), an old name in the handler of a `try`
    whose body tried its replacement first (`try: tf.global_variables_initializer()
    except: tf.initialize_all_variables()`) or in the body of a `try` whose handler uses
    the replacement, and assignments (`np.object = object`, a compatibility patch). A
    bare `except:` (or `except Exception:`) whose handler only skips, logs or re-raises
    is no guard: `try: img = scipy.misc.imread(p) except: continue` drops every image.

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
    so that check needs to know which TensorFlow runs the code: the project's target
    (`--target-version tensorflow=...`, `target-versions`, `--python`'s environment, the
    file's own `assert tf.__version__...`, the project's pins, else the TensorFlow
    installed here, read from package metadata). It reports only when that is 2 or later;
    when it is unknown (or 1.x) it says nothing, rather than guess. It
    considers only names reached through a real `import tensorflow` (not the
    conventional `tf` of a snippet without imports, and not `tensorflow.compat.v1`), and
    skips a module that also binds that name to `tf.compat.v1` (`try: import
    tensorflow.compat.v1 as tf`). Merely mentioning `tf.__version__` (printing it,
    writing it to a log) guards nothing; a test of it does. `np.bool` is not reported
    when the target is NumPy 2, where it exists again (as `np.bool_`).

    **Names are reported from their deprecation on.** On a known target older than the
    release that deprecated a name, the name is current API and is not reported:
    `np.float`/`np.int` and the other builtin aliases before NumPy 1.20, `np.NaN`/`np.Inf`/
    `np.float_` and the rest of NumPy 2.0's removals (which no 1.x release deprecated)
    before 2.0, `np.product`/`np.round_` before 1.25, `Image.ANTIALIAS` before Pillow 9.1,
    `scipy.misc.imread` and its kin before SciPy 1.0, `tf.concat_v2`/`tf.nn.rnn` on
    TensorFlow 0.12. Between deprecation and removal the message says "deprecated since"
    that release. When the target is unknown, every name is reported.

    **TensorFlow 1 names `tf.compat.v1` keeps.** TensorFlow 1.0 removed `tf.scalar_summary`,
    `tf.mul` and their kin outright; the variable initializers renamed in 0.12
    (`tf.initialize_all_variables`, `tf.all_variables`, ...) lived on through 1.15 and are
    still in `tf.compat.v1`. Those are not reported through `compat.v1` or against a
    TensorFlow 1.x target, and the message says "removed from the API in TensorFlow 2.0".
    Against TensorFlow 2 the message names the `tf.compat.v1` spelling that still works
    (`tf.compat.v1.global_variables_initializer`, `tf.compat.v1.summary.scalar`) before
    porting, and the fix writes it.

    ## Fix safety
    Safe where the replacement is the same object under a new name: `tf.merge_all_summaries`,
    `tf.train.SummaryWriter`, `tf.initialize_all_variables` and the other initializers,
    `tf.mul`/`sub`/`neg`/`pack`/`unpack`/`select`, `tf.concat_v2` -> `tf.concat`, `tf.inv` ->
    `tf.reciprocal`, `tf.image.per_image_whitening` -> `tf.image.per_image_standardization`, the
    `tf.batch_*` linear algebra and FFT ops -> their batching namesakes, `Image.ANTIALIAS` -> `Image.LANCZOS`,
    `np.int` -> `int` (and the other builtins, which is what NumPy's aliases were),
    `np.float_` -> `np.float64` and the other NumPy 2.0 aliases, `.tostring()` -> `.tobytes()`,
    `loss.data[0]` -> `loss.item()`, a Keras optimizer's `lr=` -> `learning_rate=`, and the argument order of
    `tf.concat`/`tf.split` (the literal dimension moves behind the values; old keywords
    are renamed). Unsafe: `tf.scalar_summary` -> `tf.summary.scalar` and the other summary
    ops (the first argument becomes the summary's name, prefixed by the name scope,
    instead of its tag), and `import tensorflow as tf` -> `import tensorflow.compat.v1 as
    tf` for TensorFlow 1 code (graph mode also needs `tf.disable_v2_behavior()`), and
    `np.fromstring(data, dtype)` -> `np.frombuffer(data, dtype)` (a read-only view). No fix
    where there is no drop-in replacement (`scipy.misc.imresize`, `np.NINF`, imports).
    """

    code = "DL602"
    name = "removed-api"
    severity = Severity.ERROR
    summary = "API removed or renamed by TensorFlow, Keras, torch, NumPy, Pillow, SciPy or matplotlib: fails at run time"
    # Every name this rule resolves is rooted in one of these (or the conventional `np`/`tf`);
    # the removed names themselves (`int`, `str`, ...) are too common to filter on.
    triggers = ("numpy", "tensorflow", "pil", "scipy", "torch", "keras", "matplotlib")
    reads_installed = tuple(DISTRIBUTIONS.values())

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        """Names resolve through imports: TensorFlow, Keras, torch or matplotlib imported
        (their removed names and call forms are too many to list), a removed NumPy,
        Pillow, SciPy or torchtext name used through an import of its package, or an
        array's `.tostring()` where NumPy is imported."""
        if not super().could_fire(text, lowered):
            return False
        return (
            imports_any(text, ("tensorflow", "keras", "torch", "torchtext", "matplotlib"))
            or uses_any(text, _REMOVED_OUTSIDE_TF | {"numpy.fromstring"})
            or ("tostring" in lowered and imports_any(text, ("numpy",)))
        )

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
        self._versions = VersionGuards()  # `if tf.__version__ ...:`, `if is_tf2:`
        self._if_guards: list[bool] = []
        self._guarded = 0  # inside `try: ... except AttributeError/ImportError` or a probe `try`
        self._targets: set[int] = set()  # attributes assigned to (`np.object = object`): a patch, not a use
        # `try: tf.global_variables_initializer() except: tf.initialize_all_variables()`: in the
        # handlers of a try, the identifiers its body used; an old name whose replacement the
        # body tried first is a fallback for old releases, not a use.
        self._handler_words: dict[int, set[str]] = {}
        self._fallbacks: list[set[str]] = []
        # The body of a `try` with a broad handler (`except:`, `except Exception:`) that does
        # other work: the identifiers of those handlers. A removed name whose replacement the
        # handler uses is one side of a version fork; one whose handler only skips
        # (`continue`), logs or re-raises fails every time, and is reported.
        self._try_kinds: dict[int, object] = {}
        self._alternatives: list[set[str]] = []
        # What values names hold, as far as this module shows.
        self._arrays: list[set[str]] = [set()]  # names bound to NumPy arrays, per function
        self._scalars: list[set[str]] = [set()]  # names bound to reduced (0-dim) torch tensors, per function
        self._losses: set[str] = set()  # names bound to torch loss modules that reduce (`self.criterion`)
        self._keras_models: set[str] = set()  # names bound to Keras models
        self._keras_model_classes: set[str] = set()  # classes of this module that subclass a Keras Model
        self._legacy_functions: set[str] = set()  # autograd Function subclasses with a non-static forward
        self._instantiations: list[cst.Call] = []  # `Name(...)` calls, for the legacy Functions
        self._matplotlib = False

    # -- imports ---------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self._in_import = True
        for alias in node.names:
            name = dotted_name(alias.name)
            local = alias.asname.name.value if alias.asname and type(alias.asname.name) is cst.Name else None
            if name == "tensorflow":
                self._tf_imports.setdefault(local or "tensorflow", alias)
            elif name in ("tensorflow.compat.v1", "tensorflow.compat.v1.compat.v1") and local:
                self._compat_names.add(local)
            if name and name.split(".")[0] == "matplotlib":
                self._matplotlib = True
            gone = _removed_module(name)
            if gone is not None and not self._is_guarded():
                self.report(alias, _module_message(gone[0], gone[1], name, "import"))

    def leave_Import(self, original_node: cst.Import) -> None:
        self._in_import = False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._in_import = True
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if module is None:
            return
        if module.split(".")[0] == "matplotlib":
            self._matplotlib = True
        gone = _removed_module(module)
        if gone is not None:
            if not self._is_guarded():
                self.report(node, _module_message(gone[0], gone[1], module, "import"))
            return
        if type(node.names) is cst.ImportStar:
            return
        for alias in node.names:
            imported = dotted_name(alias.name)
            if imported is None:
                continue
            qualified = f"{module}.{imported}"
            gone = _removed_module(qualified)
            if gone is not None:
                if not self._is_guarded():
                    self.report(alias, _module_message(gone[0], gone[1], qualified, "import from"))
                continue
            removed = self._removed(qualified)
            if removed is not None:
                if not self._is_guarded():
                    self.report(alias, self._message(qualified, removed, import_=True))
            elif module == "tensorflow" and imported in _TF1_ONLY_TOP:
                if not self._is_guarded():
                    self._tf1_from_imports.append((node, imported))
            elif module == "tensorflow.compat" and imported == "v1" and alias.asname is not None:
                self._compat_names.add(alias.asname.name.value)

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._in_import = False

    def visit_Assign(self, node: cst.Assign) -> None:
        # `tf = tf.compat.v1`, `tf = tf.compat.v1 if is_tf2 else tf`
        values = [node.value.body, node.value.orelse] if type(node.value) is cst.IfExp else [node.value]
        if any((self.names.qualify(value) or "").startswith("tensorflow.compat.v1") for value in values):
            for target in node.targets:
                if type(target.target) is cst.Name:
                    self._compat_names.add(target.target.value)
        self._versions.note_assign(node)
        for target in node.targets:
            name = dotted_name(target.target)
            if name is not None:
                self._note_value(name, node.value)

    def _note_value(self, name: str, value: cst.BaseExpression) -> None:
        """Remember what kind of value `name` now holds (or forget what it held)."""
        for kinds, holds in ((self._arrays[-1], self._is_array(value)), (self._scalars[-1], self._is_scalar(value))):
            if holds:
                kinds.add(name)
            else:
                kinds.discard(name)
        if type(value) is cst.Call:
            if self._makes_reducing_loss(value):
                self._losses.add(name)
            if self._makes_keras_model(value):
                self._keras_models.add(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._arrays.append(set())
        self._scalars.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._arrays.pop()
        self._scalars.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = {self.names.qualify(base.value) for base in node.bases}
        if {_keras_name(base) for base in bases} & {"keras.Model", "keras.models.Model", "keras.Sequential",
                                                     "keras.models.Sequential"}:
            self._keras_model_classes.add(node.name.value)
        if bases & {"torch.autograd.Function", "torch.autograd.function.Function"}:
            for statement in node.body.body if type(node.body) is cst.IndentedBlock else ():
                if type(statement) is cst.FunctionDef and statement.name.value == "forward" and not any(
                    dotted_name(decorator.decorator) in ("staticmethod", "classmethod")
                    for decorator in statement.decorators
                ):
                    self._legacy_functions.add(node.name.value)

    # -- guards ----------------------------------------------------------------
    def _is_guarded(self) -> bool:
        return bool(self._guarded or self._versions.depth)

    def visit_If(self, node: cst.If) -> None:
        self._if_guards.append(self._versions.enter(node.test))

    def leave_If(self, original_node: cst.If) -> None:
        self._versions.leave(self._if_guards.pop())

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._if_guards.append(self._versions.enter(node.test))

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self._versions.leave(self._if_guards.pop())

    def visit_Try(self, node: cst.Try) -> None:
        if node.handlers and catches(node, _MISSING_ERRORS):
            words = set(_IDENTIFIER.findall(cst.Module(body=[]).code_for_node(node.body)))
            for handler in node.handlers:
                self._handler_words[id(handler)] = words
        if _catches_by_name(node, _NARROW_ERRORS):
            self._try_kinds[id(node)] = "guard"  # the code expects the name to be missing
        elif node.handlers and catches(node, _BROAD_ERRORS):
            if _is_probe(node):
                self._try_kinds[id(node)] = "guard"  # `try: tf.Session; TF1 = True except: TF1 = False`
                self._versions.flags.update(_probe_flags(node))
            else:
                words: set[str] = set()
                for handler in node.handlers:
                    if not all(_is_silent(statement) for statement in handler.body.body):
                        words |= set(_IDENTIFIER.findall(cst.Module(body=[]).code_for_node(handler.body)))
                self._try_kinds[id(node)] = words

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if id(node) in self._handler_words:
            self._fallbacks.append(self._handler_words[id(node)])

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        if id(original_node) in self._handler_words:
            self._fallbacks.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        kind = self._try_kinds.get(id(node))
        if kind == "guard":
            self._guarded += 1
        elif kind is not None:
            self._alternatives.append(kind)

    def leave_Try_body(self, original_node: cst.Try) -> None:
        kind = self._try_kinds.get(id(original_node))
        if kind == "guard":
            self._guarded -= 1
        elif kind is not None:
            self._alternatives.pop()

    def _handled(self, removed: Removed) -> bool:
        """Whether the code around this use already handles the name being gone."""
        return self._handled_by(_replacement_key(removed))

    def _handled_by(self, key: str | None) -> bool:
        """Whether the use is guarded, or the other side of a `try` that uses `key` (the replacement)."""
        if self._is_guarded():
            return True
        if key is None:
            return False
        # the fallback of a try that used the replacement, or a try whose handler uses it
        return any(key in words for words in self._fallbacks) or any(key in words for words in self._alternatives)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    # -- uses ------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._in_import:
            return
        qualified = self.names.qualify(node)
        if qualified is None:
            return
        root = (dotted_name(node) or "").split(".")[0]
        gone = _removed_module(qualified)
        if gone is not None and gone[0] == _normalized(qualified):
            if not self._handled(gone[1]) and id(node) not in self._targets:
                self.report(node, _module_message(gone[0], gone[1], qualified, "attribute"))
            return
        removed = self._removed(qualified, via_compat=root in self._compat_names)
        if removed is not None:
            if id(node) not in self._targets and not self._handled(removed):
                self.report(node, self._message(qualified, removed, root=root), self._rename_fix(node, qualified, removed))
            return
        if tf_symbol(qualified) in _ABSENT_IN:
            self._check_absent(node, tf_symbol(qualified))
        if self._tf1_chain is None and qualified.startswith("tensorflow.") and not qualified.startswith(
            ("tensorflow.compat.", "tensorflow.python.", "tensorflow.core.", "tensorflow.contrib")
        ):
            symbol = _tf1_only(qualified[len("tensorflow.") :])
            if symbol is not None:
                self._tf1_chain = node
                if not self._is_guarded() and not any(root in words for words in self._alternatives):
                    self._tf1_uses.setdefault(symbol, root)

    def leave_Attribute(self, original_node: cst.Attribute) -> None:
        if original_node is self._tf1_chain:
            self._tf1_chain = None

    def visit_Call(self, node: cst.Call) -> None:
        if type(node.func) is cst.Name:
            self._instantiations.append(node)
        if self._is_guarded():
            return
        qualified = self.names.qualify(node.func)
        symbol = tf_symbol(qualified)
        if symbol == "concat":
            self._check_concat(node)
        elif symbol == "split":
            self._check_split(node)
        elif symbol in _BEFORE_1_0_CALLS:
            self._check_before_1_0_call(node, symbol)
        elif qualified == "numpy.fromstring":
            self._check_fromstring(node)
        elif qualified in _VARIABLE:
            self._check_volatile(node)
        elif type(node.func) is cst.Attribute and not node.args:
            method = node.func.attr.value
            if method == "tostring" and self._is_array(node.func.value):
                self._report_method(node, _TOSTRING, "numpy.ndarray", fix="tobytes")
            elif method == "tostring_rgb" and self._matplotlib:
                self._report_method(node, _TOSTRING_RGB, "FigureCanvasAgg")
        keras = _keras_name(qualified)
        if (keras is not None and keras.startswith("keras.optimizers.") and ".legacy." not in keras
                and keras.rsplit(".", 1)[-1][:1].isupper()):  # a class: `Adam`, not the old `rmsprop` alias
            self._check_optimizer_lr(node, keras)
        if type(node.func) is cst.Attribute and node.func.attr.value == "save":
            receiver = dotted_name(node.func.value)
            if receiver is not None and receiver in self._keras_models:
                self._check_keras_save(node, call_argument(node, 0, "filepath"), f"{receiver}.save")
        elif keras in ("keras.models.save_model", "keras.saving.save_model"):
            self._check_keras_save(node, call_argument(node, 1, "filepath"), f"{keras}")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        # `loss.data[0]` on a 0-dim tensor
        if self._is_guarded() or type(node.value) is not cst.Attribute or node.value.attr.value != "data":
            return
        if len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
            return
        index = node.slice[0].slice.value
        if not (type(index) is cst.Integer and index.value == "0"):
            return
        tensor = node.value.value
        if not self._is_scalar(tensor):
            return
        written = cst.Module(body=[]).code_for_node(tensor)
        fix = Fix(
            "use `.item()`", Applicability.SAFE,
            ((node, cst.Call(func=cst.Attribute(value=tensor, attr=cst.Name("item")))),),
        )
        self.report(
            node,
            f"`{written}.data[0]` indexes a 0-dim tensor (a reduced loss): PyTorch 0.4 made reductions return "
            f"0-dim tensors and since PyTorch 1.0 indexing one fails{_installed_note(_DATA_INDEX)}: `IndexError: "
            f"invalid index of a 0-dim tensor. Use `tensor.item()` in Python`; use `{written}.item()`",
            fix,
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        for call in self._instantiations:
            name = call.func.value if type(call.func) is cst.Name else None
            if name in self._legacy_functions and self.names.qualify(call.func) in (name, None, f"__main__.{name}"):
                self.report(call, _legacy_function_message(name))
        self._report_tf1_names()

    # -- values ----------------------------------------------------------------
    def _is_array(self, expr: cst.BaseExpression) -> bool:
        """A NumPy array, by how it was made: a NumPy call, `.astype(...)`, an array method of one."""
        if type(expr) is cst.Name:
            return expr.value in self._arrays[-1]
        if type(expr) is cst.Attribute:
            return dotted_name(expr) in self._arrays[-1]
        if type(expr) is not cst.Call:
            return False
        if (self.names.qualify(expr.func) or "").startswith("numpy."):
            return True
        if type(expr.func) is cst.Attribute:
            method = expr.func.attr.value
            if method == "astype":
                return True
            if method in _ARRAY_METHODS:
                return self._is_array(expr.func.value)
        return False

    def _is_scalar(self, expr: cst.BaseExpression) -> bool:
        """A 0-dim torch tensor: what a reducing loss, `.sum()` or `.mean()` returns, or sums of those."""
        if type(expr) in (cst.Name, cst.Attribute):
            return dotted_name(expr) in self._scalars[-1]
        if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Add, cst.Subtract, cst.Multiply, cst.Divide):
            sides = (expr.left, expr.right)
            return any(self._is_scalar(side) for side in sides) and all(
                self._is_scalar(side) or type(side) in (cst.Integer, cst.Float) for side in sides
            )
        if type(expr) is not cst.Call:
            return False
        func = dotted_name(expr.func)
        if func is not None and func in self._losses:
            return True  # `criterion(outputs, labels)`
        qualified = self.names.qualify(expr.func) or ""
        if qualified.startswith("torch.nn.functional.") and qualified.rsplit(".", 1)[-1] in _FUNCTIONAL_LOSSES:
            return _reduces(expr)
        if qualified in ("torch.sum", "torch.mean") and len(expr.args) == 1 and expr.args[0].keyword is None:
            return True
        if type(expr.func) is cst.Attribute and expr.func.attr.value in ("sum", "mean") and not expr.args:
            return True  # a full reduction: 0-dim whatever it reduced
        return False

    def _makes_reducing_loss(self, call: cst.Call) -> bool:
        qualified = self.names.qualify(call.func) or ""
        return qualified.startswith("torch.nn.") and qualified.endswith("Loss") and _reduces(call)

    def _makes_keras_model(self, call: cst.Call) -> bool:
        if type(call.func) is cst.Name and call.func.value in self._keras_model_classes:
            return True
        keras = _keras_name(self.names.qualify(call.func))
        if keras is None:
            return False
        if keras in _KERAS_MODEL_MAKERS:
            return True
        return keras.startswith("keras.applications.") and keras.rsplit(".", 1)[-1][:1].isupper()

    # -- removed names -----------------------------------------------------------
    def _removed(self, qualified: str, via_compat: bool = False) -> Removed | None:
        removed = QUALIFIED_REMOVED.get(qualified)
        if removed is None:
            symbol = tf_symbol(qualified)
            removed = TF_REMOVED.get(symbol) if symbol else None
            if removed is not None and removed.in_compat_v1:
                if via_compat or qualified.startswith("tensorflow.compat.v1."):
                    return None  # `tf.compat.v1.initialize_all_variables` still exists
                version = installed_version("TensorFlow")
                if version is not None and version_tuple(version)[:1] < (2,):
                    return None  # deprecated, but there in every TensorFlow 1.x
        if removed is not None and qualified in _BACK_IN:
            version = installed_version(removed.package)
            if version is not None and version_tuple(version) >= _BACK_IN[qualified]:
                return None
        if removed is not None and not _in_effect(removed):
            return None  # current API on the target
        return removed

    def _compat_replacement(self, qualified: str, removed: Removed, root: str | None) -> bool:
        """Whether to name the replacement under `tf.compat.v1`: it is TensorFlow 1 API, the
        target is TensorFlow 2, and the code does not already reach TensorFlow through `compat.v1`."""
        if removed.package != "TensorFlow" or not removed.v1_replacement:
            return False
        if qualified.startswith("tensorflow.compat.v1.") or (root is not None and root in self._compat_names):
            return False
        version = installed_version("TensorFlow")
        return version is not None and version_tuple(version)[:1] >= (2,)

    def _message(self, qualified: str, removed: Removed, import_: bool = False, root: str | None = None) -> str:
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
        advice = f"use {removed.replacement}"
        if self._compat_replacement(qualified, removed, root):
            new = _IDENTIFIER_PATH.search(removed.replacement).group().split(".", 1)[1]
            advice = f"use `tf.compat.v1.{new}` (TensorFlow 2 keeps TensorFlow 1's {removed.replacement} only there"
            if new.startswith("summary.") and new != "summary.FileWriterCache":
                advice += f"; its own `tf.{new}` is another API, which needs a `step` and a default writer"
            advice += ")"
            if removed.in_compat_v1:
                advice += f", or `tf.compat.v1.{symbol}`, which still exists"
            advice += ", or port the code to TensorFlow 2"
        elif removed.package == "TensorFlow" and removed.v1_replacement and not (
            qualified.startswith("tensorflow.compat.v1.") or (root is not None and root in self._compat_names)
        ):
            new = _IDENTIFIER_PATH.search(removed.replacement).group().split(".", 1)[1]
            advice += f" (`tf.compat.v1.{new}` under TensorFlow 2)"
        version_word = "removed from the API in" if removed.in_compat_v1 else "removed in"
        text = (
            f"`{shown}` was {version_word} {removed.package} {removed.removed_in}{_installed_note(removed)}: "
            f"`{error}`; {advice}"
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
            module = self.names.qualify(cst.parse_expression(prefix)) if prefix else None
            if module not in _TF_MODULES:
                return None  # not reached through the tensorflow module itself
            if self._compat_replacement(qualified, removed, prefix.split(".")[0]):
                if module != "tensorflow":
                    return None
                target = f"compat.v1.{target}"
            new = cst.parse_expression(f"{prefix}.{target}")
        shown = removed.replacement.split(" (")[0]
        if kind == "tf" and target.startswith("compat.v1."):
            shown = f"`tf.{target}`"
        return Fix(f"use {shown}", applicability, ((node, new),))

    # -- calls whose form a release removed --------------------------------------
    def _report_method(self, node: cst.Call, removed: Removed, owner: str, fix: str | None = None) -> None:
        assert type(node.func) is cst.Attribute
        if not _in_effect(removed):
            return
        method = node.func.attr.value
        written = cst.Module(body=[]).code_for_node(node.func.value)
        rename = None
        if fix is not None:
            rename = Fix(
                f"use `.{fix}()`", Applicability.SAFE, ((node.func.attr, cst.Name(fix)),)
            )
        self.report(
            node,
            f"`{written}.{method}()` was removed in {removed.package} {removed.removed_in}{_installed_note(removed)}: "
            f"`AttributeError: '{owner}' object has no attribute '{method}'`; use {removed.replacement}",
            rename,
        )

    def _check_fromstring(self, node: cst.Call) -> None:
        positional = _positional(node)
        if positional is None or len(positional) >= 4:
            return  # NumPy 1.x took `sep` fourth
        sep = self._keyword(node, "sep")
        if sep is not None and string_value(sep.value) != "":
            return  # text mode, which NumPy 2 keeps
        if not _in_effect(_FROMSTRING):
            return
        assert type(node.func) in (cst.Attribute, cst.Name)
        fix = None
        if type(node.func) is cst.Attribute and sep is None:
            fix = Fix(
                "use `np.frombuffer` (a read-only view of the bytes)", Applicability.UNSAFE,
                ((node.func.attr, cst.Name("frombuffer")),),
            )
        self.report(
            node,
            f"`np.fromstring` without `sep` reads binary data, which NumPy {_FROMSTRING.removed_in} removed"
            f"{_installed_note(_FROMSTRING)}: `ValueError: The binary mode of fromstring is removed, use frombuffer "
            f"instead`; use {_FROMSTRING.replacement}",
            fix,
        )

    def _check_volatile(self, node: cst.Call) -> None:
        volatile = self._keyword(node, "volatile")
        if volatile is None or (type(volatile.value) is cst.Name and volatile.value.value in ("False", "None")):
            return
        self.report(
            node,
            f"`Variable(..., volatile=True)`: PyTorch 0.4 removed `volatile`{_installed_note(_VOLATILE)} and now "
            "ignores it (`UserWarning: volatile was removed and now has no effect`), so this evaluation builds and "
            "keeps the autograd graph: more memory and time, and outputs that require grad; drop `Variable` and "
            "`volatile` and run the code under `with torch.no_grad():`",
        )

    def _check_optimizer_lr(self, node: cst.Call, optimizer: str) -> None:
        lr = self._keyword(node, "lr")
        if lr is None or self._keyword(node, "learning_rate") is not None:
            return
        fix = Fix("rename `lr` to `learning_rate`", Applicability.SAFE, ((lr.keyword, cst.Name("learning_rate")),))
        value = cst.Module(body=[]).code_for_node(lr.value)
        self.report(
            node,
            f"`{optimizer.rsplit('.', 1)[-1]}(lr=...)`: Keras 3 removed the `lr` alias{_installed_note(_OPTIMIZER_LR)}"
            f" (TensorFlow 2.16 and later use Keras 3): `ValueError: Argument(s) not recognized: {{'lr': {value}}}`; "
            "write `learning_rate=`",
            fix,
        )

    def _check_keras_save(self, node: cst.Call, path: cst.BaseExpression | None, shown: str) -> None:
        save_format = self._keyword(node, "save_format")
        if save_format is not None:
            self.report(
                node,
                f"`{shown}(..., save_format=...)`: Keras 3 removed `save_format`{_installed_note(_KERAS_SAVE)}: "
                "`ValueError: The `save_format` argument is deprecated in Keras 3`; save to a path ending in "
                "`.keras` (or `.h5`), or call `model.export(path)` for a TensorFlow SavedModel",
            )
            return
        if path is None:
            return
        tail = string_tail(path)
        if tail is None and type(path) is cst.Call and self.names.qualify(path.func) in _PATH_JOINS and path.args:
            tail = string_tail(path.args[-1].value)
        if tail is None or not tail or tail.lower().endswith(_KERAS_EXTENSIONS):
            return
        written = cst.Module(body=[]).code_for_node(path)
        self.report(
            node,
            f"`{shown}({written})`: a path without a `.keras` or `.h5` extension wrote a TensorFlow SavedModel "
            f"directory up to Keras 2, and Keras 3 (TensorFlow 2.16 and later) rejects it"
            f"{_installed_note(_KERAS_SAVE)}: `ValueError: Invalid filepath extension for saving. Please add either "
            "a `.keras` extension for the native Keras format (recommended) or a `.h5` extension`; save to a path "
            "ending in `.keras`, or call `model.export(path)` for a SavedModel to serve",
        )

    # -- argument order ----------------------------------------------------------
    def _check_concat(self, node: cst.Call) -> None:
        positional = _positional(node)
        if positional is None:
            return
        before = _before_1_0()
        if before is not None:
            self._check_new_style_call(node, positional, before, "concat")
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
        before = _before_1_0()
        if before is not None:
            self._check_new_style_call(node, positional, before, "split")
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

    def _check_absent(self, node: cst.Attribute, symbol: str) -> None:
        """A TensorFlow name missing from a range of releases, used on a target in that range."""
        first, back, replacement, why, error = _ABSENT_IN[symbol]
        version = installed_version("TensorFlow")
        if version is None or not version_tuple(first) <= version_tuple(version)[:2] < version_tuple(back):
            return
        if id(node) in self._targets or self._handled_by(_IDENTIFIER.findall(replacement)[-1]):
            return
        self.report(
            node,
            f"`tf.{symbol}` does not exist in TensorFlow {first} to {_before(back)}, and the code runs on "
            f"{_under(version)}: {why}: `{error}`; use {replacement} there",
        )

    def _check_before_1_0_call(self, node: cst.Call, symbol: str) -> None:
        """Calls whose TensorFlow 1.0 form fails on a 0.x target: a new keyword, a newly optional argument."""
        version = _before_1_0()
        if version is None or _positional(node) is None:
            return
        if symbol == "strided_slice":
            if len(_positional(node)) == 3 and self._keyword(node, "strides") is None:
                self.report(
                    node,
                    f"`tf.strided_slice(input_, begin, end)` without `strides`: the code runs on {_under(version)}, "
                    "whose `strided_slice(input_, begin, end, strides, ...)` requires them: `TypeError: "
                    "strided_slice() missing 1 required positional argument: 'strides'`; pass the strides (`[1]` "
                    "per dimension for a plain slice)",
                )
            return
        new, old = _NEW_KEYWORDS[symbol]
        arg = self._keyword(node, new)
        if arg is None or self._handled_by(old):
            return
        function = symbol.rsplit(".", 1)[-1]
        fix = Fix(f"rename `{new}` to `{old}`", Applicability.SAFE, ((arg.keyword, cst.Name(old)),))
        self.report(
            node,
            f"`tf.{symbol}({new}=...)` is TensorFlow 1.0's keyword, and the code runs on {_under(version)}, where it "
            f"is `{old}`: `TypeError: {function}() got an unexpected keyword argument '{new}'`; write `{old}=`",
            fix,
        )

    def _check_new_style_call(self, node: cst.Call, positional: list[cst.Arg], version: str, function: str) -> None:
        """On a TensorFlow 0.x target the old order is the right one, and TensorFlow 1.0's fails."""
        renames = [(arg, old) for new, old in _OLD_KEYWORDS[function]
                   if (arg := self._keyword(node, new)) is not None]
        if renames:
            fix = Fix(
                "rename the keywords to " + " / ".join(f"`{old}`" for _, old in renames),
                Applicability.SAFE,
                tuple((arg.keyword, cst.Name(old)) for arg, old in renames),
            )
            arg, old = renames[0]
            self.report(node, _new_keyword_message(function, arg.keyword.value, old, version), fix)
            return
        axis_at = 1 if function == "concat" else 2
        if (len(positional) == axis_at + 1 and _int_literal(positional[axis_at].value)
                and not _int_literal(positional[0].value)):
            first, last = positional[0], positional[axis_at]
            fix = Fix(
                "put the axis first and the " + ("values" if function == "concat" else "value") + " last",
                Applicability.SAFE,
                ((first.value, last.value), (last.value, first.value)),
            )
            self.report(node, _new_order_message(function, version), fix)

    @staticmethod
    def _keyword(node: cst.Call, keyword: str) -> cst.Arg | None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg
        return None

    # -- TensorFlow 1 names under TensorFlow 2 ----------------------------------------
    def _report_tf1_names(self) -> None:
        if not (self._tf1_uses or self._tf1_from_imports):
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
                f"`from tensorflow import {imported}`: `{imported}` is a TensorFlow 1 name, not in "
                f"{_under(version)}: `ImportError: cannot import name '{imported}' from 'tensorflow'`; "
                f"import it from `tensorflow.compat.v1`, or port the code to TensorFlow 2",
            )


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][\w.]*")
_MISSING_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# What a missing name raises: a `try` that catches one of these expects the name may be gone.
_NARROW_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError"})
# Handlers that catch everything (a bare `except:` too): a version fork only when they do other work.
_BROAD_ERRORS = frozenset({"Exception", "BaseException"})
_VERSION_ATTRIBUTES = ("__version__", "VERSION", "version_info")


class VersionGuards:
    """Which code runs only under some versions of a library.

    A test of a version (`if tf.__version__.startswith("1."):`, `if LooseVersion(np.__version__)
    < "2"`), of whether an attribute exists (`if hasattr(np, "float_"):`), or of a flag made from
    one of those (`is_tf2 = tf.__version__[0] == "2"` ... `if is_tf2:`, `self.tf1 = ...`) guards
    both its branches: the code handles both versions. Merely mentioning a version
    (`print(tf.__version__)`, writing it to a log) guards nothing. A rule calls `note_assign`
    for every assignment and `enter(test)` / `leave(entered)` around each `if`; `depth` is
    non-zero inside a guarded branch.
    """

    def __init__(self) -> None:
        self.flags: set[str] = set()  # names (`is_tf2`, `self.tf1`) that hold a version test
        self.depth = 0

    def note_assign(self, node: cst.Assign) -> None:
        if self.tests_version(node.value):
            for target in node.targets:
                name = dotted_name(target.target)
                if name is not None:
                    self.flags.add(name)

    def tests_version(self, test: cst.BaseExpression) -> bool:
        return _is_guard(test, self.flags)

    def enter(self, test: cst.BaseExpression) -> bool:
        entered = self.tests_version(test)
        self.depth += entered
        return entered

    def leave(self, entered: bool) -> None:
        self.depth -= entered


def _is_guard(test: cst.BaseExpression, flags: set[str] | frozenset[str] = frozenset()) -> bool:
    """An `if` test that checks a version, whether an attribute exists, or a flag made from those."""
    # Asked of every assignment's value and every `if` test: node types are compared with
    # `is` (libcst's node classes have no subclasses, and a missed `isinstance` is a Python call).
    stack = [test]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.Attribute and node.attr.value in _VERSION_ATTRIBUTES:
            return True
        if kind is cst.Call and type(node.func) is cst.Name and node.func.value in ("hasattr", "getattr", "dir"):
            return True
        if flags and (kind is cst.Name or kind is cst.Attribute) and dotted_name(node) in flags:
            return True
        parts = _GUARD_PARTS.get(kind)
        if parts is not None:
            stack.extend(parts(node))
    return False


# The parts of a test `_is_guard` looks into, and their children that can make a guard
# (those of `walk.child_nodes` but operators, commas and parentheses), read field by field:
# the generic walk over every field costs more than the search.
_GUARD_PARTS = {
    cst.BooleanOperation: lambda node: (node.left, node.right),
    cst.Comparison: lambda node: (node.left, *node.comparisons),
    cst.UnaryOperation: lambda node: (node.expression,),
    cst.Call: lambda node: (node.func, *node.args),
    cst.Attribute: lambda node: (node.value, node.attr),
    cst.Subscript: lambda node: (node.value, *node.slice),
    cst.ComparisonTarget: lambda node: (node.comparator,),
    cst.Arg: lambda node: (node.value,) if node.keyword is None else (node.value, node.keyword),
    cst.BinaryOperation: lambda node: (node.left, node.right),
    cst.SubscriptElement: lambda node: (node.slice,),
    cst.Index: lambda node: (node.value,),
}


def _catches_by_name(node: cst.Try, exceptions: frozenset[str]) -> bool:
    """Whether a handler names one of these exceptions (a bare `except:` names none)."""
    return any(handler.type is not None for handler in node.handlers) and catches(
        node.with_changes(handlers=[handler for handler in node.handlers if handler.type is not None]), exceptions
    )


def _is_constant(expr: cst.BaseExpression) -> bool:
    if type(expr) is cst.UnaryOperation:
        expr = expr.expression
    if type(expr) is cst.Name:
        return expr.value in ("True", "False", "None")
    if type(expr) in (cst.List, cst.Tuple, cst.Dict, cst.Set):
        return not getattr(expr, "elements", None)
    return type(expr) in (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)


_SILENT_CALL_ROOTS = frozenset({"print", "logging", "logger", "log", "LOGGER", "warnings", "traceback", "tqdm"})
_SILENT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})
_LOGGING_METHODS = frozenset({"warn", "warning", "error", "info", "debug", "exception", "critical", "print_exc"})


def _is_silent(statement: cst.BaseStatement) -> bool:
    """A handler statement that skips, logs, gives up or re-raises: no other way to do the work."""
    if type(statement) is not cst.SimpleStatementLine:
        return False
    for small in statement.body:
        if type(small) in (cst.Pass, cst.Continue, cst.Break, cst.Raise):
            continue
        if type(small) is cst.Return and (small.value is None or _is_constant(small.value)):
            continue
        if type(small) is cst.Assign and _is_constant(small.value):
            continue
        if type(small) is cst.Expr:
            value = small.value
            if type(value) in (cst.SimpleString, cst.ConcatenatedString):
                continue
            if type(value) is cst.Call:
                called = dotted_name(value.func) or ""
                if (called.split(".")[0] in _SILENT_CALL_ROOTS or called in _SILENT_CALLS
                        or called.rsplit(".", 1)[-1] in _LOGGING_METHODS):
                    continue
        return False
    return True


def _probe_flags(node: cst.Try) -> set[str]:
    """The names a probe `try` sets to constants (`TF1 = True` / `TF1 = False`)."""
    flags = set()
    for block in [node.body, *(handler.body for handler in node.handlers)]:
        for statement in block.body:
            for small in getattr(statement, "body", ()):
                if type(small) is cst.Assign and _is_constant(small.value):
                    flags.update(name for target in small.targets if (name := dotted_name(target.target)))
    return flags


def _is_probe(node: cst.Try) -> bool:
    """`try: tf.Session; TF1 = True except: TF1 = False`: the body only touches names and sets
    flags, and the handlers only set flags: a version test written as a `try`."""
    touched = False
    for statement in node.body.body:
        if type(statement) is not cst.SimpleStatementLine:
            return False
        for small in statement.body:
            touched |= type(small) is cst.Expr
            if not (type(small) in (cst.Expr, cst.Pass) or (type(small) is cst.Assign and _is_constant(small.value))):
                return False
    if not touched:
        return False
    for handler in node.handlers:
        for statement in handler.body.body:
            if type(statement) is not cst.SimpleStatementLine:
                return False
            for small in statement.body:
                if not (type(small) is cst.Pass or (type(small) is cst.Assign and _is_constant(small.value))):
                    return False
    return bool(_probe_flags(node))


def _replacement_key(removed: Removed) -> str | None:
    """The identifier that names the replacement (`global_variables_initializer`, `LANCZOS`, `float`)."""
    match = re.search(r"`([^`]*)`", removed.replacement)
    names = _IDENTIFIER.findall(match.group(1) if match else removed.replacement)
    return names[-1] if names else None


def _normalized(qualified: str | None) -> str:
    """`tensorflow.compat.v1.keras.layers` -> `tensorflow.keras.layers`; other names unchanged."""
    symbol = tf_symbol(qualified)
    if symbol is not None:
        return f"tensorflow.{symbol}" if symbol else "tensorflow"
    return qualified or ""


def _removed_module(qualified: str | None) -> tuple[str, Removed] | None:
    """The removed module `qualified` is, or is inside."""
    name = _normalized(qualified)
    for module, removed in REMOVED_MODULES.items():
        if name == module or name.startswith(module + "."):
            return module, removed
    return None


def _module_message(module: str, removed: Removed, written: str, kind: str) -> str:
    shown = module.replace("tensorflow.keras", "tf.keras", 1) if module.startswith("tensorflow.keras") else module
    if kind == "attribute":
        parent, _, last = module.rpartition(".")
        error = f"AttributeError: module '{parent}' has no attribute '{last}'"
    else:
        error = f"ModuleNotFoundError: No module named '{module}'"
    return (
        f"`{shown}` was removed in {removed.package} {removed.removed_in}{_installed_note(removed)}: "
        f"`{error}`; use {removed.replacement}"
    )


def _keras_name(qualified: str | None) -> str | None:
    """`tensorflow.keras.optimizers.Adam` and `keras.optimizers.Adam` -> `keras.optimizers.Adam`; else None."""
    name = _normalized(qualified)
    if name.startswith("tensorflow.keras."):
        name = name[len("tensorflow.") :]
    return name if name.startswith("keras.") else None


_KERAS_MODEL_MAKERS = frozenset({
    "keras.Sequential", "keras.Model", "keras.models.Sequential", "keras.models.Model",
    "keras.models.load_model", "keras.saving.load_model", "keras.models.clone_model",
})
_KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")
_PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join"})
_VARIABLE = frozenset({"torch.autograd.Variable", "torch.autograd.variable.Variable"})
# Methods of an ndarray that return an ndarray.
_ARRAY_METHODS = frozenset({
    "astype", "clip", "copy", "reshape", "transpose", "flatten", "ravel", "squeeze", "round", "byteswap", "view",
})
# torch.nn.functional losses: each reduces to a 0-dim tensor unless told `reduction="none"`.
_FUNCTIONAL_LOSSES = frozenset({
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss", "multilabel_soft_margin_loss",
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss", "multi_margin_loss", "multilabel_margin_loss",
})


def _reduces(call: cst.Call) -> bool:
    """A torch loss (module or function) called without `reduction="none"` / `reduce=False`."""
    for arg in call.args:
        if arg.star:
            return False
        if arg.keyword is None:
            continue
        if arg.keyword.value == "reduction" and string_value(arg.value) != "mean" and string_value(arg.value) != "sum":
            return False
        if arg.keyword.value == "reduce" and not (type(arg.value) is cst.Name and arg.value.value == "True"):
            return False
    return True


# NumPy 1.14 deprecated the binary mode of `fromstring`, 1.19 `tostring`; 2.3 removed both.
_FROMSTRING = Removed(
    "NumPy", "2.3", "`np.frombuffer(data, dtype)` (the same values, as a read-only view: add `.copy()` to write to them)",
    deprecated_in="1.14",
)
_TOSTRING = Removed("NumPy", "2.3", "`.tobytes()` (the same bytes)", deprecated_in="1.19")
_TOSTRING_RGB = Removed(
    "matplotlib", "3.10",
    "`np.asarray(canvas.buffer_rgba())` (RGBA, shaped (height, width, 4); take `[..., :3]` for RGB)",
)
_VOLATILE = Removed("torch", "0.4", "`with torch.no_grad():`")
_DATA_INDEX = Removed("torch", "1.0", "`.item()`")
_LEGACY_FUNCTION = Removed("torch", "1.5", "static `forward`/`backward` and `Function.apply`")
_OPTIMIZER_LR = Removed("Keras", "3.0", "`learning_rate=`")
_KERAS_SAVE = Removed("Keras", "3.0", "a `.keras` path, or `model.export(path)`")


def _legacy_function_message(name: str) -> str:
    return (
        f"`{name}` is a legacy autograd Function (its `forward` is not a `@staticmethod`), used through an "
        f"instance: PyTorch 1.5 made that an error{_installed_note(_LEGACY_FUNCTION)}: `RuntimeError: Legacy "
        "autograd function with non-static forward method is deprecated. Please use new-style autograd function "
        f"with static forward method.`; make `forward(ctx, ...)` and `backward(ctx, ...)` `@staticmethod`s (state "
        f"on `ctx`, `ctx.save_for_backward`) and call `{name}.apply(...)`"
    )


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
        f"TensorFlow 1 code under {_under(version)}: {listed} {verb} not exist in TensorFlow 2 "
        f"(`AttributeError: module '{where}' has no attribute '{attribute}'`); "
        f"`import tensorflow.compat.v1 as {root}` and call `{root}.disable_v2_behavior()`, or port it with `tf_upgrade_v2`"
    )


def _under(version: str) -> str:
    """`TensorFlow 2.21.0 (installed here)`, `TensorFlow 2.15 (the target, from requirements.txt:3)`."""
    if target_environment.installed_here(version):
        return f"TensorFlow {version} (installed here)"
    return f"TensorFlow {target_environment.shown(version)} (the target, from {target_environment.source(version)})"


def _keyword_message(function: str, old: str, new: str) -> str:
    return (
        f"old `tf.{function}` keyword: TensorFlow 1.0 renamed `{old}` to `{new}`; written the TF 0.x way it fails "
        f"with `TypeError: {function}() got an unexpected keyword argument '{old}'`"
    )


# TensorFlow 1.0's keywords of `tf.concat` / `tf.split`, and those of 0.x they replaced.
_OLD_KEYWORDS = {
    "concat": (("axis", "concat_dim"),),
    "split": (("axis", "split_dim"), ("num_or_size_splits", "num_split")),
}
_OLD_SIGNATURES = {"concat": "tf.concat(concat_dim, values)", "split": "tf.split(split_dim, num_split, value)"}


# TensorFlow names some releases lacked: the first release without it, the first with it
# again, the replacement there, why, and the error. TensorFlow 1.0's release notes: "tf.nn.rnn_cell.*
# and most functions in tf.nn.rnn.* ... are temporarily in tf.contrib.rnn. They will be
# moved back into core for TF 1.2"; 1.2's: the cells "now reside in `tf.nn.rnn_cell`".
_ABSENT_IN = {
    "nn.rnn_cell": (
        "1.0", "1.2", "`tf.contrib.rnn` (`tf.contrib.rnn.LSTMCell`, ...)",
        "TensorFlow 1.0 moved the RNN cells to `tf.contrib.rnn`, and 1.2 moved them back",
        "AttributeError: module 'tensorflow.python.ops.nn' has no attribute 'rnn_cell'",
    ),
}
# Calls that TensorFlow 1.0 changed so that its form fails on 0.x: `tf.strided_slice`'s
# `strides` (required in 0.12's `strided_slice(input_, begin, end, strides, ...)`), and the
# keywords 1.0 renamed (its release notes: `sigmoid_cross_entropy_with_logits` takes
# `labels`, 0.12's `(logits, targets)`).
_NEW_KEYWORDS = {"nn.sigmoid_cross_entropy_with_logits": ("labels", "targets")}
_BEFORE_1_0_CALLS = frozenset({"strided_slice", *_NEW_KEYWORDS})


def _before(version: str) -> str:
    """The release before `version` in TensorFlow's numbering: `1.2` -> `1.1`."""
    major, minor = version_tuple(version)[:2]
    return f"{major}.{minor - 1}" if minor else f"{major - 1}.x"


def _before_1_0() -> str | None:
    """The target TensorFlow when it is a 0.x release (`tf.concat(0, values)` is its order), else None."""
    version = installed_version("TensorFlow")
    return version if version is not None and version_tuple(version)[:1] < (1,) else None


def _new_order_message(function: str, version: str) -> str:
    error = (
        "`TypeError: Expected int32, got list containing Tensors of type '_Message' instead.`"
        if function == "concat"
        else "a `TypeError`/`ValueError`"
    )
    example = "tf.concat(values, axis)" if function == "concat" else "tf.split(value, n, axis)"
    text = (
        f"`{example}` is TensorFlow 1.0's order, and the code runs on {_under(version)}, whose signature is "
        f"`{_OLD_SIGNATURES[function]}`: the axis comes first, and this call fails with {error}"
    )
    if function == "concat" and version_tuple(version)[:2] == (0, 12):
        text += "; write the axis first, or call `tf.concat_v2(values, axis)` (TensorFlow 0.12 only)"
    return text


def _new_keyword_message(function: str, new: str, old: str, version: str) -> str:
    return (
        f"`tf.{function}({new}=...)` is TensorFlow 1.0's keyword, and the code runs on {_under(version)}, where it is "
        f"`{old}` (`{_OLD_SIGNATURES[function]}`): `TypeError: {function}() got an unexpected keyword argument "
        f"'{new}'`; write `{old}=`"
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
