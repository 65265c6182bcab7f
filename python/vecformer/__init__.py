"""vecformer: transformer encoders (BERT, RoBERTa, DistilBERT, ...) on CPU, from Python.

    import vecformer
    model = vecformer.Model.load("models/demo")
    embeddings = model.encode(["a sentence", "another one"])   # numpy float32 [2, hidden]

A thin binding of the C++ library (include/vecformer/): the same numbers as `vecformer run` with
the same dtype, backend and threads. vecformer.dask embeds a Dask dataframe column or bag partition
by partition (docs/SCALING.md).
"""

from ._vecformer import Error, Model, Tokenizer, __version__

Error.__module__ = "vecformer"

__all__ = ["Error", "Model", "Tokenizer", "__version__"]
