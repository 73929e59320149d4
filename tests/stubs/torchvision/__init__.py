"""Test-only stand-in for the four torchvision functions segment_anything imports.

PyPI's torchvision wheels are built against CUDA torch and do not load with the CPU torch used here,
and segment_anything imports torchvision at import time. The SAM test puts this folder on sys.path
only when the real torchvision is missing. Users install the torchvision that matches their torch.
"""

__version__ = "0.0-stand-in"
