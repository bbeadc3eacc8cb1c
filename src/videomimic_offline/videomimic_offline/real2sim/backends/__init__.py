"""Heavy backends: load weights/outputs from local paths only, never download.

Each validates its files first (InputError naming the file and what is wrong) and raises
BackendUnavailableError with what to install when its package is missing.
"""
