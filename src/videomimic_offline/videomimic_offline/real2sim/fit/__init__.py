"""The joint fit as parts: problem building (``body``, ``scale``, ``problem``), loss terms
(``terms``) and the solve (``solve``); ``real2sim.optimize`` runs them as the pipeline's stage."""
