"""The catalogue entries of `dldoctor env`'s checks: what each checks, why, what users see, the fix.

`dldoctor explain env.driver-too-old` prints one; diagnosis.py emits only these ids
(a test holds it to that).
"""

from dldoctor.verdict.catalogue import CheckDoc

CHECKS = (
    CheckDoc(
        "env.python", "the interpreter",
        "Which Python runs (version, implementation, 32 or 64 bit) and where packages go: a virtualenv, a conda "
        "environment or the system interpreter. Fails on a 32-bit Python.",
        "PyTorch and TensorFlow publish 64-bit wheels only; on a 32-bit Python pip finds no build at all.",
        "ERROR: Could not find a version that satisfies the requirement torch (from versions: none)\n"
        "ERROR: No matching distribution found for torch",
        "Install a 64-bit Python and recreate the environment; keep one virtualenv per project.",
    ),
    CheckDoc(
        "env.os", "the operating system",
        "The system, release and architecture; notes WSL (the NVIDIA driver is the Windows one) and macOS (no CUDA).",
        "Under WSL2 a Linux NVIDIA driver installed inside WSL breaks CUDA; on macOS PyTorch uses MPS and "
        "TensorFlow needs tensorflow-metal.",
        "", "Under WSL2 install the driver on Windows only.",
    ),
    CheckDoc(
        "env.nvidia-driver", "the NVIDIA driver answers",
        "Whether NVML (libnvidia-ml, what nvidia-smi uses) loads and answers: the driver version and the newest CUDA "
        "it supports. Skipped on a machine without an NVIDIA driver (CPU only is a normal state) or without pynvml; "
        "fails when the driver is installed but not loaded, when the loaded kernel module and the library differ "
        "(after a driver upgrade without a reboot), without permission to /dev/nvidia*, or when NVML hangs.",
        "Every CUDA program on the machine fails the same way until the driver works; the framework's own error "
        "rarely names the driver.",
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
        "Failed to initialize NVML: Driver/library version mismatch\n"
        "RuntimeError: Found no NVIDIA driver on your system.",
        "Not loaded: `sudo modprobe nvidia` (`dmesg | grep -i nvidia` says why it failed; reinstall the driver or "
        "its DKMS module after a kernel upgrade). Version mismatch: reboot. Permission: fix /dev/nvidia* groups. "
        "No pynvml: `pip install nvidia-ml-py`.",
    ),
    CheckDoc(
        "env.gpu", "each GPU answers",
        "Each GPU NVML lists: name, compute capability, memory, temperature and the processes using it. Warns when "
        "the driver reports no GPU; fails for a GPU NVML cannot query (one that fell off the bus).",
        "A lost GPU hangs or fails every job scheduled on it.",
        "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error\nGPU has fallen off the bus.",
        "`dmesg | grep -i xid` shows driver errors; a lost GPU needs a reboot. In a container, start it with "
        "`--gpus all`.",
    ),
    CheckDoc(
        "env.gpus-hidden", "CUDA_VISIBLE_DEVICES hides every GPU",
        "Warns when CUDA_VISIBLE_DEVICES is empty, -1 or NoDevFiles while GPUs are present.",
        "The frameworks then see no GPU and train on the CPU, slowly and silently.",
        "torch.cuda.is_available() returns False\n"
        "W tensorflow/.../cuda_driver.cc: failed call to cuInit: CUDA_ERROR_NO_DEVICE",
        "Unset CUDA_VISIBLE_DEVICES, or list the GPUs to use (CUDA_VISIBLE_DEVICES=0).",
    ),
    CheckDoc(
        "env.gpu-memory-shared", "other processes hold a GPU's memory",
        "Warns when other processes hold half or more of a GPU's memory, or when less than a tenth is free.",
        "TensorFlow maps nearly all free memory at start and cuBLAS then cannot create its handle; `torch.load` of "
        "a checkpoint saved from that GPU puts it back there.",
        "failed to create cublas handle: CUBLAS_STATUS_ALLOC_FAILED\n"
        "RuntimeError: CUDA out of memory. Tried to allocate ...",
        "Use a freer GPU (CUDA_VISIBLE_DEVICES), stop a leftover run, set TF_FORCE_GPU_ALLOW_GROWTH=true, and "
        "`torch.load(path, map_location=\"cpu\")`.",
    ),
    CheckDoc(
        "env.gpu-ecc-errors", "uncorrectable ECC memory errors",
        "Fails when a GPU counted uncorrectable ECC errors since the driver loaded; warns on errors over its lifetime.",
        "Results computed on a GPU with uncorrectable memory errors may be corrupt: NaNs, wrong losses, crashes.",
        "CUDA error: uncorrectable ECC error encountered\nXid 48: DBE (Double Bit Error) ECC Error",
        "Drain jobs from the GPU; reset it (`sudo nvidia-smi -r -i N`) or reboot; replace a board whose errors return.",
    ),
    CheckDoc(
        "env.gpu-bad-memory", "bad GPU memory retired or remapped",
        "Fails when row remapping failed; warns when bad pages or rows wait to be retired or remapped (at the next "
        "reset).",
        "A GPU that can no longer retire its bad memory returns wrong results or crashes jobs.",
        "Xid 63: Row remapping event\nXid 64: Row remapping failure",
        "Reset the GPU (`sudo nvidia-smi -r -i N`) or reboot to apply pending retirements; replace a board whose "
        "remapping failed.",
    ),
    CheckDoc(
        "env.gpu-throttled", "GPU clocks slowed down",
        "Warns when the clocks are slowed for hardware, thermal or power-brake reasons (not idle, not a normal power cap).",
        "Training runs several times slower with nothing in the logs.",
        "nvidia-smi -q -d PERFORMANCE: HW Slowdown: Active",
        "Check cooling (fans, airflow, temperature) and the power supply.",
    ),
    CheckDoc(
        "env.framework-import", "the framework imports",
        "Imports torch and tensorflow, each in its own subprocess with a timeout. Skipped when the framework is not "
        "installed (or with --quick); fails when the import raises, crashes the interpreter (a signal) or hangs, "
        "with the error explained (a missing CUDA library, a NumPy ABI break, a broken install).",
        "A failing import is the first thing a training script meets; the error names a library file, not its cause.",
        "ImportError: libcudnn.so.8: cannot open shared object file: No such file or directory\n"
        "ImportError: No module named '_pywrap_tensorflow'\n"
        "Segmentation fault (core dumped)",
        "Follow the explanation given with the failure: install the CUDA libraries the build needs, reinstall the "
        "framework, or `python -X importtime -c \"import torch\"` to see where a hung import stops.",
    ),
    CheckDoc(
        "env.driver-too-old", "the driver supports the build's CUDA",
        "Compares the newest CUDA the driver supports with the CUDA the framework was built for. Warns when the "
        "driver is older within the same CUDA major and the framework still sees its GPUs (minor version "
        "compatibility); fails otherwise.",
        "A CUDA build newer than the driver cannot initialise CUDA: the GPU is invisible to the framework.",
        "The NVIDIA driver on your system is too old (found version 11040).\n"
        "CUDA driver version is insufficient for CUDA runtime version",
        "Update the NVIDIA driver to at least the build's minimum, or install a framework build for the driver's CUDA.",
    ),
    CheckDoc(
        "env.cublas-smoke-test", "a matmul runs on each GPU",
        "Runs a small matrix multiplication on each GPU with each framework (not with --quick): it creates a cuBLAS "
        "handle, which needs free GPU memory and CUDA libraries that match the driver.",
        "A framework can import and list its GPUs and still fail at the first layer.",
        "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`\n"
        "failed to create cublas handle: CUBLAS_STATUS_NOT_INITIALIZED",
        "Free GPU memory (other processes; TF_FORCE_GPU_ALLOW_GROWTH=true for TensorFlow; "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True for PyTorch), or use another GPU.",
    ),
    CheckDoc(
        "env.gpu-arch-unsupported", "the build has kernels for each GPU",
        "Compares each GPU's compute capability with the architectures the framework build ships kernels for "
        "(torch.cuda.get_arch_list(), TensorFlow's build info).",
        "A build without kernels for the GPU fails at the first CUDA op, however new the driver is.",
        "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.\n"
        "RuntimeError: CUDA error: no kernel image is available for execution on the device",
        "Install a build whose arch list includes the GPU (newer GPUs need builds for newer CUDA: Blackwell needs "
        "CUDA 12.8), or build from source for it.",
    ),
    CheckDoc(
        "env.torch-build", "the torch build",
        "Which torch is imported: its version, CUDA/cuDNN or ROCm build, and how many GPUs it sees.",
        "The build, not the installed package name, decides what runs on the GPU.",
    ),
    CheckDoc(
        "env.torch-shadowed", "`import torch` loads another torch",
        "Warns when the version `import torch` loads differs from the installed distribution's.",
        "Another copy first on sys.path (PYTHONPATH, a local torch/ folder, a user site-packages) makes every "
        "installed-version check and every pip install beside the point.",
        "", "Remove the other copy from sys.path.",
    ),
    CheckDoc(
        "env.torch-cpu-wheel", "CPU-only torch on a GPU machine",
        "Fails when the imported torch has no CUDA (torch.version.cuda is None) on a machine with NVIDIA GPUs.",
        "Training runs on the CPU; the first `.cuda()` raises.",
        "AssertionError: Torch not compiled with CUDA enabled",
        "`pip uninstall torch`, then install the CUDA build with the command from PyTorch's install selector; in "
        "conda, remove the `cpuonly` package.",
    ),
    CheckDoc(
        "env.torch-cuda-unavailable", "torch.cuda.is_available() is False with GPUs present",
        "Fails when a CUDA build of torch reports no CUDA although NVML lists GPUs (and the driver is not the "
        "explained cause).",
        "Code that falls back to the CPU trains silently slowly; code that does not raises at the first `.cuda()`.",
        "UserWarning: CUDA initialization: ... (Triggered internally at ...)\n"
        "RuntimeError: No CUDA GPUs are available",
        "`python -c \"import torch; torch.cuda.init()\"` shows CUDA's own error; check CUDA_VISIBLE_DEVICES and the "
        "driver.",
    ),
    CheckDoc(
        "env.tensorflow-build", "the TensorFlow build",
        "Which TensorFlow is imported: its version and distribution, its CUDA/cuDNN (or ROCm, or CPU-only) build, "
        "and how many GPUs it sees.",
        "The build decides which CUDA and cuDNN libraries it needs at run time.",
    ),
    CheckDoc(
        "env.tensorflow-cpu-build", "CPU-only TensorFlow on a GPU machine",
        "Warns when a CPU-only TensorFlow build runs on a machine with NVIDIA GPUs.",
        "It cannot use the GPUs (native Windows has no GPU TensorFlow after 2.10).",
        "", "On Linux `pip install tensorflow[and-cuda]` (and uninstall tensorflow-cpu); on Windows use WSL2.",
    ),
    CheckDoc(
        "env.tensorflow-no-gpu", "TensorFlow sees no GPU",
        "Fails when a CUDA build of TensorFlow lists no GPU although NVML does; shows the library load errors "
        "TensorFlow logged.",
        "TensorFlow then runs everything on the CPU, warning once in a log nobody reads.",
        "Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file\n"
        "Cannot dlopen some GPU libraries. ... Skipping registering GPU devices...",
        "On Linux `pip install tensorflow[and-cuda]`, or install the CUDA and cuDNN of the tested configuration "
        "and put them on LD_LIBRARY_PATH.",
    ),
    CheckDoc(
        "env.tensorflow-tested-config", "TensorFlow's tested configuration",
        "Compares the Python, CUDA and cuDNN in use with the configuration the TensorFlow release was tested with. "
        "Skipped for releases dldoctor's table does not know.",
        "Outside the tested configuration imports and GPU kernels fail in ways the release notes do not cover.",
        "Loaded runtime CuDNN library: 5.1.10 but source was compiled with: 6.0.21.",
        "Use a Python in the tested range, or install the tested CUDA and cuDNN (or a stock TensorFlow build).",
    ),
    CheckDoc(
        "env.tensorflow-allow-growth", "TensorFlow's GPU memory preallocation",
        "Whether TF_FORCE_GPU_ALLOW_GROWTH is set; warns when TensorFlow would preallocate on GPUs other processes use.",
        "TensorFlow maps nearly all free GPU memory at start; on a shared GPU the next allocation (cuBLAS's) fails.",
        "failed to create cublas handle: CUBLAS_STATUS_ALLOC_FAILED",
        "export TF_FORCE_GPU_ALLOW_GROWTH=true, or in code `config.gpu_options.allow_growth = True` (TF1) / "
        "`tf.config.experimental.set_memory_growth(gpu, True)` (TF2).",
    ),
    CheckDoc(
        "env.tensorboard", "TensorBoard is installed and starts",
        "Whether TensorBoard is installed (fails when TensorFlow requires it and it is missing) and whether "
        "`tensorboard.main` imports.",
        "The `tensorboard` command fails exactly when the training logs are to be looked at.",
        "ModuleNotFoundError: No module named 'tensorboard.main'",
        "pip install --force-reinstall tensorboard (the version TensorFlow requires).",
    ),
    CheckDoc(
        "env.tensorboard-legacy", "both tensorflow-tensorboard and tensorboard",
        "Warns when the old `tensorflow-tensorboard` distribution is installed beside `tensorboard`.",
        "Both write the same `tensorboard` package and break each other.",
        "ModuleNotFoundError: No module named 'tensorboard.main'",
        "pip uninstall -y tensorflow-tensorboard tensorboard && pip install tensorboard",
    ),
    CheckDoc(
        "env.tensorboard-version", "TensorBoard matches TensorFlow",
        "Compares TensorBoard's version with TensorFlow's declared requirement on it (or the same major version).",
        "A mismatched TensorBoard fails to start or to read the event files.",
        "", "pip install the TensorBoard version TensorFlow requires.",
    ),
    CheckDoc(
        "env.version-malformed", "a package's version is not a valid version",
        "Warns when an installed distribution's metadata gives a version that is not PEP 440 (a stray or corrupt "
        ".dist-info); version checks on it are skipped.",
        "pip itself may fail on it, and every requirement check on the package is meaningless.",
        "pip._vendor.packaging.version.InvalidVersion: Invalid version: '2.\u00b2'",
        "pip install --force-reinstall --no-deps PACKAGE, or remove the stray metadata directory.",
    ),
    CheckDoc(
        "env.requirement-unsatisfied", "NumPy and protobuf meet the frameworks' requirements",
        "Checks the installed NumPy and protobuf against what the installed frameworks declare they need. Skipped "
        "when no framework declares a requirement on them.",
        "A NumPy or protobuf outside the declared range breaks the framework's import or its file formats.",
        "TypeError: Descriptors cannot be created directly.\n"
        "If this call came from a _pb2.py file, your generated code is out of date and must be regenerated with protoc >= 3.19.0.",
        "pip install the version the framework requires (`pip install \"numpy<2.1.0,>=1.26.0\"`).",
    ),
    CheckDoc(
        "env.numpy2-torch-abi", "NumPy 2 with a torch built for NumPy 1",
        "Fails when NumPy 2 is installed with torch older than 2.3.",
        "torch < 2.3 was compiled against NumPy 1.x: its NumPy interop fails.",
        "A module that was compiled using NumPy 1.x cannot be run in NumPy 2.0.0 as it may crash.",
        "pip install \"numpy<2\", or upgrade torch to 2.3 or newer.",
    ),
    CheckDoc(
        "env.rendezvous-port", "the rendezvous port is free",
        "Binds the rendezvous port torch.distributed would use (--port, else MASTER_PORT, else 29500) and names the "
        "process holding it. Fails when MASTER_PORT is not a port number or is taken; warns when only the default "
        "port is taken.",
        "init_process_group on a taken port fails, or a worker joins the wrong job and waits forever.",
        "RuntimeError: The server socket has failed to listen on any local network address. ... "
        "[errno: 98 - Address already in use]",
        "Choose a free port (MASTER_PORT=<port>), or stop the leftover run holding it.",
    ),
)
