from tests.ops.conftest import log_output  # noqa: F401 (the stdout log, as text)
