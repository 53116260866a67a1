"""Each dataset's experiment, one module per dataset: its presets and the numbers only that dataset can give.

* :mod:`.moving_mnist`: presets; swaps scored by the digit judge against exact targets, leakage probes,
  digit boxes and the prediction scores on digit windows and long rollouts;
* :mod:`.kth`: presets; MCnet's prediction protocol and the action probe;
* :mod:`.turntable`: presets (rendered turntable, small NORB); the probe table and exact swaps;
* :mod:`.video`: presets (the generic scores of :mod:`drnet_lite.evaluate_frames` serve real video);
  :mod:`.video_report` reads those scores in words for notebook 08 (does the pose draw the people, is
  it free of the scene, how the prediction compares with the oracle and with copying).

Each module lists its presets in ``PRESETS`` (and ``LSTM_PRESETS``); :mod:`drnet_lite.presets` joins them.
The modules never import each other: what two of them share lives a floor lower, under a public name.
This package imports none of them, so importing one loads only that one.
"""
