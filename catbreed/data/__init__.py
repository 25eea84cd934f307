"""The data's first steps: untrusted archives and images checked, photos made a dataset, and split."""
