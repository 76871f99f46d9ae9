"""Figures for every item: the ImgCoder plan contract, the model planner and the rule
planner, rendering in the sandbox, diffusers, image APIs, the real reference figures,
and the answer-leak check."""
