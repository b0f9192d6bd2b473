"""Running: the papermill pipeline, incremental reuse, publishing, warm kernels and batches."""
