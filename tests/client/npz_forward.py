# Reads a `deepsweep weights --test-set` .npz with numpy alone, runs the net
# forward on the test set and prints "errors examples" (argmax of the logits
# against the label, as deepsweep counts a test error).
import sys

import numpy as np

z = np.load(sys.argv[1])
activations = {
    "tanh": np.tanh,
    "sigmoid": lambda s: 1.0 / (1.0 + np.exp(-s)),
    "softsign": lambda s: s / (1.0 + np.abs(s)),
    "relu": lambda s: np.maximum(s, 0.0),
}
f = activations[str(z["activation"])]
layers = len(z["architecture"]) - 1
a = z["test_x"]
for l in range(layers):
    s = a @ z[f"W{l}"].T + z[f"b{l}"]
    a = f(s) if l < layers - 1 else s
errors = int((a.argmax(axis=1) != z["test_y"]).sum())
print(errors, len(z["test_y"]))
