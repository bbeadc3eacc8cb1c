"""Policy interface shared by training, export and the deployed node: observation layout and files."""
