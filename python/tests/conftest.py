"""Shared fixtures of the Python binding's tests.

Run by ctest (tests/CMakeLists.txt) as
    /usr/bin/python3 -m pytest python/tests --binary BUILD/vecformer   (PYTHONPATH=BUILD/python)
The CLI binary is the reference the binding must equal bit for bit; without --binary (or
VECFORMER_BINARY) the tests comparing against it are skipped.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser):
    parser.addoption("--binary", default=os.environ.get("VECFORMER_BINARY"),
                     help="the vecformer CLI built from the same tree")


@pytest.fixture(scope="session")
def binary(request):
    path = request.config.getoption("--binary")
    if not path:
        pytest.skip("no --binary: the CLI comparisons need the built vecformer")
    return path


@pytest.fixture(scope="session")
def demo():
    return REPO / "models" / "demo"


@pytest.fixture(scope="session")
def demo_lines(demo):
    return (demo / "sentences.txt").read_text().splitlines()


def make_checkpoint(folder, *args):
    """A small random checkpoint (tools/make_checkpoint.py) with the bert-base-uncased vocabulary."""
    subprocess.run([sys.executable, str(REPO / "tools" / "make_checkpoint.py"), str(folder),
                    "--hidden", "32", "--heads", "2", "--layers", "2", "--intermediate", "64",
                    "--vocab", "30522", *args], check=True, capture_output=True)
    (folder / "vocab.txt").write_bytes(
        (REPO / "models" / "vocab" / "bert-base-uncased" / "vocab.txt").read_bytes())
    return folder


@pytest.fixture(scope="session")
def reranker(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("reranker"), "--architecture",
                           "BertForSequenceClassification", "--num-labels", "1")


@pytest.fixture(scope="session")
def tagger(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("tagger"), "--architecture",
                           "BertForTokenClassification", "--labels", "O,B-PER,I-PER")


def pytest_configure(config):
    # Debian's distributed 2022.12 on tornado 6.2: a deprecation inside their event-loop setup.
    config.addinivalue_line("filterwarnings",
                            "ignore:make_current is deprecated:DeprecationWarning")
