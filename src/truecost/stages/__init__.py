"""The stages of the chain, one module each, in the order data flows:

model -> flops -> perf -> run -> pricing -> fleet -> lab -> views.

Each stage exposes pure, vectorised functions (scalar in, scalar out; an array of Monte Carlo draws
in, an array out) and a `stage(...)` that takes its section of the scenario and the results of the
stages before it and returns its own frozen result. A stage never imports the chain, analysis or
presentation, and never reads a later stage's input.
"""
