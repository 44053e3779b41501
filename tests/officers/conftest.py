from tests.auth.conftest import client, districts

__all__ = ["client", "districts"]
