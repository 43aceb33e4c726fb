"""respmap's spatial core: load, validate, join, index, look up, cover.

No web framework, no folium, no matplotlib in here: ``api`` and ``maps`` use
``geo``, never the other way round.

    >>> from geo import load_dataset
    >>> ds = load_dataset()          # None: RESPMAP_DATASET or the bundled demo
    >>> ds.findings, ds.layers, ds.duty_zones
"""

from geo.dataset import Dataset, default_dataset_path, load_dataset
from geo.findings import Finding

__all__ = ["Dataset", "Finding", "default_dataset_path", "load_dataset"]
__version__ = "0.1.0"
