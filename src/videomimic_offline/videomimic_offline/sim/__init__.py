"""Plain-MuJoCo helpers shared by the simulated robot and the sim2sim check (terrain, PD)."""
