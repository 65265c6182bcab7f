"""Builds the `vecformer` Python package with the project's CMake (python/CMakeLists.txt).

    pip install --no-build-isolation --no-index .

configures this checkout into the build folder setuptools gives (Release, no tests, no benchmarks,
the interpreter pip runs as PYTHON_EXECUTABLE), builds the extension target `vecformer_python` and
puts it into the package beside python/vecformer/*.py. CMAKE_ARGS (space-separated) is passed to the
configure step; CMAKE_BUILD_PARALLEL_LEVEL and CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache) are read
by CMake from the environment.
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE_DIR = Path(__file__).resolve().parent


def project_version():
    for line in (SOURCE_DIR / "CMakeLists.txt").read_text().splitlines():
        if line.startswith("project(vecformer VERSION"):
            return line.split("VERSION")[1].split()[0]
    raise RuntimeError("CMakeLists.txt names no project version")


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(SOURCE_DIR), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            "-DVECFORMER_BUILD_TESTS=OFF", "-DVECFORMER_BUILD_BENCH=OFF",
            "-DVECFORMER_BUILD_PYTHON=ON", f"-DPYTHON_EXECUTABLE={sys.executable}",
            *shlex.split(os.environ.get("CMAKE_ARGS", "")),
        ]
        subprocess.run(configure, check=True)
        build = ["cmake", "--build", str(build_dir), "--target", "vecformer_python"]
        if "CMAKE_BUILD_PARALLEL_LEVEL" not in os.environ:
            build += ["-j", str(os.cpu_count() or 1)]
        subprocess.run(build, check=True)
        built = build_dir / "python" / "vecformer" / Path(self.get_ext_filename(ext.name)).name
        if not built.is_file():
            raise RuntimeError(f"CMake did not build {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)


setup(
    name="vecformer",
    version=project_version(),
    description="Transformer encoders on CPU: embeddings, classification and masked-LM heads",
    packages=["vecformer"],
    package_dir={"": "python"},
    ext_modules=[CMakeExtension("vecformer._vecformer")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"dask": ["dask[dataframe]", "distributed"]},
    zip_safe=False,
)
