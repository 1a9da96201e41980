"""Data: IDX files, the MNIST family (with a bundled Fashion-MNIST subset), datasets,
samplers, a batch-wise DataLoader and transforms (``npconv.data``, as ``torch.utils.data``)."""
from . import transforms  # noqa: F401
from .dataloader import (BatchSampler, DataLoader, RandomSampler, Sampler, SequentialSampler,
                         SubsetRandomSampler, default_collate, default_convert)
from .datasets import (KMNIST, MNIST, BundledFashionMNIST, ConcatDataset, Dataset,
                       DatasetNotFoundError, FashionMNIST, Subset, TensorDataset, bundled_path,
                       default_data_dir, random_split)
from .download import DownloadError, download_dataset
from .idx import IDXError, read_idx, write_idx

__all__ = ["DataLoader", "default_collate", "default_convert", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "Dataset", "TensorDataset",
           "Subset", "ConcatDataset", "random_split", "MNIST", "FashionMNIST", "KMNIST",
           "BundledFashionMNIST", "DatasetNotFoundError", "bundled_path", "default_data_dir",
           "DownloadError", "download_dataset", "IDXError", "read_idx", "write_idx",
           "transforms"]
