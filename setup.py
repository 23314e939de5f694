"""Package discovery for the layout the user fixed: top-level folders installed as subpackages.

``agent/``, ``tools/``, ``prompts/``, ``graphs/`` and ``evals/`` sit at the repository root but
import as ``viddiff.agent``, ``viddiff.tools``, ...; ``viddiff/`` is the root package. setuptools'
automatic discovery cannot rename folders, and a hand-written ``packages`` list once missed a
subpackage (the wheel had no ``viddiff.agent.batch``). So every package under each layer folder
is found here; everything else about the project is in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, setup

LAYERS = ("agent", "tools", "prompts", "graphs", "evals")

package_dir = {"viddiff": "viddiff", **{f"viddiff.{layer}": layer for layer in LAYERS}}
packages = ["viddiff", *(f"viddiff.{layer}" for layer in LAYERS)]
for layer in LAYERS:
    # namespace discovery: a folder of data files (tools/data) is a package too, so that
    # setuptools ships it without warning and a subpackage without __init__.py is not lost
    packages += [f"viddiff.{layer}.{sub}"
                 for sub in find_namespace_packages(where=layer, exclude=["*__pycache__*"])]

setup(package_dir=package_dir, packages=packages)
