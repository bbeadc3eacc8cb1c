"""Human motion in a reconstructed scene -> feasible Unitree G1 motion with its foot contacts kept."""
