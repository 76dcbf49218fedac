"""Our read models. Importing this package registers each of them in `PROJECTIONS`."""

from projections.readmodels import api_keys

__all__ = ["api_keys"]
