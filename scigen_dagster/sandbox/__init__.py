"""The code sandbox: the standalone worker that runs untrusted matplotlib scripts
(``worker.py``, started with ``python -I``) and the warm pool that drives it."""
