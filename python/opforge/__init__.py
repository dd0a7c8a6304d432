"""opforge: custom operators for Triton Inference Server, written once.

Each framework gets its own shared library holding every op; this package
finds the one that was built for this environment and loads it.
"""

from ._library import FRAMEWORKS, LibraryNotBuilt, build_info, library_path, load

__all__ = ["FRAMEWORKS", "LibraryNotBuilt", "build_info", "library_path", "load"]
__version__ = "0.1.0"
