"""Data: IDX files, the MNIST family (with a bundled Fashion-MNIST subset), datasets,
a batch-wise DataLoader and transforms (``npconv.data``)."""
from . import transforms  # noqa: F401
from .dataloader import DataLoader, default_convert
from .datasets import (KMNIST, MNIST, BundledFashionMNIST, Dataset, DatasetNotFoundError,
                       FashionMNIST, Subset, TensorDataset, bundled_path, default_data_dir)
from .download import DownloadError, download_dataset
from .idx import IDXError, read_idx, write_idx

__all__ = ["DataLoader", "default_convert", "Dataset", "TensorDataset", "Subset", "MNIST",
           "FashionMNIST", "KMNIST", "BundledFashionMNIST", "DatasetNotFoundError",
           "bundled_path", "default_data_dir", "DownloadError", "download_dataset",
           "IDXError", "read_idx", "write_idx", "transforms"]
