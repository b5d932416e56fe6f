"""Whether CUDA is usable, and if not why and which torch wheel fixes it.

``gpu_check.py --device cuda`` calls :func:`cuda_preflight` before anything
else: a torch wheel built for a newer CUDA than the driver supports makes
``torch.cuda.is_available()`` False, and every tool would then train on
the CPU without a word. The preflight names the torch build, the driver
(``nvidia-smi``, else the error of ``torch.cuda.init()``) and the
``pip install`` command of a wheel that fits the driver.
"""
import re
import shutil
import subprocess
from typing import List, Optional, Tuple

import torch

#: CUDA builds of torch wheels on https://download.pytorch.org/whl/ (tag,
#: CUDA version); each torch release publishes a few of them. A driver runs
#: every build of its CUDA major version (CUDA minor version compatibility).
WHEEL_CUDA = (('cu118', (11, 8)), ('cu121', (12, 1)), ('cu124', (12, 4)),
              ('cu126', (12, 6)), ('cu128', (12, 8)), ('cu129', (12, 9)),
              ('cu130', (13, 0)))
INDEX = 'https://download.pytorch.org/whl/'
#: The newest torch (and torchvision) whose wheels on PyPI are built for
#: CUDA 12 (12.8; torch 2.11 and later need CUDA 13): a fix for a CUDA-12
#: driver through the ordinary package index.
PYPI_CUDA12 = ('2.10.0', '0.25.0')


def _version(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """``(major, minor)`` of ``'12.8'``, or None."""
    m = re.match(r'\s*(\d+)\.(\d+)', text or '')
    return (int(m[1]), int(m[2])) if m else None


def nvidia_smi() -> dict:
    """Driver version, the newest CUDA it supports and the GPU names, from
    ``nvidia-smi`` (``error`` says why not)."""
    exe = shutil.which('nvidia-smi')
    if exe is None:
        return dict(error='nvidia-smi not found (no NVIDIA driver?)')
    try:
        banner = subprocess.run([exe], capture_output=True, text=True,
                                timeout=30)
        query = subprocess.run(
            [exe, '--query-gpu=driver_version,name', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return dict(error=f'nvidia-smi: {e}')
    if query.returncode != 0:
        return dict(error='nvidia-smi: ' + (query.stderr or query.stdout
                                            or f'exit {query.returncode}')
                    .strip()[:300])
    rows = [r.split(',', 1) for r in query.stdout.strip().splitlines()]
    m = re.search(r'CUDA Version:\s*([\d.]+)', banner.stdout)
    return dict(driver=rows[0][0].strip() if rows else None,
                driver_cuda=m[1] if m else None,
                gpus=[r[1].strip() for r in rows if len(r) > 1])


def fitting_wheels(driver_cuda: Optional[str]) -> List[str]:
    """Wheel tags a driver runs (its CUDA major version), newest first."""
    have = _version(driver_cuda)
    if have is None:
        return []
    return [tag for tag, cuda in WHEEL_CUDA[::-1] if cuda[0] == have[0]]


def pip_command(tag: Optional[str], versions=None) -> str:
    """``pip install`` of torch (and torchvision): this version built for
    CUDA ``tag`` from PyTorch's index, or ``versions`` (torch,
    torchvision) from the configured index (``tag`` None)."""
    if versions is None:
        versions = [torch.__version__]
        try:
            import torchvision
            versions.append(torchvision.__version__)
        except ImportError:  # not a kent_mm install; torch alone
            pass
    pins = [f'{name}=={v.split("+")[0]}'
            for name, v in zip(('torch', 'torchvision'), versions)]
    return (f'python -m pip install --force-reinstall {" ".join(pins)}' +
            (f' --index-url {INDEX}{tag}' if tag else ''))


def fixes(driver_cuda: Optional[str]) -> List[str]:
    """``pip install`` commands that give a torch this driver runs, best
    first: this torch version built for the newest CUDA of the driver's
    major version (and the two before it), then, for a CUDA-12 driver,
    :data:`PYPI_CUDA12` from the ordinary index."""
    tags = fitting_wheels(driver_cuda)
    out = [pip_command(tag) for tag in tags[:3]]
    if tags and _version(driver_cuda)[0] == 12:
        out.append(pip_command(None, PYPI_CUDA12))
    return out


def _smoke_test() -> None:
    """One fp16 matmul and a convolution on the GPU (raises if the wheel
    has no kernels for this GPU)."""
    x = torch.randn(64, 64, device='cuda', dtype=torch.float16)
    conv = torch.nn.Conv2d(3, 8, 3).cuda()
    (x @ x).sum().item()
    conv(torch.randn(2, 3, 16, 16, device='cuda')).sum().item()


def cuda_preflight() -> dict:
    """Whether CUDA works here, with the facts needed to fix it if not.

    Returns:
        dict: ``usable`` (bool), ``torch``, ``torch_cuda`` (the CUDA the
        wheel was built for, None for a CPU-only wheel), ``driver``,
        ``driver_cuda`` (newest CUDA the driver supports), ``gpus``,
        ``error`` (why CUDA is not usable), ``fixes`` (``pip install``
        commands, best first; empty when no wheel would help) and
        ``message`` (all of it, for a person).
    """
    info = dict(torch=torch.__version__, torch_cuda=torch.version.cuda,
                usable=False, error=None, fixes=[])
    smi = nvidia_smi()
    info.update(driver=smi.get('driver'), driver_cuda=smi.get('driver_cuda'),
                gpus=smi.get('gpus', []), nvidia_smi_error=smi.get('error'))
    try:
        torch.cuda.init()  # raises with the driver's complaint
        if not torch.cuda.is_available():
            raise RuntimeError('torch.cuda.is_available() is False')
        _smoke_test()
        info.update(usable=True, gpu=torch.cuda.get_device_name(),
                    capability='sm_%d%d' % torch.cuda.get_device_capability())
    except Exception as e:  # every failure is reported the same way
        info['error'] = f'{type(e).__name__}: {e}'.strip()[:600]
    wheel = _version(info['torch_cuda'])
    driver = _version(info['driver_cuda'])
    # A CPU-only wheel, or one built for a newer CUDA major than the
    # driver's.
    if not info['usable'] and driver and (wheel is None
                                          or wheel[0] > driver[0]):
        info['fixes'] = fixes(info['driver_cuda'])
    info['message'] = _message(info)
    return info


def _message(info: dict) -> str:
    """What a person needs to read: the versions, the error, the fix."""
    if info['usable']:
        return (f'CUDA usable: {info["gpu"]} ({info["capability"]}), torch '
                f'{info["torch"]} built for CUDA {info["torch_cuda"]}, driver '
                f'{info["driver"]} (CUDA <= {info["driver_cuda"]}).')
    build = (f'built for CUDA {info["torch_cuda"]}' if info['torch_cuda']
             else 'a CPU-only build')
    driver = (f'NVIDIA driver {info["driver"]}, which supports CUDA up to '
              f'{info["driver_cuda"]}' if info['driver'] else
              f'no NVIDIA driver found ({info["nvidia_smi_error"]})')
    lines: List[str] = [
        'CUDA was asked for (--device cuda) but is not usable.',
        f'  torch {info["torch"]}: {build}',
        f'  {driver}',
        f'  torch.cuda: {info["error"]}']
    if info['fixes']:
        lines += ['Fix: install a torch wheel built for a CUDA that the '
                  'driver supports, the first of these that installs:']
        lines += [f'  {cmd}' for cmd in info['fixes']]
    elif info['driver'] and info['torch_cuda']:
        lines.append('Fix: the torch wheel fits the driver; check the GPU '
                     '(nvidia-smi) and CUDA_VISIBLE_DEVICES.')
    else:
        lines.append('Fix: run on a machine with an NVIDIA GPU and driver, '
                     'or check on the CPU with --device cpu (or --tiny).')
    return '\n'.join(lines)
