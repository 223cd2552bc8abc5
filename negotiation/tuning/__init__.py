"""Stage 7, tuning: experiments in, fitted parameters and diagnostics out.

Calibration to target probabilities (Optuna), global sensitivity (SALib), scenario discovery,
counterfactual comparison on common random numbers, and forecast scoring. May import the charts
stage and every stage below it.
"""
