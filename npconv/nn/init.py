"""Parameter initialisation (``npconv.nn.init``), as in ``torch.nn.init``."""
