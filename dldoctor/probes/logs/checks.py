"""The catalogue entries of `dldoctor logs`' checks: what each checks, why, what users see, the fix.

`dldoctor explain logs.nan` prints one; diagnosis.py emits only these ids. The numbers
named here are the defaults of thresholds.py (overridable in `[tool.dldoctor.logs]`
and with `--threshold NAME=VALUE`).
"""

from dldoctor.verdict.catalogue import CheckDoc

CHECKS = (
    CheckDoc(
        "logs.read", "the log files read",
        "Every TensorBoard event file (TF1 FileWriter, TF2 tf.summary, Keras' TensorBoard callback, PyTorch's "
        "SummaryWriter) and CSV log (Lightning's metrics.csv, Keras' CSVLogger) under the paths, each record "
        "checked against its CRC32C. Warns for a truncated or damaged record (the rest is read) and when no "
        "scalar is found.",
        "A run that crashed leaves a torn last record; TensorBoard stops there silently, and its reservoir "
        "sampling keeps only 10,000 points of a tag. Every point is read here.",
        "W event_file_loader.py] Read less bytes than requested\nDataLossError: truncated record at 1234",
        "Nothing to do for a crashed run's torn last record; copy a damaged file again.",
    ),
    CheckDoc(
        "logs.nan", "a curve turns NaN or Inf",
        "The first step and tag where a logged scalar is NaN or Inf, and what that curve did just before: "
        "rising (divergence), a spike, or steady (a bad batch). Fails.",
        "After one NaN the weights are NaN and every later step is wasted; the step says where to look.",
        "loss = nan\nRuntimeError: Function 'LogBackward0' returned nan values in its 0th output.",
        "Rising before: lower the learning rate, clip gradients. Steady before: look for an empty batch, log(0) or "
        "a division by zero at that step; torch.autograd.set_detect_anomaly(True), "
        "tf.debugging.enable_check_numerics() find the operation.",
    ),
    CheckDoc(
        "logs.divergence", "a training loss diverges",
        "The training loss (median of its last tenth) ends at least divergence-factor (2) times its smoothed "
        "minimum and has climbed back at least divergence-recovery (25%) of its descent; or it jumped 10x over its "
        "start and never again got below where it was before the jump. Fails. Says when it began "
        "right after a learning-rate warm-up ended or late in it (the rate above half its peak).",
        "A learning rate too high, or exploding gradients, undo what the run learned; it does not come back.",
        "", "Lower the learning rate, add a warm-up or clip gradients; check the inputs' and targets' scale.",
    ),
    CheckDoc(
        "logs.gradient-explosion", "gradient magnitudes explode",
        "A gradient-norm scalar or the largest magnitude of gradient histograms grows gradient-growth (100) "
        "times over its start (the median of its first three points). Warns, once per training, naming the "
        "series that grew most.",
        "Exploding gradients come before a loss that shoots up or turns NaN.",
        "", "Clip gradients (clip_grad_norm_, clipnorm) and lower the learning rate.",
    ),
    CheckDoc(
        "logs.not-learning", "a training loss does not fall",
        "The smoothed training loss never falls more than plateau-band (5%) below its first value over at least "
        "min-points (10) points. Fails.",
        "A plateau from the start means the updates do nothing: a learning rate far too small, parameters not "
        "given to the optimizer, or inputs and labels that do not match.",
        "", "Check the learning rate, the optimizer's parameters and the pairing of inputs and labels.",
    ),
    CheckDoc(
        "logs.slow-convergence", "a training loss falls slowly and steadily",
        "The training loss ends between 50% and 90% of its first value and falls as fast over its last quarter as "
        "over its first (at least half the pace): no sign of converging. Warns. AUTOTRAINER calls this slow "
        "convergence.",
        "A healthy loss falls fast, then flattens; a straight slow descent is the mark of steps too small (a "
        "learning rate far too low) and a run that would need many times its length.",
        "", "Raise the learning rate (try 10x), or train much longer.",
    ),
    CheckDoc(
        "logs.accuracy-stuck", "an accuracy stays where it started",
        "An accuracy never rises more than accuracy-delta (0.01, AUTOTRAINER's slow-convergence delta) above its "
        "first value. Warns; says when it is the same value at every point.",
        "A model that gives the same output for every input scores the share of the most common class, and stays "
        "there.",
        "", "Compare the value with the majority class's share; lower a learning rate that killed the units; "
        "balance the classes.",
    ),
    CheckDoc(
        "logs.oscillation", "a loss oscillates without converging",
        "Swings of at least oscillation-amplitude (30%) of the curve's median in at least oscillation-rate (20%, "
        "AUTOTRAINER's eta) of its smoothed points, while its second half does not fall and it never halved. "
        "Warns.",
        "A learning rate too high for the curvature, or unshuffled data, makes the loss bounce instead of fall.",
        "", "Lower or decay the learning rate, increase the batch size, shuffle every epoch.",
    ),
    CheckDoc(
        "logs.overfitting", "the validation loss rises while training falls",
        "A validation loss ends overfit-ratio (10%, SageMaker Debugger's Overfit ratio) above its best, at least "
        "overfit-patience (2) evaluations later, while the training loss beside it kept falling. Warns with the "
        "best step: early stopping would have kept it.",
        "Past the best step the model memorises the training set; the checkpoint to ship is the best one.",
        "", "Early stopping with the best weights kept; more data or augmentation, weight decay, dropout, a "
        "smaller model.",
    ),
    CheckDoc(
        "logs.underfitting", "a training loss stops high and flat",
        "The training loss fell a little, then stayed flat for the last half at more than underfit-fraction (70%) "
        "of its first value (and the validation loss too). Warns.",
        "The model has stopped learning long before it fits the data.",
        "", "Train longer or with a larger learning rate; a larger model; normalise the inputs.",
    ),
    CheckDoc(
        "logs.repeated-step", "the same step logged again and again",
        "One tag records the same step repeated-eval-steps (3) or more times in a row. In an evaluation run it is "
        "the loop that restores the same checkpoint forever; in a training run a step argument that is missing.",
        "The evaluation reports one checkpoint as if it were progress, or the curve collapses onto one x.",
        "INFO:tensorflow:Saving dict for global step 5049: loss = 2.879, perplexity = 17.80 (again and again)",
        "Check the training job is alive and saving where the evaluator looks; pass the step when logging.",
    ),
    CheckDoc(
        "logs.step-backwards", "the step counter goes backwards",
        "A run's step falls back. To about its start (restart-fraction, 5%): warns, the job restarted without "
        "restoring its checkpoint. Part way: ok, a resume from an earlier checkpoint.",
        "A restart that did not restore trains from scratch while the logs look like one run.",
        "", "Restore the latest checkpoint (model, optimizer and step) when the job starts.",
    ),
    CheckDoc(
        "logs.lr-decayed", "the learning rate reaches ~0 early",
        "The learning rate falls to lr-decayed-fraction (1%) of its peak before the run's last quarter, and the "
        "training loss is flat from then on (the medians of the two halves after it within plateau-band, 5%, or "
        "within a quarter of its interquartile range: batch noise). Warns.",
        "The steps after it cost compute and change nothing: the schedule is shorter than the run.",
        "", "Set the schedule's length to the run's (T_max, decay_steps), or stop where the rate reaches ~0.",
    ),
)
